//! `codec::decode_any` (the wire taken from the version byte) and `peek`: never panic, agree
//! with `decode` on the wire they name, and what they accept re-encodes to the input.
#![no_main]

use ee2e::codec::{decode, decode_any, encode, peek};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = peek(data);
    match decode_any(data) {
        Ok((wire, message)) => {
            assert_eq!(header, Ok((wire, message.kind())));
            assert_eq!(encode(wire, &message).as_deref(), Ok(data), "decoding is canonical");
        }
        Err(error) => {
            if let Ok((wire, _)) = header {
                assert_eq!(decode(wire, data), Err(error), "decode_any agrees with decode");
            }
        }
    }
});
