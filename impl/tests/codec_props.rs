//! Property tests of the wire codec: every message round-trips on its wire, and decoding any
//! byte string — random, or a valid encoding flipped, truncated or extended — returns a
//! message or an error without panicking; what it accepts re-encodes to the same bytes.

use ee2e::codec::{
    DecodeError, MAX_ACK_TEXT, MAX_MESSAGE_LEN, MAX_PUBLIC_KEY, MAX_RSA_VALUE, decode, decode_any, encode,
    peek,
};
use ee2e::{Bytes, ConcreteSuite};
use ee2e_spec::{
    Ack, DirectoryEntry, ErrorCode, Message, MessageType, Phone, RegistrationProof, Sealed, Transport, Wire,
};
use proptest::prelude::*;
use proptest::strategy::Union;

type M = Message<ConcreteSuite>;

/// Longest AES ciphertext generated: keeps cases fast; the maximum is a unit test.
const CIPHERTEXT_SAMPLE_MAX: usize = 2048;

fn wire() -> impl Strategy<Value = Wire> {
    prop_oneof![Just(Wire::Seed), Just(Wire::Hardened)]
}

fn phone() -> impl Strategy<Value = Phone> {
    "\\+[1-9][0-9]{7,14}".prop_map(|text| Phone::parse(&text).expect("the pattern is E.164"))
}

fn bytes(len: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), len).prop_map(Bytes::public)
}

fn fixed(len: usize) -> impl Strategy<Value = Bytes> {
    bytes(len..=len)
}

/// A public key, signature, OAEP ciphertext or sealed tag: sometimes of RSA sizes, sometimes
/// of any size the wire accepts.
fn rsa_sized(min: usize, max: usize) -> impl Strategy<Value = Bytes> {
    prop_oneof![bytes(min..=max), fixed(256), fixed(384), fixed(294.min(max))]
}

fn entry() -> impl Strategy<Value = DirectoryEntry<ConcreteSuite>> {
    (phone(), rsa_sized(0, MAX_PUBLIC_KEY), rsa_sized(1, MAX_RSA_VALUE))
        .prop_map(|(phone, public_key, signature)| DirectoryEntry { phone, public_key, signature })
}

fn transport() -> impl Strategy<Value = Transport<ConcreteSuite>> {
    (rsa_sized(1, MAX_RSA_VALUE), rsa_sized(1, MAX_RSA_VALUE))
        .prop_map(|(ciphertext, signature)| Transport { ciphertext, signature })
}

fn proof(wire: Wire) -> BoxedStrategy<RegistrationProof<ConcreteSuite>> {
    match wire {
        Wire::Seed => fixed(32).prop_map(|tag| RegistrationProof::Seed { tag }).boxed(),
        Wire::Hardened => (rsa_sized(1, MAX_RSA_VALUE), rsa_sized(0, MAX_RSA_VALUE))
            .prop_map(|(sealed_tag, possession)| RegistrationProof::Hardened { sealed_tag, possession })
            .boxed(),
    }
}

fn sealed(wire: Wire) -> BoxedStrategy<Sealed<ConcreteSuite>> {
    let ciphertext = bytes(0..=CIPHERTEXT_SAMPLE_MAX);
    match wire {
        Wire::Seed => (fixed(16), ciphertext, fixed(32))
            .prop_map(|(iv, ciphertext, mac)| Sealed::Seed { iv, ciphertext, mac })
            .boxed(),
        Wire::Hardened => (fixed(32), any::<u64>(), fixed(16), ciphertext, fixed(32))
            .prop_map(|(session, seq, iv, ciphertext, mac)| Sealed::Hardened {
                session,
                seq,
                iv,
                ciphertext,
                mac,
            })
            .boxed(),
    }
}

fn ack(wire: Wire) -> BoxedStrategy<Ack<ConcreteSuite>> {
    match wire {
        Wire::Seed => (prop_oneof![Just(Bytes::public(b"ACK".to_vec())), bytes(0..=MAX_ACK_TEXT)], fixed(32))
            .prop_map(|(text, mac)| Ack::Seed { text, mac })
            .boxed(),
        Wire::Hardened => (fixed(32), any::<u64>(), fixed(32), fixed(32))
            .prop_map(|(session, seq, tag, mac)| Ack::Hardened { session, seq, tag, mac })
            .boxed(),
    }
}

/// Any message of any type, in the layout of `wire`.
fn message(wire: Wire) -> impl Strategy<Value = M> {
    let arms: Vec<BoxedStrategy<M>> = vec![
        phone().prop_map(|phone| Message::RegisterRequest { phone }).boxed(),
        (phone(), rsa_sized(0, MAX_PUBLIC_KEY), proof(wire))
            .prop_map(|(phone, public_key, proof)| Message::RegisterSubmit { phone, public_key, proof })
            .boxed(),
        entry().prop_map(|entry| Message::RegisterResult { entry }).boxed(),
        phone().prop_map(|peer| Message::KeyRequest { peer }).boxed(),
        entry().prop_map(|entry| Message::PeerKey { entry }).boxed(),
        (phone(), transport()).prop_map(|(to, transport)| Message::KeyTransport { to, transport }).boxed(),
        (entry(), transport()).prop_map(|(from, transport)| Message::KeyDelivery { from, transport }).boxed(),
        (phone(), sealed(wire)).prop_map(|(to, sealed)| Message::Data { to, sealed }).boxed(),
        (phone(), sealed(wire)).prop_map(|(from, sealed)| Message::DataDelivery { from, sealed }).boxed(),
        (phone(), ack(wire)).prop_map(|(to, ack)| Message::Ack { to, ack }).boxed(),
        (phone(), ack(wire)).prop_map(|(from, ack)| Message::AckDelivery { from, ack }).boxed(),
        phone().prop_map(|phone| Message::Connect { phone }).boxed(),
        phone().prop_map(|phone| Message::Disconnect { phone }).boxed(),
        prop::sample::select(ErrorCode::ALL.to_vec()).prop_map(|code| Message::Error { code }).boxed(),
    ];
    assert_eq!(arms.len(), MessageType::ALL.len(), "one strategy per message type");
    Union::new(arms)
}

/// A wire and a message in its layout.
fn wire_and_message() -> impl Strategy<Value = (Wire, M)> {
    wire().prop_flat_map(|wire| message(wire).prop_map(move |message| (wire, message)))
}

/// A change to a valid encoding.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at (index mod length) with a non-zero mask.
    Flip(prop::sample::Index, u8),
    /// Keep only the first (index mod length) bytes.
    Truncate(prop::sample::Index),
    /// Append bytes.
    Extend(Vec<u8>),
    /// Overwrite bytes from (index mod length) on.
    Overwrite(prop::sample::Index, Vec<u8>),
    /// Insert bytes at (index mod length).
    Insert(prop::sample::Index, Vec<u8>),
    /// Remove up to `n` bytes from (index mod length).
    Remove(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let some_bytes = || prop::collection::vec(any::<u8>(), 1..8);
    prop_oneof![
        (any::<prop::sample::Index>(), 1..=u8::MAX).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        some_bytes().prop_map(Mutation::Extend),
        (any::<prop::sample::Index>(), some_bytes()).prop_map(|(at, with)| Mutation::Overwrite(at, with)),
        (any::<prop::sample::Index>(), some_bytes()).prop_map(|(at, with)| Mutation::Insert(at, with)),
        (any::<prop::sample::Index>(), 1..8usize).prop_map(|(at, n)| Mutation::Remove(at, n)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    // An index in 0..len, or 0 when the bytes are already empty.
    let pick = |at: &prop::sample::Index| if len == 0 { 0 } else { at.index(len) };
    match mutation {
        Mutation::Flip(at, mask) => {
            if len > 0 {
                bytes[at.index(len)] ^= mask;
            }
        }
        Mutation::Truncate(at) => bytes.truncate(pick(at)),
        Mutation::Extend(more) => bytes.extend_from_slice(more),
        Mutation::Overwrite(at, with) => {
            let at = pick(at);
            for (slot, byte) in bytes.iter_mut().skip(at).zip(with) {
                *slot = *byte;
            }
        }
        Mutation::Insert(at, with) => {
            let at = at.index(len + 1);
            bytes.splice(at..at, with.iter().copied());
        }
        Mutation::Remove(at, n) => {
            let at = pick(at);
            bytes.drain(at..(at + n).min(len));
        }
    }
}

/// Decodes `bytes` every way there is; whatever is accepted must re-encode to `bytes`.
fn decode_every_way(bytes: &[u8]) -> Result<(), TestCaseError> {
    for wire in [Wire::Seed, Wire::Hardened] {
        if let Ok(message) = decode(wire, bytes) {
            let again = encode(wire, &message);
            prop_assert_eq!(again.as_deref(), Ok(bytes), "decoding is canonical");
            prop_assert_eq!(peek(bytes), Ok((wire, message.kind())));
        }
    }
    match decode_any(bytes) {
        Ok((wire, message)) => {
            prop_assert_eq!(decode(wire, bytes), Ok(message));
        }
        Err(err) => {
            // An error of decode_any is an error of every decode that gets past the version.
            if let Ok((wire, _)) = peek(bytes) {
                prop_assert_eq!(decode(wire, bytes), Err(err));
            } else {
                let header_error = matches!(
                    err,
                    DecodeError::Truncated { .. }
                        | DecodeError::UnknownVersion { .. }
                        | DecodeError::UnknownType { .. }
                );
                prop_assert!(header_error, "{:?}", err);
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_message_round_trips_on_its_wire((wire, message) in wire_and_message()) {
        let bytes = encode(wire, &message).expect("generated fields are within bounds");
        prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
        prop_assert_eq!(peek(&bytes), Ok((wire, message.kind())));
        prop_assert_eq!(decode(wire, &bytes), Ok(message.clone()));
        prop_assert_eq!(decode_any(&bytes), Ok((wire, message)));
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_every_way(&bytes)?;
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bodies_after_a_valid_header(
        wire in wire(),
        kind in prop::sample::select(MessageType::ALL.to_vec()),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = vec![wire as u8, kind as u8];
        bytes.extend_from_slice(&body);
        decode_every_way(&bytes)?;
    }

    #[test]
    fn decode_never_panics_on_mutated_encodings(
        (wire, message) in wire_and_message(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = encode(wire, &message).expect("generated fields are within bounds");
        for mutation in &mutations {
            mutate(&mut bytes, mutation);
        }
        decode_every_way(&bytes)?;
    }

    #[test]
    fn decode_rejects_every_proper_prefix((wire, message) in wire_and_message(), at in any::<prop::sample::Index>()) {
        let bytes = encode(wire, &message).expect("generated fields are within bounds");
        let cut = at.index(bytes.len());
        let is_truncated = matches!(decode(wire, &bytes[..cut]), Err(DecodeError::Truncated { .. }));
        prop_assert!(is_truncated);
    }
}
