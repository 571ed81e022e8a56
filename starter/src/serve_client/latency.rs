//! Latencies kept in a histogram: percentiles of millions of searches in a few kilobytes.
//!
//! Keeping every latency to sort them at the end takes memory in proportion to the run. A
//! high-dynamic-range histogram (HdrHistogram) counts them instead in buckets whose width grows
//! with the value, so that every value is known to three significant digits (1.234 ms, 12.34 ms)
//! from a microsecond to a minute, in a fixed size whatever the number of searches.

use std::time::Duration;

use hdrhistogram::Histogram;

/// The slowest latency recorded as itself, in microseconds (a minute); slower ones are
/// recorded as this.
const HIGHEST_MICROS: u64 = 60_000_000;

/// The latencies of a run, in microseconds.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram, three significant digits from 1 µs to a minute.
    pub fn new() -> Self {
        // The bounds are constants within the crate's limits (1 ≤ low, 2·low ≤ high, sigfig ≤ 5).
        let histogram = Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)
            .unwrap_or_else(|_| unreachable!("constant, valid histogram bounds"));
        Latencies { histogram }
    }

    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.histogram
            .saturating_record(micros.clamp(1, HIGHEST_MICROS));
    }

    /// Adds the latencies of `other` (another worker's).
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding never fails; a failure would only lose counts.
        let _ = self.histogram.add(&other.histogram);
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The latency below which `percent` % of them fall, in milliseconds; 0 when empty.
    pub fn percentile_ms(&self, percent: f64) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        self.histogram.value_at_quantile(percent / 100.0) as f64 / 1000.0
    }

    /// The slowest, in milliseconds; 0 when empty.
    pub fn max_ms(&self) -> f64 {
        self.histogram.max() as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_latencies() {
        let mut latencies = Latencies::new();
        for ms in 1..=100 {
            latencies.record(Duration::from_millis(ms));
        }
        assert_eq!(latencies.count(), 100);
        assert!((latencies.percentile_ms(50.0) - 50.0).abs() < 0.1);
        assert!((latencies.percentile_ms(99.0) - 99.0).abs() < 0.1);
        assert!((latencies.max_ms() - 100.0).abs() < 0.1);
    }

    #[test]
    fn merged_workers_count_as_one_run_and_empty_is_zero() {
        let (mut a, mut b) = (Latencies::new(), Latencies::new());
        assert_eq!(a.percentile_ms(50.0), 0.0);
        a.record(Duration::from_millis(1));
        b.record(Duration::from_secs(3600)); // beyond the top: counted as a minute
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!((a.max_ms() - 60_000.0).abs() < 60.0);
    }
}
