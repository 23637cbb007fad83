//! The properties of SPEC.md §15, judged on the implementation after a replay: on the
//! server's directory, the clients' state and events, and the bytes the attacker holds.

use ee2e::Bytes;
use ee2e_model::symbolic::{A, B, E, HONEST, owner, party_name, phone};
use ee2e_spec::{ClientEvent, Phone, Role, Store};

use super::attacker::{Attacker, public_key};
use super::name_of;
use super::world::World;

/// A property the implementation violated, with what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The property (SPEC.md §15 name).
    pub property: &'static str,
    /// What happened, in one line.
    pub detail: String,
}

fn text(bytes: &Bytes) -> String {
    format!("'{}'", String::from_utf8_lossy(bytes.as_slice()))
}

/// The party whose fixture key is `der`, by name.
fn key_owner(der: &Bytes) -> String {
    [A, B, E, 0]
        .into_iter()
        .find(|p| public_key(*p).as_ref() == Some(der))
        .map_or_else(|| "an unknown".to_string(), |p| party_name(p).to_string())
}

fn honest(phone: &Phone) -> bool {
    owner(phone).is_some_and(|p| HONEST.contains(&p))
}

/// Every property the implementation violated in `world`, with `att`'s knowledge.
pub(crate) fn violations(world: &World, att: &Attacker) -> Vec<Violation> {
    let rt = &world.rt;
    let mut out = Vec::new();
    let mut v = |property: &'static str, detail: String| {
        let violation = Violation { property, detail };
        if !out.contains(&violation) {
            out.push(violation);
        }
    };
    let entry = |p: &Phone| rt.store().entry(p).ok().flatten();

    for c in HONEST {
        if let Some(e) = entry(&phone(c))
            && public_key(c).as_ref() != Some(&e.public_key)
        {
            v(
                "registration_binding",
                format!("the server bound {}'s phone to {}'s key", party_name(c), key_owner(&e.public_key)),
            );
        }
    }
    for p in [A, B, E] {
        for c in HONEST {
            if c != p
                && let Some(e) = entry(&phone(p))
                && public_key(c).as_ref() == Some(&e.public_key)
            {
                v(
                    "key_possession",
                    format!("the server bound {}'s phone to {}'s key", party_name(p), party_name(c)),
                );
            }
        }
    }

    for c in HONEST {
        let me = phone(c);
        let Some(client) = rt.client(&me) else { continue };
        let name = party_name(c);
        for e in client.peers().values() {
            if entry(&e.phone).map(|x| x.public_key) != Some(e.public_key.clone()) {
                v(
                    "directory_binding",
                    format!("{name} accepted {}'s key as {}'s", key_owner(&e.public_key), name_of(&e.phone)),
                );
            }
        }
        for s in client.sessions().iter().filter(|s| honest(&s.peer)) {
            if let Some(term) = att.holds_bytes(ee2e_spec::hazmat::session_key(s).as_slice()) {
                v(
                    "session_key_secrecy",
                    format!("E holds the key {name} uses with {} (as {term})", name_of(&s.peer)),
                );
            }
        }
        let events = rt.events(&me);
        let mut accepted_keys: Vec<(&Phone, &Bytes)> = Vec::new();
        for event in &events {
            if let ClientEvent::SessionEstablished { peer, role: Role::Responder, key, .. } = event
                && honest(peer)
            {
                let generated = rt.events(peer).into_iter().any(|x| {
                    matches!(x, ClientEvent::SessionEstablished { peer: p, role: Role::Initiator, key: k, .. }
                        if *p == me && k == key)
                });
                let again = accepted_keys.contains(&(peer, key));
                accepted_keys.push((peer, key));
                if !generated || again {
                    let why = if generated { "a second time" } else { "which it never generated for it" };
                    v(
                        "key_transport_agreement",
                        format!("{name} accepted a session key as from {}, {why}", name_of(peer)),
                    );
                }
            }
        }
        let accepted = rt.accepted(&me);
        for (i, m) in accepted.iter().enumerate().filter(|(_, m)| honest(&m.from)) {
            let sent = rt.events(&m.from).into_iter().any(|x| {
                matches!(x, ClientEvent::MessageSent { peer, plaintext, .. } if *peer == me && *plaintext == m.plaintext)
            });
            if !sent {
                v(
                    "message_authenticity",
                    format!(
                        "{name} accepted {} as from {}, which {} never sent it",
                        text(&m.plaintext),
                        name_of(&m.from),
                        name_of(&m.from)
                    ),
                );
            }
            let earlier =
                accepted[..i].iter().filter(|x| x.from == m.from && x.plaintext == m.plaintext).count();
            if earlier == 1 {
                v(
                    "message_no_replay",
                    format!("{name} accepted {} from {} twice", text(&m.plaintext), name_of(&m.from)),
                );
            }
        }
        for event in &events {
            match event {
                ClientEvent::MessageSent { peer, plaintext, .. }
                    if honest(peer) && att.holds_bytes(plaintext.as_slice()).is_some() =>
                {
                    v(
                        "message_confidentiality",
                        format!("E read {} ({name} to {})", text(plaintext), name_of(peer)),
                    );
                }
                ClientEvent::AckAccepted { peer, id } if honest(peer) => {
                    let message = events.iter().find_map(|x| match x {
                        ClientEvent::MessageSent { id: i, peer: p, plaintext, .. } if i == id => {
                            Some((p, plaintext))
                        }
                        _ => None,
                    });
                    let received = message.is_some_and(|(to, m)| {
                        to == peer && rt.accepted(peer).iter().any(|x| x.from == me && x.plaintext == *m)
                    });
                    if !received {
                        let what = message.map_or_else(String::new, |(_, m)| format!(" {}", text(m)));
                        v(
                            "ack_authenticity",
                            format!(
                                "{name} accepted {}'s ACK for its message #{id}{what}, which {} never received",
                                name_of(peer),
                                name_of(peer)
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out
}
