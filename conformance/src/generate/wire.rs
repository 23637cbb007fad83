//! `wire_<profile>.json`: SPEC.md §4 — decoding. For every message type: the honest
//! encoding, the other wire version, trailing bytes, and for every field a truncation, a
//! length prefix above the maximum, an empty field where one is not allowed, an invalid
//! phone number; the header's own errors; boundary values; the examples of §4.9.

use ee2e_spec::{Message, MessageType, Profile, Wire};

use super::samples;
use super::world::{S, World};
use super::{DecodeGroupBuilder, FileSpec, Intent};
use crate::error::VectorError;

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("wire_{}", profile.name());
    let w = World::new(profile, &stem)?;
    Ok(FileSpec {
        groups: vec![header_group(&w)?, fields_group(&w)?, boundary_group(&w)?],
        stem,
        algorithm: "EE2E wire format",
        description: "Decoding (SPEC.md §4.7) under this profile's wire version: a valid test decodes to the named \
                      message type and re-encodes to exactly the same bytes; an invalid test fails with the named \
                      DecodeError, naming errorField where §4.7 says the error names a field.",
        profile,
    })
}

/// How a field is encoded (SPEC.md §4.2).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A `u8`/`u16`/`u32` length prefix, a maximum and a minimum length.
    Prefixed { width: usize, max: usize, min: usize, phone: bool },
    /// Exactly this many bytes.
    Fixed(usize),
}

const PHONE: Kind = Kind::Prefixed { width: 1, max: 16, min: 0, phone: true };
const PUBLIC_KEY: Kind = Kind::Prefixed { width: 2, max: 1024, min: 0, phone: false };
const RSA: Kind = Kind::Prefixed { width: 2, max: 1024, min: 1, phone: false };
const POSSESSION: Kind = Kind::Prefixed { width: 2, max: 1024, min: 0, phone: false };
const AES: Kind = Kind::Prefixed { width: 4, max: (1 << 20) + 16, min: 0, phone: false };
const ACK_TEXT: Kind = Kind::Prefixed { width: 1, max: 16, min: 0, phone: false };

/// The fields of a message type, in order (SPEC.md §4.3, §4.4).
fn fields(kind: MessageType, wire: Wire) -> Vec<(&'static str, Kind)> {
    let entry = [
        ("DirectoryEntry.phone", PHONE),
        ("DirectoryEntry.public_key", PUBLIC_KEY),
        ("DirectoryEntry.signature", RSA),
    ];
    let transport = [("Transport.ciphertext", RSA), ("Transport.signature", RSA)];
    let sealed: Vec<(&str, Kind)> = match wire {
        Wire::Seed => {
            vec![("Sealed.iv", Kind::Fixed(16)), ("Sealed.ciphertext", AES), ("Sealed.mac", Kind::Fixed(32))]
        }
        Wire::Hardened => vec![
            ("Sealed.session", Kind::Fixed(32)),
            ("Sealed.seq", Kind::Fixed(8)),
            ("Sealed.iv", Kind::Fixed(16)),
            ("Sealed.ciphertext", AES),
            ("Sealed.mac", Kind::Fixed(32)),
        ],
    };
    let ack: Vec<(&str, Kind)> = match wire {
        Wire::Seed => vec![("Ack.text", ACK_TEXT), ("Ack.mac", Kind::Fixed(32))],
        Wire::Hardened => vec![
            ("Ack.session", Kind::Fixed(32)),
            ("Ack.seq", Kind::Fixed(8)),
            ("Ack.tag", Kind::Fixed(32)),
            ("Ack.mac", Kind::Fixed(32)),
        ],
    };
    let with = |first: (&'static str, Kind), rest: &[(&'static str, Kind)]| {
        let mut v = vec![first];
        v.extend_from_slice(rest);
        v
    };
    match kind {
        MessageType::RegisterRequest => vec![("RegisterRequest.phone", PHONE)],
        MessageType::RegisterSubmit => {
            let mut v = vec![("RegisterSubmit.phone", PHONE), ("RegisterSubmit.public_key", PUBLIC_KEY)];
            match wire {
                Wire::Seed => v.push(("RegistrationProof.tag", Kind::Fixed(32))),
                Wire::Hardened => {
                    v.push(("RegistrationProof.sealed_tag", RSA));
                    v.push(("RegistrationProof.possession", POSSESSION));
                }
            }
            v
        }
        MessageType::RegisterResult | MessageType::PeerKey => entry.to_vec(),
        MessageType::KeyRequest => vec![("KeyRequest.peer", PHONE)],
        MessageType::KeyTransport => with(("KeyTransport.to", PHONE), &transport),
        MessageType::KeyDelivery => [&entry[..], &transport[..]].concat(),
        MessageType::Data => with(("Data.to", PHONE), &sealed),
        MessageType::DataDelivery => with(("DataDelivery.from", PHONE), &sealed),
        MessageType::Ack => with(("Ack.to", PHONE), &ack),
        MessageType::AckDelivery => with(("AckDelivery.from", PHONE), &ack),
        MessageType::Connect => vec![("Connect.phone", PHONE)],
        MessageType::Disconnect => vec![("Disconnect.phone", PHONE)],
        MessageType::Error => vec![("Error.code", Kind::Fixed(1))],
    }
}

/// A field's place in an encoding: start of the field (its prefix, if any) and content length.
#[derive(Debug, Clone, Copy)]
struct Place {
    name: &'static str,
    kind: Kind,
    start: usize,
    len: usize,
}

fn layout(bytes: &[u8], kind: MessageType, wire: Wire) -> Vec<Place> {
    let mut at = 2;
    let mut out = Vec::new();
    for (name, field) in fields(kind, wire) {
        let (header, len) = match field {
            Kind::Fixed(n) => (0, n),
            Kind::Prefixed { width, .. } => {
                let len = bytes[at..at + width].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                (width, len)
            }
        };
        out.push(Place { name, kind: field, start: at, len });
        at += header + len;
    }
    out
}

fn with_prefix(bytes: &[u8], place: &Place, width: usize, value: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let be = (value as u64).to_be_bytes();
    out[place.start..place.start + width].copy_from_slice(&be[8 - width..]);
    out
}

pub(crate) fn article(kind: MessageType) -> &'static str {
    match kind {
        MessageType::Ack | MessageType::AckDelivery | MessageType::Error => "an",
        _ => "a",
    }
}

fn fields_group(w: &World) -> Result<crate::schema::TypedGroup, VectorError> {
    let wire = w.profile.wire();
    let other = if wire == Wire::Seed { 2 } else { 1 };
    let mut g = DecodeGroupBuilder::new(w, "every message type: honest, then each field broken in turn");
    for message in samples::all(w)? {
        let kind = message.kind();
        let name = format!("{kind:?}");
        let a = article(kind);
        let bytes = w.encode(&message)?.0;
        g.add(format!("{a} {name}"), &["Honest"], bytes.clone(), Intent::Valid)?;
        let mut v = bytes.clone();
        v[0] = other;
        g.add(
            format!("{a} {name} of the other wire version"),
            &["OtherProfile"],
            v,
            Intent::Invalid("WrongVersion"),
        )?;
        let mut v = bytes.clone();
        v.push(0);
        g.add(
            format!("{a} {name} with a trailing zero byte"),
            &["Extended"],
            v,
            Intent::Invalid("TrailingBytes"),
        )?;
        for place in layout(&bytes, kind, wire) {
            let field = place.name;
            g.add(
                format!("{a} {name} cut where {field} starts"),
                &["Truncated"],
                bytes[..place.start].to_vec(),
                Intent::Invalid("Truncated"),
            )?;
            match place.kind {
                Kind::Fixed(n) => {
                    if n > 1 {
                        g.add(
                            format!("{a} {name} cut in the middle of {field}"),
                            &["Truncated"],
                            bytes[..place.start + n / 2].to_vec(),
                            Intent::Invalid("Truncated"),
                        )?;
                    }
                }
                Kind::Prefixed { width, max, min, phone } => {
                    if width > 1 {
                        g.add(
                            format!("{a} {name} cut inside the length prefix of {field}"),
                            &["Truncated"],
                            bytes[..place.start + 1].to_vec(),
                            Intent::Invalid("Truncated"),
                        )?;
                    }
                    if place.len > 0 {
                        g.add(
                            format!("{a} {name} cut in the middle of {field}"),
                            &["Truncated"],
                            bytes[..place.start + width + place.len / 2].to_vec(),
                            Intent::Invalid("Truncated"),
                        )?;
                    }
                    g.add(
                        format!("{a} {name} whose {field} claims {} bytes, one above the maximum", max + 1),
                        &["Malformed", "Boundary"],
                        with_prefix(&bytes, &place, width, max + 1),
                        Intent::Invalid("FieldTooLong"),
                    )?;
                    if min > 0 {
                        g.add(
                            format!("{a} {name} whose {field} claims 0 bytes"),
                            &["Malformed"],
                            with_prefix(&bytes, &place, width, 0),
                            Intent::Invalid("EmptyField"),
                        )?;
                    }
                    if phone {
                        // '+1…' becomes '+0…': the first digit must not be 0.
                        let mut v = bytes.clone();
                        v[place.start + 2] = b'0';
                        g.add(
                            format!("{a} {name} whose {field} starts with the digit 0"),
                            &["Malformed"],
                            v,
                            Intent::Invalid("InvalidPhone"),
                        )?;
                    }
                }
            }
        }
    }
    Ok(g.finish())
}

fn header_group(w: &World) -> Result<crate::schema::TypedGroup, VectorError> {
    let v = w.profile.wire() as u8;
    let mut g = DecodeGroupBuilder::new(w, "the header (§4.1) and the error code (§4.5)");
    g.add("no bytes at all", &["Truncated"], vec![], Intent::Invalid("Truncated"))?;
    for version in [0u8, 3, 0x7f, 0xff] {
        g.add(
            format!("version byte {version:#04x}"),
            &["Malformed"],
            vec![version, 0x10, 0],
            Intent::Invalid("UnknownVersion"),
        )?;
    }
    g.add("the version byte alone", &["Truncated"], vec![v], Intent::Invalid("Truncated"))?;
    for kind in [0u8, 0x04, 0x14, 0x22, 0x32, 0x42, 0x7e, 0x80, 0xff] {
        g.add(
            format!("type byte {kind:#04x}"),
            &["Malformed"],
            vec![v, kind, 0],
            Intent::Invalid("UnknownType"),
        )?;
    }
    for code in 1u8..=9 {
        g.add(format!("Error with code {code}"), &["Honest"], vec![v, 0x7f, code], Intent::Valid)?;
    }
    for code in [0u8, 0x7f, 0xff] {
        g.add(
            format!("Error with code {code}"),
            &["Malformed"],
            vec![v, 0x7f, code],
            Intent::Invalid("UnknownErrorCode"),
        )?;
    }
    Ok(g.finish())
}

fn key_request(v: u8, phone: &[u8]) -> Vec<u8> {
    let mut out = vec![v, 0x10, phone.len() as u8];
    out.extend_from_slice(phone);
    out
}

fn boundary_group(w: &World) -> Result<crate::schema::TypedGroup, VectorError> {
    let wire = w.profile.wire();
    let v = wire as u8;
    let mut g = DecodeGroupBuilder::new(
        w,
        "phone numbers, lengths at their limits, and the examples of SPEC.md §4.9",
    );
    let phones: [(&[u8], Intent, &str); 9] = [
        (b"+12345678", Intent::Valid, "8 digits, the shortest"),
        (b"+123456789012345", Intent::Valid, "15 digits, the longest"),
        (b"+1234567", Intent::Invalid("InvalidPhone"), "7 digits"),
        (b"+1234567890123456", Intent::Invalid("FieldTooLong"), "16 digits (17 bytes)"),
        (b"15551234567", Intent::Invalid("InvalidPhone"), "no plus sign"),
        (b"+1555123456a", Intent::Invalid("InvalidPhone"), "a letter"),
        (b"+1555 123456", Intent::Invalid("InvalidPhone"), "a space"),
        (b"", Intent::Invalid("InvalidPhone"), "empty"),
        (b"+", Intent::Invalid("InvalidPhone"), "a plus sign alone"),
    ];
    for (phone, intent, what) in phones {
        let flags: &[&'static str] =
            if intent == Intent::Valid { &["Boundary"] } else { &["Malformed", "Boundary"] };
        g.add(format!("KeyRequest for a phone number with {what}"), flags, key_request(v, phone), intent)?;
    }
    let alice = w.phone("alice");
    let mut a = w.client("alice")?;
    w.initiate(&mut a, "bob", "boundary/kx")?;
    let sealed = w.seal(&mut a, "bob", b"x", "boundary/m")?;
    let empty = match sealed {
        ee2e_spec::Sealed::Seed { iv, mac, .. } => {
            ee2e_spec::Sealed::Seed { iv, ciphertext: super::world::public(b""), mac }
        }
        ee2e_spec::Sealed::Hardened { session, seq, iv, mac, .. } => {
            ee2e_spec::Sealed::Hardened { session, seq, iv, ciphertext: super::world::public(b""), mac }
        }
    };
    g.add(
        "DataDelivery with an empty ciphertext (the codec does not check AES lengths)",
        &["Boundary"],
        w.encode(&Message::<S>::DataDelivery { from: alice.clone(), sealed: empty })?.0,
        Intent::Valid,
    )?;
    g.add(
        "RegisterSubmit with an empty public key (the codec does not parse keys)",
        &["Boundary"],
        w.encode(&Message::<S>::RegisterSubmit {
            phone: alice.clone(),
            public_key: super::world::public(b""),
            proof: match wire {
                Wire::Seed => ee2e_spec::RegistrationProof::Seed { tag: super::world::public(&[0; 32]) },
                Wire::Hardened => ee2e_spec::RegistrationProof::Hardened {
                    sealed_tag: super::world::public(&[1]),
                    possession: super::world::public(b""),
                },
            },
        })?
        .0,
        Intent::Valid,
    )?;
    if wire == Wire::Seed {
        for (text, what) in [
            (&b""[..], "empty"),
            (&[b'A'; 16][..], "16 bytes, the longest"),
            (&b"ACK!"[..], "\"ACK!\" (the codec does not check the text)"),
        ] {
            let ack = ee2e_spec::Ack::Seed {
                text: super::world::public(text),
                mac: super::world::public(&[0x33; 32]),
            };
            g.add(
                format!("Ack with an ACK text that is {what}"),
                &["Boundary"],
                w.encode(&Message::<S>::Ack { to: alice.clone(), ack })?.0,
                Intent::Valid,
            )?;
        }
        // §4.9: Data to +4930123456, v1, IV 11×16, ciphertext ce×16, MAC 4d×32 (82 bytes).
        let mut data = vec![1, 0x20, 11];
        data.extend_from_slice(b"+4930123456");
        data.extend_from_slice(&[0x11; 16]);
        data.extend_from_slice(&[0, 0, 0, 16]);
        data.extend_from_slice(&[0xce; 16]);
        data.extend_from_slice(&[0x4d; 32]);
        g.add("SPEC.md §4.9: the v1 Data example (82 bytes)", &["SpecExample"], data, Intent::Valid)?;
        g.add(
            "SPEC.md §4.9: 01 7f 00",
            &["SpecExample", "Malformed"],
            vec![1, 0x7f, 0],
            Intent::Invalid("UnknownErrorCode"),
        )?;
        let mut long = vec![1, 0x10, 0x11];
        long.extend_from_slice(b"+1555123456789012");
        g.add(
            "SPEC.md §4.9: 01 10 11 … (a 17-byte phone)",
            &["SpecExample", "Malformed"],
            long,
            Intent::Invalid("FieldTooLong"),
        )?;
    } else {
        // §4.9: Ack to +4930123456, v2, session aa×32, seq 0x1234, tag dd×32, MAC 33×32.
        let mut ack = vec![2, 0x30, 11];
        ack.extend_from_slice(b"+4930123456");
        ack.extend_from_slice(&[0xaa; 32]);
        ack.extend_from_slice(&0x1234u64.to_be_bytes());
        ack.extend_from_slice(&[0xdd; 32]);
        ack.extend_from_slice(&[0x33; 32]);
        g.add("SPEC.md §4.9: the v2 Ack example", &["SpecExample"], ack, Intent::Valid)?;
        g.add(
            "SPEC.md §4.9: Error UnknownPeer, 02 7f 08",
            &["SpecExample"],
            vec![2, 0x7f, 8],
            Intent::Valid,
        )?;
        g.add(
            "SPEC.md §4.9: 02 10 0c 2b 31",
            &["SpecExample", "Truncated"],
            vec![2, 0x10, 0x0c, 0x2b, 0x31],
            Intent::Invalid("Truncated"),
        )?;
    }
    g.add(
        format!("SPEC.md §4.9: KeyRequest for +15551234567, v{v}"),
        &["SpecExample"],
        key_request(v, b"+15551234567"),
        Intent::Valid,
    )?;
    Ok(g.finish())
}
