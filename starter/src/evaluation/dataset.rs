//! A benchmark data set: base vectors, query vectors and the exact answers.
//!
//! The base is what a database stores (vector `i` under id `i`), the queries are what it is asked,
//! and the [`GroundTruth`] holds the exact top-k of each query, computed once here so every search
//! mode is graded against the same answers.

use crate::distances::Metric;
use crate::error::{Error, Result};
use crate::evaluation::ground_truth::GroundTruth;
use crate::validation::check_batch;

// ANCHOR: dataset
/// Base vectors, queries and their exact top-k under one metric.
#[derive(Debug, Clone)]
pub struct Dataset {
    base: Vec<Vec<f32>>,
    queries: Vec<Vec<f32>>,
    metric: Metric,
    ground_truth: GroundTruth,
}

impl Dataset {
    /// Checks the vectors and computes the exact top-`k` of every query by brute force.
    pub fn new(
        base: Vec<Vec<f32>>,
        queries: Vec<Vec<f32>>,
        k: usize,
        metric: Metric,
    ) -> Result<Self> {
        let dimension = check_batch(&base, None)?.ok_or_else(|| empty("base"))?;
        if queries.is_empty() {
            return Err(empty("queries"));
        }
        check_batch(&queries, Some(dimension))?;
        let ground_truth = GroundTruth::compute(&base, &queries, k, metric)?;
        Ok(Dataset {
            base,
            queries,
            metric,
            ground_truth,
        })
    }
    // ANCHOR_END: dataset

    /// The vectors a database stores; vector `i` is to be inserted under id `i`.
    pub fn base(&self) -> &[Vec<f32>] {
        &self.base
    }

    /// The ids the base vectors are inserted under: `0..n`.
    pub fn ids(&self) -> Vec<i64> {
        (0..self.base.len() as i64).collect()
    }

    /// The query vectors.
    pub fn queries(&self) -> &[Vec<f32>] {
        &self.queries
    }

    /// The metric the ground truth was computed with.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The number of neighbours asked for.
    pub fn k(&self) -> usize {
        self.ground_truth.k()
    }

    /// The number of values in each vector.
    pub fn dimension(&self) -> usize {
        self.base.first().map_or(0, Vec::len)
    }

    /// The exact top-k of every query.
    pub fn ground_truth(&self) -> &GroundTruth {
        &self.ground_truth
    }
}

fn empty(name: &'static str) -> Error {
    Error::InvalidParameter {
        name,
        reason: "needs at least one vector".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_the_ground_truth_and_numbers_the_base_from_zero() {
        let base = vec![vec![0.0, 0.0], vec![3.0, 0.0], vec![1.0, 0.0]];
        let dataset =
            Dataset::new(base, vec![vec![2.9, 0.0]], 2, Metric::Euclidean).expect("valid");
        assert_eq!(dataset.ids(), vec![0, 1, 2]);
        assert_eq!(dataset.dimension(), 2);
        assert_eq!(dataset.k(), 2);
        assert_eq!(dataset.ground_truth().neighbours(0), &[1, 2]);
    }

    #[test]
    fn bad_sets_are_typed_errors() {
        let base = vec![vec![0.0, 0.0], vec![1.0, 0.0]];
        assert!(matches!(
            Dataset::new(vec![], vec![vec![0.0]], 1, Metric::Euclidean),
            Err(Error::InvalidParameter { name: "base", .. })
        ));
        assert!(matches!(
            Dataset::new(base.clone(), vec![], 1, Metric::Euclidean),
            Err(Error::InvalidParameter {
                name: "queries",
                ..
            })
        ));
        assert!(matches!(
            Dataset::new(base.clone(), vec![vec![1.0]], 1, Metric::Euclidean),
            Err(Error::DimensionMismatch {
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(
            Dataset::new(
                base.clone(),
                vec![vec![f32::NAN, 0.0]],
                1,
                Metric::Euclidean
            ),
            Err(Error::NonFiniteValue { .. })
        ));
        assert!(matches!(
            Dataset::new(base, vec![vec![0.0, 0.0]], 3, Metric::Euclidean),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }
}
