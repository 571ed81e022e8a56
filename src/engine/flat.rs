//! Brute force in memory: every vector in one contiguous array, every search a full scan.
//!
//! This is the exact yardstick every approximate index is graded against (FAISS calls it
//! `IndexFlat`). Vectors sit end to end in one `Vec<f32>`, so a scan walks memory in order, and
//! each has an `i64` id, given by the caller or counted on from the largest one stored.

use std::collections::HashMap;

use crate::distances::Metric;
use crate::engine::{IndexKind, Neighbour, SearchParams, VectorIndex};
use crate::error::{Error, Result};
use crate::top_k::TopK;
use crate::validation::{check_batch, check_vector};

// ANCHOR: flat_index
/// Vectors kept in memory under `i64` ids, searched by brute force.
#[derive(Debug, Clone, Default)]
pub struct FlatIndex {
    metric: Metric,
    /// Fixed by the first vector ever added.
    dimension: Option<usize>,
    /// The ids, in storage order: `ids[i]` owns `values[i * d .. (i + 1) * d]`.
    ids: Vec<i64>,
    values: Vec<f32>,
    /// Where each id is stored, to retrieve a vector and to refuse a duplicate.
    positions: HashMap<i64, usize>,
}
// ANCHOR_END: flat_index

impl FlatIndex {
    /// An empty index scoring with `metric`.
    pub fn new(metric: Metric) -> Self {
        FlatIndex {
            metric,
            ..Self::default()
        }
    }

    /// Changes the metric: brute force stores nothing that depends on it.
    pub fn set_metric(&mut self, metric: Metric) {
        self.metric = metric;
    }

    /// Stores `vectors` under ids that count on from the largest id stored (from 0), and
    /// returns those ids.
    ///
    /// # Errors
    ///
    /// As [`VectorIndex::add`]; [`Error::InvalidParameter`] if the ids would overflow.
    pub fn insert<V: AsRef<[f32]>>(&mut self, vectors: &[V]) -> Result<Vec<i64>> {
        let first = match self.ids.iter().max() {
            None => 0,
            Some(largest) => largest.checked_add(1).ok_or(Error::InvalidParameter {
                name: "ids",
                reason: "the largest stored id is i64::MAX: give ids explicitly".to_string(),
            })?,
        };
        let ids = (0..vectors.len())
            .map(|offset| {
                i64::try_from(offset)
                    .ok()
                    .and_then(|offset| first.checked_add(offset))
            })
            .collect::<Option<Vec<i64>>>()
            .ok_or(Error::InvalidParameter {
                name: "ids",
                reason: "ids would overflow i64".to_string(),
            })?;
        self.insert_with_ids(&ids, vectors)?;
        Ok(ids)
    }

    // ANCHOR: insert_with_ids
    /// Stores `vectors` under `ids`, all or nothing.
    ///
    /// # Errors
    ///
    /// [`Error::IdCountMismatch`], [`Error::DuplicateId`] or a bad vector: nothing is stored.
    pub fn insert_with_ids<V: AsRef<[f32]>>(&mut self, ids: &[i64], vectors: &[V]) -> Result<()> {
        if ids.len() != vectors.len() {
            return Err(Error::IdCountMismatch {
                ids: ids.len(),
                vectors: vectors.len(),
            });
        }
        let dimension = check_batch(vectors, self.dimension)?;
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        if let Some(&taken) = ids
            .iter()
            .find(|id| self.positions.contains_key(id) || !seen.insert(**id))
        {
            return Err(Error::DuplicateId(taken));
        }
        // ANCHOR: starter_ch02_task1_store_the_batch
        self.dimension = dimension;
        for (&id, vector) in ids.iter().zip(vectors) {
            self.positions.insert(id, self.ids.len());
            self.ids.push(id);
            self.values.extend_from_slice(vector.as_ref());
        }
        Ok(())
        // ANCHOR_END: starter_ch02_task1_store_the_batch
    }
    // ANCHOR_END: insert_with_ids

    /// The vector stored under `id`, or `None` when there is no such id.
    pub fn get(&self, id: i64) -> Option<&[f32]> {
        let dimension = self.dimension?;
        let position = *self.positions.get(&id)?;
        self.values
            .get(position * dimension..(position + 1) * dimension)
    }

    /// Every `(id, vector)` pair, in storage order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &[f32])> {
        let dimension = self.dimension.unwrap_or(1).max(1);
        self.ids
            .iter()
            .copied()
            .zip(self.values.chunks_exact(dimension))
    }
}

impl VectorIndex for FlatIndex {
    fn name(&self) -> String {
        "flat".to_string()
    }

    fn kind(&self) -> IndexKind {
        IndexKind::Flat
    }

    fn dimension(&self) -> Option<usize> {
        self.dimension
    }

    fn metric(&self) -> Metric {
        self.metric
    }

    fn len(&self) -> Result<usize> {
        Ok(self.ids.len())
    }

    fn add(&mut self, ids: &[i64], vectors: &[Vec<f32>]) -> Result<()> {
        self.insert_with_ids(ids, vectors)
    }

    // ANCHOR: flat_search
    fn search(&self, query: &[f32], params: &SearchParams) -> Result<Vec<Neighbour>> {
        params.check()?;
        let Some(dimension) = self.dimension else {
            return Ok(Vec::new()); // nothing stored yet, so no dimension to check against
        };
        check_vector(query, dimension)?;
        // ANCHOR: starter_ch02_task3_brute_force_search
        let mut best = TopK::new(params.k, self.metric);
        for (id, vector) in self.iter() {
            best.push(id, self.metric.score(query, vector));
        }
        Ok(best.into_neighbours())
        // ANCHOR_END: starter_ch02_task3_brute_force_search
    }
    // ANCHOR_END: flat_search

    fn bytes_per_vector(&self) -> usize {
        self.dimension.unwrap_or(0) * std::mem::size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::neighbour::ids_of;

    #[test]
    fn ids_count_on_and_given_ids_are_kept() {
        let mut index = FlatIndex::new(Metric::Euclidean);
        assert_eq!(
            index.insert(&[[0.0, 0.0], [1.0, 0.0]]).expect("valid"),
            [0, 1]
        );
        index.add(&[10], &[vec![5.0, 5.0]]).expect("valid");
        assert_eq!(index.insert(&[[2.0, 0.0]]).expect("valid"), [11]);
        assert_eq!(index.get(10), Some(&[5.0, 5.0][..]));
        assert_eq!(index.get(7), None);
        let found = index
            .search(&[4.0, 4.0], &SearchParams::k(2))
            .expect("valid");
        assert_eq!(ids_of(&found), [10, 11]);
    }

    #[test]
    fn a_duplicate_id_stores_nothing() {
        let mut index = FlatIndex::new(Metric::Cosine);
        index.add(&[1], &[vec![1.0, 0.0]]).expect("valid");
        assert!(matches!(
            index.add(&[2, 1], &[vec![0.0, 1.0], vec![1.0, 1.0]]),
            Err(Error::DuplicateId(1))
        ));
        assert!(matches!(
            index.add(&[3, 3], &[vec![0.0, 1.0], vec![1.0, 1.0]]),
            Err(Error::DuplicateId(3))
        ));
        assert_eq!(index.len().expect("in memory"), 1);
    }
}
