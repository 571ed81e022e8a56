//! Keeping the best k of a stream of scored candidates.
//!
//! Sorting all N scores to keep k of them costs O(N log N) time and O(N) memory. A **bounded
//! heap** does better: it holds at most k candidates with the *worst* of them on top, so each new
//! candidate is compared with that one worst score and either thrown away or swapped in, in
//! O(log k). The whole search is O(N log k) time and O(k) memory, whatever N is.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::distances::Metric;
use crate::engine::Neighbour;

// ANCHOR: candidate
/// A scored key in the heap, ordered so that the *worst* candidate is the greatest.
#[derive(Debug, Clone, Copy)]
struct Candidate<K> {
    /// The score as a rank key: lower is better, whatever the metric.
    rank: f32,
    key: K,
    score: f32,
}

impl<K: Ord> Ord for Candidate<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Ties are broken by key, the lower key ranking first, so results are reproducible.
        self.rank
            .total_cmp(&other.rank)
            .then_with(|| self.key.cmp(&other.key))
    }
}

impl<K: Ord> PartialOrd for Candidate<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord> PartialEq for Candidate<K> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<K: Ord> Eq for Candidate<K> {}
// ANCHOR_END: candidate

// ANCHOR: top_k
/// The best `k` `(key, score)` pairs seen so far under a [`Metric`].
#[derive(Debug, Clone)]
pub struct TopK<K> {
    k: usize,
    metric: Metric,
    heap: BinaryHeap<Candidate<K>>,
}

impl<K: Ord + Copy> TopK<K> {
    /// An empty collector that will keep at most `k` candidates.
    pub fn new(k: usize, metric: Metric) -> Self {
        TopK {
            k,
            metric,
            heap: BinaryHeap::with_capacity(k.saturating_add(1).min(1 << 16)),
        }
    }

    /// Offers a candidate; it is kept only if it beats the worst of the current k.
    pub fn push(&mut self, key: K, score: f32) {
        // Task ch02_task2_bounded_heap: write this body (chapter 2, "Search: one pass, a bounded heap"),
        // then check it with `cargo xtask check 2`.
        todo!("ch02_task2_bounded_heap: see chapter 2, section \"Search: one pass, a bounded heap\"")
    }

    // ANCHOR: admits
    /// `true` when a candidate of `score` would be kept: the heap is not full yet, or the score
    /// beats the worst kept one (a tie may still be kept, by key). A scan of a block asks this
    /// first, so the millions of candidates that lose cost a comparison, not a heap operation.
    #[inline]
    pub fn admits(&self, score: f32) -> bool {
        // Task ch12_task1_admits: write this body (chapter 12, "Blocks"),
        // then check it with `cargo xtask check 12`.
        todo!("ch12_task1_admits: see chapter 12, section \"Blocks\"")
    }
    // ANCHOR_END: admits

    /// The kept candidates, best first.
    pub fn into_sorted_vec(self) -> Vec<(K, f32)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| (c.key, c.score))
            .collect()
    }
}

impl TopK<i64> {
    /// The kept candidates as search results, best first.
    pub fn into_neighbours(self) -> Vec<Neighbour> {
        self.into_sorted_vec()
            .into_iter()
            .map(Neighbour::from)
            .collect()
    }
}
// ANCHOR_END: top_k

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_highest_cosine_scores_best_first() {
        let mut top = TopK::new(3, Metric::Cosine);
        for (key, score) in [(0, 0.1), (1, 0.9), (2, -0.5), (3, 0.7), (4, 0.95), (5, 0.2)] {
            top.push(key, score);
        }
        assert_eq!(top.into_sorted_vec(), vec![(4, 0.95), (1, 0.9), (3, 0.7)]);
    }

    #[test]
    fn keeps_the_k_lowest_euclidean_distances_best_first() {
        let mut top = TopK::new(2, Metric::Euclidean);
        for (key, score) in [(0, 3.0), (1, 0.5), (2, 9.0), (3, 0.1)] {
            top.push(key, score);
        }
        assert_eq!(top.into_sorted_vec(), vec![(3, 0.1), (1, 0.5)]);
    }

    #[test]
    fn ties_go_to_the_lower_key() {
        let mut top = TopK::new(2, Metric::Euclidean);
        for key in [7, 3, 5, 1] {
            top.push(key, 1.0);
        }
        assert_eq!(top.into_sorted_vec(), vec![(1, 1.0), (3, 1.0)]);
    }

    #[test]
    fn admits_exactly_what_push_would_keep() {
        let mut top = TopK::new(3, Metric::Euclidean);
        for (key, score) in [(0, 5.0), (1, 2.0), (2, 8.0)] {
            assert!(top.admits(score), "not full yet");
            top.push(key, score);
        }
        assert!(
            top.admits(4.0) && top.admits(8.0),
            "better than the worst, or tied with it"
        );
        assert!(!top.admits(8.5));
        let mut cosine = TopK::new(1, Metric::Cosine);
        cosine.push(0, 0.5);
        assert!(cosine.admits(0.9) && !cosine.admits(0.1));
    }

    #[test]
    fn fewer_candidates_than_k_returns_them_all() {
        let mut top = TopK::new(10, Metric::Cosine);
        top.push(0, 0.5);
        top.push(1, 0.6);
        assert_eq!(top.into_sorted_vec(), vec![(1, 0.6), (0, 0.5)]);
    }

    #[test]
    fn agrees_with_a_full_sort() {
        // A deterministic pseudo-random stream; the heap must keep what a full sort keeps.
        let scores: Vec<f32> = (0..1000u32)
            .map(|i| ((i * 7919) % 1009) as f32 / 1009.0)
            .collect();
        let mut top = TopK::new(25, Metric::Euclidean);
        for (i, s) in scores.iter().enumerate() {
            top.push(i, *s);
        }
        let mut sorted: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        sorted.truncate(25);
        assert_eq!(top.into_sorted_vec(), sorted);
    }
}
