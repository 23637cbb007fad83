//! Intermediate values: the byte strings SPEC.md's formulas name, computed with the
//! implementation's constructions (`ee2e_spec::hazmat`) and the primitives of the suite under
//! test. The tuple encoding is not a primitive: `ConcreteSuite` owns it for both suites.

use ee2e::{Bytes, BytesSuite, ConcreteSuite};
use ee2e_spec::hazmat::DirectionKeys;
use ee2e_spec::hazmat::labels;
use ee2e_spec::{Direction, Input, Suite};

/// The bytes an [`Input`] stands for: the value, or the tuple encoding of the parts.
pub(crate) fn input_bytes(input: Input<'_, Bytes>) -> Vec<u8> {
    match input {
        Input::Raw(value) => value.as_slice().to_vec(),
        Input::Tuple(parts) => ConcreteSuite::tuple(parts).as_slice().to_vec(),
    }
}

/// `T(parts…)` (SPEC.md §1).
pub(crate) fn tuple(parts: &[&[u8]]) -> Vec<u8> {
    let values: Vec<Bytes> = parts.iter().map(|p| Bytes::public(*p)).collect();
    let refs: Vec<&Bytes> = values.iter().collect();
    ConcreteSuite::tuple(&refs).as_slice().to_vec()
}

/// The hardened message keys of one direction, with their HKDF info strings.
#[derive(Debug, Clone)]
pub(crate) struct MessageKeys {
    pub enc_info: Vec<u8>,
    pub mac_info: Vec<u8>,
    pub enc: Vec<u8>,
    pub mac: Vec<u8>,
}

/// `enc_d` and `mac_d` by SPEC.md §7.1: `HKDF(K, salt = sid, info = T("EE2E-v2 message keys",
/// [d], "enc" | "mac"))`.
pub(crate) fn message_keys<S: BytesSuite>(key: &Bytes, sid: &Bytes, direction: Direction) -> MessageKeys {
    let d = [direction as u8];
    let enc_info = tuple(&[labels::MESSAGE_KEYS, &d, b"enc"]);
    let mac_info = tuple(&[labels::MESSAGE_KEYS, &d, b"mac"]);
    let enc = S::hkdf(key, sid, &Bytes::public(enc_info.as_slice())).as_slice().to_vec();
    let mac = S::hkdf(key, sid, &Bytes::public(mac_info.as_slice())).as_slice().to_vec();
    MessageKeys { enc_info, mac_info, enc, mac }
}

/// Checks that the session keys the implementation derives (`DirectionKeys::derive`) are the
/// ones the formula gives.
pub(crate) fn check_against_implementation<S: BytesSuite>(
    key: &Bytes,
    sid: &Bytes,
    direction: Direction,
    keys: &MessageKeys,
) -> Result<(), String> {
    let derived = DirectionKeys::<S>::derive(key, sid, direction)
        .map_err(|e| format!("the implementation cannot derive the message keys: {e}"))?;
    let enc = S::cipher_key(&Bytes::secret(keys.enc.as_slice()))
        .map_err(|e| format!("derived encryption key unusable: {e}"))?;
    let mac = S::mac_key(&Bytes::secret(keys.mac.as_slice()));
    if *derived.enc() == enc && *derived.mac() == mac {
        Ok(())
    } else {
        Err(format!("the implementation's {direction:?} keys differ from HKDF as SPEC.md §7.1 gives it"))
    }
}

/// The hardened message MAC input `T([2], sid, sender, recipient, u64(seq), IV, C)` (§7.2).
pub(crate) fn mac_input(
    sid: &[u8],
    sender: &[u8],
    recipient: &[u8],
    seq: u64,
    iv: &[u8],
    ciphertext: &[u8],
) -> Vec<u8> {
    tuple(&[&[2], sid, sender, recipient, &seq.to_be_bytes(), iv, ciphertext])
}

/// The hardened ACK MAC input `T("EE2E-v2 ack", sid, [d], u64(seq), tag)` (§8.1), `tag` the
/// acknowledged message's MAC.
pub(crate) fn ack_input(sid: &[u8], direction: Direction, seq: u64, tag: &[u8]) -> Vec<u8> {
    tuple(&[labels::ACK, sid, &[direction as u8], &seq.to_be_bytes(), tag])
}
