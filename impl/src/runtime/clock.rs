//! The runtime's clock: simulated milliseconds that only the test (or demo) advances.

use std::time::Duration;

/// A manual clock. The protocol core never reads a clock; the runtime feeds it this one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Clock {
    now_ms: u64,
}

impl Clock {
    /// A clock reading `now_ms`.
    pub fn starting_at(now_ms: u64) -> Self {
        Clock { now_ms }
    }

    /// The current time in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Moves the clock forward by `by` (saturating; milliseconds are the resolution).
    pub fn advance(&mut self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now_ms = self.now_ms.saturating_add(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_advances_by_milliseconds_and_saturates() {
        let mut c = Clock::starting_at(5);
        c.advance(Duration::from_secs(300));
        assert_eq!(c.now_ms(), 300_005);
        c.advance(Duration::MAX);
        assert_eq!(c.now_ms(), u64::MAX);
    }
}
