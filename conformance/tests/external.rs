//! The exact primitives the protocol uses — each concrete suite's `hmac`/`hmac_verify`,
//! `pbkdf2`, `hkdf`, `cipher_key`/`encrypt`/`decrypt`, `pke_decrypt` (with its PKCS#8 PEM key
//! loading) and `verify` for PKCS#1 v1.5 and PSS — against every Wycheproof and RFC vector in
//! `conformance/external/` (vendored unchanged in the repository; see its README). Every
//! file runs through `ConcreteSuite` (module `rust_crypto`) and `AwsLcSuite` (module `aws_lc`).
//!
//! Every valid case must be accepted and every invalid case rejected; `acceptable` cases may
//! go either way. The only cases not run through the suite are those it cannot express by
//! design, each counted and justified in [`Exception`]; `cargo test -- --nocapture` prints
//! the counts.

use std::fmt;
use std::path::{Path, PathBuf};

use ee2e::suite::seeded_rng;
use ee2e::{Bytes, BytesSuite};
use ee2e_spec::{Input, SigScheme, Suite};
use serde_json::Value;

fn external_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("external")
}

fn load(relative: &str) -> Value {
    let path = external_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The external vectors must be in conformance/external/ (committed); \
             they are never skipped",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn hex_field(test: &Value, field: &str) -> Vec<u8> {
    let text = test[field].as_str().unwrap_or_else(|| panic!("missing hex field {field} in {test}"));
    hex::decode(text).unwrap_or_else(|e| panic!("field {field}: {e}"))
}

fn num(test: &Value, field: &str) -> usize {
    test[field].as_u64().unwrap_or_else(|| panic!("missing number {field} in {test}")) as usize
}

/// Cases the suite cannot express by design, with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Exception {
    /// AES-128/192: the protocol and the suite use AES-256 only (`cipher_key` refuses other
    /// key lengths; checked).
    AesKeySize,
    /// HKDF output of 8161 bytes, above HKDF-SHA-256's limit of 255 × 32: the suite's `hkdf`
    /// has a fixed 32-byte output, so such a request cannot be made.
    HkdfSize,
    /// RSA public exponent 3: SPEC.md §2.1 accepts only e = 65537, and the suite's `verify`
    /// refuses the key (`InvalidKey`, checked); the signature is checked with the `rsa`
    /// crate's own PKCS#1 v1.5 verification instead.
    SmallExponent,
    /// AES-CTR: not a primitive of the protocol.
    NotUsed,
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Exception::AesKeySize => "AES-128/192 key (suite is AES-256 only; cipher_key refuses it)",
            Exception::HkdfSize => "HKDF output above 8160 bytes (suite's hkdf has a fixed 32-byte output)",
            Exception::SmallExponent => {
                "e = 3 key (refused by the suite per SPEC §2.1; verified with the rsa crate)"
            }
            Exception::NotUsed => "AES-CTR (not used by the protocol)",
        })
    }
}

/// Counts for one file.
#[derive(Debug, Default)]
struct Tally {
    valid_accepted: usize,
    valid_rejected: Vec<String>,
    invalid_rejected: usize,
    invalid_accepted: Vec<String>,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    exceptions: std::collections::BTreeMap<Exception, usize>,
}

impl Tally {
    fn record(&mut self, result: &str, accepted: bool, id: impl fmt::Display) {
        match (result, accepted) {
            ("valid", true) => self.valid_accepted += 1,
            ("valid", false) => self.valid_rejected.push(id.to_string()),
            ("invalid", false) => self.invalid_rejected += 1,
            ("invalid", true) => self.invalid_accepted.push(id.to_string()),
            ("acceptable", true) => self.acceptable_accepted += 1,
            ("acceptable", false) => self.acceptable_rejected += 1,
            (other, _) => panic!("unknown result {other:?} in test {id}"),
        }
    }

    fn except(&mut self, why: Exception) {
        *self.exceptions.entry(why).or_default() += 1;
    }

    /// Prints the counts and fails on any wrong outcome.
    fn finish(self, file: &str, declared: usize) {
        let run = self.valid_accepted
            + self.valid_rejected.len()
            + self.invalid_rejected
            + self.invalid_accepted.len()
            + self.acceptable_accepted
            + self.acceptable_rejected;
        let excepted: usize = self.exceptions.values().sum();
        println!(
            "{file}: {} tests; valid {} accepted / {} rejected; invalid {} rejected / {} accepted; \
             acceptable {} accepted / {} rejected; not run through the suite: {excepted}",
            run + excepted,
            self.valid_accepted,
            self.valid_rejected.len(),
            self.invalid_rejected,
            self.invalid_accepted.len(),
            self.acceptable_accepted,
            self.acceptable_rejected,
        );
        for (why, count) in &self.exceptions {
            println!("    {count} × {why}");
        }
        assert_eq!(run + excepted, declared, "{file}: ran {} of {declared} tests", run + excepted);
        assert!(self.valid_rejected.is_empty(), "{file}: valid cases rejected: {:?}", self.valid_rejected);
        assert!(
            self.invalid_accepted.is_empty(),
            "{file}: invalid cases accepted: {:?}",
            self.invalid_accepted
        );
    }
}

fn groups(file: &Value) -> impl Iterator<Item = &Value> {
    file["testGroups"].as_array().expect("testGroups").iter()
}

fn tests(group: &Value) -> impl Iterator<Item = &Value> {
    group["tests"].as_array().expect("tests").iter()
}

fn declared(file: &Value) -> usize {
    num(file, "numberOfTests")
}

fn result(test: &Value) -> &str {
    test["result"].as_str().expect("result")
}

fn mac_key<S: BytesSuite>(key: &[u8]) -> <S as Suite>::MacKey {
    S::mac_key(&Bytes::secret(key))
}

/// A MAC check with the suite: `hmac_verify` for full tags, and the `hmac` output's prefix for
/// truncated ones (the protocol never truncates; `hmac_verify` refuses short tags by design).
fn mac_accepts<S: BytesSuite>(key: &[u8], msg: &[u8], tag: &[u8]) -> bool {
    let k = mac_key::<S>(key);
    let msg = Bytes::public(msg);
    if tag.len() == 32 {
        S::hmac_verify(&k, Input::Raw(&msg), &Bytes::public(tag))
    } else {
        let full = S::hmac(&k, Input::Raw(&msg));
        !tag.is_empty() && full.as_slice()[..tag.len().min(32)] == *tag
    }
}

fn hmac_sha256_matches_wycheproof<S: BytesSuite>() {
    let file = load("wycheproof/hmac_sha256_test.json");
    let mut tally = Tally::default();
    for group in groups(&file) {
        for test in tests(group) {
            let accepted =
                mac_accepts::<S>(&hex_field(test, "key"), &hex_field(test, "msg"), &hex_field(test, "tag"));
            tally.record(result(test), accepted, &test["tcId"]);
        }
    }
    tally.finish("wycheproof/hmac_sha256_test.json", declared(&file));
}

fn hmac_sha256_matches_rfc_4231<S: BytesSuite>() {
    let file = load("rfc/rfc4231_hmac_sha256.json");
    let mut tally = Tally::default();
    let cases = file["tests"].as_array().expect("tests");
    for test in cases {
        let mut tag = hex_field(test, "mac");
        if let Some(bits) = test.get("truncated_to_bits").and_then(Value::as_u64) {
            tag.truncate(bits as usize / 8);
        }
        let accepted = mac_accepts::<S>(&hex_field(test, "key"), &hex_field(test, "data"), &tag);
        tally.record("valid", accepted, &test["id"]);
        // The same tag with one bit flipped must be rejected.
        let mut bad = tag.clone();
        bad[0] ^= 1;
        assert!(
            !mac_accepts::<S>(&hex_field(test, "key"), &hex_field(test, "data"), &bad),
            "RFC 4231 {}",
            test["id"]
        );
    }
    tally.finish("rfc/rfc4231_hmac_sha256.json", cases.len());
}

/// `expected` against the suite's 32-byte output: HKDF and PBKDF2 outputs of other lengths
/// share their prefix (T(1) ‖ T(2) ‖ …), so the first min(32, len) bytes are compared.
fn prefix_matches(output: &Bytes, expected: &[u8]) -> bool {
    let n = expected.len().min(32);
    n > 0 && output.as_slice()[..n] == expected[..n]
}

fn hkdf_sha256_matches_wycheproof<S: BytesSuite>() {
    let file = load("wycheproof/hkdf_sha256_test.json");
    let mut tally = Tally::default();
    for group in groups(&file) {
        for test in tests(group) {
            let size = num(test, "size");
            if size > 255 * 32 {
                assert_eq!(result(test), "invalid", "tcId {}", test["tcId"]);
                tally.except(Exception::HkdfSize);
                continue;
            }
            let out = S::hkdf(
                &Bytes::secret(hex_field(test, "ikm")),
                &Bytes::public(hex_field(test, "salt")),
                &Bytes::public(hex_field(test, "info")),
            );
            let okm = hex_field(test, "okm");
            assert_eq!(okm.len(), size);
            tally.record(result(test), prefix_matches(&out, &okm), &test["tcId"]);
        }
    }
    tally.finish("wycheproof/hkdf_sha256_test.json", declared(&file));
}

fn hkdf_sha256_matches_rfc_5869<S: BytesSuite>() {
    let file = load("rfc/rfc5869_hkdf_sha256.json");
    let mut tally = Tally::default();
    let cases = file["tests"].as_array().expect("tests");
    for test in cases {
        let out = S::hkdf(
            &Bytes::secret(hex_field(test, "ikm")),
            &Bytes::public(hex_field(test, "salt")),
            &Bytes::public(hex_field(test, "info")),
        );
        tally.record("valid", prefix_matches(&out, &hex_field(test, "okm")), &test["id"]);
    }
    tally.finish("rfc/rfc5869_hkdf_sha256.json", cases.len());
}

fn pbkdf2_hmac_sha256_matches_wycheproof<S: BytesSuite>() {
    let file = load("wycheproof/pbkdf2_hmacsha256_test.json");
    let mut tally = Tally::default();
    for group in groups(&file) {
        for test in tests(group) {
            let iterations = u32::try_from(num(test, "iterationCount")).expect("u32 iterations");
            let out = S::pbkdf2(
                &Bytes::secret(hex_field(test, "password")),
                &Bytes::public(hex_field(test, "salt")),
                iterations,
            );
            tally.record(result(test), prefix_matches(&out, &hex_field(test, "dk")), &test["tcId"]);
        }
    }
    tally.finish("wycheproof/pbkdf2_hmacsha256_test.json", declared(&file));
}

fn pbkdf2_hmac_sha256_matches_rfc_7914<S: BytesSuite>() {
    let file = load("rfc/rfc7914_pbkdf2_hmac_sha256.json");
    let mut tally = Tally::default();
    let cases = file["tests"].as_array().expect("tests");
    for test in cases {
        let iterations = u32::try_from(num(test, "iterations")).expect("u32 iterations");
        let out = S::pbkdf2(
            &Bytes::secret(hex_field(test, "password")),
            &Bytes::public(hex_field(test, "salt")),
            iterations,
        );
        tally.record("valid", prefix_matches(&out, &hex_field(test, "dk")), &test["id"]);
    }
    tally.finish("rfc/rfc7914_pbkdf2_hmac_sha256.json", cases.len());
}

fn aes_256_cbc_matches_wycheproof<S: BytesSuite>() {
    let file = load("wycheproof/aes_cbc_pkcs5_test.json");
    let mut tally = Tally::default();
    for group in groups(&file) {
        for test in tests(group) {
            let key = hex_field(test, "key");
            let Ok(cipher) = S::cipher_key(&Bytes::secret(key.as_slice())) else {
                assert_ne!(key.len(), 32, "tcId {}: a 32-byte key was refused", test["tcId"]);
                tally.except(Exception::AesKeySize);
                continue;
            };
            let (iv, msg, ct) = (hex_field(test, "iv"), hex_field(test, "msg"), hex_field(test, "ct"));
            let (iv, ct_value) = (Bytes::public(iv), Bytes::public(ct.as_slice()));
            let decrypts = S::decrypt(&cipher, &iv, &ct_value).is_ok_and(|m| m.as_slice() == msg.as_slice());
            let accepted = if result(test) == "valid" {
                let encrypts = S::encrypt(&cipher, &iv, &Bytes::secret(msg.as_slice()))
                    .is_ok_and(|c| c.as_slice() == ct);
                decrypts && encrypts
            } else {
                S::decrypt(&cipher, &iv, &ct_value).is_ok()
            };
            tally.record(result(test), accepted, &test["tcId"]);
        }
    }
    tally.finish("wycheproof/aes_cbc_pkcs5_test.json", declared(&file));
}

fn aes_256_cbc_matches_sp800_38a<S: BytesSuite>() {
    let file = load("rfc/sp800_38a_aes256_cbc.json");
    let mut tally = Tally::default();
    let cases = file["tests"].as_array().expect("tests");
    for test in cases {
        // Raw CBC vectors: with PKCS#7 the suite's output is the vector's ciphertext followed
        // by one block of padding.
        let cipher = S::cipher_key(&Bytes::secret(hex_field(test, "key"))).expect("AES-256 key");
        let iv = Bytes::public(hex_field(test, "iv"));
        let (pt, ct) = (hex_field(test, "plaintext"), hex_field(test, "ciphertext"));
        let sealed = S::encrypt(&cipher, &iv, &Bytes::secret(pt.as_slice())).expect("encrypt");
        let ok = sealed.len() == ct.len() + 16
            && sealed.as_slice()[..ct.len()] == ct
            && S::decrypt(&cipher, &iv, &sealed).is_ok_and(|m| m.as_slice() == pt);
        tally.record("valid", ok, &test["id"]);
    }
    tally.finish("rfc/sp800_38a_aes256_cbc.json", cases.len());
}

#[test]
fn aes_ctr_vectors_are_not_used_by_the_protocol() {
    let file = load("rfc/sp800_38a_aes256_ctr.json");
    let mut tally = Tally::default();
    let cases = file["tests"].as_array().expect("tests");
    for _ in cases {
        tally.except(Exception::NotUsed);
    }
    tally.finish("rfc/sp800_38a_aes256_ctr.json", cases.len());
}

fn oaep_file<S: BytesSuite>(name: &str) {
    let file = load(name);
    let mut tally = Tally::default();
    for group in groups(&file) {
        let pem = group["privateKeyPem"].as_str().expect("privateKeyPem");
        let key = S::private_key_from_pem(pem).expect("the Wycheproof key loads");
        for test in tests(group) {
            let label = Bytes::public(hex_field(test, "label"));
            let ct = Bytes::public(hex_field(test, "ct"));
            let accepted = match S::pke_decrypt(&key, &label, &ct, &mut seeded_rng([3; 32])) {
                Ok(msg) => {
                    assert_eq!(msg.as_slice(), hex_field(test, "msg").as_slice(), "tcId {}", test["tcId"]);
                    true
                }
                Err(_) => false,
            };
            tally.record(result(test), accepted, &test["tcId"]);
        }
    }
    tally.finish(name, declared(&file));
}

fn rsa_oaep_2048_decryption_matches_wycheproof<S: BytesSuite>() {
    oaep_file::<S>("wycheproof/rsa_oaep_2048_sha256_mgf1sha256_test.json");
}

fn rsa_oaep_3072_decryption_matches_wycheproof<S: BytesSuite>() {
    oaep_file::<S>("wycheproof/rsa_oaep_3072_sha256_mgf1sha256_test.json");
}

fn signature_file<S: BytesSuite>(name: &str, scheme: SigScheme) {
    use rsa::pkcs8::DecodePublicKey;
    use sha2::Digest;
    let file = load(name);
    let mut tally = Tally::default();
    for group in groups(&file) {
        let der = Bytes::public(hex_field(group, "publicKeyDer"));
        let policy = S::check_public_key(&der);
        for test in tests(group) {
            let (msg, sig) = (Bytes::public(hex_field(test, "msg")), Bytes::public(hex_field(test, "sig")));
            if policy.is_err() {
                // Only e = 3 keys are outside the policy here; the suite refuses them outright.
                assert_eq!(group["publicKey"]["publicExponent"], "03", "{name}: unexpected key refused");
                assert_eq!(
                    S::verify(&der, scheme, Input::Raw(&msg), &sig),
                    Err(ee2e_spec::CryptoError::InvalidKey)
                );
                let key = rsa::PublicKey::from_public_key_der(der.as_slice()).expect("e = 3 key parses");
                let hash = sha2::Sha256::digest(msg.as_slice());
                let accepted = key.pkcs1v15_verify_prehash::<sha2::Sha256>(&hash, sig.as_slice()).is_ok();
                assert_eq!(
                    accepted,
                    result(test) == "valid",
                    "{name} tcId {} (rsa crate, e = 3)",
                    test["tcId"]
                );
                tally.except(Exception::SmallExponent);
                continue;
            }
            let accepted = S::verify(&der, scheme, Input::Raw(&msg), &sig).is_ok();
            tally.record(result(test), accepted, &test["tcId"]);
        }
    }
    tally.finish(name, declared(&file));
}

fn rsa_pss_2048_verification_matches_wycheproof<S: BytesSuite>() {
    signature_file::<S>("wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json", SigScheme::PssSha256);
}

fn rsa_pss_3072_verification_matches_wycheproof<S: BytesSuite>() {
    signature_file::<S>("wycheproof/rsa_pss_3072_sha256_mgf1_32_test.json", SigScheme::PssSha256);
}

fn rsa_pkcs1v15_2048_verification_matches_wycheproof<S: BytesSuite>() {
    signature_file::<S>("wycheproof/rsa_signature_2048_sha256_test.json", SigScheme::Pkcs1v15Sha256);
}

fn rsa_pkcs1v15_3072_verification_matches_wycheproof<S: BytesSuite>() {
    signature_file::<S>("wycheproof/rsa_signature_3072_sha256_test.json", SigScheme::Pkcs1v15Sha256);
}

/// The vendored Wycheproof files are the ones `wycheproof/SOURCE.md` records: every file it
/// lists is there with the recorded size and test count, and nothing else is. The copy is
/// the only one the tests read, so it is checked against its own record, not an outside folder.
#[test]
fn vendored_wycheproof_files_match_their_source_record() {
    let dir = external_dir().join("wycheproof");
    let record = std::fs::read_to_string(dir.join("SOURCE.md")).expect("SOURCE.md");
    let mut listed = Vec::new();
    for row in record.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // | File | algorithm | Contents | Schema | Groups | Tests | Results | Bytes |
        let name = cells[1].trim_matches('`');
        let (tests, bytes): (u64, u64) = (cells[6].parse().expect("tests"), cells[8].parse().expect("bytes"));
        let data = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.len() as u64, bytes, "{name}: size");
        let json: Value = serde_json::from_slice(&data).expect("JSON");
        assert_eq!(json["numberOfTests"].as_u64(), Some(tests), "{name}: numberOfTests");
        listed.push(name.to_owned());
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .expect("wycheproof/")
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8 name"))
        .filter(|n| n.ends_with(".json"))
        .collect();
    present.sort();
    listed.sort();
    assert_eq!(present, listed, "files in wycheproof/ and in SOURCE.md");
    assert_eq!(listed.len(), 10);
}

/// The suite-generic checks above, as tests on each concrete suite.
macro_rules! on_each_suite {
    ($($name:ident),* $(,)?) => {
        mod rust_crypto {
            $(#[test] fn $name() { super::$name::<ee2e::ConcreteSuite>() })*
        }
        mod aws_lc {
            $(#[test] fn $name() { super::$name::<ee2e::AwsLcSuite>() })*
        }
    };
}

on_each_suite!(
    hmac_sha256_matches_wycheproof,
    hmac_sha256_matches_rfc_4231,
    hkdf_sha256_matches_wycheproof,
    hkdf_sha256_matches_rfc_5869,
    pbkdf2_hmac_sha256_matches_wycheproof,
    pbkdf2_hmac_sha256_matches_rfc_7914,
    aes_256_cbc_matches_wycheproof,
    aes_256_cbc_matches_sp800_38a,
    rsa_oaep_2048_decryption_matches_wycheproof,
    rsa_oaep_3072_decryption_matches_wycheproof,
    rsa_pss_2048_verification_matches_wycheproof,
    rsa_pss_3072_verification_matches_wycheproof,
    rsa_pkcs1v15_2048_verification_matches_wycheproof,
    rsa_pkcs1v15_3072_verification_matches_wycheproof,
);
