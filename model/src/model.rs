//! The stateright model: honest scripts, the network attacker, and how a step runs the real
//! protocol machines.

use ee2e_spec::{
    Client, ClientEvent, ClientOutput, MemoryStore, Message, Params, Server, ServerEvent, ServerOutput, Store,
};
use stateright::{Model, Property};

use crate::config::{
    A, B, CLIENTS, Config, E, HONEST, MAX_OTPS_PER_PHONE, SERVER, Scenario, Threat, owner, party_name, phone,
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
}

/// A step of the system.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Honest client asks to register.
    Register(Party),
    /// Honest client types the OTP it received by SMS.
    EnterOtp(Party),
    /// A starts a key exchange with the peer.
    StartSession(Party),
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
    /// The network delivers a message, for the first time, to where it was addressed.
    Deliver(Packet),
    /// The attacker delivers a message again (costs one injection).
    Replay(Packet),
    /// The attacker sends a message it built or altered (costs one injection).
    Inject(Packet, String),
    /// The attacker guesses a pending OTP online (only where attempts are unlimited).
    GuessOnline(Party),
    /// The attacker tries every OTP offline against a verifier it observed.
    GuessOffline(Term),
    /// B's long-term key leaks (threat `compromise`).
    Compromise,
}

/// Injections an online dictionary attack costs: it is many submissions, not one, so it is
/// charged more than a single forged message (and an attacker with an offline verifier
/// prefers that).
pub const ONLINE_GUESS_COST: u8 = 2;

/// The model's parameters for the protocol (PBKDF2's count is irrelevant symbolically).
pub fn params() -> Params {
    Params::default()
}

impl Ee2eModel {
    /// A model of `config`.
    pub fn new(config: Config) -> Self {
        Ee2eModel { config }
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
        let request = first_send(client.register().expect("register"));
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
                    self.emit(state, Packet { hop: Hop::ToServer { from: party }, message, stored: false })
                }
                ClientOutput::Event(event) => record_client_event(&mut state.ghost, party, event, stored),
                ClientOutput::Persist(_) => {}
            }
        }
    }

    fn server_outputs(&self, state: &mut State, outputs: Vec<ServerOutput<Sym>>, stored: bool) {
        for output in outputs {
            match output {
                ServerOutput::Send { to, message } => {
                    let Some(to) = owner(&to) else { continue };
                    self.emit(state, Packet { hop: Hop::ToClient { to }, message, stored });
                }
                ServerOutput::Sms { phone: p, otp } => {
                    state.ghost.otps.insert(otp.clone());
                    *state.ghost.issued.entry(p.clone()).or_default() += 1;
                    match owner(&p) {
                        Some(E) => state.knowledge.learn(otp),
                        Some(c) => {
                            if self.config.threat == Threat::Sms {
                                state.knowledge.learn(otp.clone());
                            }
                            state.inbox.insert(c, otp);
                        }
                        None => {}
                    }
                }
                ServerOutput::Event(ServerEvent::Registered(p)) => {
                    if let Ok(Some(entry)) = state.server.store().entry(&p) {
                        state.ghost.bound.insert((p, entry.public_key));
                    }
                }
                ServerOutput::Event(_) => {}
            }
        }
    }

    /// Puts a packet on the network: the attacker sees everything, then tries its guesses.
    fn emit(&self, state: &mut State, packet: Packet) {
        let mut terms = Vec::new();
        synth::message_terms(&packet.message, &mut terms);
        state.knowledge.learn_all(terms);
        state.pool.insert(packet);
    }

    /// Delivers a packet to its addressee; `None` if the addressee rejects it (no change).
    fn deliver(&self, state: &mut State, packet: &Packet) -> Option<()> {
        match packet.hop {
            Hop::ToServer { from } => {
                let is_connect = matches!(packet.message, Message::Connect { .. });
                let mut rng = state.rngs[SERVER as usize];
                let outputs = state.server.handle(&phone(from), packet.message.clone(), 0, &mut rng).ok()?;
                state.rngs[SERVER as usize] = rng;
                self.server_outputs(state, outputs, is_connect);
                Some(())
            }
            Hop::ToClient { to } => {
                if to == E {
                    return None;
                }
                let mut rng = state.rngs[to as usize];
                let outputs = state.client_mut(to).handle(packet.message.clone(), &mut rng).ok()?;
                state.rngs[to as usize] = rng;
                self.client_outputs(state, to, outputs, packet.stored);
                Some(())
            }
        }
    }

    /// Whether delivering `message` to the server stays within the OTP bound.
    pub fn may_issue_otp(&self, state: &State, message: &Message<Sym>) -> bool {
        match message {
            Message::RegisterRequest { phone } => {
                state.ghost.issued.get(phone).copied().unwrap_or(0) < MAX_OTPS_PER_PHONE
            }
            _ => true,
        }
    }

    fn honest_actions(&self, state: &State, actions: &mut Vec<Action>) {
        let bounds = self.config.bounds;
        match self.config.scenario {
            Scenario::Registration => {
                for c in HONEST {
                    if !state.progress.registering.contains(&c) {
                        actions.push(Action::Register(c));
                    }
                    if state.inbox.contains_key(&c)
                        && *state.client(c).registration() == ee2e_spec::Registration::AwaitingOtp
                    {
                        actions.push(Action::EnterOtp(c));
                    }
                }
            }
            Scenario::Messaging => {
                if state.progress.sessions < bounds.sessions {
                    actions.push(Action::StartSession(B));
                    actions.push(Action::StartSession(E));
                }
                if state.progress.sent[0] < bounds.messages {
                    for peer in [B, E] {
                        if state.client(A).session_with(&phone(peer)).is_some() {
                            actions.push(Action::Send { from: A, to: peer });
                        }
                    }
                }
                if state.progress.sent[1] < bounds.messages
                    && state.client(B).session_with(&phone(A)).is_some()
                    && !state.b_offline()
                {
                    actions.push(Action::Send { from: B, to: A });
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
                ghost.acked.insert((party, peer, id));
            }
        }
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
            Scenario::Messaging => {
                let a = self.preregister(&mut server, &mut rngs, &mut attacker_rng, A, &mut ghost);
                let b = self.preregister(&mut server, &mut rngs, &mut attacker_rng, B, &mut ghost);
                let e = self.preregister(&mut server, &mut rngs, &mut attacker_rng, E, &mut ghost);
                if let ee2e_spec::Registration::Registered(entry) = e.registration() {
                    knowledge.learn(entry.signature.clone());
                }
                for c in [A, B] {
                    let connect = Message::Connect { phone: phone(c) };
                    server.handle(&phone(c), connect, 0, &mut rngs[SERVER as usize]).expect("connect");
                }
                [a, b]
            }
        };
        vec![State {
            server,
            clients,
            rngs,
            pool: Default::default(),
            delivered: Default::default(),
            knowledge,
            injections: 0,
            inbox: Default::default(),
            progress: Progress::default(),
            ghost,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.honest_actions(state, actions);
        for otp in &state.ghost.otps {
            if state.knowledge.has_verifier(otp) {
                actions.push(Action::GuessOffline(otp.clone()));
            }
        }
        let may_inject =
            self.config.threat != Threat::Passive && state.injections < self.config.bounds.injections;
        for packet in &state.pool {
            // Nothing reaches an offline B directly: the server stores it instead.
            if packet.hop == (Hop::ToClient { to: B }) && state.b_offline() {
                continue;
            }
            if !self.may_issue_otp(state, &packet.message) {
                continue;
            }
            if !state.delivered.contains(packet) {
                actions.push(Action::Deliver(packet.clone()));
            } else if may_inject {
                actions.push(Action::Replay(packet.clone()));
            }
        }
        if may_inject {
            for (packet, why) in synth::injections(self, state) {
                actions.push(Action::Inject(packet, why));
            }
            if !self.config.profile.has(ee2e_spec::Fix::OtpLimits)
                && state.injections + ONLINE_GUESS_COST <= self.config.bounds.injections
            {
                for c in HONEST {
                    if let Ok(Some(pending)) = state.server.store().pending_otp(&phone(c))
                        && !state.knowledge.derivable(&pending.otp)
                    {
                        actions.push(Action::GuessOnline(c));
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
                let out = state.client_mut(c).register().ok()?;
                self.client_outputs(&mut state, c, out, false);
            }
            Action::EnterOtp(c) => {
                let otp = state.inbox.remove(&c)?;
                let mut rng = state.rngs[c as usize];
                let out = state.client_mut(c).otp_received(&otp, &mut rng).ok()?;
                state.rngs[c as usize] = rng;
                self.client_outputs(&mut state, c, out, false);
            }
            Action::StartSession(peer) => {
                state.progress.sessions += 1;
                let out = state.client_mut(A).start_session(&phone(peer)).ok()?;
                self.client_outputs(&mut state, A, out, false);
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
            Action::Deliver(packet) => {
                state.delivered.insert(packet.clone());
                self.deliver(&mut state, &packet)?;
            }
            Action::Replay(packet) => {
                state.injections += 1;
                self.deliver(&mut state, &packet)?;
            }
            Action::Inject(packet, _) => {
                state.injections += 1;
                self.emit(&mut state, packet.clone());
                state.delivered.insert(packet.clone());
                self.deliver(&mut state, &packet)?;
            }
            Action::GuessOnline(c) => {
                state.injections += ONLINE_GUESS_COST;
                let pending = state.server.store().pending_otp(&phone(c)).ok()??;
                state.knowledge.learn(pending.otp);
            }
            Action::GuessOffline(otp) => state.knowledge.learn(otp),
            Action::Compromise => {
                state.progress.compromised = true;
                state.knowledge.learn(Term::sk(B));
            }
        }
        Some(state)
    }

    fn format_action(&self, action: &Action) -> String {
        match action {
            Action::Register(c) => format!("{} starts registration", party_name(*c)),
            Action::EnterOtp(c) => format!("{} enters the OTP from its SMS", party_name(*c)),
            Action::StartSession(p) => format!("A starts a session with {}", party_name(*p)),
            Action::Send { from, to } => {
                format!("{} sends a message to {}", party_name(*from), party_name(*to))
            }
            Action::GoOffline => "B goes offline".into(),
            Action::GoOnline => "B comes back online".into(),
            Action::Deliver(p) => format!("network delivers {}", describe::packet(p)),
            Action::Replay(p) => format!("attacker replays {}", describe::packet(p)),
            Action::Inject(p, why) => format!("attacker injects {} [{why}]", describe::packet(p)),
            Action::GuessOnline(c) => {
                format!("attacker guesses {}'s OTP online (unlimited attempts)", party_name(*c))
            }
            Action::GuessOffline(otp) => {
                format!(
                    "attacker tries all 10^6 codes offline against a verifier it saw and learns the OTP {otp}"
                )
            }
            Action::Compromise => "B's long-term private key leaks".into(),
        }
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let label = self.format_action(&action);
        self.next_state(last, action).map(|next| format!("{label}\n\n{}", describe::state(&next)))
    }

    fn as_svg(&self, path: stateright::Path<State, Action>) -> Option<String> {
        let actions = path.into_actions();
        let c = self.config;
        let title = format!("EE2E {} / {} / {}", c.profile, c.threat, c.scenario);
        Some(crate::svg::sequence_diagram(&title, &actions, |a| self.format_action(a)))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::for_scenario(self.config.scenario)
    }
}
