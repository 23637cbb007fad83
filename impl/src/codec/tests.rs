//! Unit tests of the wire codec: one `*_coding` round trip per message type and wire version,
//! one `decode_rejects_truncated_*` per type, every decode error, and golden bytes.

use ee2e_spec::{
    Ack, DirectoryEntry, ErrorCode, Message, MessageType, Phone, RegistrationProof, Sealed, Transport, Wire,
};

use super::field::{self, FieldKind, Shape};
use super::*;
use crate::value::Bytes;

type M = Message<ConcreteSuite>;

const PHONE_A: &str = "+15551234567";
const PHONE_B: &str = "+447700900123";

/// Sizes of the sample values: those of RSA-2048 (SPKI DER, signature, OAEP ciphertext).
const KEY_LEN: usize = 294;
const RSA_LEN: usize = 256;
const AES_LEN: usize = 48;

fn phone(text: &str) -> Phone {
    Phone::parse(text).unwrap()
}

fn fill(byte: u8, len: usize) -> Bytes {
    Bytes::public(vec![byte; len])
}

fn entry(number: &str) -> DirectoryEntry<ConcreteSuite> {
    DirectoryEntry { phone: phone(number), public_key: fill(0x30, KEY_LEN), signature: fill(0x51, RSA_LEN) }
}

fn transport() -> Transport<ConcreteSuite> {
    Transport { ciphertext: fill(0xc7, RSA_LEN), signature: fill(0x52, RSA_LEN) }
}

fn proof(wire: Wire) -> RegistrationProof<ConcreteSuite> {
    match wire {
        Wire::Seed => RegistrationProof::Seed { tag: fill(0x7a, 32) },
        Wire::Hardened => {
            RegistrationProof::Hardened { sealed_tag: fill(0x5e, RSA_LEN), possession: fill(0x90, RSA_LEN) }
        }
    }
}

fn sealed(wire: Wire) -> Sealed<ConcreteSuite> {
    match wire {
        Wire::Seed => {
            Sealed::Seed { iv: fill(0x11, 16), ciphertext: fill(0xce, AES_LEN), mac: fill(0x4d, 32) }
        }
        Wire::Hardened => Sealed::Hardened {
            session: fill(0x5d, 32),
            seq: 0x0102_0304_0506_0708,
            iv: fill(0x11, 16),
            ciphertext: fill(0xce, AES_LEN),
            mac: fill(0x4d, 32),
        },
    }
}

fn ack(wire: Wire) -> Ack<ConcreteSuite> {
    match wire {
        Wire::Seed => Ack::Seed { text: Bytes::public(b"ACK".to_vec()), mac: fill(0x4d, 32) },
        Wire::Hardened => {
            Ack::Hardened { session: fill(0x5d, 32), seq: 7, tag: fill(0xd1, 32), mac: fill(0x4d, 32) }
        }
    }
}

/// A sample message of `kind` in the layout of `wire`.
fn sample(kind: MessageType, wire: Wire) -> M {
    let (a, b) = (phone(PHONE_A), phone(PHONE_B));
    match kind {
        MessageType::RegisterRequest => Message::RegisterRequest { phone: a },
        MessageType::RegisterSubmit => {
            Message::RegisterSubmit { phone: a, public_key: fill(0x30, KEY_LEN), proof: proof(wire) }
        }
        MessageType::RegisterResult => Message::RegisterResult { entry: entry(PHONE_A) },
        MessageType::KeyRequest => Message::KeyRequest { peer: b },
        MessageType::PeerKey => Message::PeerKey { entry: entry(PHONE_B) },
        MessageType::KeyTransport => Message::KeyTransport { to: b, transport: transport() },
        MessageType::KeyDelivery => Message::KeyDelivery { from: entry(PHONE_A), transport: transport() },
        MessageType::Data => Message::Data { to: b, sealed: sealed(wire) },
        MessageType::DataDelivery => Message::DataDelivery { from: a, sealed: sealed(wire) },
        MessageType::Ack => Message::Ack { to: a, ack: ack(wire) },
        MessageType::AckDelivery => Message::AckDelivery { from: b, ack: ack(wire) },
        MessageType::Connect => Message::Connect { phone: a },
        MessageType::Disconnect => Message::Disconnect { phone: b },
        MessageType::Error => Message::Error { code: ErrorCode::UnknownPeer },
    }
}

/// The expected size of [`sample`], from the field kinds' declarations.
fn expected_len(kind: MessageType, wire: Wire) -> usize {
    let len = |kind: FieldKind, n: usize| kind.encoded_len(n);
    let phone = |text: &str| len(field::PHONE, text.len());
    let entry = |text: &str| phone(text) + len(field::PUBLIC_KEY, KEY_LEN) + len(field::SIGNATURE, RSA_LEN);
    let transport = len(field::RSA_CIPHERTEXT, RSA_LEN) + len(field::SIGNATURE, RSA_LEN);
    let proof = match wire {
        Wire::Seed => len(field::TAG, 32),
        Wire::Hardened => len(field::SEALED_TAG, RSA_LEN) + len(field::POSSESSION, RSA_LEN),
    };
    let sealed = len(field::IV, 16)
        + len(field::AES_CIPHERTEXT, AES_LEN)
        + len(field::MAC, 32)
        + match wire {
            Wire::Seed => 0,
            Wire::Hardened => len(field::SESSION_ID, 32) + len(field::SEQ, 8),
        };
    let ack = match wire {
        Wire::Seed => len(field::ACK_TEXT, 3) + len(field::MAC, 32),
        Wire::Hardened => {
            len(field::SESSION_ID, 32) + len(field::SEQ, 8) + len(field::MAC, 32) + len(field::MAC, 32)
        }
    };
    HEADER_LEN
        + match kind {
            MessageType::RegisterRequest | MessageType::Connect => phone(PHONE_A),
            MessageType::KeyRequest | MessageType::Disconnect => phone(PHONE_B),
            MessageType::RegisterSubmit => phone(PHONE_A) + len(field::PUBLIC_KEY, KEY_LEN) + proof,
            MessageType::RegisterResult => entry(PHONE_A),
            MessageType::PeerKey => entry(PHONE_B),
            MessageType::KeyTransport => phone(PHONE_B) + transport,
            MessageType::KeyDelivery => entry(PHONE_A) + transport,
            MessageType::Data => phone(PHONE_B) + sealed,
            MessageType::DataDelivery => phone(PHONE_A) + sealed,
            MessageType::Ack => phone(PHONE_A) + ack,
            MessageType::AckDelivery => phone(PHONE_B) + ack,
            MessageType::Error => len(field::CODE, 1),
        }
}

fn other(wire: Wire) -> Wire {
    match wire {
        Wire::Seed => Wire::Hardened,
        Wire::Hardened => Wire::Seed,
    }
}

fn assert_round_trips(kind: MessageType, wire: Wire) {
    let message = sample(kind, wire);
    let bytes = encode(wire, &message).unwrap();
    assert_eq!(bytes[0], wire as u8);
    assert_eq!(bytes[1], kind as u8);
    assert_eq!(bytes.len(), expected_len(kind, wire));
    assert_eq!(peek(&bytes), Ok((wire, kind)));
    assert_eq!(decode(wire, &bytes), Ok(message.clone()));
    assert_eq!(decode_any(&bytes), Ok((wire, message.clone())));
    assert_eq!(
        decode(other(wire), &bytes),
        Err(DecodeError::WrongVersion { expected: other(wire), found: wire })
    );
    assert_eq!(encode(wire, &message), Ok(bytes), "encoding is deterministic");
}

fn assert_rejects_truncated(kind: MessageType) {
    for wire in [Wire::Seed, Wire::Hardened] {
        let bytes = encode(wire, &sample(kind, wire)).unwrap();
        for cut in 0..bytes.len() {
            let prefix = &bytes[..cut];
            assert!(
                matches!(decode(wire, prefix), Err(DecodeError::Truncated { .. })),
                "{kind:?} on {wire:?} cut at {cut}: {:?}",
                decode(wire, prefix)
            );
            assert!(matches!(decode_any(prefix), Err(DecodeError::Truncated { .. })));
        }
    }
}

macro_rules! coding_tests {
    ($($kind:ident: $seed:ident, $hardened:ident, $truncated:ident;)*) => {$(
        #[test]
        fn $seed() {
            assert_round_trips(MessageType::$kind, Wire::Seed);
        }

        #[test]
        fn $hardened() {
            assert_round_trips(MessageType::$kind, Wire::Hardened);
        }

        #[test]
        fn $truncated() {
            assert_rejects_truncated(MessageType::$kind);
        }
    )*};
}

coding_tests! {
    RegisterRequest: register_request_seed_coding, register_request_hardened_coding, decode_rejects_truncated_register_request;
    RegisterSubmit: register_submit_seed_coding, register_submit_hardened_coding, decode_rejects_truncated_register_submit;
    RegisterResult: register_result_seed_coding, register_result_hardened_coding, decode_rejects_truncated_register_result;
    KeyRequest: key_request_seed_coding, key_request_hardened_coding, decode_rejects_truncated_key_request;
    PeerKey: peer_key_seed_coding, peer_key_hardened_coding, decode_rejects_truncated_peer_key;
    KeyTransport: key_transport_seed_coding, key_transport_hardened_coding, decode_rejects_truncated_key_transport;
    KeyDelivery: key_delivery_seed_coding, key_delivery_hardened_coding, decode_rejects_truncated_key_delivery;
    Data: data_seed_coding, data_hardened_coding, decode_rejects_truncated_data;
    DataDelivery: data_delivery_seed_coding, data_delivery_hardened_coding, decode_rejects_truncated_data_delivery;
    Ack: ack_seed_coding, ack_hardened_coding, decode_rejects_truncated_ack;
    AckDelivery: ack_delivery_seed_coding, ack_delivery_hardened_coding, decode_rejects_truncated_ack_delivery;
    Connect: connect_seed_coding, connect_hardened_coding, decode_rejects_truncated_connect;
    Disconnect: disconnect_seed_coding, disconnect_hardened_coding, decode_rejects_truncated_disconnect;
    Error: error_seed_coding, error_hardened_coding, decode_rejects_truncated_error;
}

#[test]
fn coding_tests_cover_every_message_type() {
    // The macro above lists each type once; this fails when a type is added to the spec.
    assert_eq!(MessageType::ALL.len(), 14);
    for &kind in MessageType::ALL {
        for wire in [Wire::Seed, Wire::Hardened] {
            assert_eq!(sample(kind, wire).kind(), kind);
        }
    }
}

#[test]
fn every_error_code_coding() {
    for wire in [Wire::Seed, Wire::Hardened] {
        for &code in ErrorCode::ALL {
            let message = Message::Error { code };
            let bytes = encode(wire, &message).unwrap();
            assert_eq!(bytes, [wire as u8, 0x7f, code as u8]);
            assert_eq!(decode(wire, &bytes), Ok(message));
        }
    }
}

#[test]
fn key_request_encoding_matches_golden_bytes() {
    let message: M = Message::KeyRequest { peer: phone(PHONE_A) };
    let bytes = encode(Wire::Seed, &message).unwrap();
    assert_eq!(hex::encode(&bytes), "01100c2b3135353531323334353637");
    let bytes = encode(Wire::Hardened, &message).unwrap();
    assert_eq!(hex::encode(&bytes), "02100c2b3135353531323334353637");
}

#[test]
fn hardened_ack_encoding_matches_golden_bytes() {
    let message: M = Message::Ack {
        to: phone("+4930123456"),
        ack: Ack::Hardened { session: fill(0xaa, 32), seq: 0x1234, tag: fill(0xdd, 32), mac: fill(0x33, 32) },
    };
    let expected = [
        "02",                     // version: hardened
        "30",                     // type: Ack
        "0b",                     // Ack.to: length 11
        "2b34393330313233343536", // "+4930123456"
        &"aa".repeat(32),         // Ack.session
        "0000000000001234",       // Ack.seq
        &"dd".repeat(32),         // Ack.tag
        &"33".repeat(32),         // Ack.mac
    ]
    .concat();
    assert_eq!(hex::encode(encode(Wire::Hardened, &message).unwrap()), expected);
}

#[test]
fn seed_data_encoding_matches_golden_bytes() {
    let message: M = Message::Data {
        to: phone("+4930123456"),
        sealed: Sealed::Seed { iv: fill(0x11, 16), ciphertext: fill(0xce, 16), mac: fill(0x4d, 32) },
    };
    let expected = [
        "01",                     // version: seed
        "20",                     // type: Data
        "0b",                     // Data.to: length 11
        "2b34393330313233343536", // "+4930123456"
        &"11".repeat(16),         // Sealed.iv
        "00000010",               // Sealed.ciphertext: length 16
        &"ce".repeat(16),         // Sealed.ciphertext
        &"4d".repeat(32),         // Sealed.mac
    ]
    .concat();
    assert_eq!(hex::encode(encode(Wire::Seed, &message).unwrap()), expected);
}

#[test]
fn decode_rejects_trailing_bytes() {
    for wire in [Wire::Seed, Wire::Hardened] {
        for &kind in MessageType::ALL {
            let mut bytes = encode(wire, &sample(kind, wire)).unwrap();
            bytes.push(0);
            assert_eq!(decode(wire, &bytes), Err(DecodeError::TrailingBytes { count: 1 }), "{kind:?}");
            bytes.extend_from_slice(&[0xff; 4]);
            assert_eq!(decode_any(&bytes), Err(DecodeError::TrailingBytes { count: 5 }), "{kind:?}");
        }
    }
}

#[test]
fn decode_rejects_wrong_version() {
    let bytes = encode(Wire::Seed, &sample(MessageType::Ack, Wire::Seed)).unwrap();
    assert_eq!(
        decode(Wire::Hardened, &bytes),
        Err(DecodeError::WrongVersion { expected: Wire::Hardened, found: Wire::Seed })
    );
    // The version is checked before anything else, even before the type.
    assert_eq!(
        decode(Wire::Seed, &[2, 0xee]),
        Err(DecodeError::WrongVersion { expected: Wire::Seed, found: Wire::Hardened })
    );
}

#[test]
fn decode_rejects_unknown_version() {
    let mut bytes = encode(Wire::Seed, &sample(MessageType::KeyRequest, Wire::Seed)).unwrap();
    for version in [0u8, 3, 0x7f, 0xff] {
        bytes[0] = version;
        let err = DecodeError::UnknownVersion { found: version };
        assert_eq!(decode(Wire::Seed, &bytes), Err(err.clone()));
        assert_eq!(decode(Wire::Hardened, &bytes), Err(err.clone()));
        assert_eq!(decode_any(&bytes), Err(err.clone()));
        assert_eq!(peek(&bytes), Err(err));
    }
}

#[test]
fn decode_rejects_unknown_type() {
    let known: Vec<u8> = MessageType::ALL.iter().map(|t| *t as u8).collect();
    for found in (0..=u8::MAX).filter(|b| !known.contains(b)) {
        let bytes = [2, found, 0x0c];
        assert_eq!(decode(Wire::Hardened, &bytes), Err(DecodeError::UnknownType { found }));
        assert_eq!(peek(&bytes), Err(DecodeError::UnknownType { found }));
    }
}

#[test]
fn decode_rejects_unknown_error_code() {
    let known: Vec<u8> = ErrorCode::ALL.iter().map(|c| *c as u8).collect();
    for found in (0..=u8::MAX).filter(|b| !known.contains(b)) {
        assert_eq!(decode(Wire::Seed, &[1, 0x7f, found]), Err(DecodeError::UnknownErrorCode { found }));
    }
}

#[test]
fn decode_rejects_empty_input_and_lone_version() {
    assert_eq!(decode_any(&[]), Err(DecodeError::Truncated { field: "version" }));
    assert_eq!(peek(&[]), Err(DecodeError::Truncated { field: "version" }));
    assert_eq!(decode(Wire::Seed, &[1]), Err(DecodeError::Truncated { field: "type" }));
    assert_eq!(peek(&[2]), Err(DecodeError::Truncated { field: "type" }));
}

#[test]
fn truncation_names_the_field_it_ends_in() {
    let bytes = encode(Wire::Hardened, &sample(MessageType::Data, Wire::Hardened)).unwrap();
    let to = 1 + PHONE_B.len();
    let cases = [
        (2, "Data.to"),
        (2 + to - 1, "Data.to"),
        (2 + to, "Sealed.session"),
        (2 + to + 32, "Sealed.seq"),
        (2 + to + 39, "Sealed.seq"),
        (2 + to + 40, "Sealed.iv"),
        (2 + to + 56, "Sealed.ciphertext"),
        (2 + to + 60 + AES_LEN, "Sealed.mac"),
        (bytes.len() - 1, "Sealed.mac"),
    ];
    for (cut, field) in cases {
        assert_eq!(
            decode(Wire::Hardened, &bytes[..cut]),
            Err(DecodeError::Truncated { field }),
            "cut at {cut}"
        );
    }
}

/// Replaces the bytes `at..at + len` of `bytes` with `with`.
fn splice(bytes: &[u8], at: usize, len: usize, with: &[u8]) -> Vec<u8> {
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(with);
    out.extend_from_slice(&bytes[at + len..]);
    out
}

#[test]
fn decode_rejects_over_long_length_prefixes() {
    // Phone: u8 prefix, at most 16.
    let bytes = [1, 0x10, 17];
    let err = DecodeError::FieldTooLong { field: "KeyRequest.peer", len: 17, max: 16 };
    assert_eq!(decode(Wire::Seed, &bytes), Err(err));

    // Public key: u16 prefix, at most 1024; checked before the bytes are looked for.
    let submit = encode(Wire::Hardened, &sample(MessageType::RegisterSubmit, Wire::Hardened)).unwrap();
    let at = 2 + 1 + PHONE_A.len();
    for len in [1025u16, 0xffff] {
        let bad = splice(&submit, at, 2, &len.to_be_bytes());
        let err = DecodeError::FieldTooLong {
            field: "RegisterSubmit.public_key",
            len: len.into(),
            max: MAX_PUBLIC_KEY,
        };
        assert_eq!(decode(Wire::Hardened, &bad), Err(err));
    }

    // AES ciphertext: u32 prefix, at most MAX_CIPHERTEXT, however large the claim.
    let data = encode(Wire::Seed, &sample(MessageType::Data, Wire::Seed)).unwrap();
    let at = 2 + 1 + PHONE_B.len() + 16;
    for len in [MAX_CIPHERTEXT as u32 + 1, u32::MAX] {
        let bad = splice(&data, at, 4, &len.to_be_bytes());
        let err =
            DecodeError::FieldTooLong { field: "Sealed.ciphertext", len: len as usize, max: MAX_CIPHERTEXT };
        assert_eq!(decode(Wire::Seed, &bad), Err(err));
    }

    // Seed ACK text: u8 prefix, at most 16.
    let ack = encode(Wire::Seed, &sample(MessageType::Ack, Wire::Seed)).unwrap();
    let bad = splice(&ack, 2 + 1 + PHONE_A.len(), 1, &[17]);
    let err = DecodeError::FieldTooLong { field: "Ack.text", len: 17, max: MAX_ACK_TEXT };
    assert_eq!(decode(Wire::Seed, &bad), Err(err));
}

#[test]
fn decode_rejects_length_prefix_longer_than_input() {
    let data = encode(Wire::Seed, &sample(MessageType::Data, Wire::Seed)).unwrap();
    let at = 2 + 1 + PHONE_B.len() + 16;
    let bad = splice(&data, at, 4, &(MAX_CIPHERTEXT as u32).to_be_bytes());
    assert_eq!(decode(Wire::Seed, &bad), Err(DecodeError::Truncated { field: "Sealed.ciphertext" }));
}

#[test]
fn maximum_length_fields_coding() {
    let message: M = Message::DataDelivery {
        from: phone("+123456789012345"),
        sealed: Sealed::Hardened {
            session: fill(1, 32),
            seq: u64::MAX,
            iv: fill(2, 16),
            ciphertext: fill(3, MAX_CIPHERTEXT),
            mac: fill(4, 32),
        },
    };
    let bytes = encode(Wire::Hardened, &message).unwrap();
    assert_eq!(bytes.len(), 2 + 17 + 32 + 8 + 16 + 4 + MAX_CIPHERTEXT + 32);
    assert_eq!(bytes.len(), MAX_MESSAGE_LEN);
    assert_eq!(MAX_MESSAGE_LEN, 1_048_703);
    assert_eq!(decode(Wire::Hardened, &bytes), Ok(message));

    let message: M = Message::KeyDelivery {
        from: DirectoryEntry {
            phone: phone(PHONE_A),
            public_key: fill(5, MAX_PUBLIC_KEY),
            signature: fill(6, MAX_RSA_VALUE),
        },
        transport: Transport { ciphertext: fill(7, MAX_RSA_VALUE), signature: fill(8, MAX_RSA_VALUE) },
    };
    let bytes = encode(Wire::Seed, &message).unwrap();
    assert_eq!(decode(Wire::Seed, &bytes), Ok(message));

    let message: M = Message::AckDelivery {
        from: phone(PHONE_A),
        ack: Ack::Seed { text: fill(b'A', 16), mac: fill(9, 32) },
    };
    let bytes = encode(Wire::Seed, &message).unwrap();
    assert_eq!(decode(Wire::Seed, &bytes), Ok(message));
}

#[test]
fn empty_fields_coding_where_allowed() {
    let message: M = Message::RegisterSubmit {
        phone: phone(PHONE_A),
        public_key: fill(0, 0),
        proof: RegistrationProof::Hardened { sealed_tag: fill(0x5e, 32), possession: fill(0, 0) },
    };
    let bytes = encode(Wire::Hardened, &message).unwrap();
    assert_eq!(bytes.len(), 2 + 13 + 2 + (2 + 32) + 2);
    assert_eq!(decode(Wire::Hardened, &bytes), Ok(message));

    let message: M = Message::Data {
        to: phone(PHONE_B),
        sealed: Sealed::Seed { iv: fill(1, 16), ciphertext: fill(0, 0), mac: fill(2, 32) },
    };
    let bytes = encode(Wire::Seed, &message).unwrap();
    assert_eq!(decode(Wire::Seed, &bytes), Ok(message));

    let message: M =
        Message::Ack { to: phone(PHONE_B), ack: Ack::Seed { text: fill(0, 0), mac: fill(2, 32) } };
    let bytes = encode(Wire::Seed, &message).unwrap();
    assert_eq!(decode(Wire::Seed, &bytes), Ok(message));
}

#[test]
fn decode_rejects_empty_signatures_ciphertexts_and_sealed_tags() {
    let transport = encode(Wire::Seed, &sample(MessageType::KeyTransport, Wire::Seed)).unwrap();
    let at = 2 + 1 + PHONE_B.len();
    let bad = splice(&transport, at, 2 + RSA_LEN, &[0, 0]);
    assert_eq!(decode(Wire::Seed, &bad), Err(DecodeError::EmptyField { field: "Transport.ciphertext" }));
    let bad = splice(&transport, at + 2 + RSA_LEN, 2 + RSA_LEN, &[0, 0]);
    assert_eq!(decode(Wire::Seed, &bad), Err(DecodeError::EmptyField { field: "Transport.signature" }));

    let submit = encode(Wire::Hardened, &sample(MessageType::RegisterSubmit, Wire::Hardened)).unwrap();
    let at = 2 + 1 + PHONE_A.len() + 2 + KEY_LEN;
    let bad = splice(&submit, at, 2 + RSA_LEN, &[0, 0]);
    assert_eq!(
        decode(Wire::Hardened, &bad),
        Err(DecodeError::EmptyField { field: "RegistrationProof.sealed_tag" })
    );
}

#[test]
fn encode_rejects_empty_signatures_ciphertexts_and_sealed_tags() {
    let mut entry = entry(PHONE_A);
    entry.signature = fill(0, 0);
    let err = Err(EncodeError::EmptyField { field: "DirectoryEntry.signature" });
    assert_eq!(encode(Wire::Seed, &Message::PeerKey { entry }), err);

    let message: M = Message::KeyTransport {
        to: phone(PHONE_B),
        transport: Transport { ciphertext: fill(0, 0), signature: fill(1, RSA_LEN) },
    };
    assert_eq!(
        encode(Wire::Hardened, &message),
        Err(EncodeError::EmptyField { field: "Transport.ciphertext" })
    );

    let message: M = Message::RegisterSubmit {
        phone: phone(PHONE_A),
        public_key: fill(0x30, KEY_LEN),
        proof: RegistrationProof::Hardened { sealed_tag: fill(0, 0), possession: fill(1, RSA_LEN) },
    };
    let err = Err(EncodeError::EmptyField { field: "RegistrationProof.sealed_tag" });
    assert_eq!(encode(Wire::Hardened, &message), err);
}

#[test]
fn decode_rejects_invalid_phone() {
    let good = encode(Wire::Seed, &sample(MessageType::Connect, Wire::Seed)).unwrap();
    let field = "Connect.phone";
    for bad in [
        "",
        "+",
        "+0555123456",
        "+1234567",
        "15551234567",
        "+1555a234567",
        "+155512345ü",
        "+1234567890123456",
    ] {
        let mut bytes = vec![1, MessageType::Connect as u8, bad.len() as u8];
        bytes.extend_from_slice(bad.as_bytes());
        let expected = if bad.len() > field::PHONE_MAX {
            DecodeError::FieldTooLong { field, len: bad.len(), max: field::PHONE_MAX }
        } else {
            DecodeError::InvalidPhone { field }
        };
        assert_eq!(decode(Wire::Seed, &bytes), Err(expected), "{bad:?}");
    }
    // A phone inside a directory entry is validated too.
    let peer_key = encode(Wire::Hardened, &sample(MessageType::PeerKey, Wire::Hardened)).unwrap();
    let bad = splice(&peer_key, 3, 1, b"-");
    assert_eq!(
        decode(Wire::Hardened, &bad),
        Err(DecodeError::InvalidPhone { field: "DirectoryEntry.phone" })
    );
    assert!(decode(Wire::Seed, &good).is_ok());
}

#[test]
fn encode_rejects_over_long_fields() {
    let message: M = Message::RegisterSubmit {
        phone: phone(PHONE_A),
        public_key: fill(0x30, MAX_PUBLIC_KEY + 1),
        proof: proof(Wire::Seed),
    };
    let err =
        EncodeError::FieldTooLong { field: "RegisterSubmit.public_key", len: 1025, max: MAX_PUBLIC_KEY };
    assert_eq!(encode(Wire::Seed, &message), Err(err));

    let message: M = Message::Data {
        to: phone(PHONE_B),
        sealed: Sealed::Seed { iv: fill(1, 16), ciphertext: fill(0, MAX_CIPHERTEXT + 1), mac: fill(2, 32) },
    };
    let err = EncodeError::FieldTooLong {
        field: "Sealed.ciphertext",
        len: MAX_CIPHERTEXT + 1,
        max: MAX_CIPHERTEXT,
    };
    assert_eq!(encode(Wire::Seed, &message), Err(err));

    let message: M = Message::KeyTransport {
        to: phone(PHONE_B),
        transport: Transport { ciphertext: fill(1, RSA_LEN), signature: fill(2, MAX_RSA_VALUE + 1) },
    };
    let err = EncodeError::FieldTooLong { field: "Transport.signature", len: 1025, max: MAX_RSA_VALUE };
    assert_eq!(encode(Wire::Hardened, &message), Err(err));

    let message: M =
        Message::Ack { to: phone(PHONE_B), ack: Ack::Seed { text: fill(b'A', 17), mac: fill(2, 32) } };
    let err = EncodeError::FieldTooLong { field: "Ack.text", len: 17, max: MAX_ACK_TEXT };
    assert_eq!(encode(Wire::Seed, &message), Err(err));
}

#[test]
fn encode_rejects_fixed_fields_of_the_wrong_size() {
    let message: M = Message::Data {
        to: phone(PHONE_B),
        sealed: Sealed::Seed { iv: fill(1, 15), ciphertext: fill(0, 16), mac: fill(2, 32) },
    };
    let err = EncodeError::WrongLength { field: "Sealed.iv", len: 15, expected: 16 };
    assert_eq!(encode(Wire::Seed, &message), Err(err));

    let message: M = Message::AckDelivery {
        from: phone(PHONE_B),
        ack: Ack::Hardened { session: fill(1, 32), seq: 0, tag: fill(2, 33), mac: fill(3, 32) },
    };
    let err = EncodeError::WrongLength { field: "Ack.tag", len: 33, expected: 32 };
    assert_eq!(encode(Wire::Hardened, &message), Err(err));

    let message: M = Message::RegisterSubmit {
        phone: phone(PHONE_A),
        public_key: fill(0x30, KEY_LEN),
        proof: RegistrationProof::Seed { tag: fill(0x7a, 31) },
    };
    let err = EncodeError::WrongLength { field: "RegistrationProof.tag", len: 31, expected: 32 };
    assert_eq!(encode(Wire::Seed, &message), Err(err));
}

#[test]
fn encode_rejects_layout_mismatch() {
    let cases = [
        (MessageType::RegisterSubmit, Wire::Seed, "RegistrationProof::Hardened"),
        (MessageType::RegisterSubmit, Wire::Hardened, "RegistrationProof::Seed"),
        (MessageType::Data, Wire::Seed, "Sealed::Hardened"),
        (MessageType::Data, Wire::Hardened, "Sealed::Seed"),
        (MessageType::DataDelivery, Wire::Seed, "Sealed::Hardened"),
        (MessageType::DataDelivery, Wire::Hardened, "Sealed::Seed"),
        (MessageType::Ack, Wire::Seed, "Ack::Hardened"),
        (MessageType::Ack, Wire::Hardened, "Ack::Seed"),
        (MessageType::AckDelivery, Wire::Seed, "Ack::Hardened"),
        (MessageType::AckDelivery, Wire::Hardened, "Ack::Seed"),
    ];
    for (kind, wire, body) in cases {
        let message = sample(kind, other(wire));
        assert_eq!(encode(wire, &message), Err(EncodeError::WrongLayout { wire, body }), "{kind:?}");
    }
}

#[test]
fn layout_independent_messages_differ_only_in_the_version_byte() {
    for &kind in MessageType::ALL {
        if matches!(
            kind,
            MessageType::RegisterSubmit
                | MessageType::Data
                | MessageType::DataDelivery
                | MessageType::Ack
                | MessageType::AckDelivery
        ) {
            continue;
        }
        let message = sample(kind, Wire::Seed);
        let seed = encode(Wire::Seed, &message).unwrap();
        let hardened = encode(Wire::Hardened, &message).unwrap();
        assert_eq!(seed[1..], hardened[1..], "{kind:?}");
    }
}

#[test]
fn decoded_values_are_public() {
    let bytes = encode(Wire::Seed, &sample(MessageType::RegisterSubmit, Wire::Seed)).unwrap();
    let Ok(Message::RegisterSubmit { public_key, proof: RegistrationProof::Seed { tag }, .. }) =
        decode(Wire::Seed, &bytes)
    else {
        panic!("not a seed RegisterSubmit");
    };
    assert!(!public_key.is_secret());
    assert!(!tag.is_secret());
}

#[test]
fn field_kinds_declare_their_framing() {
    let prefixed = |kind: FieldKind| match kind.shape {
        Shape::Prefixed { prefix, min, max } => (prefix.width(), min, max),
        Shape::Fixed { len } => panic!("fixed {len}"),
    };
    assert_eq!(prefixed(field::PHONE), (1, 0, 16));
    assert_eq!(prefixed(field::PUBLIC_KEY), (2, 0, 1024));
    assert_eq!(prefixed(field::SIGNATURE), (2, 1, 1024));
    assert_eq!(prefixed(field::RSA_CIPHERTEXT), (2, 1, 1024));
    assert_eq!(prefixed(field::SEALED_TAG), (2, 1, 1024));
    assert_eq!(prefixed(field::POSSESSION), (2, 0, 1024));
    assert_eq!(prefixed(field::AES_CIPHERTEXT), (4, 0, (1 << 20) + 16));
    assert_eq!(prefixed(field::ACK_TEXT), (1, 0, 16));
    for (kind, len) in [
        (field::TAG, 32),
        (field::IV, 16),
        (field::MAC, 32),
        (field::SESSION_ID, 32),
        (field::SEQ, 8),
        (field::CODE, 1),
    ] {
        assert_eq!(kind.shape, Shape::Fixed { len });
    }
}

/// Encoded sizes of real messages with `bits`-bit RSA keys and the phone `+15551234567`, as
/// listed in SPEC.md ("Sizes"): `[(type, seed size, hardened size)]`, with a 100-byte
/// plaintext (112-byte ciphertext) in the data messages.
fn real_sizes(bits: usize) -> Vec<(MessageType, usize, usize)> {
    use crate::suite::{PrivateKey, seeded_rng};
    use ee2e_spec::{Input, SigScheme, Suite};
    type S = ConcreteSuite;

    let mut rng = seeded_rng([7; 32]);
    let key = PrivateKey::generate(bits, &mut rng).unwrap();
    let public_key = key.public_key_der().clone();
    let signature = S::sign(&key, SigScheme::PssSha256, Input::Raw(&fill(1, 10)), &mut rng).unwrap();
    let oaep = S::pke_encrypt(&public_key, &fill(0, 0), &fill(2, 32), &mut rng).unwrap();
    let cipher = S::cipher_key(&fill(3, 32)).unwrap();
    let ciphertext = S::encrypt(&cipher, &fill(4, 16), &fill(5, 100)).unwrap();
    assert_eq!(ciphertext.len(), 112);

    let a = phone(PHONE_A);
    let entry =
        DirectoryEntry { phone: a.clone(), public_key: public_key.clone(), signature: signature.clone() };
    let transport = Transport { ciphertext: oaep.clone(), signature: signature.clone() };
    let size = |wire: Wire, message: &M| encode(wire, message).unwrap().len();
    let mut rows = Vec::new();
    for &kind in MessageType::ALL {
        let build = |wire: Wire| -> M {
            let sealed = match wire {
                Wire::Seed => {
                    Sealed::Seed { iv: fill(4, 16), ciphertext: ciphertext.clone(), mac: fill(6, 32) }
                }
                Wire::Hardened => Sealed::Hardened {
                    session: fill(7, 32),
                    seq: 0,
                    iv: fill(4, 16),
                    ciphertext: ciphertext.clone(),
                    mac: fill(6, 32),
                },
            };
            let ack = ack(wire);
            match kind {
                MessageType::RegisterSubmit => Message::RegisterSubmit {
                    phone: a.clone(),
                    public_key: public_key.clone(),
                    proof: match wire {
                        Wire::Seed => RegistrationProof::Seed { tag: fill(8, 32) },
                        Wire::Hardened => RegistrationProof::Hardened {
                            sealed_tag: oaep.clone(),
                            possession: signature.clone(),
                        },
                    },
                },
                MessageType::RegisterResult => Message::RegisterResult { entry: entry.clone() },
                MessageType::PeerKey => Message::PeerKey { entry: entry.clone() },
                MessageType::KeyTransport => {
                    Message::KeyTransport { to: a.clone(), transport: transport.clone() }
                }
                MessageType::KeyDelivery => {
                    Message::KeyDelivery { from: entry.clone(), transport: transport.clone() }
                }
                MessageType::Data => Message::Data { to: a.clone(), sealed },
                MessageType::DataDelivery => Message::DataDelivery { from: a.clone(), sealed },
                MessageType::Ack => Message::Ack { to: a.clone(), ack },
                MessageType::AckDelivery => Message::AckDelivery { from: a.clone(), ack },
                MessageType::RegisterRequest => Message::RegisterRequest { phone: a.clone() },
                MessageType::KeyRequest => Message::KeyRequest { peer: a.clone() },
                MessageType::Connect => Message::Connect { phone: a.clone() },
                MessageType::Disconnect => Message::Disconnect { phone: a.clone() },
                MessageType::Error => Message::Error { code: ErrorCode::BadRequest },
            }
        };
        rows.push((kind, size(Wire::Seed, &build(Wire::Seed)), size(Wire::Hardened, &build(Wire::Hardened))));
    }
    rows
}

#[test]
fn rsa_2048_messages_have_the_documented_sizes() {
    use MessageType::*;
    let expected = [
        (RegisterRequest, 15, 15),
        (RegisterSubmit, 343, 827),
        (RegisterResult, 569, 569),
        (KeyRequest, 15, 15),
        (PeerKey, 569, 569),
        (KeyTransport, 531, 531),
        (KeyDelivery, 1085, 1085),
        (Data, 179, 219),
        (DataDelivery, 179, 219),
        (Ack, 51, 119),
        (AckDelivery, 51, 119),
        (Connect, 15, 15),
        (Disconnect, 15, 15),
        (Error, 3, 3),
    ];
    assert_eq!(real_sizes(2048), expected);
}

#[test]
fn rsa_3072_messages_have_the_documented_sizes() {
    use MessageType::*;
    let expected = [
        (RegisterRequest, 15, 15),
        (RegisterSubmit, 471, 1211),
        (RegisterResult, 825, 825),
        (KeyRequest, 15, 15),
        (PeerKey, 825, 825),
        (KeyTransport, 787, 787),
        (KeyDelivery, 1597, 1597),
        (Data, 179, 219),
        (DataDelivery, 179, 219),
        (Ack, 51, 119),
        (AckDelivery, 51, 119),
        (Connect, 15, 15),
        (Disconnect, 15, 15),
        (Error, 3, 3),
    ];
    assert_eq!(real_sizes(3072), expected);
}
