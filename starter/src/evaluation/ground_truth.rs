//! The exact answers a search is graded against.
//!
//! Recall needs to know the *true* k nearest neighbours of every query. We get them the slow,
//! sure way: score the query against every base vector and keep the best k with the same bounded
//! heap the databases use ([`TopK`]), so equal scores go to the lower id. It is computed once per
//! data set and shared by every search mode and every setting of a sweep.

use crate::distances::Metric;
use crate::error::{Error, Result};
use crate::top_k::TopK;
use crate::validation::check_k;

// ANCHOR: ground_truth
/// The ids of the exact `k` nearest base vectors of each query, best first.
///
/// Base vector `i` has id `i`, the id it gets when the base is inserted in order from 0.
#[derive(Debug, Clone, PartialEq)]
pub struct GroundTruth {
    k: usize,
    neighbours: Vec<Vec<i64>>,
}

impl GroundTruth {
    /// Finds the exact top-`k` of every query by brute force, spread over the machine's cores.
    pub fn compute<V: AsRef<[f32]> + Sync>(
        base: &[V],
        queries: &[V],
        k: usize,
        metric: Metric,
    ) -> Result<Self> {
        check_k(k)?;
        if k > base.len() {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("k = {k} is larger than the {} base vectors", base.len()),
            });
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = queries.len().div_ceil(threads).max(1);
        let neighbours = std::thread::scope(|scope| {
            let workers: Vec<_> = queries
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|q| exact_top_k(base, q.as_ref(), k, metric))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join())
                .collect::<std::result::Result<Vec<_>, _>>()
        })
        .map_err(|_| Error::InvalidParameter {
            name: "queries",
            reason: "a ground-truth worker thread panicked".to_string(),
        })?;
        Ok(GroundTruth {
            k,
            neighbours: neighbours.into_iter().flatten().collect(),
        })
    }

    /// How many neighbours each query has.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The true neighbours of query number `query`, best first.
    pub fn neighbours(&self, query: usize) -> &[i64] {
        &self.neighbours[query]
    }

    /// How many queries there are.
    pub fn len(&self) -> usize {
        self.neighbours.len()
    }

    /// `true` when there are no queries.
    pub fn is_empty(&self) -> bool {
        self.neighbours.is_empty()
    }
}

/// The ids of the `k` base vectors that score best against `query` (lower id first on a tie).
fn exact_top_k<V: AsRef<[f32]>>(base: &[V], query: &[f32], k: usize, metric: Metric) -> Vec<i64> {
    let mut best = TopK::new(k, metric);
    for (id, vector) in base.iter().enumerate() {
        best.push(id as i64, metric.score(query, vector.as_ref()));
    }
    best.into_sorted_vec()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}
// ANCHOR_END: ground_truth

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_base_vectors_in_order() {
        let base = vec![
            vec![0.0, 0.0],
            vec![10.0, 0.0],
            vec![1.0, 0.0],
            vec![4.0, 0.0],
        ];
        let queries = vec![vec![0.9, 0.0], vec![9.0, 0.0]];
        let truth = GroundTruth::compute(&base, &queries, 2, Metric::Euclidean).expect("valid");
        assert_eq!(truth.len(), 2);
        assert_eq!(truth.neighbours(0), &[2, 0]);
        assert_eq!(truth.neighbours(1), &[1, 3]);
    }

    #[test]
    fn ties_go_to_the_lower_id() {
        // Ids 1, 2 and 3 are all at distance 1 from the query; 0 is farther.
        let base = vec![vec![5.0], vec![1.0], vec![-1.0], vec![1.0]];
        let truth = GroundTruth::compute(&base, &[vec![0.0]], 2, Metric::Euclidean).expect("valid");
        assert_eq!(truth.neighbours(0), &[1, 2]);
    }

    #[test]
    fn many_queries_split_over_threads_keep_their_order() {
        let base: Vec<Vec<f32>> = (0..50).map(|i| vec![i as f32]).collect();
        let queries: Vec<Vec<f32>> = (0..37).map(|i| vec![i as f32 + 0.1]).collect();
        let truth = GroundTruth::compute(&base, &queries, 1, Metric::Euclidean).expect("valid");
        for q in 0..37 {
            assert_eq!(truth.neighbours(q), &[q as i64]);
        }
    }

    #[test]
    fn cosine_keeps_the_highest_similarity() {
        let base = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]];
        let truth = GroundTruth::compute(&base, &[vec![0.1, 1.0]], 2, Metric::Cosine).expect("ok");
        assert_eq!(truth.neighbours(0), &[1, 2]);
    }

    #[test]
    fn k_zero_or_above_the_base_size_is_an_error() {
        let base = vec![vec![1.0], vec![2.0]];
        assert!(matches!(
            GroundTruth::compute(&base, &base, 0, Metric::Euclidean),
            Err(Error::ZeroK)
        ));
        assert!(matches!(
            GroundTruth::compute(&base, &base, 3, Metric::Euclidean),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }
}
