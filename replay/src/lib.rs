//! # ee2e-replay — the model's counterexamples, run on the implementation
//!
//! `ee2e check` finds attacks on the `seed` profile in the model, where the clients and the
//! server are the real `ee2e_spec` machines over symbolic terms. This crate runs each
//! attack's trace, step by step, on the in-process implementation ([`ee2e::runtime`]) over
//! real bytes, and shows the attack works there; then runs the same trace on `hardened` and
//! shows where and how it fails.
//!
//! How a trace is replayed, mechanically:
//! - The model runs the trace with `Ee2eModel::next_state`, and the runtime runs beside it.
//!   A tap holds every envelope, so the replay — like the model's network — decides what is
//!   delivered, when, how often and to whom.
//! - Honest actions become runtime calls on the same client (`register`, `otp_received`,
//!   `start_session`, `send`, `disconnect`/`connect`). Both worlds run the same protocol code
//!   in the same order, so the k-th packet the model sends in a step is the k-th envelope the
//!   runtime sends; the replay checks that their types, addresses and shapes match, and binds
//!   every symbolic value to the bytes that implement it.
//!   `Deliver` and `Replay` of a packet deliver its envelope.
//! - What the model's attacker learns, the concrete attacker derives: it opens what E's key
//!   opens, decrypts with session keys it holds, and at a `GuessOffline` step recovers the OTP
//!   by a real brute force over all 10⁶ codes against a verifier it observed (at a reduced
//!   PBKDF2 count, the same in the runtime and the guess). After every step, both attackers
//!   must know the same secrets, and the server's tables (directory, pending OTPs and their
//!   failed attempts) are compared; a difference is noted in the step's report.
//! - `Inject` evaluates the symbolic message to bytes with the concrete suite, using only
//!   what the attacker holds (known values, constants, public keys, E's key and E's own
//!   fresh values); a missing value fails the replay.
//! - On another profile, each injection becomes the best the attacker can send there (an
//!   observed body stays the observed body of this run; an unknown key, plaintext or OTP becomes
//!   E's own; a signature E cannot make becomes the closest one it holds; everything is rebuilt
//!   in the profile's layout), and every step's outcome is recorded: a party's rejection names the
//!   check (`BadDirectorySignature`, `BadMac`, …) and the erratum that added it.
//!
//! At the end, SPEC.md §15's properties are judged on the implementation itself (directory,
//! client state and events, the attacker's bytes): see [`Violation`].
//!
//! Online OTP guessing (`GuessOnline`) is done for real too: the trace's submission goes to
//! the server with every code in turn until it is accepted or the attempt limit locks the
//! OTP (`online`).
#![deny(missing_docs)]

mod attacker;
pub mod brute;
pub mod live;
mod online;
mod props;
mod report;
mod steps;
mod translate;
mod values;
mod world;

use std::collections::HashMap;
use std::fmt;

use ee2e::Bytes;
use ee2e::codec;
use ee2e::runtime::Envelope;
use ee2e_model::Action;
use ee2e_model::properties::{ALL, Kind};
use ee2e_model::run::{RunReport, Status, TRACE_SEARCH_LIMIT};
use ee2e_model::symbolic::{A, B, CLIENTS, E, owner, party_name, phone};
use ee2e_model::symbolic::{Goal, shortest};
use ee2e_model::symbolic::{Node, Purpose, Term};
use ee2e_model::symbolic::{Packet, State};
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{ClientError, MessageType, Phone, Profile, Rejection as Refused, ServerError, Store};
use stateright::Model;

pub use brute::BruteForce;
pub use live::{Expect, LiveTrace, Planned, Play, Taken, live_supported};
pub use online::OnlineGuess;
pub use props::Violation;
pub use report::{render, table};

use attacker::Attacker;
use translate::{Correspondence, Places};
use world::{World, addresses};

/// PBKDF2 iterations in replays, in the runtime's parameters and in the attacker's brute
/// force alike (SPEC.md's 600 000 would make the real brute force take core-hours).
pub const REPLAY_PBKDF2_ITERATIONS: u32 = 16;

/// Seed of the runtime's random source in replays (reproducible OTPs and keys).
const RUNTIME_SEED: [u8; 32] = [0x5e; 32];
/// Seed of the attacker's own random values.
const ATTACKER_SEED: [u8; 32] = [0xe3; 32];
/// Position of a step's injected packet among the step's packets.
const INJECTED: usize = usize::MAX;

/// One counterexample of the model: a violated property and the actions that violate it.
#[derive(Debug, Clone)]
pub struct Attack {
    /// The violated property (SPEC.md §15).
    pub property: &'static str,
    /// The model configuration the trace belongs to.
    pub config: Config,
    /// The trace.
    pub actions: Vec<Action>,
}

/// The seed counterexamples under threat `network` in a list of `ee2e check` runs.
pub fn attacks_from_runs(runs: &[(Config, RunReport)]) -> Vec<Attack> {
    let mut out = Vec::new();
    for (config, report) in runs {
        if config.profile != Profile::SEED || config.threat != Threat::Network {
            continue;
        }
        for p in report.properties.iter().filter(|p| p.status == Status::Violated) {
            if let Some(path) = &p.path {
                out.push(Attack { property: p.name, config: *config, actions: path.clone().into_actions() });
            }
        }
    }
    out
}

/// The shortest seed counterexamples under threat `network` within `bounds`, found by the
/// same breadth-first search as `ee2e check` (registration scenario first, then messaging).
pub fn seed_attacks(bounds: Bounds) -> Vec<Attack> {
    let mut out = Vec::new();
    for scenario in [Scenario::Registration, Scenario::Messaging] {
        let config = Config { profile: Profile::SEED, threat: Threat::Network, scenario, bounds };
        let model = Ee2eModel::new(config).without_reduction();
        let goals: Vec<Goal> = ALL
            .iter()
            .filter(|d| d.part.in_scenario(scenario) && d.kind == Kind::Always)
            .map(|d| (d.name, d.violated))
            .collect();
        let traces = shortest(&model, &goals, TRACE_SEARCH_LIMIT);
        for ((property, _), trace) in goals.iter().zip(traces) {
            if let Some(actions) = trace {
                out.push(Attack { property, config, actions });
            }
        }
    }
    out
}

/// A failed check, where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A client rejected a message.
    Client {
        /// The client (A, B or E).
        party: String,
        /// The rejected message's type.
        kind: MessageType,
        /// The failed check.
        error: ClientError,
    },
    /// The server rejected a message (and replied with an error code).
    Server {
        /// The rejected message's type, if known.
        kind: Option<MessageType>,
        /// The failed check.
        error: ServerError,
    },
    /// The bytes did not decode.
    Undecodable {
        /// Where.
        party: String,
        /// The decoding error.
        error: String,
    },
    /// The envelope's addressee was off the network.
    Undeliverable {
        /// The addressee.
        party: String,
    },
}

impl Rejection {
    /// The party that rejected (A, B, E or S).
    pub fn party(&self) -> &str {
        match self {
            Rejection::Client { party, .. }
            | Rejection::Undecodable { party, .. }
            | Rejection::Undeliverable { party } => party,
            Rejection::Server { .. } => "S",
        }
    }

    /// The erratum of SPEC.md §12 whose check this is, if one is.
    pub fn erratum(&self) -> Option<&'static str> {
        match self {
            Rejection::Client { kind, error: ClientError::Rejected(check), .. } => match check {
                Refused::BadDirectorySignature(_) => Some("E1"),
                Refused::BadTransportSignature(_) => Some("E2"),
                Refused::ReplayedKeyTransport => Some("E3"),
                Refused::BadMac if *kind == MessageType::AckDelivery => Some("E6"),
                Refused::BadMac => Some("E4"),
                Refused::ReplayedMessage(_) | Refused::MessageTooOld(_) => Some("E5"),
                Refused::UnexpectedAck | Refused::AckMismatch => Some("E6"),
                _ => None,
            },
            Rejection::Server { error, .. } => match error {
                ServerError::BadSealedTag | ServerError::BadRegistrationTag => Some("E7"),
                ServerError::TooManyAttempts(_) => Some("E8"),
                ServerError::BadPossessionProof => Some("E9"),
                _ => None,
            },
            _ => None,
        }
    }

    /// The failed check, with phone numbers shown as party names.
    pub fn error_text(&self) -> String {
        let raw = match self {
            // The failed check itself; its blame class (a peer's message refused) is implied.
            Rejection::Client { error: ClientError::Rejected(check), .. } => format!("{check:?}"),
            Rejection::Client { error: ClientError::Usage(misuse), .. } => format!("{misuse:?}"),
            Rejection::Client { error, .. } => format!("{error:?}"),
            Rejection::Server { error, .. } => {
                format!("{error:?} (wire code {:?})", error.code())
            }
            Rejection::Undecodable { error, .. } => format!("undecodable: {error}"),
            Rejection::Undeliverable { .. } => "undeliverable (offline)".to_string(),
        };
        names_for_phones(&raw)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.party(), self.error_text())?;
        if let Some(e) = self.erratum() {
            write!(f, " ({e})")?;
        }
        Ok(())
    }
}

/// Replaces `Phone(+1555…)` and bare numbers of the cast by A, B, E.
fn names_for_phones(text: &str) -> String {
    let mut out = text.to_string();
    for p in CLIENTS {
        let number = phone(p).to_string();
        out = out.replace(&format!("Phone({number})"), party_name(p)).replace(&number, party_name(p));
    }
    out
}

/// A phone as its party's name (A, B, E), or the number.
pub(crate) fn name_of(p: &Phone) -> String {
    owner(p).map_or_else(|| p.to_string(), |x| party_name(x).to_string())
}

/// What happened at one step of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The step ran and every party accepted what it received.
    Done,
    /// A party rejected a message.
    Rejected(Rejection),
    /// The step could not run in this profile (e.g. a message that was never sent here, or an
    /// honest action the client refuses).
    NotPossible(String),
    /// The attacker could not build the message.
    NotBuilt(String),
}

/// One step of a replay.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// 1-based position in the trace.
    pub n: usize,
    /// What kind of step: `honest`, `delivery`, `replay`, `injection`, `offline guess`,
    /// `online guess` or `key leak`.
    pub kind: &'static str,
    /// The action as run in this profile (the model's description).
    pub action: String,
    /// What happened.
    pub outcome: Outcome,
    /// What the attacker learned or could not do at this step.
    pub notes: Vec<String>,
}

/// The replay of one attack on one profile.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The attacked property.
    pub property: &'static str,
    /// The profile the implementation ran.
    pub profile: Profile,
    /// Every step.
    pub steps: Vec<StepReport>,
    /// The properties the implementation violated at the end.
    pub violations: Vec<Violation>,
    /// The offline OTP guesses the attacker made.
    pub brute_forces: Vec<BruteForce>,
    /// The online OTP guesses the attacker made.
    pub online_guesses: Vec<OnlineGuess>,
}

impl Replay {
    /// The violation of the attacked property, if the attack succeeded.
    pub fn success(&self) -> Option<&Violation> {
        self.violations.iter().find(|v| v.property == self.property)
    }

    /// The first step at which a party rejected a message, with the rejection.
    pub fn first_rejection(&self) -> Option<(usize, &Rejection)> {
        self.steps.iter().find_map(|s| match &s.outcome {
            Outcome::Rejected(r) => Some((s.n, r)),
            _ => None,
        })
    }

    /// The first step that did not run as in the seed trace.
    pub fn first_failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.outcome != Outcome::Done)
    }
}

/// The replay could not be carried out faithfully (the model and the implementation disagree,
/// or the attacker lacks a value the model gives it): a bug in the mapping or a modelling gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    /// The step (1-based), if the error happened at one.
    pub step: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(n) => write!(f, "step {n}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ReplayError {}

/// The plaintext an honest client sends in replays for the model's plaintext `term`.
fn honest_plaintext(term: &Term) -> Bytes {
    let (from, to, n) = match term.node() {
        Node::Fresh(name) => {
            let to = if name.party == A { "B" } else { "A" };
            (party_name(name.party), to, name.n.saturating_sub(99))
        }
        _ => ("?", "?", 0),
    };
    Bytes::secret(format!("hello {to}, this is {from} (message {n})").into_bytes())
}

/// The kind of a step, for reports.
fn kind(action: &Action) -> &'static str {
    match action {
        Action::Register(_)
        | Action::EnterOtp(_)
        | Action::StartSession { .. }
        | Action::Send { .. }
        | Action::GoOffline
        | Action::GoOnline => "honest",
        Action::Tick => "clock",
        Action::ForgeError { .. } => "forged error reply",
        Action::Deliver(_) => "delivery",
        Action::Replay(_) => "replay",
        Action::Inject(..) => "injection",
        Action::GuessOffline(_) => "offline guess",
        Action::GuessOnline(_) => "online guess",
        Action::Compromise => "key leak",
        Action::Chain(_) => "chain of reduced steps",
    }
}

/// A replay in progress.
struct Run<'a> {
    attack: &'a Attack,
    profile: Profile,
    source_model: Ee2eModel,
    model: Ee2eModel,
    source: State,
    state: State,
    world: World,
    att: Attacker,
    /// Where each packet of the seed run and of this run was sent.
    places: Places,
    /// The envelope the implementation sent (or the attacker injected) for each packet.
    envelopes: HashMap<Packet, Envelope>,
    corr: Correspondence,
    /// Honest secrets as the implementation drew them (to check the attacker's findings).
    truth: HashMap<Term, Bytes>,
    /// The last differences between the model's server tables and the implementation's.
    server_differences: Vec<String>,
    steps: Vec<StepReport>,
    /// The online guesses so far.
    online_guesses: Vec<OnlineGuess>,
    /// Where the last try of an online guess starts in the transcript (its rejection, if
    /// any, is the step's; the wrong guesses before it are not).
    last_try: Option<usize>,
}

/// Replays `attack` (a seed trace) on the implementation running `profile`. See the
/// [module documentation](self).
///
/// # Errors
/// [`ReplayError`] if the model and the implementation disagree (different messages, one
/// accepts what the other rejects, one attacker knows a secret the other does not) or the
/// attacker lacks a value the seed trace needs.
pub fn replay(attack: &Attack, profile: Profile) -> Result<Replay, ReplayError> {
    let err = |message: String| ReplayError { step: None, message };
    let source_model = Ee2eModel::new(attack.config);
    let model = Ee2eModel::new(Config { profile, ..attack.config });
    let source =
        source_model.init_states().into_iter().next().ok_or_else(|| err("no initial state".into()))?;
    let state = model.init_states().into_iter().next().ok_or_else(|| err("no initial state".into()))?;
    let world =
        World::new(profile, attack.config.scenario, REPLAY_PBKDF2_ITERATIONS, RUNTIME_SEED).map_err(err)?;
    let mut att = Attacker::new(REPLAY_PBKDF2_ITERATIONS, ATTACKER_SEED).map_err(err)?;
    match attack.config.threat {
        Threat::Network | Threat::Passive | Threat::Sms | Threat::Compromise => {}
        Threat::Server => att.hold_key(ee2e_model::symbolic::SERVER).map_err(err)?,
    }
    let mut run = Run {
        attack,
        profile,
        source_model,
        model,
        source,
        state,
        world,
        att,
        places: Places::default(),
        envelopes: HashMap::new(),
        corr: Correspondence::default(),
        truth: HashMap::new(),
        server_differences: Vec::new(),
        steps: Vec::new(),
        online_guesses: Vec::new(),
        last_try: None,
    };
    run.setup().map_err(err)?;
    for (i, action) in attack.actions.iter().enumerate() {
        run.step(i + 1, action).map_err(|message| ReplayError { step: Some(i + 1), message })?;
    }
    let violations = props::violations(&run.world, &run.att);
    Ok(Replay {
        property: attack.property,
        profile,
        steps: run.steps,
        violations,
        brute_forces: run.att.brute_forces.clone(),
        online_guesses: run.online_guesses.clone(),
    })
}

impl Run<'_> {
    /// What the attacker knows before the first step: every registered entry (messaging).
    fn setup(&mut self) -> Result<(), String> {
        if !self.attack.config.scenario.messages() {
            return Ok(());
        }
        for p in [A, B, E] {
            let sym_source = self.source.server.store().entry(&phone(p)).map_err(|e| e.to_string())?;
            let sym = self.state.server.store().entry(&phone(p)).map_err(|e| e.to_string())?;
            let conc = self.world.rt.store().entry(&phone(p)).map_err(|e| e.to_string())?;
            let (Some(sym_source), Some(sym), Some(conc)) = (sym_source, sym, conc) else {
                return Err(format!("{} is not registered at the start", party_name(p)));
            };
            let (m_source, m) = (
                ee2e_spec::Message::RegisterResult { entry: sym_source },
                ee2e_spec::Message::RegisterResult { entry: sym },
            );
            self.corr.pair(&m_source, &m);
            // The directory is public (a registered client can look any phone up): the
            // model's attacker starts with every entry, so the concrete one does too.
            self.att.observe_message(&m, &ee2e_spec::Message::RegisterResult { entry: conc })?;
        }
        self.check_knowledge()
    }

    fn step(&mut self, n: usize, action: &Action) -> Result<(), String> {
        // The seed trace, in the seed model.
        let source_step = steps::step(&self.source_model, &self.source, action)?
            .ok_or_else(|| format!("the trace's action is not possible in the model: {action:?}"))?;
        self.places.record_source(n, &source_step);

        // The same action in this profile.
        let mut notes = Vec::new();
        let target = self.translate(action, &mut notes)?;
        let Some(target) = target else {
            self.steps.push(StepReport {
                n,
                kind: kind(action),
                action: self.source_model.format_action(action),
                outcome: Outcome::NotPossible("the message was never sent in this profile".into()),
                notes,
            });
            self.source = source_step.next;
            return Ok(());
        };
        let description = self.model.format_action(&target);

        // The implementation.
        let mark = self.world.rt.transcript().len();
        let brute_forces_before = self.att.brute_forces.len();
        let (exec, injected_envelope) = self.execute(&target, &mut notes)?;
        let mark = self.last_try.take().unwrap_or(mark);
        let outcome = match exec {
            Outcome::Done => self.world.rejection_since(mark).map_or(Outcome::Done, Outcome::Rejected),
            other => other,
        };

        // The model, and the two compared.
        let model_step = match outcome {
            Outcome::NotBuilt(_) => None,
            _ => steps::step(&self.model, &self.state, &target)?,
        };
        let captured = self.world.take_captured();
        match (&model_step, &outcome) {
            (Some(_), Outcome::Done)
            | (None, Outcome::Rejected(_) | Outcome::NotPossible(_) | Outcome::NotBuilt(_)) => {}
            // The server rejected the message and still changed its state (a counted
            // attempt, a voided OTP): both sides agree it was a rejection.
            (Some(ms), Outcome::Rejected(_)) if ms.rejected => {}
            (Some(_), other) => {
                return Err(format!("the model accepts {description}, the implementation: {other:?}"));
            }
            (None, Outcome::Done) => {
                return Err(format!("the model rejects {description}, the implementation accepts it"));
            }
        }
        if let (Action::Inject(p, _) | Action::GuessOnline(p), Some(envelope)) = (&target, injected_envelope)
        {
            self.places.target.insert((n, INJECTED), p.clone());
            self.envelopes.insert(p.clone(), envelope);
        }
        match model_step {
            Some(ms) => {
                if ms.emitted.len() != captured.len() {
                    return Err(format!(
                        "the model sent {} message(s), the implementation {}: {:?}",
                        ms.emitted.len(),
                        captured.len(),
                        captured
                    ));
                }
                for (j, (p, envelope)) in ms.emitted.iter().zip(captured).enumerate() {
                    let (from, to) = addresses(&p.hop);
                    if envelope.from != from || envelope.to != to {
                        return Err(format!(
                            "model packet {p:?} went {from} → {to}, the envelope {envelope:?}"
                        ));
                    }
                    let message = codec::decode(self.world.wire, &envelope.bytes)
                        .map_err(|e| format!("the implementation sent undecodable bytes: {e}"))?;
                    if message.kind() != p.message.kind() {
                        return Err(format!(
                            "the model sent {:?}, the implementation {:?}",
                            p.message.kind(),
                            message.kind()
                        ));
                    }
                    self.att.observe_message(&p.message, &message)?;
                    if let Some(previous) = self.envelopes.get(p)
                        && previous.bytes != envelope.bytes
                    {
                        return Err(format!("one model packet, two different envelopes: {p:?}"));
                    }
                    self.envelopes.entry(p.clone()).or_insert(envelope);
                    self.places.target.insert((n, j), p.clone());
                    if let Some(sp) = source_step.emitted.get(j)
                        && sp.hop == p.hop
                    {
                        self.corr.pair(&sp.message, &p.message);
                    }
                }
                self.state = ms.next;
            }
            None => {
                for envelope in captured {
                    if let Ok(ee2e_spec::Message::Error { code }) =
                        codec::decode(self.world.wire, &envelope.bytes)
                    {
                        let to = match &envelope.to {
                            ee2e::runtime::Address::Client(p) => name_of(p),
                            ee2e::runtime::Address::Server => "S".into(),
                        };
                        notes.push(format!("S replied Error({code:?}) to {to} (held by the tap)"));
                    }
                }
            }
        }
        for b in &self.att.brute_forces[brute_forces_before..] {
            notes.push(format!(
                "E brute-forced {}'s OTP offline from {}: {} after {} of {} guesses in {:.2} s ({} threads, {} PBKDF2 iterations)",
                b.owner, b.verifier, b.otp, b.tried, b.space, b.seconds, b.threads, b.iterations
            ));
        }
        self.sms()?;
        self.learn()?;
        let differences = self.compare_server()?;
        if differences != self.server_differences {
            notes.extend(differences.iter().map(|d| format!("model and implementation differ: {d}")));
            self.server_differences = differences;
        }
        self.steps.push(StepReport { n, kind: kind(action), action: description, outcome, notes });
        self.source = source_step.next;
        Ok(())
    }

    /// The action of this run for the seed trace's `action` ([`translate::action`]).
    fn translate(&self, action: &Action, notes: &mut Vec<String>) -> Result<Option<Action>, String> {
        let run = translate::RunView {
            profile: self.profile,
            source_profile: self.attack.config.profile,
            state: &self.state,
            corr: &self.corr,
            places: &self.places,
        };
        translate::action(&run, action, notes)
    }

    /// Runs `action` on the implementation. Returns the outcome (before looking at
    /// rejections) and, for an injection, the envelope sent.
    fn execute(
        &mut self,
        action: &Action,
        notes: &mut Vec<String>,
    ) -> Result<(Outcome, Option<Envelope>), String> {
        let refused = |e: ee2e::runtime::RuntimeError| Outcome::NotPossible(names_for_phones(&e.to_string()));
        let done = |r: Result<(), ee2e::runtime::RuntimeError>| r.map_or_else(refused, |()| Outcome::Done);
        Ok(match action {
            // Traces are flattened into single steps before they are replayed (run.rs).
            Action::Chain(_) => {
                return Err("a chain of reduced steps is replayed step by step, not whole".into());
            }
            Action::Register(c) => (
                done(self.world.rt.act(&phone(*c), |client, _| Ok::<_, ClientError>(client.register()))),
                None,
            ),
            Action::EnterOtp(c) => match self.world.inbox.remove(c) {
                Some(otp) => {
                    (done(self.world.rt.act(&phone(*c), |client, rng| client.otp_received(&otp, rng))), None)
                }
                None => (Outcome::NotPossible(format!("no OTP arrived for {}", party_name(*c))), None),
            },
            Action::StartSession { from, peer } => (
                done(self.world.rt.act(&phone(*from), |client, _| client.start_session(&phone(*peer)))),
                None,
            ),
            Action::Tick => {
                self.world.rt.advance(std::time::Duration::from_millis(ee2e_model::symbolic::TICK_MS));
                (Outcome::Done, None)
            }
            Action::ForgeError { to, code } => {
                let message = ee2e_spec::Message::Error { code: *code };
                let bytes =
                    codec::encode(self.world.wire, &message).map_err(|e| format!("cannot encode: {e}"))?;
                let envelope = Envelope {
                    from: ee2e::runtime::Address::Server,
                    to: ee2e::runtime::Address::Client(phone(*to)),
                    bytes,
                };
                self.world.send(envelope)?;
                (Outcome::Done, None)
            }
            Action::Send { from, to } => {
                let term = steps::send_plaintext(&self.state, *from);
                let plaintext = honest_plaintext(&term);
                self.truth.insert(term, plaintext.clone());
                let peer = phone(*to);
                (
                    done(self.world.rt.act(&phone(*from), |client, rng| client.send(&peer, &plaintext, rng))),
                    None,
                )
            }
            Action::GoOffline => (done(self.world.rt.disconnect(&phone(B))), None),
            Action::GoOnline => (done(self.world.rt.connect(&phone(B))), None),
            Action::Deliver(p) | Action::Replay(p) => {
                let envelope =
                    self.envelopes.get(p).cloned().ok_or_else(|| format!("no envelope for {p:?}"))?;
                self.world.send(envelope)?;
                (Outcome::Done, None)
            }
            Action::Inject(p, _) => {
                let message = match self.att.build_message(&p.message) {
                    Ok(m) => m,
                    Err(e) if self.profile == self.attack.config.profile => {
                        return Err(format!("the attacker cannot build the trace's message: {e}"));
                    }
                    Err(e) => return Ok((Outcome::NotBuilt(e), None)),
                };
                let bytes =
                    codec::encode(self.world.wire, &message).map_err(|e| format!("cannot encode: {e}"))?;
                let (from, to) = addresses(&p.hop);
                let envelope = Envelope { from, to, bytes };
                self.world.send(envelope.clone())?;
                (Outcome::Done, Some(envelope))
            }
            Action::Compromise => {
                self.att.hold_key(B)?;
                notes.push("E obtains B's private key".into());
                (Outcome::Done, None)
            }
            Action::GuessOnline(p) => {
                let ee2e_spec::Message::RegisterSubmit { phone: victim, .. } = &p.message else {
                    return Err(format!("an online guess submits a registration, not {p:?}"));
                };
                let secret = match self.state.server.store().pending_otp(victim) {
                    Ok(Some(pending)) => pending.otp,
                    _ => return Ok((Outcome::NotPossible("no OTP is pending".into()), None)),
                };
                let owner = self.owner_of(&secret);
                let (ended, mark, report) = online::guess(&mut self.world, &mut self.att, p, &secret, owner)?;
                self.last_try = Some(mark);
                notes.push(match (&report.otp, &report.stopped_by) {
                    (Some(otp), _) => format!(
                        "E guessed {}'s OTP online: S accepted {otp} after {} submissions in {:.2} s",
                        report.owner, report.tried, report.seconds
                    ),
                    (None, why) => format!(
                        "E's online guessing of {}'s OTP stopped after {} submissions: {}",
                        report.owner,
                        report.tried,
                        why.as_deref().unwrap_or("?")
                    ),
                });
                self.online_guesses.push(report);
                match ended {
                    online::Ended::Accepted(envelope, otp) => {
                        if let Some(real) = self.truth.get(&secret)
                            && *real != otp
                        {
                            return Err(format!("the online guess found a wrong {secret}"));
                        }
                        (Outcome::Done, Some(envelope))
                    }
                    // The error reply of the last try is the step's; the model lists none.
                    online::Ended::Refused => {
                        self.world.take_captured();
                        (Outcome::Done, None)
                    }
                }
            }
            Action::GuessOffline(otp) => {
                let owner = self.owner_of(otp);
                let model_has_verifier = self.state.knowledge.has_verifier(otp);
                match self.att.guess_otps([otp], |_| owner.clone()) {
                    Ok(_) if model_has_verifier => {
                        if let Some(real) = self.truth.get(otp)
                            && self.att.known().get(otp).is_none_or(|v| v != real)
                        {
                            return Err(format!("the brute force found a wrong {otp}"));
                        }
                        (Outcome::Done, None)
                    }
                    Ok(_) => {
                        return Err(format!(
                            "modelling gap: the concrete attacker brute-forced {otp}, the model sees no verifier"
                        ));
                    }
                    Err(e) if model_has_verifier || self.profile == self.attack.config.profile => {
                        return Err(format!("the trace's offline guess fails: {e}"));
                    }
                    Err(e) => {
                        // Say which erratum took the verifier away: the OTP only travels
                        // sealed to the server's key (E7).
                        let server_key = Term::pk(ee2e_model::symbolic::SERVER);
                        let mut holders =
                            self.att.known().keys().filter(|t| *t != otp && t.contains(otp)).peekable();
                        let sealed = holders.peek().is_some()
                            && holders
                                .all(|t| matches!(t.node(), Node::AEnc { pk, .. } if *pk == server_key));
                        let why = if sealed && self.profile.has(ee2e_spec::Fix::SealedTag) {
                            format!("{e} (E7: the tag is sealed to S)")
                        } else {
                            e
                        };
                        (Outcome::NotBuilt(why), None)
                    }
                }
            }
        })
    }

    /// OTPs that arrived by SMS: E's go to the attacker (and under threat `sms`, everyone's),
    /// honest clients' to their handsets.
    fn sms(&mut self) -> Result<(), String> {
        for p in CLIENTS {
            let Some(otp) = self.world.rt.take_otp(&phone(p)) else { continue };
            let pending = self.state.server.store().pending_otp(&phone(p)).map_err(|e| e.to_string())?;
            let Some(pending) = pending else {
                return Err(format!("an OTP reached {}, the model has none pending", party_name(p)));
            };
            if p == E || self.attack.config.threat == Threat::Sms {
                self.att.observe(&pending.otp, &otp)?;
            }
            if p != E {
                self.truth.insert(pending.otp, otp.clone());
                self.world.inbox.insert(p, otp);
            }
        }
        Ok(())
    }

    /// The server's tables in the model and in the implementation, compared: directory
    /// entries (by key) and pending OTPs (by presence and failed attempts).
    fn compare_server(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let (sym, conc) = (self.state.server.store(), self.world.rt.store());
        for p in CLIENTS {
            let name = party_name(p);
            let key_of = |t: &Term| match t.node() {
                Node::Pk(x) => attacker::public_key(*x),
                _ => None,
            };
            let sym_key =
                sym.entry(&phone(p)).map_err(|e| e.to_string())?.and_then(|e| key_of(&e.public_key));
            let conc_key = conc.entry(&phone(p)).map_err(|e| e.to_string())?.map(|e| e.public_key);
            if sym_key != conc_key {
                out.push(format!("{name}'s directory entry"));
            }
            let sym_otp = sym.pending_otp(&phone(p)).map_err(|e| e.to_string())?.map(|o| o.attempts);
            let conc_otp = conc.pending_otp(&phone(p)).map_err(|e| e.to_string())?.map(|o| o.attempts);
            if sym_otp != conc_otp {
                let show = |a: Option<u32>| {
                    a.map_or_else(|| "none".to_string(), |n| format!("{n} failed attempt(s)"))
                };
                out.push(format!(
                    "{name}'s pending OTP: model {}, implementation {}",
                    show(sym_otp),
                    show(conc_otp)
                ));
            }
        }
        Ok(out)
    }

    /// The client the pending OTP `otp` was issued for, by name.
    fn owner_of(&self, otp: &Term) -> String {
        let server = &self.state.server;
        CLIENTS
            .into_iter()
            .find(|p| server.store().pending_otp(&phone(*p)).ok().flatten().is_some_and(|x| x.otp == *otp))
            .map_or("?", party_name)
            .to_string()
    }

    /// Analysis, then the checks that the attacker's findings are right and that both
    /// attackers know the same secrets.
    fn learn(&mut self) -> Result<(), String> {
        self.att.analyse()?;
        for (term, value) in self.att.known() {
            if let Node::Fresh(name) = term.node()
                && name.party != E
                && name.purpose == Purpose::Plaintext
                && let Some(real) = self.truth.get(term)
                && real != value
            {
                return Err(format!("E decrypted {term} to other bytes than were sent"));
            }
        }
        self.check_knowledge()
    }

    /// Both attackers hold the same honest secrets.
    fn check_knowledge(&self) -> Result<(), String> {
        for t in self.state.knowledge.terms() {
            if let Node::Fresh(name) = t.node()
                && name.party != E
                && !self.att.knows(t)
            {
                return Err(format!(
                    "modelling gap: the model's attacker knows {t}, the concrete attacker could not derive it"
                ));
            }
        }
        for t in self.att.known().keys() {
            if let Node::Fresh(name) = t.node()
                && name.party != E
                && !self.state.knowledge.derivable(t)
            {
                return Err(format!("modelling gap: the concrete attacker knows {t}, the model's does not"));
            }
        }
        Ok(())
    }
}

/// Replays of one attack on both profiles.
#[derive(Debug, Clone)]
pub struct AttackReplay {
    /// The attack.
    pub attack: Attack,
    /// On `seed`.
    pub seed: Result<Replay, ReplayError>,
    /// On `hardened`.
    pub hardened: Result<Replay, ReplayError>,
}

/// Replays `attack` on `seed` and on `hardened`.
pub fn replay_both(attack: &Attack) -> AttackReplay {
    AttackReplay {
        attack: attack.clone(),
        seed: replay(attack, Profile::SEED),
        hardened: replay(attack, Profile::HARDENED),
    }
}
