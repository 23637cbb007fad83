//! `AwsLcSuite` against `ConcreteSuite`: the same bytes from the same inputs and `Rng`
//! stream, each accepting what the other produces, and the same refusals. The external
//! known-answer files run through both suites in `conformance/tests/external.rs`.

use std::collections::HashSet;

use ee2e_spec::{CryptoError, Fresh, Input, SigScheme, Suite};

use super::{AwsLcSuite as A, PrivateKey, hkdf_sha256_into, pbkdf2_sha256_into};
use crate::suite::{ConcreteSuite as C, KeyError, seeded_rng};
use crate::{Bytes, fixtures};

fn public(bytes: &[u8]) -> Bytes {
    Bytes::public(bytes)
}

fn secret(bytes: &[u8]) -> Bytes {
    Bytes::secret(bytes)
}

/// The fixture `name` loaded into both suites.
fn pair(name: &str) -> (crate::PrivateKey, PrivateKey) {
    let rc = fixtures::named(name).expect("fixture");
    let aws = PrivateKey::from_pkcs8_pem(&rc.to_pkcs8_pem()).expect("AWS-LC loads the fixture");
    (rc, aws)
}

#[test]
fn private_keys_load_with_the_same_public_key_and_round_trip_as_pem() {
    for name in ["alice", "bob", "alice-3072"] {
        let (rc, aws) = pair(name);
        assert_eq!(aws.public_key_der(), rc.public_key_der(), "{name}");
        assert_eq!(aws.bits(), rc.bits());
        assert!(!A::public_key(&aws).is_secret());
        let again = PrivateKey::from_pkcs8_pem(&aws.to_pkcs8_pem()).expect("round trip");
        assert_eq!(again, aws);
        assert_eq!(*aws.to_pkcs8_pem(), *rc.to_pkcs8_pem());
    }
    let (_, alice) = pair("alice");
    let (_, bob) = pair("bob");
    let set: HashSet<PrivateKey> = [alice.clone(), alice, bob].into_iter().collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn private_key_loading_refuses_garbage_other_labels_and_weak_keys() {
    assert!(matches!(PrivateKey::from_pkcs8_pem(""), Err(KeyError::Parse(_))));
    assert!(matches!(
        PrivateKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        Err(KeyError::Parse(_))
    ));
    let pem = fixtures::named("alice").expect("alice").to_pkcs8_pem();
    let relabelled = pem.replace("PRIVATE KEY", "RSA PRIVATE KEY");
    assert!(matches!(PrivateKey::from_pkcs8_pem(&relabelled), Err(KeyError::Parse(_))));
    // AWS-LC's range starts at 2048 bits.
    let weak = fixtures::named("weak-1024").expect("weak").to_pkcs8_pem();
    assert!(matches!(PrivateKey::from_pkcs8_pem(&weak), Err(KeyError::Parse(_))));
    // A DER document with a trailing byte.
    let (_, alice) = pair("alice");
    let mut der = alice.pkcs8.to_vec();
    der.push(0);
    assert!(matches!(PrivateKey::from_pkcs8_der(&der), Err(KeyError::Parse(_))));
}

#[test]
fn private_key_debug_shows_no_secret_material() {
    let (_, key) = pair("alice");
    let text = format!("{key:?}");
    assert!(text.starts_with("AwsLcPrivateKey(2048 bits, spki-sha256 "), "{text}");
    let pem = key.to_pkcs8_pem();
    assert!(!text.contains(&pem[40..50]));
    let text = format!(
        "{:?} {:?}",
        A::mac_key(&secret(&[0xab; 32])),
        A::cipher_key(&secret(&[0xab; 32])).expect("key")
    );
    assert_eq!(text, "MacKey(32 bytes) CipherKey(AES-256)");
}

#[test]
fn hashes_macs_and_kdfs_match_rust_crypto() {
    let parts = [public(b"EE2E-v2 ack"), secret(b"k"), public(&[7; 70])];
    let refs: Vec<&Bytes> = parts.iter().collect();
    for input in [Input::Raw(&parts[2]), Input::Tuple(&refs)] {
        assert_eq!(A::sha256(input.clone()), C::sha256(input.clone()));
        for raw in [&b""[..], b"key", &[9; 100]] {
            let (ka, kc) = (A::mac_key(&secret(raw)), C::mac_key(&secret(raw)));
            let tag = A::hmac(&ka, input.clone());
            assert!(!tag.is_secret());
            assert_eq!(tag, C::hmac(&kc, input.clone()));
            assert!(A::hmac_verify(&ka, input.clone(), &tag));
        }
    }
    let (pw, salt) = (secret(b"123456"), public(b"salt"));
    for iterations in [0, 1, 2, 1000] {
        let out = A::pbkdf2(&pw, &salt, iterations);
        assert!(out.is_secret());
        assert_eq!(out, C::pbkdf2(&pw, &salt, iterations), "{iterations}");
    }
    assert_eq!(A::pbkdf2(&pw, &salt, 0), A::pbkdf2(&pw, &salt, 1));
    for (ikm, salt, info) in [(&b"ikm"[..], &b""[..], &b""[..]), (&[1; 32], &[2; 32], b"EE2E-v2 enc")] {
        let out = A::hkdf(&secret(ikm), &public(salt), &public(info));
        assert!(out.is_secret());
        assert_eq!(out, C::hkdf(&secret(ikm), &public(salt), &public(info)));
    }
    // The helpers at lengths other than the suite's 32 bytes.
    let (mut a, mut b) = ([0u8; 82], [0u8; 64]);
    hkdf_sha256_into(b"ikm", b"salt", b"info", &mut a);
    assert_eq!(&a[..32], A::hkdf(&secret(b"ikm"), &public(b"salt"), &public(b"info")).as_slice());
    pbkdf2_sha256_into(b"pw", b"salt", 3, &mut b);
    assert_eq!(&b[..32], A::pbkdf2(&secret(b"pw"), &public(b"salt"), 3).as_slice());
}

#[test]
fn hmac_verify_rejects_wrong_truncated_and_extended_tags() {
    let key = A::mac_key(&secret(b"key"));
    let msg = public(b"message");
    let tag = A::hmac(&key, Input::Raw(&msg));
    let mut flipped = tag.as_slice().to_vec();
    flipped[31] ^= 1;
    assert!(!A::hmac_verify(&key, Input::Raw(&msg), &public(&flipped)));
    assert!(!A::hmac_verify(&key, Input::Raw(&msg), &public(&tag.as_slice()[..16])));
    let mut longer = tag.as_slice().to_vec();
    longer.push(0);
    assert!(!A::hmac_verify(&key, Input::Raw(&msg), &public(&longer)));
    assert!(!A::hmac_verify(&key, Input::Raw(&msg), &public(b"")));
    assert!(!A::hmac_verify(&key, Input::Raw(&public(b"messagf")), &tag));
    assert!(!A::hmac_verify(&A::mac_key(&secret(b"kez")), Input::Raw(&msg), &tag));
    // The same bytes as a one-part tuple are another input.
    assert!(!A::hmac_verify(&key, Input::Tuple(&[&msg]), &tag));
}

#[test]
fn random_draws_the_same_values_from_the_same_stream() {
    let (mut a, mut c) = (seeded_rng([5; 32]), seeded_rng([5; 32]));
    for purpose in [Fresh::Otp, Fresh::SessionKey, Fresh::Iv, Fresh::Otp] {
        let value = A::random(&mut a, purpose);
        assert_eq!(value, C::random(&mut c, purpose));
        assert_eq!(value.is_secret(), purpose != Fresh::Iv);
    }
}

#[test]
fn aes_cbc_matches_rust_crypto_at_every_length_up_to_1040_and_at_64_kib() {
    let raw = secret(&[0x3c; 32]);
    let (ka, kc) = (A::cipher_key(&raw).expect("key"), C::cipher_key(&raw).expect("key"));
    assert_eq!(ka, A::cipher_key(&raw).expect("key"));
    assert_ne!(ka, A::cipher_key(&secret(&[0x3d; 32])).expect("key"));
    let iv = public(&[0xa5; 16]);
    let data: Vec<u8> = (0..65536u32).map(|i| (i * 7 + 3) as u8).collect();
    for len in (0..=1040).chain([65535, 65536]) {
        let plaintext = secret(&data[..len]);
        let sealed = A::encrypt(&ka, &iv, &plaintext).expect("encrypt");
        assert!(!sealed.is_secret());
        assert_eq!(sealed, C::encrypt(&kc, &iv, &plaintext).expect("encrypt"), "length {len}");
        let opened = A::decrypt(&ka, &iv, &sealed).expect("decrypt");
        assert!(opened.is_secret());
        assert_eq!(opened, plaintext, "length {len}");
    }
}

#[test]
fn aes_cbc_refuses_bad_keys_ivs_lengths_and_padding() {
    for len in [0, 16, 24, 31, 33] {
        assert_eq!(A::cipher_key(&secret(&vec![1; len])), Err(CryptoError::InvalidLength), "{len}");
    }
    let key = A::cipher_key(&secret(&[5; 32])).expect("key");
    let iv = public(&[9; 16]);
    for len in [0, 15, 17] {
        assert_eq!(A::encrypt(&key, &public(&vec![0; len]), &secret(b"x")), Err(CryptoError::InvalidLength));
    }
    let ciphertext = A::encrypt(&key, &iv, &secret(b"attack at dawn")).expect("encrypt");
    assert_eq!(A::decrypt(&key, &public(&[9; 15]), &ciphertext), Err(CryptoError::Decrypt));
    for len in [0, 15, 17] {
        assert_eq!(A::decrypt(&key, &iv, &public(&vec![0; len])), Err(CryptoError::Decrypt));
    }
    let other = A::cipher_key(&secret(&[6; 32])).expect("key");
    assert_eq!(A::decrypt(&other, &iv, &ciphertext), Err(CryptoError::Decrypt));
    // A changed last IV byte flips the padding byte 0x02 of a 14-byte message to 0x03.
    let mut iv_bytes = iv.as_slice().to_vec();
    iv_bytes[15] ^= 0x01;
    assert_eq!(A::decrypt(&key, &public(&iv_bytes), &ciphertext), Err(CryptoError::Decrypt));
    // A last block that decrypts to 0x00 padding (raw CBC of a zero block, from RustCrypto).
    let raw_zero_block = {
        let mut block = vec![0u8; 16];
        crate::suite::hazmat::cbc_encrypt_blocks(
            &C::cipher_key(&secret(&[5; 32])).expect("key"),
            &[9; 16],
            &mut block,
        )
        .expect("one block");
        block
    };
    assert_eq!(A::decrypt(&key, &iv, &public(&raw_zero_block)), Err(CryptoError::Decrypt));
}

#[test]
fn check_public_key_applies_the_same_policy() {
    for name in ["alice", "alice-3072"] {
        let (rc, _) = pair(name);
        assert_eq!(A::check_public_key(rc.public_key_der()), Ok(()));
    }
    let weak = fixtures::named("weak-1024").expect("weak");
    for bad in [public(b""), public(b"not a key"), weak.public_key_der().clone()] {
        assert_eq!(A::check_public_key(&bad), Err(CryptoError::InvalidKey));
        assert_eq!(C::check_public_key(&bad), Err(CryptoError::InvalidKey));
    }
    let mut der = pair("alice").0.public_key_der().as_slice().to_vec();
    der.push(0);
    assert_eq!(A::check_public_key(&public(&der)), Err(CryptoError::InvalidKey));
    der.truncate(der.len() - 2);
    assert_eq!(A::check_public_key(&public(&der)), Err(CryptoError::InvalidKey));
}

#[test]
fn check_public_key_refuses_exponents_other_than_65537_and_a_non_canonical_length() {
    use rsa::pkcs8::EncodePublicKey;
    use rsa::traits::PublicKeyParts;
    let rc = fixtures::named("alice").expect("alice");
    let n = rsa::pkcs8::DecodePublicKey::from_public_key_der(rc.public_key_der().as_slice())
        .map(|k: rsa::PublicKey| k.n().as_ref().clone())
        .expect("parses");
    for e in [3u64, 17, 65539] {
        let key = rsa::PublicKey::new(n.clone(), rsa::BoxedUint::from(e)).expect("valid key");
        let der = key.to_public_key_der().expect("encodes");
        assert_eq!(A::check_public_key(&public(der.as_bytes())), Err(CryptoError::InvalidKey), "e = {e}");
    }
    // BER: the outer SEQUENCE length in the long form with one more byte (0x82 → 0x83 00).
    let der = rc.public_key_der().as_slice();
    assert_eq!(der[1], 0x82);
    let mut ber = vec![0x30, 0x83, 0x00];
    ber.extend_from_slice(&der[2..]);
    assert_eq!(A::check_public_key(&public(&ber)), Err(CryptoError::InvalidKey));
    assert_eq!(C::check_public_key(&public(&ber)), Err(CryptoError::InvalidKey));
}

#[test]
fn oaep_matches_rust_crypto_byte_for_byte_and_each_decrypts_the_other() {
    let (rc, aws) = pair("bob");
    let pk = A::public_key(&aws);
    for (seed, label) in [([1; 32], public(b"")), ([2; 32], public(b"EE2E-v2 key transport"))] {
        let key = A::random(&mut seeded_rng([9; 32]), Fresh::SessionKey);
        let ours = A::pke_encrypt(&pk, &label, &key, &mut seeded_rng(seed)).expect("encrypt");
        assert!(!ours.is_secret());
        assert_eq!(ours, C::pke_encrypt(&pk, &label, &key, &mut seeded_rng(seed)).expect("encrypt"));
        let opened = A::pke_decrypt(&aws, &label, &ours, &mut seeded_rng([3; 32])).expect("decrypt");
        assert!(opened.is_secret());
        assert_eq!(opened, key);
        assert_eq!(C::pke_decrypt(&rc, &label, &ours, &mut seeded_rng([3; 32])), Ok(key));
    }
    let (_, big) = pair("alice-3072");
    let ct = A::pke_encrypt(&A::public_key(&big), &public(b"l"), &secret(b"k"), &mut seeded_rng([3; 32]))
        .expect("encrypt");
    assert_eq!(ct.len(), 384);
    assert_eq!(A::pke_decrypt(&big, &public(b"l"), &ct, &mut seeded_rng([3; 32])), Ok(secret(b"k")));
}

#[test]
fn pke_decrypt_leaves_the_callers_rng_where_rust_crypto_leaves_it() {
    use rand_core::Rng as _;
    let (rc, aws) = pair("bob");
    let label = public(b"EE2E-v2 key transport");
    let key = A::random(&mut seeded_rng([9; 32]), Fresh::SessionKey);
    let ct = A::pke_encrypt(&A::public_key(&aws), &label, &key, &mut seeded_rng([1; 32])).expect("encrypt");
    let (mut theirs, mut ours) = (seeded_rng([5; 32]), seeded_rng([5; 32]));
    assert_eq!(C::pke_decrypt(&rc, &label, &ct, &mut theirs), Ok(key.clone()));
    assert_eq!(A::pke_decrypt(&aws, &label, &ct, &mut ours), Ok(key));
    assert_eq!(ours.next_u64(), theirs.next_u64());
}

#[test]
fn oaep_draws_its_seed_from_the_callers_rng() {
    let (_, bob) = pair("bob");
    let (pk, label, pt) = (A::public_key(&bob), public(b"l"), secret(b"k"));
    let mut rng = seeded_rng([4; 32]);
    let a = A::pke_encrypt(&pk, &label, &pt, &mut rng).expect("encrypt");
    let b = A::pke_encrypt(&pk, &label, &pt, &mut rng).expect("encrypt");
    assert_ne!(a, b);
    assert_eq!(a, A::pke_encrypt(&pk, &label, &pt, &mut seeded_rng([4; 32])).expect("encrypt"));
}

#[test]
fn oaep_refuses_wrong_labels_keys_tampering_and_long_plaintexts() {
    let (_, bob) = pair("bob");
    let (_, alice) = pair("alice");
    let mut rng = seeded_rng([6; 32]);
    let label = public(b"to bob");
    let ct = A::pke_encrypt(&A::public_key(&bob), &label, &secret(b"k"), &mut rng).expect("encrypt");
    assert_eq!(
        A::pke_decrypt(&bob, &public(b"to eve"), &ct, &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(A::pke_decrypt(&alice, &label, &ct, &mut seeded_rng([3; 32])), Err(CryptoError::Decrypt));
    let mut tampered = ct.as_slice().to_vec();
    tampered[100] ^= 0x40;
    assert_eq!(
        A::pke_decrypt(&bob, &label, &public(&tampered), &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        A::pke_decrypt(&bob, &label, &public(&ct.as_slice()[1..]), &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        A::pke_decrypt(&bob, &label, &public(b""), &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    let pk = A::public_key(&bob);
    assert!(A::pke_encrypt(&pk, &public(b""), &secret(&[1; 190]), &mut rng).is_ok());
    assert_eq!(
        A::pke_encrypt(&pk, &public(b""), &secret(&[1; 191]), &mut rng),
        Err(CryptoError::InvalidLength)
    );
    assert_eq!(
        A::pke_encrypt(&public(b"junk"), &public(b""), &secret(b"k"), &mut rng),
        Err(CryptoError::InvalidKey)
    );
    let weak = fixtures::named("weak-1024").expect("weak");
    assert_eq!(
        A::pke_encrypt(weak.public_key_der(), &public(b""), &secret(b"k"), &mut rng),
        Err(CryptoError::InvalidKey)
    );
}

#[test]
fn signatures_match_rust_crypto_byte_for_byte_and_verify_across_suites() {
    for name in ["alice", "alice-3072"] {
        let (rc, aws) = pair(name);
        let pk = A::public_key(&aws);
        let parts = [public(b"EE2E-v2 possession"), public(b"+15550000001"), pk.clone()];
        let refs: Vec<&Bytes> = parts.iter().collect();
        for scheme in [SigScheme::Pkcs1v15Sha256, SigScheme::PssSha256] {
            for input in [Input::Raw(&pk), Input::Tuple(&refs)] {
                let ours = A::sign(&aws, scheme, input.clone(), &mut seeded_rng([1; 32])).expect("sign");
                assert!(!ours.is_secret());
                assert_eq!(ours.len(), rc.bits() / 8);
                let theirs = C::sign(&rc, scheme, input.clone(), &mut seeded_rng([1; 32])).expect("sign");
                assert_eq!(ours, theirs, "{name} {scheme:?}");
                assert_eq!(A::verify(&pk, scheme, input.clone(), &ours), Ok(()));
                assert_eq!(C::verify(&pk, scheme, input, &ours), Ok(()));
            }
        }
    }
}

#[test]
fn pss_salts_come_from_the_callers_rng() {
    let (_, key) = pair("alice");
    let msg = public(b"directory entry");
    let sign =
        |seed| A::sign(&key, SigScheme::PssSha256, Input::Raw(&msg), &mut seeded_rng(seed)).expect("sign");
    assert_eq!(sign([1; 32]), sign([1; 32]));
    assert_ne!(sign([1; 32]), sign([2; 32]));
    let pkcs1 = |seed| {
        A::sign(&key, SigScheme::Pkcs1v15Sha256, Input::Raw(&msg), &mut seeded_rng(seed)).expect("sign")
    };
    assert_eq!(pkcs1([1; 32]), pkcs1([2; 32]));
}

#[test]
fn verify_rejects_tampered_message_signature_wrong_key_and_other_scheme() {
    let (_, alice) = pair("alice");
    let (_, bob) = pair("bob");
    let mut rng = seeded_rng([8; 32]);
    let msg = public(b"+15550000002 is bob");
    let pk = A::public_key(&alice);
    for (scheme, other) in
        [(SigScheme::Pkcs1v15Sha256, SigScheme::PssSha256), (SigScheme::PssSha256, SigScheme::Pkcs1v15Sha256)]
    {
        let sig = A::sign(&alice, scheme, Input::Raw(&msg), &mut rng).expect("sign");
        let bad = Err(CryptoError::BadSignature);
        assert_eq!(A::verify(&pk, scheme, Input::Raw(&public(b"+15550000666 is bob")), &sig), bad);
        let mut tampered = sig.as_slice().to_vec();
        tampered[17] ^= 0x01;
        assert_eq!(A::verify(&pk, scheme, Input::Raw(&msg), &public(&tampered)), bad);
        assert_eq!(A::verify(&pk, scheme, Input::Raw(&msg), &public(&sig.as_slice()[1..])), bad);
        assert_eq!(A::verify(&pk, scheme, Input::Raw(&msg), &public(b"")), bad);
        assert_eq!(A::verify(&A::public_key(&bob), scheme, Input::Raw(&msg), &sig), bad);
        assert_eq!(A::verify(&pk, other, Input::Raw(&msg), &sig), bad);
        assert_eq!(A::verify(&pk, scheme, Input::Tuple(&[&msg]), &sig), bad);
        assert_eq!(A::verify(&public(b"junk"), scheme, Input::Raw(&msg), &sig), Err(CryptoError::InvalidKey));
    }
}

#[test]
fn pss_with_a_20_byte_salt_does_not_verify() {
    // A PSS signature with another salt length: encoded here with a 20-byte salt.
    let (_, key) = pair("alice");
    let msg = public(b"m");
    let hash = super::sha256_of(Input::Raw(&msg));
    let (k, bits) = key.parts.raw.size_and_bits();
    let em = super::padding::pss_encode(&hash, &[7; 20], bits, k).expect("encodes");
    let sig = public(&key.parts.raw.raw_sign(&em).expect("signs"));
    let pk = A::public_key(&key);
    assert_eq!(A::verify(&pk, SigScheme::PssSha256, Input::Raw(&msg), &sig), Err(CryptoError::BadSignature));
    assert_eq!(C::verify(&pk, SigScheme::PssSha256, Input::Raw(&msg), &sig), Err(CryptoError::BadSignature));
}
