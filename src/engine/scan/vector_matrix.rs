//! Vectors held in memory as one flat array, with their ids and norms beside it.
//!
//! `Vec<Vec<f32>>` scatters vectors over the heap, one allocation each; a scan then jumps
//! from one to the next. One `Vec<f32>` of `n × d` values keeps them end to end, so a scan is
//! a single pass through memory that the prefetcher follows, and a block of any length is a
//! slice. The norms are computed once, at load, for cosine.

use crate::distances::Metric;
use crate::engine::scan::BlockScorer;
use crate::kernels;
use crate::top_k::TopK;

// ANCHOR: vector_matrix
/// `len()` vectors of `dimension` values, end to end, under their ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VectorMatrix {
    dimension: usize,
    ids: Vec<i64>,
    values: Vec<f32>,
    norms: Vec<f32>,
    /// `false` once an id was appended below the one before: then no id can be looked up.
    unsorted: bool,
}
// ANCHOR_END: vector_matrix

/// Vectors scored per kernel call: a block of this many stays in the L2 cache with its scores.
const BLOCK: usize = 1024;

impl VectorMatrix {
    /// An empty matrix of vectors of `dimension` values.
    pub fn new(dimension: usize) -> Self {
        VectorMatrix {
            dimension: dimension.max(1),
            ..Self::default()
        }
    }

    /// Appends vectors (end to end in `values`) under `ids`.
    pub fn extend(&mut self, ids: &[i64], values: &[f32]) {
        let count = ids.len().min(values.len() / self.dimension);
        let values = &values[..count * self.dimension];
        let start = self.norms.len();
        let mut previous = self.ids.last().copied();
        for &id in &ids[..count] {
            self.unsorted |= previous.is_some_and(|before| id <= before);
            previous = Some(id);
        }
        self.ids.extend_from_slice(&ids[..count]);
        self.values.extend_from_slice(values);
        self.norms.resize(start + count, 0.0);
        kernels::norms(values, self.dimension, &mut self.norms[start..]);
    }

    /// How many vectors.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// `true` when it holds no vector.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The values of every vector, end to end.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The ids, in storage order.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// `true` when the ids ascend, as in a collection loaded in id order: then a vector is
    /// found by id in `log n` steps ([`vector_of`](Self::vector_of)).
    pub fn in_id_order(&self) -> bool {
        !self.unsorted
    }

    /// The vector stored under `id`: by binary search when the ids ascend, else by a scan.
    pub fn vector_of(&self, id: i64) -> Option<&[f32]> {
        let row = if self.unsorted {
            self.ids.iter().position(|&stored| stored == id)
        } else {
            self.ids.binary_search(&id).ok()
        }?;
        let start = row * self.dimension;
        self.values.get(start..start + self.dimension)
    }

    /// Bytes held: values, ids and norms.
    pub fn bytes(&self) -> usize {
        self.values.len() * 4 + self.ids.len() * 8 + self.norms.len() * 4
    }

    // ANCHOR: matrix_offer
    /// Scores every vector with `scorer` and offers it to `best`, one block per kernel call.
    pub fn offer_all(&self, scorer: &mut BlockScorer<'_>, best: &mut TopK<i64>) {
        let step = BLOCK * self.dimension;
        for (block, (values, norms)) in self
            .values
            .chunks(step)
            .zip(self.norms.chunks(BLOCK))
            .enumerate()
        {
            let ids = &self.ids[block * BLOCK..];
            scorer.offer(values, Some(norms), best, |i| ids[i]);
        }
    }
    // ANCHOR_END: matrix_offer

    /// The best `k` vectors for `query` (already checked), best first.
    pub fn search(&self, metric: Metric, query: &[f32], k: usize) -> Vec<crate::engine::Neighbour> {
        let mut best = TopK::new(k, metric);
        let mut scorer = BlockScorer::new(metric, query);
        self.offer_all(&mut scorer, &mut best);
        BlockScorer::finish(metric, best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_found_by_id_in_either_order() {
        let mut matrix = VectorMatrix::new(2);
        matrix.extend(&[3, 5], &[1.0, 2.0, 3.0, 4.0]);
        matrix.extend(&[9], &[5.0, 6.0]);
        assert!(matrix.in_id_order());
        assert_eq!(matrix.vector_of(5), Some(&[3.0, 4.0][..]));
        assert_eq!(matrix.vector_of(4), None);
        matrix.extend(&[7], &[7.0, 8.0]);
        assert!(!matrix.in_id_order());
        assert_eq!(matrix.vector_of(7), Some(&[7.0, 8.0][..]));
        assert_eq!(matrix.vector_of(9), Some(&[5.0, 6.0][..]));
    }
}
