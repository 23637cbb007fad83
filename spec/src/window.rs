//! The hardened receive-side replay window (the RFC 4303 §3.4.3 sliding window).

use crate::profile::REPLAY_WINDOW;

/// Why a sequence number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowError {
    /// The number was accepted before.
    Replayed,
    /// The number is older than the window remembers.
    TooOld,
}

/// Remembers which of the last [`REPLAY_WINDOW`] sequence numbers were accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayWindow {
    /// One more than the highest accepted number; 0 when none was accepted.
    next: u64,
    /// Bit `i` set: number `next - 1 - i` was accepted.
    seen: u64,
}

impl ReplayWindow {
    /// Whether `seq` may be accepted. Does not change the window.
    pub fn check(&self, seq: u64) -> Result<(), WindowError> {
        if seq >= self.next {
            return Ok(());
        }
        let age = self.next - 1 - seq;
        if age >= REPLAY_WINDOW {
            Err(WindowError::TooOld)
        } else if self.seen & (1 << age) != 0 {
            Err(WindowError::Replayed)
        } else {
            Ok(())
        }
    }

    /// Records `seq` as accepted; call only after [`check`](Self::check) and every other check passed.
    pub fn accept(&mut self, seq: u64) {
        if seq >= self.next {
            let shift = seq - self.next + 1;
            self.seen = if shift >= REPLAY_WINDOW { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.next = seq + 1;
        } else {
            self.seen |= 1 << (self.next - 1 - seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_accepts_out_of_order_numbers_exactly_once() {
        let mut w = ReplayWindow::default();
        for seq in [3, 0, 2, 1, 5, 4] {
            assert_eq!(w.check(seq), Ok(()), "{seq}");
            w.accept(seq);
        }
        for seq in 0..=5 {
            assert_eq!(w.check(seq), Err(WindowError::Replayed), "{seq}");
        }
        assert_eq!(w.check(6), Ok(()));
    }

    #[test]
    fn window_rejects_numbers_older_than_its_width() {
        let mut w = ReplayWindow::default();
        w.accept(100);
        assert_eq!(w.check(100 - REPLAY_WINDOW), Err(WindowError::TooOld));
        assert_eq!(w.check(100 - REPLAY_WINDOW + 1), Ok(()));
        w.accept(100 + 2 * REPLAY_WINDOW);
        assert_eq!(w.check(100), Err(WindowError::TooOld));
        assert_eq!(w.check(100 + 2 * REPLAY_WINDOW), Err(WindowError::Replayed));
    }

    #[test]
    fn window_check_does_not_change_state() {
        let w = ReplayWindow::default();
        let before = w.clone();
        let _ = w.check(7);
        assert_eq!(w, before);
    }
}
