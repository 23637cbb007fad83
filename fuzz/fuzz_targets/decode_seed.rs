//! `codec::decode` on the seed wire (v1): never panics; what it accepts re-encodes to exactly
//! the input (canonical encoding, SPEC.md §4).
#![no_main]

use ee2e::codec::{decode, encode, peek};
use ee2e_spec::Wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(Wire::Seed, data) {
        assert_eq!(encode(Wire::Seed, &message).as_deref(), Ok(data), "decoding is canonical");
        assert_eq!(peek(data), Ok((Wire::Seed, message.kind())));
    }
});
