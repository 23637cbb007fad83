//! Phone numbers: the identity of a client.

use std::fmt;
use std::sync::Arc;

/// Shortest accepted number of digits after the `+`.
pub const PHONE_MIN_DIGITS: usize = 8;
/// Longest accepted number of digits after the `+` (E.164 allows 15).
pub const PHONE_MAX_DIGITS: usize = 15;

/// A phone number in E.164 form: `+` followed by 8 to 15 ASCII digits, the first not `0`.
///
/// This is both the client's identity in the directory and its address on the network.
/// Its protocol encoding is its ASCII text. Cloning is cheap (shared text): phone numbers are
/// copied into every message and every model state.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(Arc<str>);

/// A string that is not an E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid phone number: expected '+' and {PHONE_MIN_DIGITS}-{PHONE_MAX_DIGITS} digits, the first not 0"
)]
pub struct InvalidPhone;

impl Phone {
    /// Parses and validates an E.164 phone number.
    pub fn parse(text: &str) -> Result<Self, InvalidPhone> {
        Self::from_bytes(text.as_bytes())
    }

    /// Validates the ASCII bytes of an E.164 phone number (as found on the wire).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidPhone> {
        let digits = bytes.strip_prefix(b"+").ok_or(InvalidPhone)?;
        let ok = (PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits.len())
            && digits.iter().all(u8::is_ascii_digit)
            && digits[0] != b'0';
        if !ok {
            return Err(InvalidPhone);
        }
        // Validated ASCII above, so this cannot fail.
        Ok(Self(Arc::from(String::from_utf8_lossy(bytes).as_ref())))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The protocol encoding: the ASCII text.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.0)
    }
}

impl std::str::FromStr for Phone {
    type Err = InvalidPhone;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_accepts_e164_numbers() {
        assert_eq!(Phone::parse("+15551234567").unwrap().as_str(), "+15551234567");
        assert!(Phone::parse("+12345678").is_ok());
        assert!(Phone::parse("+123456789012345").is_ok());
    }

    #[test]
    fn phone_rejects_malformed_numbers() {
        for bad in [
            "",
            "+",
            "15551234567",
            "+1234567",
            "+1234567890123456",
            "+0555123456",
            "+1555a234567",
            "+1555 234567",
        ] {
            assert_eq!(Phone::parse(bad), Err(InvalidPhone), "{bad:?}");
        }
    }
}
