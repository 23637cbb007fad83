//! The suite's random source and what it draws: RNG policy, OTP digits.

use rand_core::{Rng as _, SeedableRng};
use zeroize::Zeroizing;

/// The random source of the concrete suite: ChaCha20, a userspace CSPRNG.
///
/// Seeded once from the operating system ([`os_rng`]) so that drawing an IV costs no system
/// call, or from a fixed seed ([`seeded_rng`]) for reproducible vectors and tests. It
/// implements `rand_core` 0.10's `CryptoRng`, which the `rsa` crate requires.
pub type Rng = rand_chacha::ChaCha20Rng;

/// A [`Rng`] seeded from the operating system's random source.
///
/// # Panics
/// If the operating system cannot provide randomness (there is no safe way to continue).
pub fn os_rng() -> Rng {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).expect("the operating system random source failed");
    Rng::from_seed(*seed)
}

/// A deterministic [`Rng`] from a fixed seed, for test vectors and reproducible tests only.
pub fn seeded_rng(seed: [u8; 32]) -> Rng {
    Rng::from_seed(seed)
}

/// Bytes [`fork`] draws from its parent: a ChaCha20 seed.
pub(crate) const FORK_SEED_LEN: usize = 32;

/// A generator seeded with [`FORK_SEED_LEN`] bytes drawn from `rng`: randomness for an
/// operation that draws a variable amount (RSA blinding's rejection sampling), while the
/// caller's generator always advances by the same number of bytes, so that every suite
/// leaves it in the same state and the conformance vectors' later draws match.
pub(super) fn fork(rng: &mut Rng) -> Rng {
    let mut seed = Zeroizing::new([0u8; FORK_SEED_LEN]);
    rng.fill_bytes(seed.as_mut());
    Rng::from_seed(*seed)
}

/// Number of digits of a one-time password.
const OTP_DIGITS: usize = 6;
/// `10^OTP_DIGITS`.
pub(super) const OTP_RANGE: u32 = 1_000_000;
/// The largest multiple of [`OTP_RANGE`] not above 2^32: draws at or above it are rejected,
/// so that `draw % OTP_RANGE` is uniform.
pub(super) const OTP_LIMIT: u32 = (u32::MAX / OTP_RANGE) * OTP_RANGE;

/// A uniform one-time password: [`OTP_DIGITS`] ASCII decimal digits, by rejection sampling.
pub(super) fn otp_digits(rng: &mut Rng) -> Vec<u8> {
    let draw = loop {
        let draw = rng.next_u32();
        if draw < OTP_LIMIT {
            break draw % OTP_RANGE;
        }
    };
    let mut digits = vec![0u8; OTP_DIGITS];
    let mut rest = draw;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    digits
}

/// `len` fresh bytes from `rng`.
pub(super) fn fresh_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes
}
