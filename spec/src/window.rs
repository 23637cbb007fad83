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
///
/// It keeps the highest accepted number itself, not one more than it, so that the whole
/// sequence space up to `u64::MAX` is usable and nothing wraps (SPEC.md §7.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayWindow {
    /// The highest accepted number; `None` when none was accepted.
    highest: Option<u64>,
    /// Bit `i` set: number `highest - i` was accepted.
    seen: u64,
}

impl ReplayWindow {
    /// The highest accepted sequence number, if any.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// The bitmap of accepted numbers below [`highest`](Self::highest): bit `i` set means
    /// `highest - i` was accepted (persisted with the session, SPEC.md §2.2).
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// A window restored from [`highest`](Self::highest) and [`seen`](Self::seen), as a
    /// keystore persisted them. A bitmap without a highest number is meaningless and is
    /// refused (`None`), as is one whose bit 0 (the highest itself) is clear.
    pub fn from_parts(highest: Option<u64>, seen: u64) -> Option<Self> {
        match highest {
            None if seen == 0 => Some(ReplayWindow::default()),
            Some(_) if seen & 1 == 1 => Some(ReplayWindow { highest, seen }),
            _ => None,
        }
    }

    /// Whether `seq` may be accepted. Does not change the window.
    pub fn check(&self, seq: u64) -> Result<(), WindowError> {
        let Some(highest) = self.highest else { return Ok(()) };
        if seq > highest {
            return Ok(());
        }
        let age = highest - seq;
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
        match self.highest {
            Some(highest) if seq <= highest => {
                // An accepted number too old for the window has no bit to set.
                if highest - seq < REPLAY_WINDOW {
                    self.seen |= 1 << (highest - seq);
                }
            }
            Some(highest) => {
                let shift = seq - highest;
                self.seen = if shift >= REPLAY_WINDOW { 0 } else { self.seen << shift } | 1;
                self.highest = Some(seq);
            }
            None => {
                self.seen = 1;
                self.highest = Some(seq);
            }
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

    /// Runs `seqs` through check-then-accept, as the client does, and returns each verdict.
    fn run(seqs: &[u64]) -> Vec<Result<(), WindowError>> {
        let mut w = ReplayWindow::default();
        seqs.iter()
            .map(|&seq| {
                let verdict = w.check(seq);
                if verdict.is_ok() {
                    w.accept(seq);
                }
                verdict
            })
            .collect()
    }

    const MAX: u64 = u64::MAX;

    // The five sequences of SPEC.md §7.4 "End of the sequence space": with `next = seq + 1`
    // accepting MAX wrapped the window to empty, and each second number below was accepted.

    #[test]
    fn window_rejects_max_twice() {
        assert_eq!(run(&[MAX, MAX]), [Ok(()), Err(WindowError::Replayed)]);
    }

    #[test]
    fn window_rejects_zero_after_max_as_too_old() {
        assert_eq!(run(&[MAX, 0]), [Ok(()), Err(WindowError::TooOld)]);
    }

    #[test]
    fn window_rejects_number_replayed_across_max() {
        assert_eq!(run(&[5, MAX, 5]), [Ok(()), Ok(()), Err(WindowError::TooOld)]);
    }

    #[test]
    fn window_rejects_replay_just_below_max() {
        assert_eq!(run(&[MAX - 1, MAX, MAX - 1]), [Ok(()), Ok(()), Err(WindowError::Replayed)]);
    }

    #[test]
    fn window_rejects_max_minus_width_after_max() {
        assert_eq!(run(&[MAX, MAX - REPLAY_WINDOW]), [Ok(()), Err(WindowError::TooOld)]);
        // The oldest number still inside the window is accepted once.
        assert_eq!(
            run(&[MAX, MAX - REPLAY_WINDOW + 1, MAX - REPLAY_WINDOW + 1]),
            [Ok(()), Ok(()), Err(WindowError::Replayed)]
        );
    }

    #[test]
    fn window_highest_never_decreases() {
        let mut w = ReplayWindow::default();
        assert_eq!(w.highest(), None);
        for seq in [7, MAX - 3, 2, MAX - 10] {
            if w.check(seq).is_ok() {
                w.accept(seq);
            }
        }
        assert_eq!(w.highest(), Some(MAX - 3));
        w.accept(MAX);
        assert_eq!(w.highest(), Some(MAX));
    }

    #[test]
    fn window_round_trips_through_its_parts_and_refuses_inconsistent_ones() {
        let mut w = ReplayWindow::default();
        assert_eq!(ReplayWindow::from_parts(w.highest(), w.seen()), Some(w.clone()));
        for seq in [9, 3, 7] {
            w.accept(seq);
        }
        let restored = ReplayWindow::from_parts(w.highest(), w.seen()).expect("consistent parts");
        assert_eq!(restored, w);
        assert_eq!(restored.check(7), Err(WindowError::Replayed));
        assert_eq!(restored.check(8), Ok(()));
        assert_eq!(ReplayWindow::from_parts(None, 1), None);
        assert_eq!(ReplayWindow::from_parts(Some(9), 0b10), None);
    }

    #[test]
    fn window_check_does_not_change_state() {
        let w = ReplayWindow::default();
        let before = w.clone();
        let _ = w.check(7);
        assert_eq!(w, before);
    }
}
