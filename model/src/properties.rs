//! The security properties (SPEC.md §15), as predicates over the ghost events and the
//! parties' states.

use stateright::Property;

use crate::config::{HONEST, Scenario, owner};
use crate::model::Ee2eModel;
use crate::state::State;
use crate::term::Term;

/// Whether a property must always hold or must sometimes be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Safety: holds in every reachable state.
    Always,
    /// Non-vacuity: holds in some reachable state.
    Sometimes,
}

/// A property's name, kind, scenario and definition.
pub struct Definition {
    /// Interface name (SPEC.md §15; part of the interface).
    pub name: &'static str,
    /// Always or sometimes.
    pub kind: Kind,
    /// The scenario that exercises it.
    pub scenario: Scenario,
    /// The predicate.
    pub holds: fn(&Ee2eModel, &State) -> bool,
    /// Level in Lowe's hierarchy (authentication properties).
    pub level: &'static str,
}

/// Every property, in report order.
pub const ALL: [Definition; 14] = [
    Definition {
        name: "registration_binding",
        kind: Kind::Always,
        scenario: Scenario::Registration,
        holds: registration_binding,
        level: "",
    },
    Definition {
        name: "key_possession",
        kind: Kind::Always,
        scenario: Scenario::Registration,
        holds: key_possession,
        level: "",
    },
    Definition {
        name: "directory_binding",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: directory_binding,
        level: "non-injective agreement",
    },
    Definition {
        name: "session_key_secrecy",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: session_key_secrecy,
        level: "",
    },
    Definition {
        name: "key_transport_agreement",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: key_transport_agreement,
        level: "injective agreement",
    },
    Definition {
        name: "message_authenticity",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: message_authenticity,
        level: "non-injective agreement",
    },
    Definition {
        name: "message_no_replay",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: message_no_replay,
        level: "injective agreement",
    },
    Definition {
        name: "message_confidentiality",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: message_confidentiality,
        level: "",
    },
    Definition {
        name: "ack_authenticity",
        kind: Kind::Always,
        scenario: Scenario::Messaging,
        holds: ack_authenticity,
        level: "non-injective agreement",
    },
    Definition {
        name: "registration_completes",
        kind: Kind::Sometimes,
        scenario: Scenario::Registration,
        holds: registration_completes,
        level: "",
    },
    Definition {
        name: "session_established",
        kind: Kind::Sometimes,
        scenario: Scenario::Messaging,
        holds: session_established,
        level: "",
    },
    Definition {
        name: "message_delivered",
        kind: Kind::Sometimes,
        scenario: Scenario::Messaging,
        holds: message_delivered,
        level: "",
    },
    Definition {
        name: "offline_message_delivered",
        kind: Kind::Sometimes,
        scenario: Scenario::Messaging,
        holds: offline_message_delivered,
        level: "",
    },
    Definition {
        name: "ack_accepted",
        kind: Kind::Sometimes,
        scenario: Scenario::Messaging,
        holds: ack_accepted,
        level: "",
    },
];

/// The negation of always-property `name` (what a counterexample reaches). Function pointers
/// cannot capture, hence one small function per property.
pub fn negation(name: &str) -> fn(&Ee2eModel, &State) -> bool {
    macro_rules! not {
        ($($p:ident),*) => {
            match name {
                $(stringify!($p) => |m, s| !$p(m, s),)*
                _ => |_, _| false,
            }
        };
    }
    not!(
        registration_binding,
        key_possession,
        directory_binding,
        session_key_secrecy,
        key_transport_agreement,
        message_authenticity,
        message_no_replay,
        message_confidentiality,
        ack_authenticity
    )
}

/// The stateright properties checked in `scenario`.
pub fn for_scenario(scenario: Scenario) -> Vec<Property<Ee2eModel>> {
    ALL.iter()
        .filter(|d| d.scenario == scenario)
        .map(|d| match d.kind {
            Kind::Always => Property::always(d.name, d.holds),
            Kind::Sometimes => Property::sometimes(d.name, d.holds),
        })
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

/// Whenever an honest client accepts a key as phone P's, the server registered that key for P.
fn directory_binding(_: &Ee2eModel, s: &State) -> bool {
    s.clients
        .iter()
        .all(|c| c.peers().values().all(|e| s.ghost.bound.contains(&(e.phone.clone(), e.public_key.clone()))))
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

/// Whenever honest A accepts an ACK from honest B for its message M, B accepted M from A.
fn ack_authenticity(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.acked.iter().all(|(snd, peer, id)| {
        !HONEST.contains(peer)
            || s.ghost
                .sent
                .get(&(*snd, *id))
                .is_some_and(|(to, m)| to == peer && s.ghost.accepted.contains_key(&(*peer, *snd, m.clone())))
    })
}

fn registration_completes(_: &Ee2eModel, s: &State) -> bool {
    s.clients.iter().any(|c| c.is_registered())
}

fn session_established(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.accepted_keys.keys().any(|(resp, init, _)| HONEST.contains(resp) && HONEST.contains(init))
}

fn message_delivered(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.accepted.keys().any(|(recv, snd, _)| HONEST.contains(recv) && HONEST.contains(snd))
}

fn offline_message_delivered(_: &Ee2eModel, s: &State) -> bool {
    s.ghost.offline_delivered
}

fn ack_accepted(_: &Ee2eModel, s: &State) -> bool {
    !s.ghost.acked.is_empty()
}
