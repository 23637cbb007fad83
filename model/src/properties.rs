//! The security properties (SPEC.md §15), as predicates over the ghost events and the
//! parties' states.

use stateright::{Expectation, Property};

use crate::config::{Config, HONEST, Scenario, Threat, owner};
use crate::model::Ee2eModel;
use crate::state::State;
use crate::term::Term;

/// Whether a property must always hold, must sometimes be reached, or is a coverage probe.
///
/// `Always` and `Sometimes` are stateright's [`Expectation`]s ([`Kind::expectation`]); `Covers`
/// adds what stateright has no word for: a behaviour a run should reach that is reported,
/// never a verdict (it is checked as a sometimes-property).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Safety: holds in every reachable state.
    Always,
    /// Non-vacuity: holds in some reachable state.
    Sometimes,
    /// Coverage: a behaviour the run should reach (an error path, a limit, a role); reported,
    /// never a verdict.
    Covers,
}

impl Kind {
    /// The expectation the checker is given.
    pub fn expectation(self) -> Expectation {
        match self {
            Kind::Always => Expectation::Always,
            Kind::Sometimes | Kind::Covers => Expectation::Sometimes,
        }
    }

    /// The name in reports and SPEC.md §15 (`always`, `sometimes`, `covers`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Always => "always",
            Kind::Sometimes => "sometimes",
            Kind::Covers => "covers",
        }
    }
}

/// The part of the protocol a property speaks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Registration: checked in `registration` and `lifecycle`.
    Registration,
    /// Key exchange, messages, ACKs: checked in `messaging` and `lifecycle`.
    Messaging,
    /// Only in `lifecycle`, where both are live.
    Lifecycle,
}

impl Part {
    /// Whether `scenario` exercises this part.
    pub fn in_scenario(self, scenario: Scenario) -> bool {
        match self {
            Part::Registration => scenario.registers(),
            Part::Messaging => scenario.messages(),
            Part::Lifecycle => scenario == Scenario::Lifecycle,
        }
    }
}

/// A property: everything the checker, the reports and the attack replay know about it, in
/// one row of [`ALL`].
#[derive(Debug)]
pub struct Definition {
    /// Interface name (SPEC.md §15; part of the interface).
    pub name: &'static str,
    /// Always, sometimes or a coverage probe.
    pub kind: Kind,
    /// Which part of the protocol it is about (it is checked in every scenario where that
    /// part is live).
    pub part: Part,
    /// The predicate.
    pub holds: fn(&Ee2eModel, &State) -> bool,
    /// Its negation: what a counterexample reaches.
    pub violated: fn(&Ee2eModel, &State) -> bool,
    /// Level in Lowe's hierarchy (authentication properties).
    pub level: &'static str,
    /// One sentence: for a safety property what its violation means (SPEC.md §15 states the
    /// property itself), for the others what a witness shows.
    pub sentence: &'static str,
}

impl Definition {
    /// The predicate a trace for this property reaches: a violation of a safety property, an
    /// example of the others.
    pub fn goal(&self) -> fn(&Ee2eModel, &State) -> bool {
        match self.kind {
            Kind::Always => self.violated,
            Kind::Sometimes | Kind::Covers => self.holds,
        }
    }
}

/// Declares [`ALL`] from one row per property: the predicate of the same name, its kind, its
/// part, its Lowe level and its sentence. Its negation is derived here, so no property can
/// lack one. (Function pointers cannot capture, but a closure that names a function does not.)
macro_rules! properties {
    ($($name:ident: $kind:ident, $part:ident, level $level:literal, $sentence:literal;)*) => {
        /// Every property, in report order.
        pub static ALL: &[Definition] = &[$(
            Definition {
                name: stringify!($name),
                kind: Kind::$kind,
                part: Part::$part,
                holds: $name,
                violated: |m, s| !$name(m, s),
                level: $level,
                sentence: $sentence,
            },
        )*];
    };
}

properties! {
    registration_binding: Always, Registration, level "",
        "the server registered a key for an honest client's phone that is not that client's key";
    key_possession: Always, Registration, level "",
        "the server registered an honest client's key under another phone";
    directory_binding: Always, Messaging, level "non-injective agreement",
        "an honest client accepted a key for a phone that the server never registered for it";
    session_key_secrecy: Always, Messaging, level "",
        "the attacker knows the key of a session between honest clients";
    key_transport_agreement: Always, Messaging, level "injective agreement",
        "an honest client accepted a session key from an honest peer that did not generate it for it (or accepted it twice)";
    message_authenticity: Always, Messaging, level "non-injective agreement",
        "an honest client accepted a message as from an honest peer that did not send it to it";
    message_no_replay: Always, Messaging, level "injective agreement",
        "an honest client accepted the same message from an honest peer twice";
    message_confidentiality: Always, Messaging, level "",
        "the attacker knows a message one honest client sent to another";
    ack_authenticity: Always, Messaging, level "non-injective agreement",
        "an honest client accepted an ACK for a message its honest peer never accepted";
    registration_completes: Sometimes, Registration, level "",
        "an honest client reached `Registered`, in an attacker-free run";
    session_established: Sometimes, Messaging, level "",
        "an honest client accepted a session key its honest peer generated for it, in an attacker-free run";
    message_delivered: Sometimes, Messaging, level "",
        "an honest client accepted a message its honest peer sent it, in an attacker-free run";
    offline_message_delivered: Sometimes, Messaging, level "",
        "an honest client accepted a message the server had stored for it while it was offline, in an attacker-free run";
    ack_accepted: Sometimes, Messaging, level "",
        "an honest client accepted an ACK from its honest peer, in an attacker-free run";
    b_initiates_session: Covers, Messaging, level "",
        "B started a key exchange";
    sessions_overlap: Covers, Messaging, level "",
        "a client holds two sessions with one peer";
    otp_expired: Covers, Registration, level "",
        "the server replied that an OTP had expired";
    too_many_attempts: Covers, Registration, level "",
        "the server replied that an OTP had used up its attempts";
    rate_limited: Covers, Registration, level "",
        "the server replied that a phone had asked for too many OTPs";
    error_reply_handled: Covers, Registration, level "",
        "an error reply changed a client's registration state";
    entry_replaced: Covers, Lifecycle, level "",
        "a registration replaced an existing directory entry";
}

/// The property called `name`, if there is one.
pub fn get(name: &str) -> Option<&'static Definition> {
    ALL.iter().find(|d| d.name == name)
}

/// The negation of property `name` (what a counterexample of a safety property reaches), if
/// there is such a property.
pub fn negation(name: &str) -> Option<fn(&Ee2eModel, &State) -> bool> {
    get(name).map(|d| d.violated)
}

/// The status of every property of this model's scenario in `state` itself, as one line each
/// for violations and witnesses (what `check` would report had it stopped here).
pub fn in_state(model: &Ee2eModel, state: &State) -> String {
    let defs = ALL.iter().filter(|d| d.part.in_scenario(model.config.scenario));
    let (mut violated, mut witnessed) = (Vec::new(), Vec::new());
    for d in defs {
        let holds = (d.holds)(model, state);
        match d.kind {
            Kind::Always if !holds => violated.push(d.name),
            Kind::Sometimes | Kind::Covers if holds => witnessed.push(d.name),
            _ => {}
        }
    }
    let list = |v: Vec<&str>| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    format!("in this state: violated: {}\nin this state: witnessed: {}\n", list(violated), list(witnessed))
}

/// Why property `name` cannot be exercised at all within `config`'s bounds, if it cannot:
/// reported as "not exercisable at these bounds" rather than as holding (or as a missing
/// witness). Decided from the configuration alone, before any state is explored. A safety
/// property is exercised when the event it constrains can occur, made by honest clients or
/// attempted by the attacker within its injections; a sometimes-property only by honest
/// clients (its witnesses are attacker-free, see [`attacker_free`]).
pub fn not_exercisable(name: &str, config: &Config) -> Option<&'static str> {
    let def = get(name)?;
    if def.part != Part::Messaging || !config.scenario.messages() {
        // Every scenario that registers has its honest clients register by script.
        return None;
    }
    let b = config.bounds;
    let honest_start = b.sessions > 0 || b.b_sessions > 0;
    let honest_send = honest_start && b.messages > 0;
    let injects = config.threat != Threat::Passive && b.injections > 0;
    const NO_START: &str =
        "no honest client starts a key exchange (--sessions 0 --b-sessions 0), so there is no honest session";
    const NO_SEND: &str = "no honest client sends a message (--messages 0, or no key exchange to send in)";
    match name {
        "directory_binding" if !honest_start => Some(
            "no honest client starts a key exchange (--sessions 0 --b-sessions 0), so none looks up a directory entry",
        ),
        "session_key_secrecy" | "key_transport_agreement" if !honest_start && !injects => Some(
            "no honest client starts a key exchange and the attacker may inject nothing, so no session key is sent",
        ),
        // A message to accept needs a session and a message: both honest, or the attacker's
        // (a forged key transport and a forged message: two injections without an honest session).
        "message_authenticity" | "message_no_replay"
            if !honest_send && !(injects && (honest_start || b.injections >= 2)) =>
        {
            Some(
                "no message can reach an honest client: no honest one sends, and the attacker cannot inject both a session and a message",
            )
        }
        "message_confidentiality" | "ack_authenticity" if b.messages == 0 || (!honest_start && !injects) => {
            Some(NO_SEND)
        }
        "session_established" if !honest_start => Some(NO_START),
        "message_delivered" | "offline_message_delivered" | "ack_accepted" if !honest_send => Some(NO_SEND),
        "offline_message_delivered" if b.offline_spells == 0 => {
            Some("B never goes offline (--offline-spells 0), so nothing is stored for it")
        }
        _ => None,
    }
}

/// The stateright properties checked in `scenario`.
pub fn for_scenario(scenario: Scenario) -> Vec<Property<Ee2eModel>> {
    ALL.iter()
        .filter(|d| d.part.in_scenario(scenario))
        .map(|d| Property { expectation: d.kind.expectation(), name: d.name, condition: d.holds })
        .collect()
}

fn honest(phone: &ee2e_spec::Phone) -> Option<u8> {
    owner(phone).filter(|p| HONEST.contains(p))
}

/// Whenever the server registers a key for an honest client's phone, it is that client's key.
fn registration_binding(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.bound.iter().all(|(phone, key)| honest(phone).is_none_or(|p| *key == Term::pk(p)))
}

/// Whenever the server registers an honest client's key, it is under that client's phone.
fn key_possession(_: &Ee2eModel, s: &State) -> bool {
    s.ghost
        .bound
        .iter()
        .all(|(phone, key)| HONEST.iter().all(|p| *key != Term::pk(*p) || owner(phone) == Some(*p)))
}

/// Whenever an honest client accepts a key as phone P's, the server registered that key for P
/// (checked when the entry is accepted: see `Ghost::entry_unbound`).
fn directory_binding(_: &Ee2eModel, s: &State) -> bool {
    !s.ghost.entry_unbound
}

/// The attacker never learns the key of a session between honest clients.
fn session_key_secrecy(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.honest_keys.iter().all(|k| !s.knowledge.derivable(k))
}

/// Whenever honest B accepts K from honest A, A generated K for a session with B, and B
/// accepts each such K once.
fn key_transport_agreement(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.accepted_keys.iter().all(|((resp, init, k), n)| {
        !HONEST.contains(init) || (s.ghost.generated.contains(&(*init, *resp, k.clone())) && *n <= 1)
    })
}

/// Whenever honest B accepts M as from honest A, A sent M to B.
fn message_authenticity(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.accepted.keys().all(|(recv, snd, m)| {
        !HONEST.contains(snd)
            || s.ghost.sent.iter().any(|((from, _), (to, sent))| from == snd && to == recv && sent == m)
    })
}

/// Honest B accepts each message from honest A at most once.
fn message_no_replay(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.accepted.iter().all(|((_, snd, _), n)| !HONEST.contains(snd) || *n <= 1)
}

/// The attacker never learns a message an honest client sent to an honest client.
fn message_confidentiality(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.sent.values().all(|(to, m)| !HONEST.contains(to) || !s.knowledge.derivable(m))
}

/// Whenever honest A accepts an ACK from honest B for its message M, B had accepted M from A
/// (checked when the ACK is accepted: see `Ghost::ack_unjustified`).
fn ack_authenticity(_: &Ee2eModel, s: &State) -> bool {
    !s.ghost.ack_unjustified
}

/// Whether the attacker has sent nothing in this run: no injection, replay or online guess
/// (each spends from its budget). Every message delivered so far is then an honest party's,
/// delivered to its addressee, so an event here is a genuine exchange between honest parties.
/// (Error replies stand for the server's own, [`crate::model::Action::ForgeError`], and the
/// offline guess only adds to the attacker's knowledge.) Sometimes-properties hold only in
/// such states, so that no attacker-made message can witness them. Not monotone, but
/// constant along every path the reductions add (their steps are honest steps and free
/// deliveries), so the reductions keep every witness (model/README.md, "Reductions").
pub fn attacker_free(s: &State) -> bool {
    s.injections == 0
}

/// An honest client completed a registration it asked for, with no attacker message.
fn registration_completes(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.registered && attacker_free(s)
}

/// Honest B accepted a session key that honest A generated for a session with B (either
/// way round), with no attacker message.
fn session_established(_: &Ee2eModel, s: &State) -> bool {
    attacker_free(s)
        && s.ghost.accepted_keys.keys().any(|(resp, init, k)| {
            HONEST.contains(resp)
                && HONEST.contains(init)
                && s.ghost.generated.contains(&(*init, *resp, k.clone()))
        })
}

/// An honest client accepted a message that its honest peer sent to it, with no attacker
/// message.
fn message_delivered(_: &Ee2eModel, s: &State) -> bool {
    attacker_free(s)
        && s.ghost.accepted.keys().any(|(recv, snd, m)| {
            HONEST.contains(recv)
                && HONEST.contains(snd)
                && s.ghost.sent.iter().any(|((from, _), (to, sent))| from == snd && to == recv && sent == m)
        })
}

/// An honest client accepted a message the server had stored for it while it was offline,
/// with no attacker message (so its sender is the honest peer: E's messages are injections).
fn offline_message_delivered(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.offline_delivered && attacker_free(s)
}

/// An honest client accepted an ACK from its honest peer, with no attacker message.
fn ack_accepted(_: &Ee2eModel, s: &State) -> bool {
    attacker_free(s)
        && s.ghost.acked.iter().any(|(snd, peer, _)| HONEST.contains(snd) && HONEST.contains(peer))
}

fn b_initiates_session(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.generated.iter().any(|(init, _, _)| *init == crate::config::B)
}

/// Some honest client holds two sessions with the same peer at once (or, on the seed wire,
/// which keeps one per peer, replaced one by another).
fn sessions_overlap(_: &Ee2eModel, s: &State) -> bool {
    let mut keys: std::collections::BTreeMap<(u8, u8), std::collections::BTreeSet<&Term>> =
        Default::default();
    for (party, peer, key) in &s.ghost.generated {
        keys.entry((*party, *peer)).or_default().insert(key);
    }
    for (party, peer, key) in s.ghost.accepted_keys.keys() {
        keys.entry((*party, *peer)).or_default().insert(key);
    }
    keys.values().any(|k| k.len() >= 2)
}

fn otp_expired(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.errors.contains(&ee2e_spec::ErrorCode::OtpExpired)
}

fn too_many_attempts(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.errors.contains(&ee2e_spec::ErrorCode::TooManyAttempts)
}

fn rate_limited(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.errors.contains(&ee2e_spec::ErrorCode::RateLimited)
}

fn error_reply_handled(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.error_handled
}

fn entry_replaced(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.entry_replaced
}
