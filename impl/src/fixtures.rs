//! Pre-generated RSA **test keys** and phone numbers for tests, examples and the demo.
//!
//! The keys are committed under `impl/fixtures/keys/` (see its README) so that tests never
//! generate keys. They are public and must never protect anything real. Parsed keys are
//! cached for the life of the process.

use std::sync::OnceLock;

use ee2e_spec::Phone;

use crate::suite::PrivateKey;

/// Number of client keys: `client_key(0)` to `client_key(CLIENT_KEYS - 1)`.
pub const CLIENT_KEYS: usize = 64;

/// The names [`named`] knows: 2048-bit `alice`, `bob`, `eve`, `carol`; 3072-bit `alice-3072`;
/// and the 1024-bit `weak-1024`, which the protocol must refuse.
pub const NAMES: [&str; 6] = ["alice", "bob", "eve", "carol", "alice-3072", "weak-1024"];

const SERVER: &str = include_str!("../fixtures/keys/server.pem");
const SERVER_3072: &str = include_str!("../fixtures/keys/server-3072.pem");
const NAMED: [&str; 6] = [
    include_str!("../fixtures/keys/alice.pem"),
    include_str!("../fixtures/keys/bob.pem"),
    include_str!("../fixtures/keys/eve.pem"),
    include_str!("../fixtures/keys/carol.pem"),
    include_str!("../fixtures/keys/alice-3072.pem"),
    include_str!("../fixtures/keys/weak-1024.pem"),
];
const CLIENTS: [&str; CLIENT_KEYS] = [
    include_str!("../fixtures/keys/client-00.pem"),
    include_str!("../fixtures/keys/client-01.pem"),
    include_str!("../fixtures/keys/client-02.pem"),
    include_str!("../fixtures/keys/client-03.pem"),
    include_str!("../fixtures/keys/client-04.pem"),
    include_str!("../fixtures/keys/client-05.pem"),
    include_str!("../fixtures/keys/client-06.pem"),
    include_str!("../fixtures/keys/client-07.pem"),
    include_str!("../fixtures/keys/client-08.pem"),
    include_str!("../fixtures/keys/client-09.pem"),
    include_str!("../fixtures/keys/client-10.pem"),
    include_str!("../fixtures/keys/client-11.pem"),
    include_str!("../fixtures/keys/client-12.pem"),
    include_str!("../fixtures/keys/client-13.pem"),
    include_str!("../fixtures/keys/client-14.pem"),
    include_str!("../fixtures/keys/client-15.pem"),
    include_str!("../fixtures/keys/client-16.pem"),
    include_str!("../fixtures/keys/client-17.pem"),
    include_str!("../fixtures/keys/client-18.pem"),
    include_str!("../fixtures/keys/client-19.pem"),
    include_str!("../fixtures/keys/client-20.pem"),
    include_str!("../fixtures/keys/client-21.pem"),
    include_str!("../fixtures/keys/client-22.pem"),
    include_str!("../fixtures/keys/client-23.pem"),
    include_str!("../fixtures/keys/client-24.pem"),
    include_str!("../fixtures/keys/client-25.pem"),
    include_str!("../fixtures/keys/client-26.pem"),
    include_str!("../fixtures/keys/client-27.pem"),
    include_str!("../fixtures/keys/client-28.pem"),
    include_str!("../fixtures/keys/client-29.pem"),
    include_str!("../fixtures/keys/client-30.pem"),
    include_str!("../fixtures/keys/client-31.pem"),
    include_str!("../fixtures/keys/client-32.pem"),
    include_str!("../fixtures/keys/client-33.pem"),
    include_str!("../fixtures/keys/client-34.pem"),
    include_str!("../fixtures/keys/client-35.pem"),
    include_str!("../fixtures/keys/client-36.pem"),
    include_str!("../fixtures/keys/client-37.pem"),
    include_str!("../fixtures/keys/client-38.pem"),
    include_str!("../fixtures/keys/client-39.pem"),
    include_str!("../fixtures/keys/client-40.pem"),
    include_str!("../fixtures/keys/client-41.pem"),
    include_str!("../fixtures/keys/client-42.pem"),
    include_str!("../fixtures/keys/client-43.pem"),
    include_str!("../fixtures/keys/client-44.pem"),
    include_str!("../fixtures/keys/client-45.pem"),
    include_str!("../fixtures/keys/client-46.pem"),
    include_str!("../fixtures/keys/client-47.pem"),
    include_str!("../fixtures/keys/client-48.pem"),
    include_str!("../fixtures/keys/client-49.pem"),
    include_str!("../fixtures/keys/client-50.pem"),
    include_str!("../fixtures/keys/client-51.pem"),
    include_str!("../fixtures/keys/client-52.pem"),
    include_str!("../fixtures/keys/client-53.pem"),
    include_str!("../fixtures/keys/client-54.pem"),
    include_str!("../fixtures/keys/client-55.pem"),
    include_str!("../fixtures/keys/client-56.pem"),
    include_str!("../fixtures/keys/client-57.pem"),
    include_str!("../fixtures/keys/client-58.pem"),
    include_str!("../fixtures/keys/client-59.pem"),
    include_str!("../fixtures/keys/client-60.pem"),
    include_str!("../fixtures/keys/client-61.pem"),
    include_str!("../fixtures/keys/client-62.pem"),
    include_str!("../fixtures/keys/client-63.pem"),
];

/// Parses `pem` once and returns a clone of the cached key.
fn cached(cell: &OnceLock<PrivateKey>, pem: &str) -> PrivateKey {
    cell.get_or_init(|| PrivateKey::from_pkcs8_pem(pem).expect("committed fixture key parses")).clone()
}

/// The 2048-bit test server key.
pub fn server_key() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    cached(&KEY, SERVER)
}

/// The 3072-bit test server key.
pub fn server_key_3072() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    cached(&KEY, SERVER_3072)
}

/// The test key called `name` (one of [`NAMES`]), or `None` for another name.
pub fn named(name: &str) -> Option<PrivateKey> {
    static KEYS: [OnceLock<PrivateKey>; NAMED.len()] = [const { OnceLock::new() }; NAMED.len()];
    let i = NAMES.iter().position(|n| *n == name)?;
    Some(cached(&KEYS[i], NAMED[i]))
}

/// The `i`-th 2048-bit client test key, or `None` unless `i < CLIENT_KEYS`.
pub fn client_key(i: usize) -> Option<PrivateKey> {
    static KEYS: [OnceLock<PrivateKey>; CLIENT_KEYS] = [const { OnceLock::new() }; CLIENT_KEYS];
    Some(cached(KEYS.get(i)?, CLIENTS[i]))
}

/// The phone number of a named test party: alice `+15550000001`, bob `+15550000002`,
/// carol `+15550000003`, eve `+15550000666`.
///
/// # Panics
/// For any other name.
pub fn phone(name: &str) -> Phone {
    let number = match name {
        "alice" => "+15550000001",
        "bob" => "+15550000002",
        "carol" => "+15550000003",
        "eve" => "+15550000666",
        _ => panic!("no test phone number for {name:?}"),
    };
    Phone::parse(number).expect("valid test phone number")
}

/// The phone number of the `i`-th test client: `+1555100` followed by `i` in 4 digits
/// (`+15551000000`, `+15551000001`, ...).
///
/// # Panics
/// If `i > 9999`.
pub fn client_phone(i: usize) -> Phone {
    assert!(i <= 9999, "client index {i} has more than 4 digits");
    Phone::parse(&format!("+1555100{i:04}")).expect("valid test phone number")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_fixture_key_parses_with_its_expected_size() {
        assert_eq!(server_key().bits(), 2048);
        assert_eq!(server_key_3072().bits(), 3072);
        let sizes = [2048, 2048, 2048, 2048, 3072, 1024];
        for (name, bits) in NAMES.iter().zip(sizes) {
            assert_eq!(named(name).expect(name).bits(), bits, "{name}");
        }
        for i in 0..CLIENT_KEYS {
            assert_eq!(client_key(i).expect("client key").bits(), 2048, "client {i}");
        }
    }

    #[test]
    fn fixture_keys_are_all_distinct() {
        let mut keys: HashSet<PrivateKey> = (0..CLIENT_KEYS).filter_map(client_key).collect();
        keys.extend(NAMES.iter().filter_map(|n| named(n)));
        keys.insert(server_key());
        keys.insert(server_key_3072());
        assert_eq!(keys.len(), CLIENT_KEYS + NAMES.len() + 2);
    }

    #[test]
    fn unknown_names_and_indices_give_none() {
        assert!(named("mallory").is_none());
        assert!(named("server").is_none());
        assert!(client_key(CLIENT_KEYS).is_none());
    }

    #[test]
    fn cached_keys_are_equal_across_calls() {
        assert_eq!(named("alice"), named("alice"));
        assert_eq!(client_key(7), client_key(7));
    }

    #[test]
    fn phones_are_the_documented_numbers() {
        assert_eq!(phone("alice").as_str(), "+15550000001");
        assert_eq!(phone("bob").as_str(), "+15550000002");
        assert_eq!(phone("carol").as_str(), "+15550000003");
        assert_eq!(phone("eve").as_str(), "+15550000666");
        assert_eq!(client_phone(0).as_str(), "+15551000000");
        assert_eq!(client_phone(63).as_str(), "+15551000063");
        let all: HashSet<Phone> = (0..CLIENT_KEYS).map(client_phone).collect();
        assert_eq!(all.len(), CLIENT_KEYS);
    }

    #[test]
    #[should_panic(expected = "no test phone number")]
    fn phone_panics_for_unknown_names() {
        let _ = phone("mallory");
    }
}
