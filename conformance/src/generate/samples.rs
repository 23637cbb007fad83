//! One honest message of every type, made by real clients, for the wire and presence files.

use ee2e_spec::hazmat::registration_label;
use ee2e_spec::{ErrorCode, Message, RegistrationProof, SigScheme, Wire};

use super::craft;
use super::world::{S, World, public};
use crate::error::VectorError;

/// Every message type once, in type-byte order.
pub(crate) fn all(w: &World) -> Result<Vec<Message<S>>, VectorError> {
    let mut a = w.client("alice")?;
    let mut b = w.client("bob")?;
    let transport = w.initiate(&mut a, "bob", "samples/kx")?;
    w.deliver(&mut b, Message::KeyDelivery { from: w.entry("alice"), transport: transport.clone() })?;
    let sealed = w.seal(&mut a, "bob", b"a sample message", "samples/m")?;
    let ack = w.acknowledge(&mut b, "alice", &sealed)?;
    let (phone, pk) = (w.phone("alice"), w.public_key("alice"));
    let tag = public(&[0x5a; 32]);
    let proof = match w.profile.wire() {
        Wire::Seed => RegistrationProof::Seed { tag },
        Wire::Hardened => RegistrationProof::Hardened {
            sealed_tag: craft::oaep(
                w,
                w.server.public_key_der(),
                &registration_label::<S>(&phone),
                &tag,
                "samples/seal",
            )?,
            possession: craft::sign(
                w,
                &w.party("alice").key,
                SigScheme::PssSha256,
                &craft::possession_input(&phone, &pk),
                "samples/possess",
            )?,
        },
    };
    Ok(vec![
        Message::RegisterRequest { phone: phone.clone() },
        Message::RegisterSubmit { phone: phone.clone(), public_key: pk, proof },
        Message::RegisterResult { entry: w.entry("alice") },
        Message::KeyRequest { peer: w.phone("bob") },
        Message::PeerKey { entry: w.entry("bob") },
        Message::KeyTransport { to: w.phone("bob"), transport: transport.clone() },
        Message::KeyDelivery { from: w.entry("alice"), transport },
        Message::Data { to: w.phone("bob"), sealed: sealed.clone() },
        Message::DataDelivery { from: phone.clone(), sealed },
        Message::Ack { to: phone.clone(), ack: ack.clone() },
        Message::AckDelivery { from: w.phone("bob"), ack },
        Message::Connect { phone: phone.clone() },
        Message::Disconnect { phone },
        Message::Error { code: ErrorCode::UnknownPeer },
    ])
}
