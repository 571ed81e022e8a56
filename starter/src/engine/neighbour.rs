//! What every search returns: an id and its score.
//!
//! One result type for every index, in memory or in a file, so that the evaluator, the
//! command-line tool and the server handle answers the same way whichever index gave them.

use serde::Serialize;

use crate::distances::Metric;

// ANCHOR: neighbour
/// One search result: the `id` a vector was stored under and its `score` against the query.
///
/// The score is the collection's [`Metric`]: a cosine similarity (higher is closer) or a
/// euclidean distance (lower is closer); an approximate index may return an estimate of it
/// (product quantization estimates the distance from codes). **Every search returns its
/// neighbours best first; ties go to the lower id**, so an answer is reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Neighbour {
    pub id: i64,
    pub score: f32,
}
// ANCHOR_END: neighbour

impl Neighbour {
    /// A result for `id` with `score`.
    pub fn new(id: i64, score: f32) -> Self {
        Neighbour { id, score }
    }
}

impl From<(i64, f32)> for Neighbour {
    fn from((id, score): (i64, f32)) -> Self {
        Neighbour { id, score }
    }
}

/// The ids of `neighbours`, in their order.
pub fn ids_of(neighbours: &[Neighbour]) -> Vec<i64> {
    neighbours.iter().map(|n| n.id).collect()
}

/// Sorts `neighbours` best first under `metric`, ties to the lower id: the one order of results.
pub fn sort_best_first(neighbours: &mut [Neighbour], metric: Metric) {
    neighbours.sort_by(|a, b| {
        metric
            .rank_key(a.score)
            .total_cmp(&metric.rank_key(b.score))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_first_depends_on_the_metric_and_ties_go_to_the_lower_id() {
        let mut found = vec![
            Neighbour::new(3, 0.5),
            Neighbour::new(1, 0.9),
            Neighbour::new(2, 0.5),
        ];
        sort_best_first(&mut found, Metric::Cosine);
        assert_eq!(ids_of(&found), [1, 2, 3]);
        sort_best_first(&mut found, Metric::Euclidean);
        assert_eq!(ids_of(&found), [2, 3, 1]);
    }
}
