//! Running every query of a data set through a search mode, then grading and timing it.
//!
//! As in the original, evaluation is two steps: [`Evaluator::query_with_all_vectors`] asks the
//! index each query in turn (timing each one on the wall clock), and
//! [`Evaluator::compute_recall_on_results`] grades the answers against the ground truth.
//! [`Evaluator::evaluate`] does both and summarises the latencies. Any [`VectorIndex`] can be
//! measured: brute force in memory or in SQLite, an inverted file, product quantization.

use std::time::{Duration, Instant};

use crate::engine::neighbour::ids_of;
use crate::engine::{SearchParams, VectorIndex};
use crate::error::Result;
use crate::evaluation::dataset::Dataset;
use crate::evaluation::latency::LatencySummary;
use crate::evaluation::recall::mean_recall;

// ANCHOR: evaluation
/// The verdict on one index at one setting: how much it found and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The index's name, such as `ivf(nlist=16)`.
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

/// Evaluates indexes against one data set.
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
    /// Runs all queries through `index` with `params` (its `k` is the data set's), then grades
    /// and times them.
    ///
    /// `after_each_query` is called once per query (to move a progress bar, for instance).
    ///
    /// # Errors
    ///
    /// The first error a search returns.
    pub fn evaluate(
        &self,
        index: &dyn VectorIndex,
        params: &SearchParams,
        after_each_query: &mut dyn FnMut(),
    ) -> Result<Evaluation> {
        let results = self.query_with_all_vectors(index, params, after_each_query)?;
        Ok(Evaluation {
            mode: index.name(),
            k: self.dataset.k(),
            recall: self.compute_recall_on_results(&results.found)?,
            latency: LatencySummary::from_latencies(&results.latencies)?,
        })
    }

    /// Asks `index` for the top-k of every query, timing each call on its own.
    ///
    /// # Errors
    ///
    /// The first error a search returns.
    pub fn query_with_all_vectors(
        &self,
        index: &dyn VectorIndex,
        params: &SearchParams,
        after_each_query: &mut dyn FnMut(),
    ) -> Result<QueryResults> {
        let params = SearchParams {
            k: self.dataset.k(),
            ..params.clone()
        };
        let n = self.dataset.queries().len();
        let mut results = QueryResults {
            found: Vec::with_capacity(n),
            latencies: Vec::with_capacity(n),
        };
        for query in self.dataset.queries() {
            let start = Instant::now();
            let found = index.search(query, &params)?;
            results.latencies.push(start.elapsed());
            results.found.push(ids_of(&found));
            after_each_query();
        }
        Ok(results)
    }

    /// Mean recall@k of `found` (one id list per query) against the ground truth.
    ///
    /// # Errors
    ///
    /// As [`mean_recall`].
    pub fn compute_recall_on_results(&self, found: &[Vec<i64>]) -> Result<f64> {
        mean_recall(found, self.dataset.ground_truth())
    }
    // ANCHOR_END: evaluate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;
    use crate::engine::{FlatIndex, IndexKind, Neighbour};
    use crate::error::Error;

    /// Returns the exact answer with its last id replaced by a wrong one.
    struct OneMissPerQuery(FlatIndex);

    impl VectorIndex for OneMissPerQuery {
        fn name(&self) -> String {
            "one miss".to_string()
        }
        fn kind(&self) -> IndexKind {
            IndexKind::Flat
        }
        fn dimension(&self) -> Option<usize> {
            self.0.dimension()
        }
        fn metric(&self) -> Metric {
            self.0.metric()
        }
        fn len(&self) -> Result<usize> {
            self.0.len()
        }
        fn add(&mut self, ids: &[i64], vectors: &[Vec<f32>]) -> Result<()> {
            self.0.add(ids, vectors)
        }
        fn search(&self, query: &[f32], params: &SearchParams) -> Result<Vec<Neighbour>> {
            let mut found = self.0.search(query, params)?;
            if let Some(last) = found.last_mut() {
                last.id = -1;
            }
            Ok(found)
        }
        fn bytes_per_vector(&self) -> usize {
            self.0.bytes_per_vector()
        }
    }

    fn line_dataset(k: usize) -> Dataset {
        let base: Vec<Vec<f32>> = (0..40).map(|i| vec![i as f32, (i % 3) as f32]).collect();
        let queries = base.iter().step_by(4).cloned().collect();
        Dataset::new(base, queries, k, Metric::Euclidean).expect("valid data set")
    }

    fn flat(base: &[Vec<f32>]) -> FlatIndex {
        let mut index = FlatIndex::new(Metric::Euclidean);
        index.insert(base).expect("valid");
        index
    }

    #[test]
    fn brute_force_has_perfect_recall() {
        let dataset = line_dataset(5);
        let index = flat(dataset.base());
        let mut calls = 0;
        let evaluation = Evaluator::new(&dataset)
            .evaluate(&index, &SearchParams::default(), &mut || calls += 1)
            .expect("runs");
        assert_eq!(evaluation.recall, 1.0);
        assert_eq!(evaluation.k, 5);
        assert_eq!(evaluation.mode, "flat");
        assert_eq!(evaluation.latency.n_queries, 10);
        assert_eq!(calls, 10, "called once per query");
        assert!(evaluation.latency.p50_ms <= evaluation.latency.p99_ms);
        assert!(evaluation.latency.qps > 0.0);
    }

    #[test]
    fn one_wrong_id_out_of_five_is_a_recall_of_0_8() {
        let dataset = line_dataset(5);
        let evaluation = Evaluator::new(&dataset)
            .evaluate(
                &OneMissPerQuery(flat(dataset.base())),
                &SearchParams::default(),
                &mut || {},
            )
            .expect("runs");
        assert!((evaluation.recall - 0.8).abs() < 1e-12);
        assert_eq!(evaluation.mode, "one miss");
    }

    #[test]
    fn a_search_error_is_passed_on() {
        // An index of 1-D vectors cannot answer 2-D queries.
        let dataset = line_dataset(1);
        let wrong = flat(&[vec![1.0]]);
        assert!(matches!(
            Evaluator::new(&dataset).evaluate(&wrong, &SearchParams::default(), &mut || {}),
            Err(Error::DimensionMismatch { .. })
        ));
    }
}
