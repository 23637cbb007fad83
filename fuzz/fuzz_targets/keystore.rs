//! Keystore file parsing: the first byte picks the file kind (entry JSON, session JSON,
//! PKCS#8 PEM private key, durable state JSON, inbox JSON), the rest is its contents. Never panics; every error names the
//! file; a session error never quotes the key field's text.
#![no_main]

use std::path::Path;

use ee2e::keystore::{parse_entry_file, parse_inbox, parse_private_key_file, parse_session_file, parse_state_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, contents)) = data.split_first() else { return };
    let path = Path::new("/keystore/fuzzed.json");
    let message = match kind % 5 {
        0 => parse_entry_file(path, contents).err().map(|e| e.to_string()),
        1 => parse_session_file(path, contents).err().map(|e| e.to_string()),
        2 => parse_state_file(path, contents).err().map(|e| e.to_string()),
        3 => parse_inbox(path, contents).err().map(|e| e.to_string()),
        _ => parse_private_key_file(path, contents).err().map(|e| e.to_string()),
    };
    if let Some(message) = message {
        assert!(message.starts_with("/keystore/fuzzed.json"), "error names the file: {message}");
    }
});
