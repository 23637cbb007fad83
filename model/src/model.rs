//! The stateright model: honest scripts, the network attacker, and how a step runs the real
//! protocol machines.

use ee2e_spec::limits::{MAX_SESSIONS_PER_PEER, REPLAY_WINDOW};
use ee2e_spec::{
    Ack, Client, ClientEvent, ClientOutput, ErrorCode, MemoryStore, Message, Params, Sealed, Server,
    ServerEvent, ServerOutput, Store,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stateright::{Model, Property};

use crate::config::{
    A, B, CLIENTS, Config, E, HONEST, MAX_OTPS_PER_PHONE, SERVER, Scenario, TICK_MS, Threat, owner,
    party_name, phone,
};
use crate::describe;
use crate::knowledge::Knowledge;
use crate::properties;
use crate::state::{Ghost, Hop, Packet, Progress, State, Sym};
use crate::suite::SymRng;
use crate::synth;
use crate::term::{Party, Purpose, Term};

/// An EE2E model: one configuration of profile, threat, scenario and bounds.
#[derive(Debug, Clone)]
pub struct Ee2eModel {
    /// What this run checks.
    pub config: Config,
    /// When set, no further state is expanded: the checker drains its queue and stops (a
    /// clean stop at a limit; the run is then reported incomplete).
    stop: Option<Arc<AtomicBool>>,
    /// Prune steps that change nothing but the delivered set and the injection count (see
    /// `State::same_world`). Off only in the differential test of that reduction.
    prune: bool,
    /// Take a server step that commutes with every other step alone (the partial-order
    /// reduction, [`Ee2eModel::commuting_server_step`]). Off in the differential test of that
    /// reduction, in the shortest-trace search and in the Explorer, which show every step.
    reduce: bool,
    /// Also relabel messages, ACKs, key transports and lookups on their way to the server
    /// (synth.rs, `relabelled`): redundant with relabelling their deliveries, and on only in
    /// the differential test that shows so.
    relabel_via_server: bool,
}

/// A step of the system.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Honest client asks to register (again, in `lifecycle`: replacing its entry).
    Register(Party),
    /// Honest client types the OTP it received by SMS.
    EnterOtp(Party),
    /// An honest client starts a key exchange with the peer.
    StartSession {
        /// The initiator (A or B).
        from: Party,
        /// The peer it asks the server for.
        peer: Party,
    },
    /// Honest client sends its next message to the peer.
    Send {
        /// Sender.
        from: Party,
        /// Recipient.
        to: Party,
    },
    /// B goes offline.
    GoOffline,
    /// B comes back online.
    GoOnline,
    /// The clock moves on by [`TICK_MS`]: past the OTP lifetime.
    Tick,
    /// The network delivers a message, for the first time, to where it was addressed.
    Deliver(Packet),
    /// The attacker delivers a message again (costs one injection).
    Replay(Packet),
    /// The attacker sends a message it built or altered (costs one injection).
    Inject(Packet, String),
    /// The attacker sends an honest client an error reply. An `Error` carries nothing but a
    /// public code and nothing authenticates it, so this is free and stands for the delivery
    /// of every error reply the server sends (which therefore never enter the pool).
    ForgeError {
        /// The client.
        to: Party,
        /// The code.
        code: ErrorCode,
    },
    /// The attacker runs an online dictionary attack on a pending OTP with this registration
    /// submission (its phone, public key and possession proof; the tag built from the OTP it
    /// is guessing): it submits it with wrong guesses to the real server until the server
    /// locks the OTP out; where it never does, the guess that is right registers the
    /// submission's key, and the attacker knows the OTP (an online guess is confirmed only by
    /// being used, so it is the submission itself, not a separate one).
    GuessOnline(Packet),
    /// The attacker tries every OTP offline against a verifier it observed.
    GuessOffline(Term),
    /// B's long-term key leaks (threat `compromise`).
    Compromise,
    /// Several steps in a row, each the only one the partial-order reduction explores in the
    /// state before it: the states between them are not stored (model/README.md,
    /// "Reductions"). Never built without the reduction.
    Chain(Vec<Action>),
}

impl Action {
    /// The single steps this action stands for (a [`Action::Chain`]'s, in order).
    pub fn steps(self) -> Vec<Action> {
        match self {
            Action::Chain(steps) => steps,
            step => vec![step],
        }
    }
}

/// The longest [`Action::Chain`] built (a bound on the work of one transition; a longer run
/// of forced steps is simply split).
const MAX_CHAIN: usize = 64;

/// Injections an online dictionary attack costs: it is many submissions, not one, so it is
/// charged more than a single forged message (and an attacker with an offline verifier
/// prefers that). Two is the default budget, so E8's attack is found at the default bounds.
pub const ONLINE_GUESS_COST: u8 = 2;

/// The protocol parameters the model runs with. Counters are scaled down so that every limit
/// is reached within small bounds: one failed attempt per OTP, one OTP request per window,
/// and a window of two clock ticks (one tick expires an OTP but not the request record).
/// Symbolically only "limited or not" matters for guessing; the counters' logic is the
/// spec's own. PBKDF2's count is irrelevant symbolically.
pub fn params() -> Params {
    Params {
        max_otp_attempts: 1,
        max_otp_requests: 1,
        otp_request_window_ms: 2 * TICK_MS - 1,
        ..Params::default()
    }
}

/// The clock at the start of a run. The set-up registrations of `messaging` and `lifecycle`
/// happen at time 0, one request window before, so they do not count against the request
/// limit of the run.
pub fn start_time(scenario: Scenario) -> u64 {
    if scenario == Scenario::Registration { 0 } else { params().otp_request_window_ms }
}

/// Error codes whose occurrence the ghost records for coverage.
const COVERED_ERRORS: [ErrorCode; 3] =
    [ErrorCode::OtpExpired, ErrorCode::TooManyAttempts, ErrorCode::RateLimited];

impl Ee2eModel {
    /// A model of `config`.
    pub fn new(config: Config) -> Self {
        Ee2eModel { config, stop: None, prune: true, reduce: true, relabel_via_server: false }
    }

    /// The same model without the no-op pruning (for the differential test that shows the
    /// reduction loses no discovery).
    pub fn without_pruning(mut self) -> Self {
        self.prune = false;
        self
    }

    /// The same model with the attacker also relabelling every message on its way to the
    /// server (for the differential test that shows those relabellings redundant).
    pub fn with_relabelling_via_server(mut self) -> Self {
        self.relabel_via_server = true;
        self
    }

    /// Whether the attacker also relabels on the server leg what the server only relays.
    pub fn relabels_via_server(&self) -> bool {
        self.relabel_via_server
    }

    /// The same model without the partial-order reduction: every enabled step is explored in
    /// every state (the Explorer, the shortest-trace search, the differential test).
    pub fn without_reduction(mut self) -> Self {
        self.reduce = false;
        self
    }

    /// Whether delivering `packet` to the server commutes with every step any continuation
    /// of the run can take, so that exploring it alone loses no reachable end state
    /// (model/README.md, "Reductions"). Only in scenarios where the directory entries it reads
    /// never change: in `messaging` none does; in `lifecycle` only B's (B registers again),
    /// and a relayed message or ACK reads no entry, only that both parties are registered,
    /// which stays true. A key request is then a pure lookup; a relay depends on nothing but
    /// whether its recipient is online: A always is, E never is, and B's presence is settled
    /// once B has gone offline and back, both announcements have been delivered and no
    /// injection is left to replay one — and from the start in a run without an offline
    /// spell, where no announcement is ever on the network. The step draws no randomness,
    /// records no ghost event and changes no server table except the recipient's queue, whose
    /// order nothing reads before it is flushed into the (unordered) pool.
    pub fn commuting_server_step(&self, state: &State, packet: &Packet) -> bool {
        let Hop::ToServer { from } = packet.hop else { return false };
        if self.config.scenario == Scenario::Registration {
            return false;
        }
        // Whose directory entry stays as it is: everyone's in `messaging`; all but B's in
        // `lifecycle`.
        let stable =
            |p: &ee2e_spec::Phone| self.config.scenario == Scenario::Messaging || owner(p) != Some(B);
        let recipient_settled =
            |to: &ee2e_spec::Phone| owner(to) != Some(B) || self.b_presence_settled(state);
        match &packet.message {
            Message::KeyRequest { peer } => stable(peer),
            Message::KeyTransport { to, .. } => stable(&phone(from)) && recipient_settled(to),
            Message::Data { to, .. } | Message::Ack { to, .. } => recipient_settled(to),
            _ => false,
        }
    }

    /// Whether the attacker can no longer inject or replay: from here on the network only
    /// delivers, delays and drops, and no transition reads the attacker's knowledge.
    fn no_injection_left(&self, state: &State) -> bool {
        self.config.threat == Threat::Passive || state.injections >= self.config.bounds.injections
    }

    fn b_presence_settled(&self, state: &State) -> bool {
        // The attacker cannot build a presence announcement (nothing in `synth` makes one),
        // only deliver or replay B's own: with none on the network (a run without an offline
        // spell), nothing can change B's presence.
        let replayable = !self.no_injection_left(state);
        state.progress.presence == 2
            && state.pool.iter().all(|p| {
                !matches!(p.message, Message::Connect { .. } | Message::Disconnect { .. })
                    || !(replayable || state.deliverable(p))
            })
    }

    /// Whether delivering `packet` (a hardened message or ACK) to honest client X commutes
    /// with every step any continuation can take (model/README.md, "Reductions"). Once no
    /// injection is left, X's acceptance of a message in session `sid` with number `n` touches
    /// only that session's receive window (order-free inside the 64-number window) and of an
    /// ACK only the matching outstanding entry; neither draws randomness. It commutes with
    /// X's sends and new sessions (a session is never evicted: at most
    /// sessions + b-sessions + injections ≤ 4 per peer), with everything other parties do,
    /// and stays possible, provided that
    /// - X's acceptance can no longer be disabled: X is registered for good and (for B) back
    ///   online by its script;
    /// - no other deliverable packet carries the same kind of record for X in `(sid, n)`
    ///   (which one X accepts first would matter);
    /// - no deliverable packet carries the opposite record to the sender in `(sid, n)`: the
    ///   sender's acceptance of an ACK for `n` is judged against X's acceptance of message
    ///   `n` (`ack_authenticity`), so those two must keep their order.
    pub fn commuting_client_delivery(&self, state: &State, packet: &Packet) -> bool {
        let Hop::ToClient { to: x } = packet.hop else { return false };
        let bounds = self.config.bounds;
        let sessions_per_peer =
            usize::from(bounds.sessions) + usize::from(bounds.b_sessions) + usize::from(bounds.injections);
        if !HONEST.contains(&x)
            || self.config.profile.wire() != ee2e_spec::Wire::Hardened
            || sessions_per_peer > MAX_SESSIONS_PER_PEER
            || u64::from(bounds.messages) >= REPLAY_WINDOW
            || !self.client_settled(state, x)
        {
            return false;
        }
        let (Some((_, sid, seq, is_ack)), Some(sender)) = (record(packet), sender(&packet.message)) else {
            return false;
        };
        // With injections left, the attacker could still replay any packet of the pool, and
        // send whatever it can build; that is harmless only where it cannot build a record
        // of this session (see `session_sealed_off`), and every packet carrying the same
        // record is this very message.
        let injecting = !self.no_injection_left(state);
        if injecting && !self.session_sealed_off(state, x, sid) {
            return false;
        }
        let mine = payload(&packet.message);
        state.pool.iter().filter(|q| *q != packet && (injecting || state.deliverable(q))).all(
            |q| match record(q) {
                Some((to, s, n, ack)) if s == sid && n == seq => {
                    let same_record = to == x && ack == is_ack;
                    let opposite = to == sender && ack != is_ack;
                    if injecting {
                        // A replay of the same message is rejected after whichever copy came
                        // first; a record the opposite way can only be honest here (the ACK of
                        // a message x has not accepted cannot exist, and the message an ACK
                        // acknowledges was accepted before it was made).
                        !(same_record && payload(&q.message) != mine)
                    } else {
                        !(same_record || opposite)
                    }
                }
                _ => true,
            },
        )
    }

    /// Whether the attacker can never build a message or ACK of honest client `x`'s session
    /// `sid` that `x` accepts: every fix is in force (so every header field is under the MAC
    /// and nothing can be relabelled or renumbered), the session's key is not derivable now,
    /// and no honest long-term key can leak later (which is what could reveal it). Honest
    /// packets are then the only records of `sid`, and the attacker can only replay them.
    fn session_sealed_off(&self, state: &State, x: Party, sid: &Term) -> bool {
        let leak_ahead = self.config.threat == Threat::Compromise && !state.progress.compromised;
        self.config.profile == ee2e_spec::Profile::HARDENED
            && !leak_ahead
            && state
                .client(x)
                .sessions()
                .iter()
                .find(|s| s.id() == Some(sid))
                .is_some_and(|s| !state.knowledge.derivable(ee2e_spec::hazmat::session_key(s)))
    }

    /// Whether nothing can change whether honest client `x` accepts relayed traffic: it is
    /// registered and will not register again, and (B) its offline spell is over.
    fn client_settled(&self, state: &State, x: Party) -> bool {
        let client = state.client(x);
        let registering_done =
            !self.config.scenario.registers() || x != B || state.progress.registering.contains(&B);
        client.is_registered() && registering_done && (x != B || state.progress.presence == 2)
    }

    /// The steps explored in `state` under the partial-order reduction, if a persistent set
    /// smaller than all enabled steps is found (model/README.md, "Reductions"): B coming back
    /// online; a delivery that commutes with everything; an honest client's key-exchange
    /// starts while it has no lookup outstanding; an honest client's sends once nothing can
    /// change its sessions.
    /// `script` holds the honest steps enabled in `state` ([`Ee2eModel::honest_actions`]).
    fn ample(&self, state: &State, script: &[Action]) -> Option<Vec<Action>> {
        let possible = |a: &Action| self.next_state(state, a.clone()).is_some();
        // B's offline spell as early as it can be: going offline and back (the next rule)
        // only puts two constant announcements on the network and changes no machine, so
        // with the return it commutes with every step, and when the server hears them is
        // up to the network. Only in `messaging`, where B is registered for good (a
        // re-registration in `lifecycle` disables it for a while).
        if self.config.scenario == Scenario::Messaging
            && state.progress.presence == 0
            && possible(&Action::GoOffline)
        {
            return Some(vec![Action::GoOffline]);
        }
        if self.config.scenario.messages() && state.progress.presence == 1 && possible(&Action::GoOnline) {
            return Some(vec![Action::GoOnline]);
        }
        let delivery = state
            .pool
            .iter()
            .filter(|p| {
                state.deliverable(p)
                    && (self.commuting_server_step(state, p) || self.commuting_client_delivery(state, p))
            })
            .map(|p| Action::Deliver(p.clone()))
            .find(possible);
        if let Some(step) = delivery {
            return Some(vec![step]);
        }
        // The honest client `x`'s own key-exchange starts (`starts`) or sends, where possible.
        let own = |x: Party, starts: bool| -> Vec<Action> {
            script
                .iter()
                .filter(|a| match a {
                    Action::StartSession { from, .. } => starts && *from == x,
                    Action::Send { from, .. } => !starts && *from == x,
                    _ => false,
                })
                .filter(|a| possible(a))
                .cloned()
                .collect()
        };
        // With a lookup outstanding, a second start would be absorbed by it (the first
        // answer clears it), so starts commute with the answers only when none is.
        for x in HONEST {
            if self.client_settled(state, x) && state.client(x).lookups().is_empty() {
                let starts = own(x, true);
                if !starts.is_empty() {
                    return Some(starts);
                }
            }
        }
        if self.sessions_settled(state) {
            for x in HONEST {
                if self.client_settled(state, x) {
                    let sends = own(x, false);
                    if !sends.is_empty() {
                        return Some(sends);
                    }
                }
            }
        }
        None
    }

    /// `first`, followed by every step that is then the only one the reduction explores, up
    /// to [`MAX_CHAIN`]. Sound because every property is monotone (SPEC.md §15): a state the
    /// chain passes through without storing it cannot hold a violation or a witness that its
    /// end state lacks, and a state with a single persistent step has no other successor the
    /// reduced graph would explore.
    fn chained(&self, state: &State, first: Action) -> Action {
        let mut steps = vec![first.clone()];
        let Some(mut at) = self.next_state(state, first) else { return steps.swap_remove(0) };
        let mut script = Vec::new();
        while steps.len() < MAX_CHAIN {
            script.clear();
            self.honest_actions(&at, &mut script);
            let next = match self.ample(&at, &script) {
                Some(mut only) if only.len() == 1 => only.swap_remove(0),
                _ => break,
            };
            match self.next_state(&at, next.clone()) {
                Some(after) => {
                    at = after;
                    steps.push(next);
                }
                None => break,
            }
        }
        if steps.len() == 1 { steps.swap_remove(0) } else { Action::Chain(steps) }
    }

    /// Whether no honest client can get a new session any more: no injection is left, both
    /// have started every key exchange they may, and no key request, directory answer or key
    /// transport is still deliverable. An honest send (which seals in the newest session with
    /// its peer and draws an IV) then commutes with every step but the same client's other
    /// sends, which [`ample`](Self::ample) takes together.
    fn sessions_settled(&self, state: &State) -> bool {
        let bounds = self.config.bounds;
        self.no_injection_left(state)
            && state.progress.sessions == [bounds.sessions, bounds.b_sessions]
            && state.pool.iter().all(|p| {
                !state.deliverable(p)
                    || !matches!(
                        p.message,
                        Message::KeyRequest { .. }
                            | Message::PeerKey { .. }
                            | Message::KeyTransport { .. }
                            | Message::KeyDelivery { .. }
                    )
            })
    }

    /// The same model, stopping its exploration once `stop` is set.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    fn initial_knowledge(&self) -> Knowledge {
        let mut k = Knowledge::default();
        k.learn_all(CLIENTS.iter().map(|p| Term::pk(*p)));
        k.learn(Term::pk(SERVER));
        k.learn_all(CLIENTS.iter().map(|p| Term::constant(phone(*p).as_bytes())));
        k.learn(Term::sk(E));
        if self.config.threat == Threat::Server {
            k.learn(Term::sk(SERVER));
        }
        k
    }

    /// Runs an honest registration of `party` outside the attacker's view (scenario set-up).
    fn preregister(
        &self,
        server: &mut Server<Sym, MemoryStore<Sym>>,
        rngs: &mut [SymRng; 3],
        attacker_rng: &mut SymRng,
        party: Party,
        ghost: &mut Ghost,
    ) -> Client<Sym> {
        let profile = self.config.profile;
        let mut client = Client::new(profile, params(), phone(party), party, Term::pk(SERVER));
        let mut rng_c = if party == E { *attacker_rng } else { rngs[party as usize] };
        let request = first_send(client.register());
        let out = server.handle(&phone(party), request, 0, &mut rngs[SERVER as usize]).expect("request");
        let otp = out
            .iter()
            .find_map(|o| match o {
                ServerOutput::Sms { otp, .. } => Some(otp.clone()),
                _ => None,
            })
            .expect("sms");
        ghost.otps.insert(otp.clone());
        let submit = first_send(client.otp_received(&otp, &mut rng_c).expect("otp"));
        if party == E {
            *attacker_rng = rng_c;
        } else {
            rngs[party as usize] = rng_c;
        }
        let out = server.handle(&phone(party), submit, 0, &mut rngs[SERVER as usize]).expect("submit");
        let result = out
            .into_iter()
            .find_map(|o| match o {
                ServerOutput::Send { message, .. } => Some(message),
                _ => None,
            })
            .expect("result");
        ghost.bound.insert((phone(party), Term::pk(party)));
        let mut scratch = SymRng::new(party);
        client.handle(result, &mut scratch).expect("result accepted");
        client
    }

    /// Processes what a client produced: messages go on the network, events to the ghost.
    fn client_outputs(&self, state: &mut State, party: Party, outputs: Vec<ClientOutput<Sym>>, stored: bool) {
        for output in outputs {
            match output {
                ClientOutput::Send(message) => {
                    self.emit(state, Packet::new(Hop::ToServer { from: party }, message, false))
                }
                ClientOutput::Event(ClientEvent::PeerKeyVerified(peer)) => {
                    let held = state
                        .client(party)
                        .peers()
                        .get(&peer)
                        .map(|e| (e.phone.clone(), e.public_key.clone()));
                    if held.is_none_or(|entry| !state.ghost.bound.contains(&entry)) {
                        state.ghost_mut().entry_unbound = true;
                    }
                }
                ClientOutput::Event(event) => record_client_event(state.ghost_mut(), party, event, stored),
                ClientOutput::Persist(_) => {}
            }
        }
    }

    /// Processes what the server produced; `None` if it issued an OTP beyond the model's bound
    /// (the transition is then not explored).
    fn server_outputs(&self, state: &mut State, outputs: Vec<ServerOutput<Sym>>) -> Option<()> {
        for output in outputs {
            match output {
                // Error replies are public constants the attacker may forge at will
                // ([`Action::ForgeError`]); the pool does not need them.
                ServerOutput::Send { message: Message::Error { .. }, .. } => {}
                ServerOutput::Send { to, message, stored } => {
                    let Some(to) = owner(&to) else { continue };
                    self.emit(state, Packet::new(Hop::ToClient { to }, message, stored));
                }
                ServerOutput::Sms { phone: p, otp } => {
                    state.ghost_mut().otps.insert(otp.clone());
                    let issued = state.ghost_mut().issued.entry(p.clone()).or_default();
                    *issued += 1;
                    if *issued > MAX_OTPS_PER_PHONE {
                        return None;
                    }
                    match owner(&p) {
                        Some(E) => state.knowledge_mut().learn(otp),
                        Some(c) => {
                            if self.config.threat == Threat::Sms {
                                state.knowledge_mut().learn(otp.clone());
                            }
                            state.inbox.insert(c, otp);
                        }
                        None => {}
                    }
                }
                ServerOutput::Event(ServerEvent::Registered(p)) => {
                    if let Ok(Some(entry)) = state.server.store().entry(&p) {
                        if state.ghost.bound.iter().any(|(q, _)| *q == p) {
                            state.ghost_mut().entry_replaced = true;
                        }
                        // The directory is public: the attacker (a registered client) can
                        // look the new entry up, so it knows its signature from now on.
                        state.knowledge_mut().learn(entry.signature.clone());
                        state.ghost_mut().bound.insert((p, entry.public_key));
                    }
                }
                ServerOutput::Event(ServerEvent::Rejected { error, .. }) => {
                    let code = error.code();
                    if COVERED_ERRORS.contains(&code) {
                        state.ghost_mut().errors.insert(code);
                    }
                }
                ServerOutput::Event(_) => {}
            }
        }
        Some(())
    }

    /// Puts a packet on the network: the attacker sees everything, then tries its guesses.
    fn emit(&self, state: &mut State, packet: Packet) {
        let mut terms = Vec::new();
        synth::message_terms(&packet.message, &mut terms);
        state.knowledge_mut().learn_all(terms);
        state.send(packet);
    }

    /// Runs the server's real entry point, [`Server::step`], on `message` from address `from`.
    fn server_step(&self, state: &mut State, from: Party, message: Message<Sym>) -> Option<()> {
        let mut rng = state.rngs[SERVER as usize];
        let now = state.now;
        let outputs = state.server_mut().step(&phone(from), message, now, &mut rng);
        state.rngs[SERVER as usize] = rng;
        self.server_outputs(state, outputs)
    }

    /// Delivers a packet to its addressee; `None` if the addressee rejects it (a client's
    /// rejection leaves it as it was and sends nothing) or it cannot be delivered.
    fn deliver(&self, state: &mut State, packet: &Packet) -> Option<()> {
        match packet.hop {
            Hop::ToServer { from } => self.server_step(state, from, packet.message.clone()),
            Hop::ToClient { to } => {
                if to == E {
                    return None;
                }
                // Only an error reply's effect on the registration is recorded (coverage).
                let before = matches!(packet.message, Message::Error { .. })
                    .then(|| state.client(to).registration().clone());
                let mut rng = state.rngs[to as usize];
                let outputs = state.client_mut(to).handle(packet.message.clone(), &mut rng).ok()?;
                state.rngs[to as usize] = rng;
                if before.is_some_and(|b| *state.client(to).registration() != b) {
                    state.ghost_mut().error_handled = true;
                }
                self.client_outputs(state, to, outputs, packet.stored);
                Some(())
            }
        }
    }

    /// [`deliver`](Self::deliver), then `None` (with pruning on) if the step left the world of
    /// `last` unchanged ([`State::same_world`]).
    fn deliver_changing(&self, state: &mut State, last: &State, packet: &Packet) -> Option<()> {
        self.deliver(state, packet)?;
        if self.prune && state.same_world(last) { None } else { Some(()) }
    }

    /// [`deliver_changing`](Self::deliver_changing) for a step that costs an injection: also
    /// `None` (with pruning on) if all it did was put one more copy of a packet already on the
    /// network ([`State::copied_only`]).
    fn inject_changing(&self, state: &mut State, last: &State, packet: &Packet) -> Option<()> {
        self.deliver(state, packet)?;
        if self.prune && state.copied_only(last) { None } else { Some(()) }
    }

    /// A registration submission for `victim`'s phone with the attacker's key and a wrong
    /// OTP guess, built by the core's own client code (the attacker runs a client).
    fn wrong_guess(&self, victim: Party, n: u16) -> Option<Message<Sym>> {
        let mut client = Client::new(self.config.profile, params(), phone(victim), E, Term::pk(SERVER));
        client.register();
        let mut rng = SymRng::at(E, 900 + n * 8);
        let guess = Term::fresh(E, Purpose::Otp, 800 + n);
        Some(first_send(client.otp_received(&guess, &mut rng).ok()?))
    }

    /// The wrong guesses of an online dictionary attack on `victim`'s pending OTP, on the
    /// real server: one more than any attempt limit allows, so that a server that counts
    /// attempts has locked the OTP by then. Returns the OTP if it is still pending after
    /// them (the attacker's guessing goes on until it hits it); `None` if there was none.
    pub fn wrong_guesses(&self, state: &mut State, victim: Party) -> Option<Option<Term>> {
        let pending = state.server.store().pending_otp(&phone(victim)).ok()??;
        for n in 0..=params().max_otp_attempts {
            let submit = self.wrong_guess(victim, n as u16)?;
            self.server_step(state, E, submit)?;
        }
        Some(match state.server.store().pending_otp(&phone(victim)) {
            Ok(Some(still)) if still.otp == pending.otp => Some(pending.otp),
            _ => None,
        })
    }

    /// The online dictionary attack of [`Action::GuessOnline`]: the wrong guesses, then, if
    /// the OTP survived them, the submission with the right one, which the attacker has
    /// then confirmed.
    fn guess_online(&self, state: &mut State, submission: &Packet) -> Option<()> {
        let Message::RegisterSubmit { phone: victim, .. } = &submission.message else { return None };
        let victim = owner(victim)?;
        if let Some(otp) = self.wrong_guesses(state, victim)? {
            state.knowledge_mut().learn(otp);
            self.deliver(state, submission)?;
            self.emit(state, submission.clone());
            state.mark_delivered(submission.clone());
        }
        Some(())
    }

    fn honest_actions(&self, state: &State, actions: &mut Vec<Action>) {
        let bounds = self.config.bounds;
        let scenario = self.config.scenario;
        if scenario.registers() {
            // In `lifecycle` only B registers again (the key replacement peers must survive);
            // the clock is explored in `registration`, where nothing else competes with it.
            let registering: &[Party] = if scenario == Scenario::Lifecycle { &[B] } else { &HONEST };
            for &c in registering {
                if !state.progress.registering.contains(&c) {
                    actions.push(Action::Register(c));
                }
                if state.inbox.contains_key(&c)
                    && *state.client(c).registration() == ee2e_spec::Registration::AwaitingOtp
                {
                    actions.push(Action::EnterOtp(c));
                }
            }
            // The clock is the tick count: `now` starts at `start_time` and only ticks move it.
            let clock_end = start_time(scenario) + u64::from(bounds.ticks) * TICK_MS;
            if scenario == Scenario::Registration && state.now < clock_end {
                actions.push(Action::Tick);
            }
        }
        if scenario.messages() {
            for (i, from) in HONEST.into_iter().enumerate() {
                let other = HONEST[1 - i];
                let online = from != B || !state.b_offline();
                let limit = if from == A { bounds.sessions } else { bounds.b_sessions };
                if state.progress.sessions[i] < limit && online {
                    actions.push(Action::StartSession { from, peer: other });
                    actions.push(Action::StartSession { from, peer: E });
                }
                if state.progress.sent[i] < bounds.messages && online {
                    for peer in [other, E] {
                        if state.client(from).session_with(&phone(peer)).is_some() {
                            actions.push(Action::Send { from, to: peer });
                        }
                    }
                }
            }
            match state.progress.presence {
                0 => actions.push(Action::GoOffline),
                1 => actions.push(Action::GoOnline),
                _ => {}
            }
            if self.config.threat == Threat::Compromise
                && !state.progress.compromised
                && state.progress.sent[0] == bounds.messages
            {
                actions.push(Action::Compromise);
            }
        }
    }
}

/// (recipient, session id, sequence number, whether an ACK) of the hardened message or ACK a
/// packet carries towards an honest client, on either leg.
fn record(packet: &Packet) -> Option<(Party, &Term, u64, bool)> {
    let to = match (&packet.hop, &packet.message) {
        (Hop::ToClient { to }, _) => *to,
        (Hop::ToServer { .. }, Message::Data { to, .. } | Message::Ack { to, .. }) => owner(to)?,
        _ => return None,
    };
    match &packet.message {
        Message::Data { sealed: Sealed::Hardened { session, seq, .. }, .. }
        | Message::DataDelivery { sealed: Sealed::Hardened { session, seq, .. }, .. } => {
            Some((to, session, *seq, false))
        }
        Message::Ack { ack: Ack::Hardened { session, seq, .. }, .. }
        | Message::AckDelivery { ack: Ack::Hardened { session, seq, .. }, .. } => {
            Some((to, session, *seq, true))
        }
        _ => None,
    }
}

/// What a message or ACK carries, without its addressing: a relayed copy and the message the
/// sender gave the server compare equal.
fn payload(message: &Message<Sym>) -> Option<Result<&Sealed<Sym>, &Ack<Sym>>> {
    match message {
        Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } => Some(Ok(sealed)),
        Message::Ack { ack, .. } | Message::AckDelivery { ack, .. } => Some(Err(ack)),
        _ => None,
    }
}

/// The claimed sender of a relayed message or ACK.
fn sender(message: &Message<Sym>) -> Option<Party> {
    match message {
        Message::DataDelivery { from, .. } | Message::AckDelivery { from, .. } => owner(from),
        _ => None,
    }
}

fn first_send(outputs: Vec<ClientOutput<Sym>>) -> Message<Sym> {
    outputs
        .into_iter()
        .find_map(|o| match o {
            ClientOutput::Send(m) => Some(m),
            _ => None,
        })
        .expect("a message to send")
}

fn bump(count: &mut u8) {
    *count = (*count + 1).min(2);
}

fn record_client_event(ghost: &mut Ghost, party: Party, event: ClientEvent<Sym>, stored: bool) {
    match event {
        ClientEvent::SessionEstablished { peer, role, key, .. } => {
            let Some(peer) = owner(&peer) else { return };
            if HONEST.contains(&peer) {
                ghost.honest_keys.insert(key.clone());
            }
            match role {
                ee2e_spec::Role::Initiator => {
                    ghost.generated.insert((party, peer, key));
                }
                ee2e_spec::Role::Responder => {
                    bump(ghost.accepted_keys.entry((party, peer, key)).or_default())
                }
            }
        }
        ClientEvent::MessageSent { peer, id, plaintext, .. } => {
            if let Some(peer) = owner(&peer) {
                ghost.sent.insert((party, id), (peer, plaintext));
            }
        }
        ClientEvent::MessageAccepted { from, plaintext, .. } => {
            if let Some(from) = owner(&from) {
                bump(ghost.accepted.entry((party, from, plaintext)).or_default());
                if stored {
                    ghost.offline_delivered = true;
                }
            }
        }
        ClientEvent::AckAccepted { peer, id } => {
            if let Some(peer) = owner(&peer) {
                let justified = ghost.sent.get(&(party, id)).is_some_and(|(to, m)| {
                    *to == peer && ghost.accepted.contains_key(&(peer, party, m.clone()))
                });
                if HONEST.contains(&peer) && !justified {
                    ghost.ack_unjustified = true;
                }
                ghost.acked.insert((party, peer, id));
            }
        }
        ClientEvent::Registered => ghost.registered = true,
        _ => {}
    }
}

impl Model for Ee2eModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let profile = self.config.profile;
        let mut server = Server::new(profile, params(), SERVER, MemoryStore::default());
        let mut rngs = [SymRng::new(SERVER), SymRng::new(A), SymRng::new(B)];
        let mut attacker_rng = SymRng::new(E);
        let mut ghost = Ghost::default();
        let mut knowledge = self.initial_knowledge();
        let clients = match self.config.scenario {
            Scenario::Registration => [
                Client::new(profile, params(), phone(A), A, Term::pk(SERVER)),
                Client::new(profile, params(), phone(B), B, Term::pk(SERVER)),
            ],
            Scenario::Messaging | Scenario::Lifecycle => {
                let a = self.preregister(&mut server, &mut rngs, &mut attacker_rng, A, &mut ghost);
                let b = self.preregister(&mut server, &mut rngs, &mut attacker_rng, B, &mut ghost);
                let _e = self.preregister(&mut server, &mut rngs, &mut attacker_rng, E, &mut ghost);
                // The directory is public: any registered client can look up any phone.
                for entry in server.store().directory() {
                    knowledge.learn(entry.signature.clone());
                }
                for c in [A, B] {
                    let connect = Message::Connect { phone: phone(c) };
                    server.handle(&phone(c), connect, 0, &mut rngs[SERVER as usize]).expect("connect");
                }
                [a, b]
            }
        };
        let [a, b] = clients;
        vec![State {
            server: Arc::new(server),
            clients: [Arc::new(a), Arc::new(b)],
            rngs,
            pool: Default::default(),
            delivered: Default::default(),
            copies: Default::default(),
            knowledge: Arc::new(knowledge),
            injections: 0,
            inbox: Default::default(),
            progress: Progress {
                presence: if self.config.bounds.offline_spells == 0 { 2 } else { 0 },
                ..Progress::default()
            },
            ghost: Arc::new(ghost),
            now: start_time(self.config.scenario),
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.honest_actions(state, actions);
        if self.reduce
            && let Some(mut steps) = self.ample(state, actions)
        {
            if steps.len() == 1
                && let Some(step) = steps.pop()
            {
                steps.push(self.chained(state, step));
            }
            *actions = steps;
            return;
        }
        for otp in &state.ghost.otps {
            if state.knowledge.has_verifier(otp) {
                actions.push(Action::GuessOffline(otp.clone()));
            }
        }
        let active = self.config.threat != Threat::Passive;
        let may_inject = active && state.injections < self.config.bounds.injections;
        for packet in state.pool.iter() {
            // Nothing reaches an offline B directly: the server stores it instead.
            if packet.hop == (Hop::ToClient { to: B }) && state.b_offline() {
                continue;
            }
            if state.deliverable(packet) {
                actions.push(Action::Deliver(packet.clone()));
            } else if may_inject {
                actions.push(Action::Replay(packet.clone()));
            }
        }
        if active {
            for c in HONEST {
                // Only a client waiting for its registration result reads an error reply;
                // any code other than RegistrationRejected has the same effect.
                if *state.client(c).registration() == ee2e_spec::Registration::AwaitingResult {
                    for code in [ErrorCode::RegistrationRejected, ErrorCode::BadRequest] {
                        actions.push(Action::ForgeError { to: c, code });
                    }
                }
            }
        }
        if may_inject {
            for (packet, why) in synth::injections(self, state) {
                actions.push(Action::Inject(packet, why));
            }
            if self.config.scenario.registers()
                && state.injections + ONLINE_GUESS_COST <= self.config.bounds.injections
            {
                for c in HONEST {
                    if let Ok(Some(pending)) = state.server.store().pending_otp(&phone(c))
                        && !state.knowledge.derivable(&pending.otp)
                    {
                        for packet in synth::guessed_submissions(self, state, c, &pending.otp) {
                            actions.push(Action::GuessOnline(packet));
                        }
                    }
                }
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        match action {
            Action::Register(c) => {
                state.progress.registering.insert(c);
                let out = state.client_mut(c).register();
                self.client_outputs(&mut state, c, out, false);
            }
            Action::EnterOtp(c) => {
                let otp = state.inbox.remove(&c)?;
                let mut rng = state.rngs[c as usize];
                let out = state.client_mut(c).otp_received(&otp, &mut rng).ok()?;
                state.rngs[c as usize] = rng;
                self.client_outputs(&mut state, c, out, false);
            }
            Action::StartSession { from, peer } => {
                state.progress.sessions[usize::from(from != A)] += 1;
                let out = state.client_mut(from).start_session(&phone(peer)).ok()?;
                self.client_outputs(&mut state, from, out, false);
            }
            Action::Send { from, to } => {
                let index = usize::from(from != A);
                let n = state.progress.sent[index];
                state.progress.sent[index] += 1;
                let plaintext = Term::fresh(from, Purpose::Plaintext, 100 + u16::from(n));
                let mut rng = state.rngs[from as usize];
                let out = state.client_mut(from).send(&phone(to), &plaintext, &mut rng).ok()?;
                state.rngs[from as usize] = rng;
                self.client_outputs(&mut state, from, out, false);
            }
            Action::GoOffline | Action::GoOnline => {
                state.progress.presence += 1;
                let out = if state.progress.presence == 1 {
                    state.client_mut(B).disconnect()
                } else {
                    state.client_mut(B).connect()
                };
                self.client_outputs(&mut state, B, out.ok()?, false);
            }
            Action::Tick => state.now += TICK_MS,
            Action::Deliver(packet) => {
                self.deliver_changing(&mut state, last, &packet)?;
                state.take_delivery(&packet);
            }
            Action::Replay(packet) => {
                state.injections += 1;
                self.inject_changing(&mut state, last, &packet)?;
            }
            Action::Inject(packet, _) => {
                state.injections += 1;
                self.inject_changing(&mut state, last, &packet)?;
                self.emit(&mut state, packet.clone());
                state.mark_delivered(packet);
            }
            Action::ForgeError { to, code } => {
                let packet = Packet::new(Hop::ToClient { to }, Message::Error { code }, false);
                self.deliver_changing(&mut state, last, &packet)?;
            }
            Action::GuessOnline(packet) => {
                state.injections += ONLINE_GUESS_COST;
                self.guess_online(&mut state, &packet)?;
            }
            Action::GuessOffline(otp) => state.knowledge_mut().learn(otp),
            Action::Compromise => {
                state.progress.compromised = true;
                state.knowledge_mut().learn(Term::sk(B));
            }
            Action::Chain(steps) => {
                for step in steps {
                    state = self.next_state(&state, step)?;
                }
            }
        }
        Some(state)
    }

    fn format_action(&self, action: &Action) -> String {
        match action {
            Action::Register(c) => format!("{} starts registration", party_name(*c)),
            Action::EnterOtp(c) => format!("{} enters the OTP from its SMS", party_name(*c)),
            Action::StartSession { from, peer } => {
                format!("{} starts a session with {}", party_name(*from), party_name(*peer))
            }
            Action::Send { from, to } => {
                format!("{} sends a message to {}", party_name(*from), party_name(*to))
            }
            Action::GoOffline => "B goes offline".into(),
            Action::GoOnline => "B comes back online".into(),
            Action::Tick => format!("{} s pass (OTPs issued before now have expired)", TICK_MS / 1000),
            Action::Deliver(p) => format!("network delivers {}", describe::packet(p)),
            Action::Replay(p) => format!("attacker replays {}", describe::packet(p)),
            Action::Inject(p, why) => format!("attacker injects {} [{why}]", describe::packet(p)),
            Action::ForgeError { to, code } => {
                format!(
                    "attacker sends S → {}: Error({code:?}) [error replies are unauthenticated]",
                    party_name(*to)
                )
            }
            Action::GuessOnline(p) => {
                format!(
                    "attacker guesses online: submits {} with wrong OTP guesses to S until S locks the OTP or, if it never does, the right guess registers it",
                    describe::packet(p)
                )
            }
            Action::GuessOffline(otp) => {
                format!(
                    "attacker tries all 10^6 codes offline against a verifier it saw and learns the OTP {otp}"
                )
            }
            Action::Compromise => "B's long-term private key leaks".into(),
            Action::Chain(steps) => {
                steps.iter().map(|a| self.format_action(a)).collect::<Vec<_>>().join("; then ")
            }
        }
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let label = self.format_action(&action);
        self.next_state(last, action).map(|next| {
            format!("{label}\n\n{}\n{}", properties::in_state(self, &next), describe::state(&next))
        })
    }

    fn as_svg(&self, path: stateright::Path<State, Action>) -> Option<String> {
        let actions = path.into_actions();
        let c = self.config;
        let title = format!("EE2E {} / {} / {}", c.profile, c.threat, c.scenario);
        let story = crate::story::tell(&self.clone().without_reduction(), &actions, None).ok()?;
        Some(crate::svg::render(&title, &story))
    }

    fn within_boundary(&self, _: &State) -> bool {
        self.stop.as_ref().is_none_or(|stop| !stop.load(Ordering::Relaxed))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::for_scenario(self.config.scenario)
    }
}
