//! Running every query of a data set through a search mode, then grading and timing it.
//!
//! As in the original, evaluation is two steps: [`Evaluator::query_with_all_vectors`] asks the
//! search mode each query in turn (timing each one on the wall clock), and
//! [`Evaluator::compute_recall_on_results`] grades the answers against the ground truth.
//! [`Evaluator::evaluate`] does both and summarises the latencies.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::evaluation::dataset::Dataset;
use crate::evaluation::latency::LatencySummary;
use crate::evaluation::recall::mean_recall;
use crate::evaluation::search_mode::SearchMode;

// ANCHOR: evaluation
/// The verdict on one search mode: how much it found and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub mode: String,
    pub k: usize,
    /// Mean recall@k over the queries.
    pub recall: f64,
    pub latency: LatencySummary,
}

/// The ids each query returned, and how long each query took.
#[derive(Debug, Clone)]
pub struct QueryResults {
    pub found: Vec<Vec<i64>>,
    pub latencies: Vec<Duration>,
}
// ANCHOR_END: evaluation

/// Evaluates search modes against one data set.
#[derive(Debug, Clone, Copy)]
pub struct Evaluator<'a> {
    dataset: &'a Dataset,
}

impl<'a> Evaluator<'a> {
    /// An evaluator grading against `dataset`'s ground truth.
    pub fn new(dataset: &'a Dataset) -> Self {
        Evaluator { dataset }
    }

    // ANCHOR: evaluate
    /// Runs all queries through `mode`, then grades and times them.
    ///
    /// `after_each_query` is called once per query (to move a progress bar, for instance).
    pub fn evaluate(
        &self,
        mode: &dyn SearchMode,
        after_each_query: &mut dyn FnMut(),
    ) -> Result<Evaluation> {
        let results = self.query_with_all_vectors(mode, after_each_query)?;
        Ok(Evaluation {
            mode: mode.name(),
            k: self.dataset.k(),
            recall: self.compute_recall_on_results(&results.found)?,
            latency: LatencySummary::from_latencies(&results.latencies)?,
        })
    }

    /// Asks `mode` for the top-k of every query, timing each call on its own.
    pub fn query_with_all_vectors(
        &self,
        mode: &dyn SearchMode,
        after_each_query: &mut dyn FnMut(),
    ) -> Result<QueryResults> {
        let k = self.dataset.k();
        let n = self.dataset.queries().len();
        let mut results = QueryResults {
            found: Vec::with_capacity(n),
            latencies: Vec::with_capacity(n),
        };
        for query in self.dataset.queries() {
            let start = Instant::now();
            let found = mode.search(query, k)?;
            results.latencies.push(start.elapsed());
            results.found.push(found);
            after_each_query();
        }
        Ok(results)
    }

    /// Mean recall@k of `found` (one id list per query) against the ground truth.
    pub fn compute_recall_on_results(&self, found: &[Vec<i64>]) -> Result<f64> {
        mean_recall(found, self.dataset.ground_truth())
    }
    // ANCHOR_END: evaluate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;
    use crate::error::Error;
    use crate::evaluation::modes::InMemoryBruteForce;

    /// Returns the exact answer with its last id replaced by a wrong one.
    struct OneMissPerQuery(InMemoryBruteForce);

    impl SearchMode for OneMissPerQuery {
        fn name(&self) -> String {
            "one miss".to_string()
        }
        fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>> {
            let mut ids = self.0.search(query, k)?;
            if let Some(last) = ids.last_mut() {
                *last = -1;
            }
            Ok(ids)
        }
    }

    fn line_dataset(k: usize) -> Dataset {
        let base: Vec<Vec<f32>> = (0..40).map(|i| vec![i as f32, (i % 3) as f32]).collect();
        let queries = base.iter().step_by(4).cloned().collect();
        Dataset::new(base, queries, k, Metric::Euclidean).expect("valid data set")
    }

    #[test]
    fn brute_force_has_perfect_recall() {
        let dataset = line_dataset(5);
        let mode = InMemoryBruteForce::new(dataset.base(), Metric::Euclidean).expect("valid");
        let mut calls = 0;
        let evaluation = Evaluator::new(&dataset)
            .evaluate(&mode, &mut || calls += 1)
            .expect("runs");
        assert_eq!(evaluation.recall, 1.0);
        assert_eq!(evaluation.k, 5);
        assert_eq!(evaluation.latency.n_queries, 10);
        assert_eq!(calls, 10, "called once per query");
        assert!(evaluation.latency.p50_ms <= evaluation.latency.p99_ms);
        assert!(evaluation.latency.qps > 0.0);
    }

    #[test]
    fn one_wrong_id_out_of_five_is_a_recall_of_0_8() {
        let dataset = line_dataset(5);
        let exact = InMemoryBruteForce::new(dataset.base(), Metric::Euclidean).expect("valid");
        let evaluation = Evaluator::new(&dataset)
            .evaluate(&OneMissPerQuery(exact), &mut || {})
            .expect("runs");
        assert!((evaluation.recall - 0.8).abs() < 1e-12);
        assert_eq!(evaluation.mode, "one miss");
    }

    #[test]
    fn a_search_error_is_passed_on() {
        // A mode built on 1-D vectors cannot answer 2-D queries.
        let dataset = line_dataset(1);
        let wrong = InMemoryBruteForce::new(&[vec![1.0]], Metric::Euclidean).expect("valid");
        assert!(matches!(
            Evaluator::new(&dataset).evaluate(&wrong, &mut || {}),
            Err(Error::DimensionMismatch { .. })
        ));
    }
}
