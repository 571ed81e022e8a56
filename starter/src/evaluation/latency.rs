//! Per-query latency percentiles and queries per second.
//!
//! A mean hides the slow queries a user actually waits on, so we report percentiles: P50 (the
//! typical query), P95 and P99 (the slow tail). We use the **nearest-rank** method: the p-th
//! percentile of n sorted latencies is the value at rank ⌈p/100 · n⌉ (counting from 1). It is
//! always one of the measured latencies, never an interpolation between two.

use std::time::Duration;

use crate::error::{Error, Result};

// ANCHOR: latency_summary
/// What a run of queries cost, in wall-clock time per query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    pub n_queries: usize,
    /// Queries per second: the number of queries over the sum of their latencies.
    pub qps: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl LatencySummary {
    /// Summarises one latency per query.
    pub fn from_latencies(latencies: &[Duration]) -> Result<Self> {
        if latencies.is_empty() {
            return Err(Error::InvalidParameter {
                name: "latencies",
                reason: "no query was timed".to_string(),
            });
        }
        let mut sorted_ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        sorted_ms.sort_by(f64::total_cmp);
        let total_s = latencies.iter().map(Duration::as_secs_f64).sum::<f64>();
        let n = latencies.len();
        Ok(LatencySummary {
            n_queries: n,
            // A clock too coarse to see the queries at all would give 0 s; do not divide by it.
            qps: if total_s > 0.0 {
                n as f64 / total_s
            } else {
                f64::INFINITY
            },
            mean_ms: total_s * 1e3 / n as f64,
            p50_ms: percentile_nearest_rank(&sorted_ms, 50.0),
            p95_ms: percentile_nearest_rank(&sorted_ms, 95.0),
            p99_ms: percentile_nearest_rank(&sorted_ms, 99.0),
        })
    }
}

/// The `p`-th percentile (0 < p ≤ 100) of ascending `sorted` values, by nearest rank.
///
/// Returns NaN for an empty slice.
pub fn percentile_nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
// ANCHOR_END: latency_summary

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_a_measured_value() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile_nearest_rank(&values, 50.0), 50.0);
        assert_eq!(percentile_nearest_rank(&values, 95.0), 95.0);
        assert_eq!(percentile_nearest_rank(&values, 99.0), 99.0);
        assert_eq!(percentile_nearest_rank(&values, 100.0), 100.0);
        // Five values: P50 is rank ⌈2.5⌉ = 3, P95 and P99 are rank 5.
        let five = [1.0, 2.0, 3.0, 4.0, 50.0];
        assert_eq!(percentile_nearest_rank(&five, 50.0), 3.0);
        assert_eq!(percentile_nearest_rank(&five, 95.0), 50.0);
        assert_eq!(percentile_nearest_rank(&[7.0], 99.0), 7.0);
        assert!(percentile_nearest_rank(&[], 50.0).is_nan());
    }

    #[test]
    fn summary_reports_percentiles_mean_and_qps() {
        // 99 queries of 1 ms and one of 101 ms: 200 ms in all.
        let mut latencies = vec![Duration::from_millis(1); 99];
        latencies.push(Duration::from_millis(101));
        let summary = LatencySummary::from_latencies(&latencies).expect("timed queries");
        assert_eq!(summary.n_queries, 100);
        assert!((summary.p50_ms - 1.0).abs() < 1e-9);
        assert!(
            (summary.p99_ms - 1.0).abs() < 1e-9,
            "rank 99 is still a 1 ms query"
        );
        assert!(
            (summary.mean_ms - 2.0).abs() < 1e-9,
            "the mean is pulled up by the one slow query"
        );
        assert!((summary.qps - 500.0).abs() < 1e-6);
    }

    #[test]
    fn the_order_of_latencies_does_not_matter() {
        let a = [3, 1, 2].map(Duration::from_millis);
        let b = [1, 2, 3].map(Duration::from_millis);
        assert_eq!(
            LatencySummary::from_latencies(&a).ok(),
            LatencySummary::from_latencies(&b).ok()
        );
    }

    #[test]
    fn no_latencies_is_an_error() {
        assert!(LatencySummary::from_latencies(&[]).is_err());
    }
}
