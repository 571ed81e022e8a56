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
    /// `true` once an id was appended below or equal to the one before: then a vector is
    /// found by id only by a scan.
    unsorted: bool,
    /// `true` once an id was appended that is not the one before plus one: then a vector is
    /// found by a binary search rather than at `id - first id`.
    gapped: bool,
}
// ANCHOR_END: vector_matrix

/// How [`VectorMatrix::vector_of`] finds a vector, from how its ids were appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Consecutive ids: the vector of `id` is row `id - first id`.
    Direct,
    /// Ascending ids with gaps.
    BinarySearch,
    /// Ids in no order.
    Scan,
}

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
            self.gapped |= previous.is_some_and(|before| before.checked_add(1) != Some(id));
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

    /// How a vector is found by id ([`vector_of`](Self::vector_of)).
    pub fn lookup(&self) -> Lookup {
        match (self.unsorted, self.gapped) {
            (false, false) => Lookup::Direct,
            (false, true) => Lookup::BinarySearch,
            (true, _) => Lookup::Scan,
        }
    }

    /// The vector stored under `id`: at its place when the ids are consecutive, as a
    /// collection loaded from an empty file numbers them; by binary search when they ascend;
    /// else by a scan.
    pub fn vector_of(&self, id: i64) -> Option<&[f32]> {
        let row = match self.lookup() {
            Lookup::Direct => {
                let first = *self.ids.first()?;
                usize::try_from(id.checked_sub(first)?)
                    .ok()
                    .filter(|&row| row < self.ids.len())
            }
            Lookup::BinarySearch => self.ids.binary_search(&id).ok(),
            Lookup::Scan => self.ids.iter().position(|&stored| stored == id),
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
        assert_eq!(matrix.lookup(), Lookup::BinarySearch);
        assert_eq!(matrix.vector_of(5), Some(&[3.0, 4.0][..]));
        assert_eq!(matrix.vector_of(4), None);
        matrix.extend(&[7], &[7.0, 8.0]);
        assert_eq!(matrix.lookup(), Lookup::Scan);
        assert_eq!(matrix.vector_of(7), Some(&[7.0, 8.0][..]));
        assert_eq!(matrix.vector_of(9), Some(&[5.0, 6.0][..]));
    }

    #[test]
    fn consecutive_ids_are_found_at_their_place() {
        let mut matrix = VectorMatrix::new(1);
        matrix.extend(&[10, 11, 12], &[0.0, 1.0, 2.0]);
        assert_eq!(matrix.lookup(), Lookup::Direct);
        assert_eq!(matrix.vector_of(12), Some(&[2.0][..]));
        for absent in [9, 13, i64::MIN, i64::MAX] {
            assert_eq!(matrix.vector_of(absent), None);
        }
    }
}
