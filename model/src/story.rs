//! A trace as a story a reviewer can read: what the attacker knew at the start, every step
//! with its message as fields, what became of every packet an honest party sent (delivered,
//! replayed, or intercepted: never delivered), the attacker's derivations as steps of their
//! own, and the event that breaks the property. Every renderer (text, SVG, Mermaid, JSON)
//! draws from this one structure.

use ee2e_spec::Message;
use serde::Serialize;
use stateright::Model;

use crate::config::{Bounds, Config, E, SERVER, party_name};
use crate::describe;
use crate::knowledge::{Knowledge, Rule};
use crate::model::{Action, Ee2eModel};
use crate::spec_refs::{Expected, SpecRef, expectation, sentence};
use crate::state::{Hop, Packet, State};
use crate::term::{Node, Purpose, Term};

/// A trace that does not run in the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoryError {
    /// The model has no initial state for the configuration.
    #[error("the model has no initial state")]
    NoInitialState,
    /// Step `step` (1-based) is not enabled where the trace has it.
    #[error("step {step} ({action}) does not run in the model")]
    StepRejected {
        /// The step.
        step: usize,
        /// Its description.
        action: String,
    },
    /// The story names a property the model does not define.
    #[error("no property is called {0:?}")]
    UnknownProperty(String),
}

/// A message as type and fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    /// The message type (`KeyTransport`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its fields, in wire order, each as a term.
    pub fields: Vec<Field>,
    /// The whole message in one line.
    pub text: String,
}

/// One field of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The field's name.
    pub name: &'static str,
    /// Its value, as a term.
    pub value: String,
}

/// A packet on the network: who sent it to whom, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketView {
    /// Sender (A, B, S, or the address E claims).
    pub from: String,
    /// Recipient.
    pub to: String,
    /// The message.
    pub message: MessageView,
    /// Sent from the server's offline queue.
    pub stored: bool,
}

/// What became of a packet an honest party sent, by the end of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// The network delivered it.
    Delivered,
    /// Only the attacker delivered it (a replay), never the network.
    Replayed,
    /// Never delivered: only the attacker saw it.
    Intercepted,
    /// Addressed to the attacker's own client E, which received it.
    ToAttacker,
}

/// A packet an honest party put on the network at a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The packet.
    pub packet: PacketView,
    /// What became of it.
    pub fate: Fate,
    /// The step that delivered it, if one did.
    pub delivered_at: Option<usize>,
    /// The steps at which the attacker replayed it.
    pub replayed_at: Vec<usize>,
}

/// Who acts at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// An honest client's own action (register, start a session, send, go on/offline).
    Honest,
    /// The network delivers a packet for the first time.
    Deliver,
    /// The attacker delivers a packet again.
    Replay,
    /// The attacker sends a packet it built.
    Inject,
    /// The attacker sends an unauthenticated error reply.
    ForgeError,
    /// The attacker guesses an OTP online against the server.
    GuessOnline,
    /// The attacker tests OTP guesses offline.
    GuessOffline,
    /// A long-term key leaks.
    KeyLeak,
    /// The clock moves on.
    Clock,
}

/// One step of the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionStep {
    /// 1-based position in the trace (the number `check --replay` uses too).
    pub n: usize,
    /// What kind of step.
    pub kind: StepKind,
    /// Who acts: A, B, S (the clock), or E (the attacker, which is also the network).
    pub actor: String,
    /// The step in one line.
    pub text: String,
    /// The packet delivered, replayed or injected.
    pub packet: Option<PacketView>,
    /// How the attacker built an injected packet.
    pub built_from: Option<String>,
    /// Packets honest parties sent in reaction.
    pub sent: Vec<Sent>,
}

/// How the attacker came to know a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivationRule {
    /// Opened a ciphertext with a key it holds.
    Decrypt,
    /// Took a component of a tuple.
    Split,
    /// Tested every OTP offline against a verifier.
    GuessOffline,
    /// Submitted guesses to the server.
    GuessOnline,
    /// Saw it in clear (a message field, an SMS it reads).
    Observed,
    /// A long-term key leaked.
    Leak,
}

/// A secret the attacker learned at a step, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derivation {
    /// The step after which it holds the secret.
    pub after_step: usize,
    /// The secret.
    pub term: String,
    /// By which rule.
    pub rule: DerivationRule,
    /// The ciphertext, tuple or verifier it came from.
    pub from: Option<String>,
    /// The key that opened `from`.
    pub key: Option<String>,
    /// In one line.
    pub text: String,
}

/// An entry of the story: a step of the trace or a derivation it made possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// A step of the trace.
    Step(ActionStep),
    /// A derivation.
    Derivation(Derivation),
}

/// The event that breaks the property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// The violated property (SPEC.md §15).
    pub property: String,
    /// Its definition, as the event that broke it.
    pub sentence: &'static str,
    /// After which step.
    pub after_step: usize,
}

/// The erratum that stops a counterexample, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixRef {
    /// `E1` … `E9`.
    pub erratum: &'static str,
    /// Its switch name (`directory-binding`, …).
    pub name: &'static str,
    /// What it changes.
    pub summary: &'static str,
    /// Its section of SPEC.md.
    pub spec: SpecRef,
    /// How it was established: `replay` (the implementation under `hardened` rejects the
    /// trace) or `profile` (the run removes this erratum).
    pub source: &'static str,
    /// The step hardened rejects, if the trace was replayed.
    pub step: Option<usize>,
    /// The party that rejects it.
    pub party: Option<String>,
    /// The check that fails (the error's name).
    pub error: Option<String>,
}

impl FixRef {
    /// Where the erratum stops the trace, in words (empty for a removed erratum).
    pub fn how(&self) -> String {
        match (&self.step, &self.party, &self.error) {
            (Some(n), Some(p), Some(e)) if p == "E" => {
                format!("under hardened, E cannot carry out step {n}: {e}")
            }
            (Some(n), Some(p), Some(e)) => format!("under hardened, {p} rejects step {n} with {e}"),
            _ => String::new(),
        }
    }
}

/// A trace as a story: its numbered steps with what each sent, what E derived, the breach, the fix and the replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Story {
    /// Profile name.
    pub profile: String,
    /// Threat model.
    pub threat: &'static str,
    /// Scenario.
    pub scenario: &'static str,
    /// Bounds.
    pub bounds: Bounds,
    /// What the attacker knows before the first step.
    pub initial_knowledge: Vec<String>,
    /// Steps and derivations, in order.
    pub entries: Vec<Entry>,
    /// The breach (counterexamples only).
    pub breach: Option<Breach>,
    /// Why SPEC.md expects the breach, if it does.
    pub expected: Option<Expected>,
    /// The erratum that stops it, when known (filled by `ee2e check`).
    pub fix: Option<FixRef>,
    /// How replaying the trace on the implementation went, when it was replayed (filled by
    /// `ee2e check`): per profile, the outcome in one line.
    pub replay: Vec<ReplayOutcome>,
}

/// The outcome of replaying the trace on the implementation under one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayOutcome {
    /// The profile the implementation ran.
    pub profile: String,
    /// Whether the attack succeeded there.
    pub succeeded: bool,
    /// In one line.
    pub outcome: String,
}

impl Story {
    /// The steps of the trace (no derivations).
    pub fn steps(&self) -> impl Iterator<Item = &ActionStep> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Step(s) => Some(s),
            Entry::Derivation(_) => None,
        })
    }

    /// The derivations.
    pub fn derivations(&self) -> impl Iterator<Item = &Derivation> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Derivation(d) => Some(d),
            Entry::Step(_) => None,
        })
    }
}

/// The name of a packet's ends.
fn ends(p: &Packet) -> (String, String) {
    describe::ends(p)
}

fn view(p: &Packet) -> PacketView {
    let (from, to) = ends(p);
    PacketView { from, to, message: message_view(&p.message), stored: p.stored }
}

/// A message as type and fields.
pub fn message_view(m: &Message<crate::state::Sym>) -> MessageView {
    MessageView {
        kind: format!("{:?}", m.kind()),
        fields: describe::fields(m).into_iter().map(|(name, value)| Field { name, value }).collect(),
        text: describe::message(m),
    }
}

/// Whether learning `term` is worth a step of the story: an honest party's secret (OTP,
/// session key, plaintext) or a private key. IVs and encryption nonces are not.
fn secret(term: &Term) -> bool {
    match term.node() {
        Node::Fresh(n) => {
            n.party != E && matches!(n.purpose, Purpose::Otp | Purpose::SessionKey | Purpose::Plaintext)
        }
        Node::Sk(p) => *p != E,
        _ => false,
    }
}

/// The secrets learned between `before` and `after`, and how, at step `n`.
fn derivations(n: usize, action: &Action, before: &Knowledge, after: &Knowledge) -> Vec<Derivation> {
    let mut out = Vec::new();
    for t in after.terms().filter(|t| secret(t) && !before.terms().any(|b| b == *t)) {
        let (rule, from, key, text) = match action {
            Action::GuessOffline(otp) if otp == t => {
                let verifier = before.verifier(t).map(Term::to_string);
                let text = format!(
                    "E tests all 10^6 OTPs offline against {} → learns {t}",
                    verifier.as_deref().unwrap_or("a verifier it saw")
                );
                (DerivationRule::GuessOffline, verifier, None, text)
            }
            Action::GuessOnline(_) => {
                (DerivationRule::GuessOnline, None, None, format!("E's online guesses find {t}"))
            }
            Action::Compromise => (DerivationRule::Leak, None, None, format!("E obtains the leaked {t}")),
            _ => match after.rule(t) {
                Some(Rule::Decrypt { ciphertext, key }) => {
                    let text = format!("E decrypts {ciphertext} with {key} → learns {t}");
                    (DerivationRule::Decrypt, Some(ciphertext.to_string()), Some(key.to_string()), text)
                }
                Some(Rule::Split { tuple }) => {
                    let text = format!("E takes {t} out of {tuple}");
                    (DerivationRule::Split, Some(tuple.to_string()), None, text)
                }
                _ if matches!(t.node(), Node::Fresh(n) if n.purpose == Purpose::Otp) => {
                    (DerivationRule::Observed, None, None, format!("E reads {t} from an SMS it receives"))
                }
                _ => (DerivationRule::Observed, None, None, format!("E sees {t} in clear")),
            },
        };
        out.push(Derivation { after_step: n, term: t.to_string(), rule, from, key, text });
    }
    out
}

fn kind_and_actor(action: &Action) -> (StepKind, String) {
    let e = || party_name(E).to_string();
    match action {
        Action::Register(c) | Action::EnterOtp(c) => (StepKind::Honest, party_name(*c).into()),
        Action::StartSession { from, .. } | Action::Send { from, .. } => {
            (StepKind::Honest, party_name(*from).into())
        }
        Action::GoOffline | Action::GoOnline => (StepKind::Honest, "B".into()),
        Action::Tick => (StepKind::Clock, party_name(SERVER).into()),
        Action::Deliver(_) => (StepKind::Deliver, "network".into()),
        Action::Replay(_) => (StepKind::Replay, e()),
        Action::Inject(..) => (StepKind::Inject, e()),
        Action::ForgeError { .. } => (StepKind::ForgeError, e()),
        Action::GuessOnline(_) => (StepKind::GuessOnline, e()),
        Action::GuessOffline(_) => (StepKind::GuessOffline, e()),
        Action::Compromise => (StepKind::KeyLeak, "B".into()),
        Action::Chain(_) => (StepKind::Honest, String::new()), // flattened before
    }
}

/// The packets `next` has on the network that `last` had not (new ones, and further copies),
/// but for `except` (an injected packet, which the attacker sent, not an honest party).
fn new_packets(last: &State, next: &State, except: Option<&Packet>) -> Vec<Packet> {
    next.pool
        .iter()
        .filter(|p| {
            Some(*p) != except
                && (!last.pool.contains(*p) || next.copies.get(*p).copied() > last.copies.get(*p).copied())
        })
        .cloned()
        .collect()
}

/// Replays `actions` (chains flattened) from the initial state of `model` and tells them as a
/// story; `property` names the property the trace violates, if it is a counterexample.
///
/// # Errors
/// [`StoryError`] if a step does not run in the model.
pub fn tell(model: &Ee2eModel, actions: &[Action], property: Option<&str>) -> Result<Story, StoryError> {
    let actions: Vec<Action> = actions.iter().cloned().flat_map(Action::steps).collect();
    let mut state = model.init_states().into_iter().next().ok_or(StoryError::NoInitialState)?;
    let initial_knowledge = state.knowledge.terms().map(Term::to_string).collect();
    let mut steps: Vec<(ActionStep, Vec<Packet>, Vec<Derivation>)> = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        let n = i + 1;
        let text = model.format_action(action);
        let next = model
            .next_state(&state, action.clone())
            .ok_or_else(|| StoryError::StepRejected { step: n, action: text.clone() })?;
        let (kind, actor) = kind_and_actor(action);
        let (packet, built_from, injected) = match action {
            Action::Deliver(p) | Action::Replay(p) => (Some(view(p)), None, None),
            Action::Inject(p, why) => (Some(view(p)), Some(why.clone()), Some(p)),
            Action::GuessOnline(p) => {
                (Some(view(p)), Some("the guess that S accepts, if it lets E go on".into()), Some(p))
            }
            Action::ForgeError { to, code } => {
                let p = Packet::new(Hop::ToClient { to: *to }, Message::Error { code: *code }, false);
                (Some(view(&p)), Some("error replies are unauthenticated".into()), None)
            }
            _ => (None, None, None),
        };
        let sent = new_packets(&state, &next, injected);
        let derived = derivations(n, action, &state.knowledge, &next.knowledge);
        steps.push((
            ActionStep { n, kind, actor, text, packet, built_from, sent: Vec::new() },
            sent,
            derived,
        ));
        state = next;
    }
    // Fates, now that the whole trace is known.
    let fate_of = |p: &Packet, from: usize| {
        let delivered_at = actions
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, a)| matches!(a, Action::Deliver(q) if q == p))
            .map(|(i, _)| i + 1);
        let replayed_at: Vec<usize> = actions
            .iter()
            .enumerate()
            .skip(from)
            .filter(|(_, a)| matches!(a, Action::Replay(q) if q == p))
            .map(|(i, _)| i + 1)
            .collect();
        let fate = match (delivered_at, replayed_at.is_empty()) {
            _ if p.hop == (Hop::ToClient { to: E }) => Fate::ToAttacker,
            (Some(_), _) => Fate::Delivered,
            (None, false) => Fate::Replayed,
            (None, true) => Fate::Intercepted,
        };
        Sent { packet: view(p), fate, delivered_at, replayed_at }
    };
    let mut entries = Vec::new();
    for (mut step, sent, derived) in steps {
        step.sent = sent.iter().map(|p| fate_of(p, step.n)).collect();
        entries.push(Entry::Step(step));
        entries.extend(derived.into_iter().map(Entry::Derivation));
    }
    let config: Config = model.config;
    let breach = property
        .map(|p| {
            let sentence = sentence(p).ok_or_else(|| StoryError::UnknownProperty(p.to_string()))?;
            Ok(Breach { property: p.to_string(), sentence, after_step: actions.len() })
        })
        .transpose()?;
    Ok(Story {
        profile: config.profile.name(),
        threat: config.threat.name(),
        scenario: config.scenario.name(),
        bounds: config.bounds,
        initial_knowledge,
        entries,
        expected: property.and_then(|p| expectation(&config, p)),
        breach,
        fix: None,
        replay: Vec::new(),
    })
}

/// The notation traces use, one line per symbol (printed once per report).
pub const LEGEND: &[(&str, &str)] = &[
    (
        "A, B",
        "honest clients; S the server; E the attacker, who is also the network (sees, drops, delays, replays every packet)",
    ),
    ("pk(X), sk(X)", "X's public and private key; sig(X, m) a signature by sk(X) over m"),
    ("aenc(pk(X), m, l)", "RSA-OAEP encryption of m to X with label l"),
    ("senc(k, m)", "AES-CBC encryption of m under key k; hmac(k, m) a MAC of m under k"),
    ("pbkdf2(p, s), hkdf(…), h(m)", "key derivations and SHA-256"),
    (
        "K_A0",
        "a fresh value: kind (K session key, M plaintext, otp OTP, iv IV, r OAEP randomness), then who drew it (A, B, S, E) and its position in that party's random stream",
    ),
    ("M_E201", "a value the attacker made up itself (drawn by E)"),
    (
        "0x…, \"…\"",
        "constants: bytes in hex (0x is the empty string), text in quotes; a number is a sequence number",
    ),
    ("[pk(E)]", "in KeyDelivery(from B [pk(E)], …): the sender's directory key as the server attached it"),
    ("intercepted", "an honest packet the network never delivered: only E saw it"),
    ("↳", "a derivation: what E learned from what it saw, and how"),
];
