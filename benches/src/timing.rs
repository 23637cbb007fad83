//! The in-process timing loop of `ee2e bench compare` and `ee2e load`.
//!
//! An operation is first run for a warm-up period; then the number of iterations that fills
//! one batch of roughly the target duration is estimated, and that many iterations are timed
//! in each of several batches. The per-operation time of each batch is its duration divided
//! by its iterations; the result is the median over batches, with the fastest and slowest
//! batch as a measure of noise. Medians resist the bursts of a shared machine better than
//! means do.
//!
//! Two clocks are offered ([`Clock`]): the wall clock, and the CPU time of the calling
//! thread. On a shared machine the CPU-time clock leaves out the time the thread spent
//! preempted by other processes, which the wall clock counts; `openssl speed` makes the same
//! choice between `-elapsed` (wall) and its default (user CPU time).

use std::time::{Duration, Instant};

/// Which clock a measurement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// Wall-clock time (`Instant`).
    Wall,
    /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`): time spent preempted is
    /// not counted.
    #[default]
    Cpu,
}

impl Clock {
    /// Seconds since an arbitrary origin fixed for the process.
    pub fn now(self) -> f64 {
        match self {
            Clock::Wall => {
                static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
                ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64()
            }
            Clock::Cpu => thread_cpu_seconds(),
        }
    }
}

/// CPU time of the calling thread, in seconds (0 if the clock is unavailable).
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call writes only to it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// How long to time an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The clock.
    pub clock: Clock,
    /// Warm-up before measuring.
    pub warm_up: Duration,
    /// Target duration of one batch.
    pub batch: Duration,
    /// Number of batches (the median is taken over them).
    pub batches: usize,
}

impl Plan {
    /// 11 batches of 100 ms after 200 ms of warm-up.
    pub const DEFAULT: Plan = Plan {
        clock: Clock::Cpu,
        warm_up: Duration::from_millis(200),
        batch: Duration::from_millis(100),
        batches: 11,
    };
    /// 5 batches of 40 ms after 50 ms of warm-up (a quick look).
    pub const QUICK: Plan = Plan {
        clock: Clock::Cpu,
        warm_up: Duration::from_millis(50),
        batch: Duration::from_millis(40),
        batches: 5,
    };
}

/// Per-operation times over the batches of one measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Median per-operation time over batches, in nanoseconds.
    pub median_ns: f64,
    /// Fastest batch, per operation, in nanoseconds.
    pub min_ns: f64,
    /// Slowest batch, per operation, in nanoseconds.
    pub max_ns: f64,
    /// Iterations per batch.
    pub iterations: u64,
    /// Number of batches.
    pub batches: usize,
}

impl Stats {
    /// The spread (slowest − fastest batch) relative to the median, as a fraction.
    pub fn spread(&self) -> f64 {
        if self.median_ns > 0.0 { (self.max_ns - self.min_ns) / self.median_ns } else { 0.0 }
    }
}

/// The median of `values` (sorted in place); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}

/// Times `operation` under `plan`. The operation should pass its result through
/// [`std::hint::black_box`] so that it is not optimised away.
pub fn measure(plan: Plan, mut operation: impl FnMut()) -> Stats {
    let clock = plan.clock;
    // Warm-up, counting iterations to estimate the cost of one.
    let start = clock.now();
    let mut warm = 0u64;
    while clock.now() - start < plan.warm_up.as_secs_f64() || warm == 0 {
        operation();
        warm += 1;
    }
    let per_op = (clock.now() - start) / warm as f64;
    let iterations = ((plan.batch.as_secs_f64() / per_op.max(1e-9)) as u64).max(1);
    let mut times = Vec::with_capacity(plan.batches.max(1));
    for _ in 0..plan.batches.max(1) {
        let start = clock.now();
        for _ in 0..iterations {
            operation();
        }
        times.push((clock.now() - start) * 1e9 / iterations as f64);
    }
    let min_ns = times.iter().copied().fold(f64::INFINITY, f64::min);
    let max_ns = times.iter().copied().fold(0.0, f64::max);
    Stats { median_ns: median(&mut times), min_ns, max_ns, iterations, batches: plan.batches.max(1) }
}

/// Times `operation` `samples` times, one call per sample (for operations of many
/// milliseconds, such as key generation or PBKDF2 at 600 000 iterations).
pub fn measure_each(clock: Clock, samples: usize, mut operation: impl FnMut()) -> Stats {
    let mut times: Vec<f64> = (0..samples.max(1))
        .map(|_| {
            let start = clock.now();
            operation();
            (clock.now() - start) * 1e9
        })
        .collect();
    let min_ns = times.iter().copied().fold(f64::INFINITY, f64::min);
    let max_ns = times.iter().copied().fold(0.0, f64::max);
    Stats { median_ns: median(&mut times), min_ns, max_ns, iterations: 1, batches: samples.max(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn measure_reports_ordered_statistics() {
        for clock in [Clock::Wall, Clock::Cpu] {
            let plan = Plan {
                clock,
                warm_up: Duration::from_millis(1),
                batch: Duration::from_millis(1),
                batches: 3,
            };
            let mut x = 0u64;
            let stats = measure(plan, || x = std::hint::black_box(x.wrapping_add(1)));
            assert!(stats.min_ns <= stats.median_ns && stats.median_ns <= stats.max_ns);
            assert!(stats.median_ns > 0.0);
            assert_eq!(stats.batches, 3);
            assert!(stats.iterations >= 1);
        }
        // Sleeping takes wall time, and almost no CPU time.
        let each = measure_each(Clock::Wall, 3, || std::thread::sleep(Duration::from_micros(200)));
        assert!(each.median_ns >= 200_000.0);
        let each = measure_each(Clock::Cpu, 3, || std::thread::sleep(Duration::from_micros(200)));
        assert!(each.median_ns < 200_000.0);
    }
}
