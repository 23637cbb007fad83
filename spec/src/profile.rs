//! Profiles: the seed protocol as written, and the hardened protocol as a set of fixes.
//!
//! A profile is a set of [`Fix`]es. `seed` has none, `hardened` has all; the model checker
//! removes one fix at a time to show that each is necessary.

use std::fmt;

/// Declares every fix once, in erratum order: its variant, bit, kebab-case name, erratum
/// number and one-line summary (also its doc comment). [`Fix::ALL`], the accessors and
/// [`Profile::HARDENED`] are derived from the one list, so a new fix cannot lack any of them.
macro_rules! fixes {
    ($($variant:ident = $bit:literal, $name:literal, $erratum:literal, $summary:literal;)+) => {
        /// One hardened change (erratum) to the seed protocol. See SPEC.md, "Errata".
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum Fix {
            $(
                #[doc = concat!($erratum, ": ", $summary, ".")]
                $variant = 1 << $bit,
            )+
        }

        impl Fix {
            /// Every fix, in erratum order.
            pub const ALL: [Fix; [$($bit),+].len()] = [$(Fix::$variant),+];

            /// Short kebab-case name, used in profile names and on the command line.
            pub fn name(self) -> &'static str {
                match self {
                    $(Fix::$variant => $name,)+
                }
            }

            /// The erratum's number in SPEC.md, "Errata" (`E1` … `E9`).
            pub fn erratum(self) -> &'static str {
                match self {
                    $(Fix::$variant => $erratum,)+
                }
            }

            /// What the fix changes, in one line.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Fix::$variant => $summary,)+
                }
            }
        }
    };
}

fixes! {
    DirectoryBinding = 0, "directory-binding", "E1",
        "the directory signature covers a domain label, the phone number and the key";
    TransportBinding = 1, "transport-binding", "E2",
        "OAEP label and signature bind the key transport to sender and recipient";
    TransportReplay = 2, "transport-replay", "E3",
        "a key transport whose session id was seen before is rejected";
    EncryptThenMac = 3, "encrypt-then-mac", "E4",
        "per-direction HKDF keys and encrypt-then-MAC over a header";
    ReplayWindow = 4, "replay-window", "E5",
        "sequence numbers checked against a sliding replay window";
    AckBinding = 5, "ack-binding", "E6",
        "the ACK binds session, direction, sequence number and ciphertext hash";
    SealedTag = 6, "sealed-tag", "E7",
        "the registration tag is sealed to the server's key, never sent in the clear";
    OtpLimits = 7, "otp-limits", "E8",
        "the OTP is single-use and allows a bounded number of attempts";
    PossessionProof = 8, "possession-proof", "E9",
        "the client signs (label, phone, key) with its new private key";
}

impl Fix {
    /// The fix named `text`: its kebab-case name or its erratum number (`E4`, `e4`).
    pub fn parse(text: &str) -> Option<Fix> {
        Fix::ALL.into_iter().find(|f| f.name() == text || f.erratum().eq_ignore_ascii_case(text))
    }
}

/// The wire layout a profile uses; it is the message version byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wire {
    /// Version 1: the seed's fields only.
    Seed = 1,
    /// Version 2: the hardened fields (session ids, sequence numbers, sealed tags, proofs).
    Hardened = 2,
}

/// A protocol profile: which fixes are in force.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Profile {
    fixes: u16,
}

impl Profile {
    /// The seed protocol, read literally.
    pub const SEED: Profile = Profile { fixes: 0 };
    /// Every fix in force (every one of [`Fix::ALL`]).
    pub const HARDENED: Profile = {
        let mut fixes = 0;
        let mut i = 0;
        while i < Fix::ALL.len() {
            fixes |= Fix::ALL[i] as u16;
            i += 1;
        }
        Profile { fixes }
    };

    /// Whether `fix` is in force.
    pub fn has(self, fix: Fix) -> bool {
        self.fixes & fix as u16 != 0
    }

    /// This profile with `fix` removed.
    pub fn without(self, fix: Fix) -> Profile {
        Profile { fixes: self.fixes & !(fix as u16) }
    }

    /// The wire layout: seed's only when no fix is in force.
    pub fn wire(self) -> Wire {
        if self.fixes == 0 { Wire::Seed } else { Wire::Hardened }
    }

    /// `seed`, `hardened`, or `hardened-without-<fix>[-<fix>…]`.
    pub fn name(self) -> String {
        match self {
            Profile::SEED => "seed".into(),
            Profile::HARDENED => "hardened".into(),
            _ => {
                let missing: Vec<_> = Fix::ALL.iter().filter(|f| !self.has(**f)).map(|f| f.name()).collect();
                format!("hardened-without-{}", missing.join("-"))
            }
        }
    }

    /// Parses `seed`, `hardened` or `hardened-without-<fix>`.
    pub fn parse(text: &str) -> Option<Profile> {
        match text {
            "seed" => Some(Profile::SEED),
            "hardened" => Some(Profile::HARDENED),
            _ => {
                let fix = text.strip_prefix("hardened-without-")?;
                Fix::parse(fix).map(|f| Profile::HARDENED.without(f))
            }
        }
    }
}

/// A profile name that is not `seed`, `hardened` or `hardened-without-<fix>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error(
    "unknown profile {0:?}: expected seed, hardened or hardened-without-<fix> (a fix's name or erratum number)"
)]
pub struct UnknownProfile(pub String);

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Profile, UnknownProfile> {
        Profile::parse(text).ok_or_else(|| UnknownProfile(text.to_string()))
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Numeric protocol parameters (SPEC.md, "Constants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Params {
    /// PBKDF2 iteration count for `K_temp`.
    pub pbkdf2_iterations: u32,
    /// OTP lifetime in milliseconds.
    pub otp_ttl_ms: u64,
    /// Failed registration attempts allowed per OTP (with [`Fix::OtpLimits`]).
    pub max_otp_attempts: u32,
    /// OTP requests allowed per phone within [`otp_request_window_ms`](Self::otp_request_window_ms)
    /// (with [`Fix::OtpLimits`]).
    pub max_otp_requests: u32,
    /// The sliding window of the OTP request limit, in milliseconds.
    pub otp_request_window_ms: u64,
    /// Longest plaintext a client seals, in bytes.
    pub max_plaintext: usize,
    /// Most messages the server keeps in one recipient's offline queue.
    pub max_queued: usize,
    /// Most bytes ([`Message::stored_size`](crate::Message::stored_size)) in one
    /// recipient's offline queue.
    pub max_queued_bytes: usize,
    /// Most messages from one sender in one recipient's offline queue.
    pub max_queued_per_sender: usize,
    /// Most bytes from one sender in one recipient's offline queue.
    pub max_queued_bytes_per_sender: usize,
    /// Most stored messages sent in one delivery batch (SPEC.md §9.2).
    pub batch_messages: usize,
    /// Most bytes sent in one delivery batch (a batch holds at least one message).
    pub batch_bytes: usize,
    /// Most phones holding rows in the OTP tables (SPEC.md §5.1).
    pub max_otp_phones: usize,
    /// Most expired rows of each OTP table one sweep removes.
    pub otp_sweep_batch: usize,
}

/// PBKDF2 iterations: OWASP's 2023 figure for PBKDF2-HMAC-SHA-256.
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// An OTP is valid for 5 minutes (seed 1.2).
pub const OTP_TTL_MS: u64 = 5 * 60 * 1000;
/// At most 3 failed attempts per OTP in the hardened profile.
pub const MAX_OTP_ATTEMPTS: u32 = 3;
/// At most 3 OTP requests per phone per [`OTP_REQUEST_WINDOW_MS`] in the hardened profile.
pub const MAX_OTP_REQUESTS: u32 = 3;
/// The OTP request limit's sliding window: 15 minutes.
pub const OTP_REQUEST_WINDOW_MS: u64 = 15 * 60 * 1000;
/// Longest plaintext: 1 MiB, so that its AES-256-CBC ciphertext (1 MiB + 16) is the wire's
/// largest (SPEC.md §4.2).
pub const MAX_PLAINTEXT: usize = 1 << 20;
/// Most messages kept in one recipient's offline queue.
pub const MAX_QUEUED_MESSAGES: usize = 1000;
/// Most bytes kept in one recipient's offline queue: 64 MiB.
pub const MAX_QUEUED_BYTES: usize = 64 << 20;
/// Most messages from one sender kept in one recipient's offline queue.
pub const MAX_QUEUED_PER_SENDER: usize = 250;
/// Most bytes from one sender kept in one recipient's offline queue: 16 MiB.
pub const MAX_QUEUED_BYTES_PER_SENDER: usize = 16 << 20;
/// Most stored messages in one delivery batch.
pub const DELIVERY_BATCH_MESSAGES: usize = 32;
/// Most bytes in one delivery batch: 4 MiB (four of the largest messages).
pub const DELIVERY_BATCH_BYTES: usize = 4 << 20;
/// Most phones holding rows in the OTP tables at once.
pub const MAX_OTP_PHONES: usize = 10_000;
/// Most expired rows of each OTP table removed by one sweep.
pub const OTP_SWEEP_BATCH: usize = 64;
/// Width of the hardened replay window, in sequence numbers.
pub const REPLAY_WINDOW: u64 = 64;
/// Hardened sessions kept per peer; older ones are forgotten.
pub const MAX_SESSIONS_PER_PEER: usize = 4;
/// Key transports a hardened client records per peer (sent and accepted, E3) before it
/// refuses new ones with that peer: the seen set is bounded without forgetting any.
pub const MAX_TRANSPORTS_PER_PEER: usize = 1024;

impl Default for Params {
    fn default() -> Self {
        Params {
            pbkdf2_iterations: PBKDF2_ITERATIONS,
            otp_ttl_ms: OTP_TTL_MS,
            max_otp_attempts: MAX_OTP_ATTEMPTS,
            max_otp_requests: MAX_OTP_REQUESTS,
            otp_request_window_ms: OTP_REQUEST_WINDOW_MS,
            max_plaintext: MAX_PLAINTEXT,
            max_queued: MAX_QUEUED_MESSAGES,
            max_queued_bytes: MAX_QUEUED_BYTES,
            max_queued_per_sender: MAX_QUEUED_PER_SENDER,
            max_queued_bytes_per_sender: MAX_QUEUED_BYTES_PER_SENDER,
            batch_messages: DELIVERY_BATCH_MESSAGES,
            batch_bytes: DELIVERY_BATCH_BYTES,
            max_otp_phones: MAX_OTP_PHONES,
            otp_sweep_batch: OTP_SWEEP_BATCH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip() {
        for p in [Profile::SEED, Profile::HARDENED] {
            assert_eq!(Profile::parse(&p.name()), Some(p));
        }
        for f in Fix::ALL {
            let p = Profile::HARDENED.without(f);
            assert!(!p.has(f));
            assert_eq!(p.wire(), Wire::Hardened);
            assert_eq!(Profile::parse(&p.name()), Some(p));
        }
        assert_eq!(Profile::parse("hardened-without-nothing"), None);
        assert_eq!(Profile::SEED.wire(), Wire::Seed);
        // Errata numbers are aliases of the names.
        assert_eq!(
            Profile::parse("hardened-without-E4"),
            Some(Profile::HARDENED.without(Fix::EncryptThenMac))
        );
        assert_eq!(
            Profile::parse("hardened-without-e9"),
            Profile::parse("hardened-without-possession-proof")
        );
        assert_eq!(Profile::parse("hardened-without-E10"), None);
        let numbers: Vec<_> = Fix::ALL.iter().map(|f| f.erratum()).collect();
        assert_eq!(numbers, ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"]);
    }

    #[test]
    fn each_fix_owns_the_bit_of_its_erratum_number() {
        for (i, f) in Fix::ALL.into_iter().enumerate() {
            assert_eq!(f as u16, 1 << i, "{f:?}");
            assert_eq!(f.erratum(), format!("E{}", i + 1));
            assert_eq!(Fix::parse(f.name()), Some(f));
            assert!(!f.summary().is_empty());
        }
        assert_eq!(Profile::HARDENED.fixes.count_ones() as usize, Fix::ALL.len());
    }
}
