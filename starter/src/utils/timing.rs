//! Timing a piece of work, as the original's `@timeit` decorator does.
//!
//! Rust has no decorators, but a function that takes a closure does the same job: it runs the
//! closure, logs how long it took and hands back whatever the closure returned.

use std::time::{Duration, Instant};

// ANCHOR: timeit
/// Runs `work`, logs `"<name> took N.NNNN seconds"` and returns its value.
pub fn timeit<T>(name: &str, work: impl FnOnce() -> T) -> T {
    let (value, elapsed) = measure(work);
    log::info!("{name} took {:.4} seconds", elapsed.as_secs_f64());
    value
}

/// Runs `work` and returns its value with the time it took, without logging.
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = work();
    (value, start.elapsed())
}
// ANCHOR_END: timeit

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeit_returns_the_closures_value() {
        assert_eq!(timeit("addition", || 2 + 2), 4);
    }

    #[test]
    fn measure_reports_at_least_the_time_spent() {
        let ((), elapsed) = measure(|| std::thread::sleep(Duration::from_millis(20)));
        assert!(elapsed >= Duration::from_millis(20));
    }
}
