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
