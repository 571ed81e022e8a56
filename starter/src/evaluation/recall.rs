//! Recall@k: the share of the true k nearest neighbours a search found.
//!
//! For one query, recall@k = |found ∩ truth| / k, where `found` is the first k ids the search
//! returned and `truth` the exact top-k. An exact search scores 1.0; an approximate one misses
//! some true neighbours and scores less. The figure for a data set is the mean over its queries.
//!
//! The Python original asked both sides for k + 1 results (the query is in the base, so it finds
//! itself) and so measured recall@11 while calling it recall@10; it also shifted the database's
//! ids by one. Here the search returns exactly k ids, graded against exactly k true ids.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::evaluation::ground_truth::GroundTruth;

// ANCHOR: recall_at_k
/// |first `k` of `found` ∩ first `k` of `truth`| / k, each id counted once.
///
/// A search that returned fewer than `k` ids simply counts the missing ones as misses.
pub fn recall_at_k(found: &[i64], truth: &[i64], k: usize) -> f64 {
    // Task ch09_task1_recall_at_k: write this body (chapter 9, "Recall@k"),
    // then check it with `cargo xtask check 9`.
    todo!("ch09_task1_recall_at_k: see chapter 9, section \"Recall@k\"")
}

/// Mean recall@k over all queries; `results[i]` holds the ids found for query `i`.
pub fn mean_recall(results: &[Vec<i64>], truth: &GroundTruth) -> Result<f64> {
    if results.len() != truth.len() || results.is_empty() {
        return Err(Error::InvalidParameter {
            name: "results",
            reason: format!(
                "{} result lists for {} queries (need one per query, at least one)",
                results.len(),
                truth.len()
            ),
        });
    }
    let total: f64 = results
        .iter()
        .enumerate()
        .map(|(query, found)| recall_at_k(found, truth.neighbours(query), truth.k()))
        .sum();
    Ok(total / results.len() as f64)
}
// ANCHOR_END: recall_at_k

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;

    #[test]
    fn counts_the_share_of_true_neighbours_found() {
        assert_eq!(recall_at_k(&[1, 2, 3, 4], &[4, 3, 2, 1], 4), 1.0);
        assert_eq!(recall_at_k(&[1, 2, 9, 8], &[1, 2, 3, 4], 4), 0.5);
        assert_eq!(recall_at_k(&[7, 8, 9], &[1, 2, 3], 3), 0.0);
    }

    #[test]
    fn only_the_first_k_found_ids_count() {
        // The true neighbour 3 comes too late to count.
        assert_eq!(recall_at_k(&[1, 9, 3], &[1, 3], 2), 0.5);
    }

    #[test]
    fn missing_results_and_repeated_ids_are_not_hits() {
        assert_eq!(recall_at_k(&[1], &[1, 2, 3, 4], 4), 0.25);
        assert_eq!(recall_at_k(&[1, 1, 1, 1], &[1, 2, 3, 4], 4), 0.25);
        assert_eq!(recall_at_k(&[], &[1, 2], 2), 0.0);
    }

    #[test]
    fn mean_recall_averages_over_queries() {
        let base = vec![vec![0.0], vec![1.0], vec![2.0], vec![3.0]];
        let queries = vec![vec![0.0], vec![3.0]];
        let truth = GroundTruth::compute(&base, &queries, 2, Metric::Euclidean).expect("valid");
        // Query 0: truth {0, 1}, found {0, 3} → 0.5. Query 1: truth {3, 2}, found {2, 3} → 1.
        let mean = mean_recall(&[vec![0, 3], vec![2, 3]], &truth).expect("one list per query");
        assert!((mean - 0.75).abs() < 1e-12);
        assert!(mean_recall(&[vec![0, 1]], &truth).is_err());
    }
}
