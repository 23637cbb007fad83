//! Readable renderings of messages and actions for traces.

use ee2e_spec::{Ack, Message, Phone, RegistrationProof, Sealed};

use crate::config::{owner, party_name};
use crate::state::{Hop, Packet, Sym};

/// A phone number as its party's name.
pub fn who(phone: &Phone) -> String {
    owner(phone).map_or_else(|| phone.to_string(), |p| party_name(p).to_string())
}

/// A message in one line.
pub fn message(m: &Message<Sym>) -> String {
    match m {
        Message::RegisterRequest { phone } => format!("RegisterRequest({})", who(phone)),
        Message::RegisterSubmit { phone, public_key, proof } => match proof {
            RegistrationProof::Seed { tag } => {
                format!("RegisterSubmit({}, {public_key}, tag={tag})", who(phone))
            }
            RegistrationProof::Hardened { sealed_tag, possession } => {
                format!("RegisterSubmit({}, {public_key}, sealed={sealed_tag}, pop={possession})", who(phone))
            }
        },
        Message::RegisterResult { entry } => {
            format!("RegisterResult({}, {}, {})", who(&entry.phone), entry.public_key, entry.signature)
        }
        Message::KeyRequest { peer } => format!("KeyRequest({})", who(peer)),
        Message::PeerKey { entry } => {
            format!("PeerKey({}, {}, {})", who(&entry.phone), entry.public_key, entry.signature)
        }
        Message::KeyTransport { to, transport } => {
            format!("KeyTransport(to {}, c={}, σ={})", who(to), transport.ciphertext, transport.signature)
        }
        Message::KeyDelivery { from, transport } => format!(
            "KeyDelivery(from {} [{}], c={}, σ={})",
            who(&from.phone),
            from.public_key,
            transport.ciphertext,
            transport.signature
        ),
        Message::Data { to, sealed } => format!("Data(to {}, {})", who(to), self::sealed(sealed)),
        Message::DataDelivery { from, sealed } => {
            format!("DataDelivery(from {}, {})", who(from), self::sealed(sealed))
        }
        Message::Ack { to, ack } => format!("Ack(to {}, {})", who(to), self::ack(ack)),
        Message::AckDelivery { from, ack } => format!("AckDelivery(from {}, {})", who(from), self::ack(ack)),
        Message::Connect { phone } => format!("Connect({})", who(phone)),
        Message::Disconnect { phone } => format!("Disconnect({})", who(phone)),
        Message::Error { code } => format!("Error({code:?})"),
    }
}

/// A message's fields, by name, each as a term (what a structured trace shows).
pub fn fields(m: &Message<Sym>) -> Vec<(&'static str, String)> {
    let entry = |e: &ee2e_spec::DirectoryEntry<Sym>| {
        vec![
            ("phone", who(&e.phone)),
            ("public_key", e.public_key.to_string()),
            ("signature", e.signature.to_string()),
        ]
    };
    match m {
        Message::RegisterRequest { phone } | Message::Connect { phone } | Message::Disconnect { phone } => {
            vec![("phone", who(phone))]
        }
        Message::RegisterSubmit { phone, public_key, proof } => {
            let mut out = vec![("phone", who(phone)), ("public_key", public_key.to_string())];
            match proof {
                RegistrationProof::Seed { tag } => out.push(("tag", tag.to_string())),
                RegistrationProof::Hardened { sealed_tag, possession } => {
                    out.push(("sealed_tag", sealed_tag.to_string()));
                    out.push(("possession", possession.to_string()));
                }
            }
            out
        }
        Message::RegisterResult { entry: e } | Message::PeerKey { entry: e } => entry(e),
        Message::KeyRequest { peer } => vec![("peer", who(peer))],
        Message::KeyTransport { to, transport } => vec![
            ("to", who(to)),
            ("ciphertext", transport.ciphertext.to_string()),
            ("signature", transport.signature.to_string()),
        ],
        Message::KeyDelivery { from, transport } => {
            let mut out: Vec<_> = entry(from).into_iter().map(|(k, v)| (prefixed(k), v)).collect();
            out.push(("ciphertext", transport.ciphertext.to_string()));
            out.push(("signature", transport.signature.to_string()));
            out
        }
        Message::Data { to, sealed } => [vec![("to", who(to))], sealed_fields(sealed)].concat(),
        Message::DataDelivery { from, sealed } => [vec![("from", who(from))], sealed_fields(sealed)].concat(),
        Message::Ack { to, ack } => [vec![("to", who(to))], ack_fields(ack)].concat(),
        Message::AckDelivery { from, ack } => [vec![("from", who(from))], ack_fields(ack)].concat(),
        Message::Error { code } => vec![("code", format!("{code:?}"))],
    }
}

fn prefixed(field: &'static str) -> &'static str {
    match field {
        "phone" => "from",
        "public_key" => "from_public_key",
        _ => "from_signature",
    }
}

fn sealed_fields(s: &Sealed<Sym>) -> Vec<(&'static str, String)> {
    match s {
        Sealed::Seed { ciphertext, mac, .. } => {
            vec![("ciphertext", ciphertext.to_string()), ("mac", mac.to_string())]
        }
        Sealed::Hardened { seq, ciphertext, .. } => {
            vec![("seq", seq.to_string()), ("ciphertext", ciphertext.to_string())]
        }
    }
}

fn ack_fields(a: &Ack<Sym>) -> Vec<(&'static str, String)> {
    match a {
        Ack::Seed { mac, .. } => vec![("mac", mac.to_string())],
        Ack::Hardened { seq, .. } => vec![("seq", seq.to_string())],
    }
}

fn sealed(s: &Sealed<Sym>) -> String {
    match s {
        Sealed::Seed { ciphertext, mac, .. } => format!("{ciphertext}, mac={mac}"),
        Sealed::Hardened { seq, ciphertext, .. } => format!("seq {seq}, {ciphertext}"),
    }
}

fn ack(a: &Ack<Sym>) -> String {
    match a {
        Ack::Seed { mac, .. } => format!("\"ACK\", {mac}"),
        Ack::Hardened { seq, .. } => format!("seq {seq}"),
    }
}

/// Sender and recipient of a packet, as names.
pub fn ends(p: &Packet) -> (String, String) {
    match p.hop {
        Hop::ToServer { from } => (party_name(from).to_string(), "S".to_string()),
        Hop::ToClient { to } => ("S".to_string(), party_name(to).to_string()),
    }
}

/// A packet in one line: `A → S: message`.
pub fn packet(p: &Packet) -> String {
    let (from, to) = ends(p);
    let stored = if p.stored { " (stored)" } else { "" };
    format!("{from} → {to}: {}{stored}", message(&p.message))
}

/// A multi-line summary of a state (what the Explorer shows).
pub fn state(s: &crate::state::State) -> String {
    use std::fmt::Write as _;

    use ee2e_spec::Store as _;

    let mut out = String::new();
    for (i, c) in s.clients.iter().enumerate() {
        let name = if i == 0 { "A" } else { "B" };
        let reg = match c.registration() {
            ee2e_spec::Registration::Unregistered => "unregistered",
            ee2e_spec::Registration::AwaitingOtp => "awaiting OTP",
            ee2e_spec::Registration::AwaitingResult => "awaiting result",
            ee2e_spec::Registration::Registered(_) => "registered",
        };
        let _ = writeln!(out, "{name}: {reg}");
        for (phone, entry) in c.peers() {
            let _ = writeln!(out, "  peer {} → {}", who(phone), entry.public_key);
        }
        for session in c.sessions() {
            let _ = writeln!(
                out,
                "  session with {} ({:?}), K = {}",
                who(&session.peer),
                session.role,
                ee2e_spec::hazmat::session_key(session)
            );
        }
        for o in c.outstanding() {
            let _ = writeln!(out, "  awaiting ACK for message #{} to {}", o.id, who(&o.peer));
        }
    }
    let _ = writeln!(out, "S: online {:?}", s.server.online().iter().map(who).collect::<Vec<_>>());
    for entry in s.server.store().directory() {
        let _ = writeln!(out, "  directory {} → {}", who(&entry.phone), entry.public_key);
    }
    for c in crate::config::HONEST {
        let queued = s.server.store().queue_len(&crate::config::phone(c)).unwrap_or(0);
        if queued > 0 {
            let _ = writeln!(out, "  {queued} message(s) stored for {}", crate::config::party_name(c));
        }
    }
    let _ = writeln!(
        out,
        "attacker: {} injection(s) used; knows {} term(s)",
        s.injections,
        s.knowledge.terms().count()
    );
    let secrets: Vec<String> = s
        .knowledge
        .terms()
        .filter(|t| matches!(t.node(), crate::term::Node::Fresh(n) if n.party != crate::config::E))
        .map(|t| t.to_string())
        .collect();
    if !secrets.is_empty() {
        let _ = writeln!(out, "  honest fresh values known: {}", secrets.join(", "));
    }
    let _ = writeln!(out, "network: {} message(s) sent, {} delivered", s.pool.len(), s.delivered.len());
    out
}
