//! The concrete suite's unit tests: values and randomness, hashes and KDFs against their RFCs,
//! AES-256-CBC against SP 800-38A and the `cbc` crate, RSA keys, OAEP and signatures.

use std::collections::HashSet;
use std::path::PathBuf;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt};
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;

use super::hazmat::{cbc_decrypt_blocks, cbc_encrypt_blocks};
use super::rng::{OTP_LIMIT, OTP_RANGE};
use super::*;
use crate::fixtures;

type S = ConcreteSuite;

fn rng() -> Rng {
    seeded_rng([7; 32])
}

fn public(bytes: &[u8]) -> Bytes {
    Bytes::public(bytes)
}

fn secret(bytes: &[u8]) -> Bytes {
    Bytes::secret(bytes)
}

fn alice() -> PrivateKey {
    fixtures::named("alice").expect("alice fixture")
}

fn bob() -> PrivateKey {
    fixtures::named("bob").expect("bob fixture")
}

/// An RFC vector file from the repository's vendored copy (`conformance/external/rfc/`).
fn vectors(name: &str) -> serde_json::Value {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "..", "conformance", "external", "rfc", name].iter().collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn hex_field(test: &serde_json::Value, field: &str) -> Vec<u8> {
    hex::decode(test[field].as_str().unwrap_or_else(|| panic!("field {field}"))).expect("hex")
}

fn tests_of(file: &serde_json::Value) -> &Vec<serde_json::Value> {
    file["tests"].as_array().expect("tests array")
}

// ---- values, tuple encoding, randomness ----

#[test]
fn constant_is_public_and_exact() {
    let c = S::constant(b"EE2E");
    assert_eq!(c.as_slice(), b"EE2E");
    assert!(!c.is_secret());
}

#[test]
fn tuple_encoding_bytes_are_exact() {
    let t = S::tuple(&[&public(b"ab"), &public(b""), &public(&[0xff; 3])]);
    assert_eq!(t.as_slice(), &[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff][..]);
    assert!(!t.is_secret());
    assert_eq!(S::tuple(&[]).as_slice(), b"");
    let long = public(&[1; 300]);
    assert_eq!(&S::tuple(&[&long]).as_slice()[..4], &[0, 0, 1, 44]);
}

#[test]
fn tuple_is_secret_if_any_part_is_secret() {
    assert!(S::tuple(&[&public(b"a"), &secret(b"k")]).is_secret());
    assert!(!S::tuple(&[&public(b"a"), &public(b"b")]).is_secret());
}

#[test]
fn otp_is_six_ascii_digits_over_many_draws() {
    let mut rng = rng();
    let mut seen_first_digits = HashSet::new();
    for _ in 0..20_000 {
        let otp = S::random(&mut rng, Fresh::Otp);
        assert!(otp.is_secret());
        assert_eq!(otp.len(), 6);
        assert!(otp.as_slice().iter().all(u8::is_ascii_digit), "{}", otp.to_hex());
        seen_first_digits.insert(otp.as_slice()[0]);
    }
    // Leading zeros are kept: every digit shows up in the first position.
    assert_eq!(seen_first_digits.len(), 10);
}

#[test]
fn otp_rejection_limit_is_a_multiple_of_the_range() {
    assert_eq!(OTP_LIMIT % OTP_RANGE, 0);
    assert!(u64::from(OTP_LIMIT) + u64::from(OTP_RANGE) > u64::from(u32::MAX));
}

#[test]
fn random_values_have_the_right_sizes_and_secrecy() {
    let mut rng = rng();
    let key = S::random(&mut rng, Fresh::SessionKey);
    assert_eq!((key.len(), key.is_secret()), (32, true));
    let iv = S::random(&mut rng, Fresh::Iv);
    assert_eq!((iv.len(), iv.is_secret()), (16, false));
    assert_ne!(S::random(&mut rng, Fresh::SessionKey), key);
}

#[test]
fn seeded_rng_is_deterministic_and_os_rng_is_not() {
    let a = S::random(&mut seeded_rng([1; 32]), Fresh::SessionKey);
    let b = S::random(&mut seeded_rng([1; 32]), Fresh::SessionKey);
    let c = S::random(&mut seeded_rng([2; 32]), Fresh::SessionKey);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let d = S::random(&mut os_rng(), Fresh::SessionKey);
    let e = S::random(&mut os_rng(), Fresh::SessionKey);
    assert_ne!(d, e);
}

// ---- hashes, MACs, KDFs ----

#[test]
fn sha256_of_tuple_equals_sha256_of_its_encoding() {
    let parts = [public(b"EE2E-v2 session id"), public(&[9; 70])];
    let refs: Vec<&Bytes> = parts.iter().collect();
    let encoded = S::tuple(&refs);
    assert_eq!(S::sha256(Input::Tuple(&refs)), S::sha256(Input::Raw(&encoded)));
    assert!(!S::sha256(Input::Raw(&encoded)).is_secret());
    // FIPS 180-2 "abc".
    assert_eq!(
        S::sha256(Input::Raw(&public(b"abc"))).to_hex(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn hmac_of_tuple_equals_hmac_of_its_encoding() {
    let key = S::mac_key(&secret(&[3; 32]));
    let parts = [public(b"EE2E-v2 ack"), public(&[1]), secret(b"x"), public(&[0; 8])];
    let refs: Vec<&Bytes> = parts.iter().collect();
    let encoded = S::tuple(&refs);
    let tag = S::hmac(&key, Input::Tuple(&refs));
    assert_eq!(tag, S::hmac(&key, Input::Raw(&encoded)));
    assert!(!tag.is_secret());
    assert!(S::hmac_verify(&key, Input::Tuple(&refs), &tag));
    assert!(S::hmac_verify(&key, Input::Raw(&encoded), &tag));
}

#[test]
fn hmac_verify_rejects_wrong_truncated_and_extended_tags() {
    let key = S::mac_key(&secret(b"key"));
    let msg = public(b"message");
    let tag = S::hmac(&key, Input::Raw(&msg));
    assert!(S::hmac_verify(&key, Input::Raw(&msg), &tag));
    let mut flipped = tag.as_slice().to_vec();
    flipped[31] ^= 1;
    assert!(!S::hmac_verify(&key, Input::Raw(&msg), &public(&flipped)));
    assert!(!S::hmac_verify(&key, Input::Raw(&msg), &public(&tag.as_slice()[..16])));
    let mut longer = tag.as_slice().to_vec();
    longer.push(0);
    assert!(!S::hmac_verify(&key, Input::Raw(&msg), &public(&longer)));
    assert!(!S::hmac_verify(&key, Input::Raw(&public(b"messagf")), &tag));
    assert!(!S::hmac_verify(&S::mac_key(&secret(b"kez")), Input::Raw(&msg), &tag));
}

#[test]
fn hmac_matches_rfc4231() {
    let file = vectors("rfc4231_hmac_sha256.json");
    for test in tests_of(&file) {
        let key = S::mac_key(&secret(&hex_field(test, "key")));
        let data = public(&hex_field(test, "data"));
        let expected = hex_field(test, "mac");
        let tag = S::hmac(&key, Input::Raw(&data));
        // Test case 5 gives the leftmost 128 bits only.
        assert_eq!(&tag.as_slice()[..expected.len()], &expected[..], "RFC 4231 case {}", test["id"]);
        if expected.len() == 32 {
            assert!(S::hmac_verify(&key, Input::Raw(&data), &public(&expected)));
        }
    }
    assert_eq!(tests_of(&file).len(), 7);
}

#[test]
fn pbkdf2_matches_rfc7914() {
    // Both vectors (1 and 80 000 iterations) have dkLen 64: the full output is checked with
    // the internal helper, and the suite's 32-byte output against its first 32 bytes.
    let file = vectors("rfc7914_pbkdf2_hmac_sha256.json");
    for test in tests_of(&file) {
        let (password, salt) = (hex_field(test, "password"), hex_field(test, "salt"));
        let iterations = u32::try_from(test["iterations"].as_u64().expect("iterations")).expect("u32");
        let expected = hex_field(test, "dk");
        assert_eq!(expected.len() as u64, test["dklen"].as_u64().expect("dklen"));
        let mut full = vec![0u8; expected.len()];
        pbkdf2_sha256_into(&password, &salt, iterations, &mut full);
        assert_eq!(full, expected, "RFC 7914 case {}", test["id"]);
        let out = S::pbkdf2(&secret(&password), &public(&salt), iterations);
        assert_eq!(out.as_slice(), &expected[..32]);
        assert!(out.is_secret());
    }
}

#[test]
fn hkdf_matches_rfc5869() {
    // All three vectors (42- and 82-byte outputs) in full with the internal helper; the
    // suite's 32-byte output is the first 32 bytes of the OKM.
    let file = vectors("rfc5869_hkdf_sha256.json");
    for test in tests_of(&file) {
        let (ikm, salt, info) = (hex_field(test, "ikm"), hex_field(test, "salt"), hex_field(test, "info"));
        let expected = hex_field(test, "okm");
        let mut full = vec![0u8; expected.len()];
        hkdf_sha256_into(&ikm, &salt, &info, &mut full);
        assert_eq!(full, expected, "RFC 5869 case {}", test["id"]);
        let out = S::hkdf(&secret(&ikm), &public(&salt), &public(&info));
        assert_eq!(out.as_slice(), &expected[..32]);
        assert!(out.is_secret());
    }
    assert_eq!(tests_of(&file).len(), 3);
}

#[test]
fn pbkdf2_with_zero_iterations_is_computed_as_one() {
    let (pw, salt) = (secret(b"123456"), public(b"salt"));
    assert_eq!(S::pbkdf2(&pw, &salt, 0), S::pbkdf2(&pw, &salt, 1));
    assert_ne!(S::pbkdf2(&pw, &salt, 1), S::pbkdf2(&pw, &salt, 2));
}

#[test]
fn ct_eq_compares_contents_and_lengths() {
    assert!(S::ct_eq(&secret(b"abc"), &public(b"abc")));
    assert!(!S::ct_eq(&secret(b"abc"), &secret(b"abd")));
    assert!(!S::ct_eq(&secret(b"abc"), &secret(b"abcd")));
    assert!(S::ct_eq(&secret(b""), &secret(b"")));
}

#[test]
fn mac_and_cipher_keys_compare_by_key_and_print_no_key_bytes() {
    let raw = secret(&[0xab; 32]);
    assert_eq!(S::mac_key(&raw), S::mac_key(&raw));
    assert_ne!(S::mac_key(&raw), S::mac_key(&secret(&[0xab; 31])));
    let cipher = S::cipher_key(&raw).expect("32-byte key");
    assert_eq!(cipher, S::cipher_key(&raw).expect("32-byte key"));
    assert_ne!(cipher, S::cipher_key(&secret(&[0xac; 32])).expect("32-byte key"));
    let text = format!("{:?} {:?}", S::mac_key(&raw), cipher);
    assert!(!text.contains("ab"), "{text}");
    assert_eq!(text, "MacKey(32 bytes) CipherKey(AES-256)");
}

// ---- AES-256-CBC ----

#[test]
fn aes_cbc_round_trips_every_length_up_to_three_blocks() {
    let key = S::cipher_key(&secret(&[5; 32])).expect("key");
    let mut rng = rng();
    for len in 0..=48 {
        let iv = S::random(&mut rng, Fresh::Iv);
        let plaintext = secret(&vec![len as u8; len]);
        let ciphertext = S::encrypt(&key, &iv, &plaintext).expect("encrypt");
        assert!(!ciphertext.is_secret());
        assert_eq!(ciphertext.len(), (len / 16 + 1) * 16);
        let opened = S::decrypt(&key, &iv, &ciphertext).expect("decrypt");
        assert!(opened.is_secret());
        assert_eq!(opened, plaintext);
    }
}

#[test]
fn aes_cbc_matches_sp800_38a() {
    use cbc::cipher::KeyIvInit;
    use cbc::cipher::block_padding::NoPadding;
    let file = vectors("sp800_38a_aes256_cbc.json");
    for test in tests_of(&file) {
        let (key, iv) = (hex_field(test, "key"), hex_field(test, "iv"));
        let (pt, ct) = (hex_field(test, "plaintext"), hex_field(test, "ciphertext"));
        // Raw CBC, as in the vectors.
        let raw_ct = cbc::Encryptor::<Aes256>::new_from_slices(&key, &iv)
            .expect("sizes")
            .encrypt_padded_vec::<NoPadding>(&pt);
        assert_eq!(raw_ct, ct, "SP 800-38A {}", test["id"]);
        let raw_pt = cbc::Decryptor::<Aes256>::new_from_slices(&key, &iv)
            .expect("sizes")
            .decrypt_padded_vec::<NoPadding>(&ct)
            .expect("no padding");
        assert_eq!(raw_pt, pt);
        // The suite: the same blocks, then one full PKCS#7 padding block.
        let suite_key = S::cipher_key(&secret(&key)).expect("key");
        let sealed = S::encrypt(&suite_key, &public(&iv), &secret(&pt)).expect("encrypt");
        assert_eq!(sealed.len(), ct.len() + 16);
        assert_eq!(&sealed.as_slice()[..ct.len()], &ct[..]);
        assert_eq!(S::decrypt(&suite_key, &public(&iv), &sealed).expect("decrypt").as_slice(), &pt[..]);
    }
}

#[test]
fn encrypt_matches_the_cbc_crate_with_pkcs7_at_every_length_up_to_1040() {
    use cbc::cipher::KeyIvInit;
    let (raw_key, raw_iv) = ([0x3c; 32], [0xa5; 16]);
    let key = S::cipher_key(&secret(&raw_key)).expect("key");
    let message: Vec<u8> = (0..1040u32).map(|i| (i * 7 + 3) as u8).collect();
    for len in 0..=message.len() {
        let expected = cbc::Encryptor::<Aes256>::new_from_slices(&raw_key, &raw_iv)
            .expect("sizes")
            .encrypt_padded_vec::<Pkcs7>(&message[..len]);
        let sealed = S::encrypt(&key, &public(&raw_iv), &secret(&message[..len])).expect("encrypt");
        assert_eq!(sealed.as_slice(), &expected[..], "length {len}");
    }
}

#[test]
fn cbc_encrypt_blocks_rejects_partial_blocks_and_matches_encrypt() {
    let key = S::cipher_key(&secret(&[5; 32])).expect("key");
    for len in [1, 15, 17, 33] {
        assert_eq!(cbc_encrypt_blocks(&key, &[0; 16], &mut vec![0; len]), Err(CryptoError::InvalidLength));
    }
    let mut buffer = vec![0x61; 32];
    cbc_encrypt_blocks(&key, &[9; 16], &mut buffer).expect("whole blocks");
    let sealed = S::encrypt(&key, &public(&[9; 16]), &secret(&[0x61; 32])).expect("encrypt");
    assert_eq!(&sealed.as_slice()[..32], &buffer[..]);
    cbc_encrypt_blocks(&key, &[9; 16], &mut []).expect("no blocks is fine");
}

#[test]
fn decrypt_matches_the_cbc_crate_at_every_length_up_to_1040_and_at_64_kib() {
    use cbc::cipher::KeyIvInit;
    use cbc::cipher::block_padding::NoPadding;
    let (raw_key, raw_iv) = ([0x3c; 32], [0xa5; 16]);
    let key = S::cipher_key(&secret(&raw_key)).expect("key");
    let data: Vec<u8> = (0..65536u32).map(|i| (i * 7 + 3) as u8).collect();
    // Whole blocks of every count up to 65 (one more than a VAES-512 batch), then 64 KiB.
    for len in (16..=1040).step_by(16).chain([65536]) {
        let raw = cbc::Decryptor::<Aes256>::new_from_slices(&raw_key, &raw_iv)
            .expect("sizes")
            .decrypt_padded_vec::<NoPadding>(&data[..len])
            .expect("no padding");
        let mut ours = vec![0u8; len];
        cbc_decrypt_blocks(&key, &raw_iv, &data[..len], &mut ours).expect("whole blocks");
        assert_eq!(ours, raw, "length {len}");
    }
    let sealed = S::encrypt(&key, &public(&raw_iv), &secret(&data)).expect("encrypt");
    assert_eq!(S::decrypt(&key, &public(&raw_iv), &sealed).expect("decrypt").as_slice(), &data[..]);
    let mut out = vec![0u8; 32];
    assert_eq!(cbc_decrypt_blocks(&key, &raw_iv, &data[..33], &mut out), Err(CryptoError::InvalidLength));
    assert_eq!(cbc_decrypt_blocks(&key, &raw_iv, &data[..48], &mut out), Err(CryptoError::InvalidLength));
}

#[test]
fn cipher_key_rejects_wrong_lengths() {
    for len in [0, 16, 24, 31, 33, 64] {
        assert_eq!(S::cipher_key(&secret(&vec![1; len])), Err(CryptoError::InvalidLength), "{len}");
    }
}

#[test]
fn encrypt_rejects_wrong_iv_length() {
    let key = S::cipher_key(&secret(&[5; 32])).expect("key");
    for len in [0, 15, 17, 32] {
        assert_eq!(S::encrypt(&key, &public(&vec![0; len]), &secret(b"x")), Err(CryptoError::InvalidLength));
    }
}

#[test]
fn decrypt_rejects_bad_padding_length_and_iv() {
    let key = S::cipher_key(&secret(&[5; 32])).expect("key");
    let iv = public(&[9; 16]);
    let ciphertext = S::encrypt(&key, &iv, &secret(b"attack at dawn")).expect("encrypt");
    // Wrong IV length.
    assert_eq!(S::decrypt(&key, &public(&[9; 15]), &ciphertext), Err(CryptoError::Decrypt));
    // Empty or not a multiple of the block size.
    for len in [0, 15, 17] {
        assert_eq!(S::decrypt(&key, &iv, &public(&vec![0; len])), Err(CryptoError::Decrypt));
    }
    let mut longer = ciphertext.as_slice().to_vec();
    longer.push(0);
    assert_eq!(S::decrypt(&key, &iv, &public(&longer)), Err(CryptoError::Decrypt));
    // Bad padding: a wrong key garbles the last block, as does a changed last IV byte
    // (which flips the padding byte 0x02 of a 14-byte message to 0x03).
    let other = S::cipher_key(&secret(&[6; 32])).expect("key");
    assert_eq!(S::decrypt(&other, &iv, &ciphertext), Err(CryptoError::Decrypt));
    let mut iv_bytes = iv.as_slice().to_vec();
    iv_bytes[15] ^= 0x01;
    assert_eq!(S::decrypt(&key, &public(&iv_bytes), &ciphertext), Err(CryptoError::Decrypt));
    // A block of plaintext that ends in 0x00 is never valid PKCS#7.
    let raw_zero_block = {
        use cbc::cipher::KeyIvInit;
        use cbc::cipher::block_padding::NoPadding;
        cbc::Encryptor::<Aes256>::new_from_slices(&[5; 32], &[9; 16])
            .expect("sizes")
            .encrypt_padded_vec::<NoPadding>(&[0; 16])
    };
    assert_eq!(S::decrypt(&key, &iv, &public(&raw_zero_block)), Err(CryptoError::Decrypt));
}

// ---- RSA keys ----

#[test]
fn check_public_key_accepts_2048_and_3072_bit_keys() {
    for key in [alice(), fixtures::server_key(), fixtures::server_key_3072()] {
        assert_eq!(S::check_public_key(&S::public_key(&key)), Ok(()), "{key:?}");
        assert!(!S::public_key(&key).is_secret());
    }
    assert_eq!(fixtures::server_key_3072().bits(), 3072);
    assert_eq!(alice().bits(), 2048);
}

#[test]
fn check_public_key_rejects_garbage_and_weak_keys() {
    assert_eq!(S::check_public_key(&public(b"")), Err(CryptoError::InvalidKey));
    assert_eq!(S::check_public_key(&public(b"not a key")), Err(CryptoError::InvalidKey));
    let weak = fixtures::named("weak-1024").expect("weak key");
    assert_eq!(weak.bits(), 1024);
    assert_eq!(S::check_public_key(&S::public_key(&weak)), Err(CryptoError::InvalidKey));
    // Trailing bytes and truncation.
    let mut der = alice().public_key_der().as_slice().to_vec();
    der.push(0);
    assert_eq!(S::check_public_key(&public(&der)), Err(CryptoError::InvalidKey));
    der.truncate(der.len() - 2);
    assert_eq!(S::check_public_key(&public(&der)), Err(CryptoError::InvalidKey));
}

#[test]
fn check_public_key_rejects_exponents_other_than_65537() {
    let n = alice().key.n().as_ref().clone();
    for e in [3u64, 17, 65539] {
        let key = RsaPublicKey::new(n.clone(), rsa::BoxedUint::from(e)).expect("valid key");
        let der = key.to_public_key_der().expect("encodes");
        assert_eq!(S::check_public_key(&public(der.as_bytes())), Err(CryptoError::InvalidKey), "e = {e}");
    }
}

#[test]
fn private_key_debug_shows_no_secret_material() {
    let key = alice();
    let text = format!("{key:?}");
    assert!(text.starts_with("PrivateKey(2048 bits, spki-sha256 "), "{text}");
    assert!(text.len() < 60, "{text}");
    let pem = key.to_pkcs8_pem();
    assert!(!text.contains(&pem[30..40]));
}

#[test]
fn private_key_pem_round_trips_and_compares_by_public_key() {
    let key = alice();
    let again = PrivateKey::from_pkcs8_pem(&key.to_pkcs8_pem()).expect("round trip");
    assert_eq!(key, again);
    assert_eq!(key.public_key_der(), again.public_key_der());
    assert_ne!(key, bob());
    let set: HashSet<PrivateKey> = [key.clone(), again, bob()].into_iter().collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn from_pkcs8_pem_rejects_garbage() {
    assert!(matches!(PrivateKey::from_pkcs8_pem(""), Err(KeyError::Parse(_))));
    assert!(matches!(
        PrivateKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        Err(KeyError::Parse(_))
    ));
}

#[test]
fn generate_rejects_unsupported_sizes() {
    for bits in [0, 1024, 2047, 4096] {
        assert_eq!(PrivateKey::generate(bits, &mut rng()), Err(KeyError::UnsupportedSize { bits }));
    }
}

#[test]
fn generate_makes_a_usable_2048_bit_key() {
    // The only key generation in the tests (~30-100 ms).
    let key = PrivateKey::generate(2048, &mut seeded_rng([42; 32])).expect("generate");
    assert_eq!(key.bits(), 2048);
    assert_eq!(S::check_public_key(key.public_key_der()), Ok(()));
    let msg = public(b"hello");
    let sig = S::sign(&key, SigScheme::PssSha256, Input::Raw(&msg), &mut rng()).expect("sign");
    assert_eq!(S::verify(key.public_key_der(), SigScheme::PssSha256, Input::Raw(&msg), &sig), Ok(()));
}

// ---- RSA-OAEP ----

#[test]
fn pke_round_trip_recovers_the_plaintext() {
    let mut rng = rng();
    let key = S::random(&mut rng, Fresh::SessionKey);
    for label in [public(b""), S::tuple(&[&public(b"EE2E-v2 key transport"), &public(b"+15550000001")])] {
        let ct = S::pke_encrypt(&S::public_key(&bob()), &label, &key, &mut rng).expect("encrypt");
        assert!(!ct.is_secret());
        assert_eq!(ct.len(), 256);
        let pt = S::pke_decrypt(&bob(), &label, &ct, &mut seeded_rng([3; 32])).expect("decrypt");
        assert!(pt.is_secret());
        assert_eq!(pt, key);
    }
    let big = fixtures::server_key_3072();
    let ct = S::pke_encrypt(&S::public_key(&big), &public(b"l"), &key, &mut rng).expect("encrypt");
    assert_eq!(ct.len(), 384);
    assert_eq!(S::pke_decrypt(&big, &public(b"l"), &ct, &mut seeded_rng([3; 32])), Ok(key));
}

#[test]
fn pke_encrypt_is_randomised() {
    let mut rng = rng();
    let (pk, label, pt) = (S::public_key(&bob()), public(b"l"), secret(b"k"));
    let a = S::pke_encrypt(&pk, &label, &pt, &mut rng).expect("encrypt");
    let b = S::pke_encrypt(&pk, &label, &pt, &mut rng).expect("encrypt");
    assert_ne!(a, b);
}

#[test]
fn pke_decrypt_blinds_from_the_callers_rng_and_advances_it_by_exactly_32_bytes() {
    use rand_core::Rng as _;
    let label = public(b"EE2E-v2 key transport");
    let key = S::random(&mut rng(), Fresh::SessionKey);
    let ct = S::pke_encrypt(&S::public_key(&bob()), &label, &key, &mut rng()).expect("encrypt");
    // The plaintext does not depend on the blinding; the generator moves by the fork's seed.
    for seed in [[1u8; 32], [2; 32]] {
        let mut used = seeded_rng(seed);
        assert_eq!(S::pke_decrypt(&bob(), &label, &ct, &mut used), Ok(key.clone()));
        let mut expected = seeded_rng(seed);
        expected.fill_bytes(&mut [0u8; 32]);
        assert_eq!(used.next_u64(), expected.next_u64(), "seed {seed:?}");
    }
    // A failed decryption advances it the same way (no early return before the draw).
    for (key, ct) in [(alice(), ct.clone()), (bob(), public(b""))] {
        let mut used = seeded_rng([4; 32]);
        assert_eq!(S::pke_decrypt(&key, &label, &ct, &mut used), Err(CryptoError::Decrypt));
        let mut expected = seeded_rng([4; 32]);
        expected.fill_bytes(&mut [0u8; 32]);
        assert_eq!(used.next_u64(), expected.next_u64());
    }
}

#[test]
fn pke_decrypt_rejects_wrong_label() {
    let mut rng = rng();
    let ct =
        S::pke_encrypt(&S::public_key(&bob()), &public(b"to bob"), &secret(b"k"), &mut rng).expect("encrypt");
    assert_eq!(
        S::pke_decrypt(&bob(), &public(b"to eve"), &ct, &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        S::pke_decrypt(&bob(), &public(b""), &ct, &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn pke_decrypt_rejects_wrong_key_and_tampered_ciphertext() {
    let mut rng = rng();
    let label = public(b"l");
    let ct = S::pke_encrypt(&S::public_key(&bob()), &label, &secret(b"k"), &mut rng).expect("encrypt");
    assert_eq!(S::pke_decrypt(&alice(), &label, &ct, &mut seeded_rng([3; 32])), Err(CryptoError::Decrypt));
    let mut tampered = ct.as_slice().to_vec();
    tampered[100] ^= 0x40;
    assert_eq!(
        S::pke_decrypt(&bob(), &label, &public(&tampered), &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        S::pke_decrypt(&bob(), &label, &public(&ct.as_slice()[1..]), &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        S::pke_decrypt(&bob(), &label, &public(b""), &mut seeded_rng([3; 32])),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn pke_encrypt_rejects_long_plaintexts_and_bad_keys() {
    let mut rng = rng();
    let pk = S::public_key(&bob());
    // k - 2·hLen - 2 = 256 - 66 = 190 bytes fit under a 2048-bit key.
    assert!(S::pke_encrypt(&pk, &public(b""), &secret(&[1; 190]), &mut rng).is_ok());
    assert_eq!(
        S::pke_encrypt(&pk, &public(b""), &secret(&[1; 191]), &mut rng),
        Err(CryptoError::InvalidLength)
    );
    assert_eq!(
        S::pke_encrypt(&public(b"junk"), &public(b""), &secret(b"k"), &mut rng),
        Err(CryptoError::InvalidKey)
    );
    let weak = S::public_key(&fixtures::named("weak-1024").expect("weak"));
    assert_eq!(S::pke_encrypt(&weak, &public(b""), &secret(b"k"), &mut rng), Err(CryptoError::InvalidKey));
}

// ---- signatures ----

fn possession_parts() -> [Bytes; 3] {
    [public(b"EE2E-v2 possession"), public(b"+15550000001"), S::public_key(&alice())]
}

#[test]
fn signatures_round_trip_for_both_schemes_and_input_forms() {
    let mut rng = rng();
    let parts = possession_parts();
    let refs: Vec<&Bytes> = parts.iter().collect();
    let encoded = S::tuple(&refs);
    let pk = S::public_key(&alice());
    for scheme in [SigScheme::Pkcs1v15Sha256, SigScheme::PssSha256] {
        let sig = S::sign(&alice(), scheme, Input::Tuple(&refs), &mut rng).expect("sign");
        assert!(!sig.is_secret());
        assert_eq!(sig.len(), 256);
        assert_eq!(S::verify(&pk, scheme, Input::Tuple(&refs), &sig), Ok(()), "{scheme:?}");
        // A tuple input signs its encoding.
        assert_eq!(S::verify(&pk, scheme, Input::Raw(&encoded), &sig), Ok(()), "{scheme:?}");
        let raw = S::sign(&alice(), scheme, Input::Raw(&pk), &mut rng).expect("sign");
        assert_eq!(S::verify(&pk, scheme, Input::Raw(&pk), &raw), Ok(()), "{scheme:?}");
    }
}

#[test]
fn pkcs1v15_signatures_are_deterministic() {
    let msg = public(b"directory entry");
    let a = S::sign(&alice(), SigScheme::Pkcs1v15Sha256, Input::Raw(&msg), &mut seeded_rng([1; 32]))
        .expect("sign");
    let b = S::sign(&alice(), SigScheme::Pkcs1v15Sha256, Input::Raw(&msg), &mut seeded_rng([2; 32]))
        .expect("sign");
    assert_eq!(a, b);
}

#[test]
fn pss_signatures_are_salted_from_the_given_rng() {
    let msg = public(b"directory entry");
    let sign = |seed| {
        S::sign(&alice(), SigScheme::PssSha256, Input::Raw(&msg), &mut seeded_rng(seed)).expect("sign")
    };
    assert_eq!(sign([1; 32]), sign([1; 32]));
    assert_ne!(sign([1; 32]), sign([2; 32]));
}

#[test]
fn verify_rejects_tampered_message_signature_wrong_key_and_other_scheme() {
    let mut rng = rng();
    let msg = public(b"+15550000002 is bob");
    let pk = S::public_key(&alice());
    for (scheme, other) in
        [(SigScheme::Pkcs1v15Sha256, SigScheme::PssSha256), (SigScheme::PssSha256, SigScheme::Pkcs1v15Sha256)]
    {
        let sig = S::sign(&alice(), scheme, Input::Raw(&msg), &mut rng).expect("sign");
        let bad = Err(CryptoError::BadSignature);
        assert_eq!(S::verify(&pk, scheme, Input::Raw(&public(b"+15550000666 is bob")), &sig), bad);
        let mut tampered = sig.as_slice().to_vec();
        tampered[17] ^= 0x01;
        assert_eq!(S::verify(&pk, scheme, Input::Raw(&msg), &public(&tampered)), bad);
        assert_eq!(S::verify(&pk, scheme, Input::Raw(&msg), &public(&sig.as_slice()[1..])), bad);
        assert_eq!(S::verify(&pk, scheme, Input::Raw(&msg), &public(b"")), bad);
        assert_eq!(S::verify(&S::public_key(&bob()), scheme, Input::Raw(&msg), &sig), bad);
        assert_eq!(S::verify(&pk, other, Input::Raw(&msg), &sig), bad);
        // The tuple of the same bytes is a different input.
        assert_eq!(S::verify(&pk, scheme, Input::Tuple(&[&msg]), &sig), bad);
        assert_eq!(S::verify(&public(b"junk"), scheme, Input::Raw(&msg), &sig), Err(CryptoError::InvalidKey));
    }
}
