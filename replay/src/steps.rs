//! The model's side of a replay: runs one action with `Ee2eModel::next_state` and lists, in
//! order, the packets it put on the network — by running the same protocol machines on
//! copies of the state, as `next_state` does — so that the k-th packet of a step can be
//! matched with the k-th envelope the implementation sent.

use ee2e_model::symbolic::{A, B, E, owner, phone};
use ee2e_model::symbolic::{Hop, Packet, State};
use ee2e_model::symbolic::{Purpose, Term};
use ee2e_model::{Action, Ee2eModel};
use ee2e_spec::{ClientOutput, Message, ServerOutput};
use stateright::Model;

/// What one action did in the model.
pub(crate) struct ModelStep {
    /// The state after the action.
    pub next: State,
    /// The packet the attacker injected (for `Inject`).
    pub injected: Option<Packet>,
    /// The packets the step's receiver or actor sent, in order (the server's error replies
    /// included, which the model does not keep on its network: the attacker forges them at
    /// will).
    pub emitted: Vec<Packet>,
    /// The server rejected the delivered message (and replied with an error), yet the step
    /// changed the world (a counted attempt, a voided OTP).
    pub rejected: bool,
}

fn client_sends(party: u8, outputs: Vec<ClientOutput<ee2e_model::symbolic::Sym>>) -> Vec<Packet> {
    outputs
        .into_iter()
        .filter_map(|o| match o {
            ClientOutput::Send(message) => Some(Packet::new(Hop::ToServer { from: party }, message, false)),
            _ => None,
        })
        .collect()
}

/// The packets the addressee of `packet` sends when it accepts it; `None` if it rejects it.
fn delivery(state: &State, packet: &Packet) -> Option<Vec<Packet>> {
    match packet.hop {
        Hop::ToServer { from } => {
            let mut server = (*state.server).clone();
            let mut rng = state.rngs[0];
            let outputs = server.step(&phone(from), packet.message.clone(), state.now, &mut rng);
            Some(
                outputs
                    .into_iter()
                    .filter_map(|o| match o {
                        ServerOutput::Send { to, message, stored } => {
                            owner(&to).map(|to| Packet::new(Hop::ToClient { to }, message, stored))
                        }
                        _ => None,
                    })
                    .collect(),
            )
        }
        Hop::ToClient { to } => {
            if to == E || !(to == A || to == B) {
                return None;
            }
            let mut client = state.client(to).clone();
            let mut rng = state.rngs[to as usize];
            Some(client_sends(to, client.handle(packet.message.clone(), &mut rng).ok()?))
        }
    }
}

/// The packets `action` sends in `state`, in order (without an injected packet itself);
/// `None` if the action is not possible.
fn emissions(model: &Ee2eModel, state: &State, action: &Action) -> Option<Vec<Packet>> {
    let honest = |p: u8| if p == A || p == B { Some(p) } else { None };
    match action {
        // Traces are flattened into single steps before they are replayed.
        Action::Chain(_) => None,
        Action::Register(c) => {
            let c = honest(*c)?;
            Some(client_sends(c, state.client(c).clone().register()))
        }
        Action::EnterOtp(c) => {
            let c = honest(*c)?;
            let otp = state.inbox.get(&c)?;
            let mut rng = state.rngs[c as usize];
            Some(client_sends(c, state.client(c).clone().otp_received(otp, &mut rng).ok()?))
        }
        Action::StartSession { from, peer } => {
            let from = honest(*from)?;
            Some(client_sends(from, state.client(from).clone().start_session(&phone(*peer)).ok()?))
        }
        Action::Send { from, to } => {
            let from = honest(*from)?;
            let plaintext = send_plaintext(state, from);
            let mut rng = state.rngs[from as usize];
            let out = state.client(from).clone().send(&phone(*to), &plaintext, &mut rng).ok()?;
            Some(client_sends(from, out))
        }
        Action::GoOffline | Action::GoOnline => {
            let mut b = state.client(B).clone();
            let out = if state.progress.presence == 0 { b.disconnect() } else { b.connect() };
            Some(client_sends(B, out.ok()?))
        }
        Action::Deliver(packet) | Action::Replay(packet) | Action::Inject(packet, _) => {
            delivery(state, packet)
        }
        Action::ForgeError { to, code } => {
            delivery(state, &Packet::new(Hop::ToClient { to: *to }, Message::Error { code: *code }, false))
        }
        // An online guess: the wrong guesses are answered with errors the model does not
        // list (the replay discards them too); then the right one, if the OTP survived them.
        Action::GuessOnline(packet) => {
            let Message::RegisterSubmit { phone: victim, .. } = &packet.message else { return None };
            let mut after = state.clone();
            match model.wrong_guesses(&mut after, owner(victim)?)? {
                Some(_) => delivery(&after, packet),
                None => Some(Vec::new()),
            }
        }
        // The clock and the attacker's own steps (an offline guess, a key leak) send nothing.
        Action::Tick | Action::GuessOffline(_) | Action::Compromise => Some(Vec::new()),
    }
}

/// The plaintext the model's honest `Send` of this state seals (what the implementation
/// must send in its place).
pub(crate) fn send_plaintext(state: &State, from: u8) -> Term {
    let n = state.progress.sent[usize::from(from != A)];
    Term::fresh(from, Purpose::Plaintext, 100 + u16::from(n))
}

/// Runs `action` in the model: `Ok(None)` if the model does not allow it (a party rejected
/// the message, or an honest action is impossible). Fails if the packets listed here and the
/// model's own network disagree.
pub(crate) fn step(model: &Ee2eModel, state: &State, action: &Action) -> Result<Option<ModelStep>, String> {
    let next = model.next_state(state, action.clone());
    let emitted = emissions(model, state, action);
    let (next, emitted) = match (next, emitted) {
        (None, None) => return Ok(None),
        (Some(next), Some(emitted)) => (next, emitted),
        (Some(_), None) => return Err(format!("the model accepted {action:?} but its machines reject it")),
        (None, Some(_)) => {
            // Possible for honest actions the model's scripts disallow; treat as not possible.
            return Ok(None);
        }
    };
    let injected = match action {
        Action::Inject(packet, _) | Action::GuessOnline(packet) => Some(packet.clone()),
        _ => None,
    };
    // Cross-check with the model's own network: what is new in the pool is what was listed.
    for p in next.pool.difference(&state.pool) {
        if !emitted.contains(p) && injected.as_ref() != Some(p) {
            return Err(format!("the model sent {p:?}, which the replay did not list"));
        }
    }
    let is_error = |p: &Packet| matches!(p.message, Message::Error { .. });
    for p in emitted.iter().filter(|p| !is_error(p)) {
        if !next.pool.contains(p) {
            return Err(format!("the replay listed {p:?}, which is not on the model's network"));
        }
    }
    let rejected = (matches!(action, Action::Deliver(p) | Action::Replay(p) | Action::Inject(p, _)
        if matches!(p.hop, Hop::ToServer { .. }))
        && emitted.iter().any(is_error))
        // An online guess that the attempt limit stopped: its last try was refused.
        || (matches!(action, Action::GuessOnline(_)) && emitted.is_empty());
    Ok(Some(ModelStep { next, injected, emitted, rejected }))
}
