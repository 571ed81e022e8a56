//! Asymmetric distance: an exact query against compressed vectors, through a table.
//!
//! Only the stored vectors are compressed; the query stays exact ("asymmetric"). For a query,
//! we compute once the distance from each of its `m` chunks to each of the `k` centroids of that
//! chunk's sub-space: an `m × k` [`DistanceTable`]. The distance to a stored code is then `m`
//! look-ups in that table, added up, without ever rebuilding a vector.
//!
//! The look-ups may only be added if they are **squared** euclidean distances: the squared
//! distance of two vectors is the sum of the squared distances of their chunks, while plain
//! (square-rooted) distances do not add up that way. [`SubspaceDistance`] keeps the original's
//! non-squared variant available, only to measure what it costs.

use crate::distances::{euclidean_distance, squared_euclidean_distance};
use crate::error::{Error, Result};
use crate::quantization::codebook::Codebook;

// ANCHOR: subspace_distance
/// What a table entry holds for a query chunk and a sub-space centroid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubspaceDistance {
    /// Squared euclidean distance: the entries of a code add up to the squared euclidean
    /// distance between the query and the rebuilt vector. The right choice.
    #[default]
    Squared,
    /// Plain (square-rooted) euclidean distance, as the Python original computed it. Its sum is
    /// not a distance between the query and the rebuilt vector and ranks neighbours worse; it
    /// is here only so the two can be compared.
    NonSquaredAsInOriginal,
}

impl SubspaceDistance {
    /// The entry for one query chunk and one centroid.
    pub fn between(self, query_chunk: &[f32], centroid: &[f32]) -> f32 {
        match self {
            SubspaceDistance::Squared => squared_euclidean_distance(query_chunk, centroid),
            SubspaceDistance::NonSquaredAsInOriginal => euclidean_distance(query_chunk, centroid),
        }
    }
}
// ANCHOR_END: subspace_distance

// ANCHOR: distance_table
/// The `m × k` distances from one query's chunks to every sub-space centroid.
///
/// Row `j` holds the distances from the query's chunk `j` to the `k` centroids of sub-space `j`;
/// entry `(j, c)` is `values[j * k + c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceTable {
    m_chunks: usize,
    nb_subspace_centroids: usize,
    kind: SubspaceDistance,
    values: Vec<f32>,
}
// ANCHOR_END: distance_table

impl DistanceTable {
    // ANCHOR: build_table
    /// Fills the table for a query already cut into `m` chunks (one per sub-space of `codebook`).
    ///
    /// The quantizer checks the query and cuts it before calling this.
    pub(crate) fn build(
        codebook: &Codebook,
        query_chunks: &[&[f32]],
        kind: SubspaceDistance,
    ) -> Self {
        // Task ch07_task2_distance_table: write this body (chapter 7, "Asymmetric distance"),
        // then check it with `cargo xtask check 7`.
        todo!("ch07_task2_distance_table: see chapter 7, section \"Asymmetric distance\"")
    }
    // ANCHOR_END: build_table

    /// A table given row by row (one row of `k` entries per chunk), for examples and tests.
    pub fn from_rows(rows: &[Vec<f32>], kind: SubspaceDistance) -> Result<Self> {
        let nb_subspace_centroids = rows.first().map_or(0, Vec::len);
        if rows.is_empty() {
            return Err(Error::ZeroChunks);
        }
        if !(1..=256).contains(&nb_subspace_centroids) {
            return Err(Error::InvalidCentroidCount(nb_subspace_centroids));
        }
        if let Some(row) = rows.iter().find(|r| r.len() != nb_subspace_centroids) {
            return Err(Error::DimensionMismatch {
                expected: nb_subspace_centroids,
                found: row.len(),
            });
        }
        Ok(DistanceTable {
            m_chunks: rows.len(),
            nb_subspace_centroids,
            kind,
            values: rows.iter().flatten().copied().collect(),
        })
    }

    /// The number of rows (chunks).
    pub fn m_chunks(&self) -> usize {
        self.m_chunks
    }

    /// The number of entries per row (centroids per sub-space).
    pub fn nb_subspace_centroids(&self) -> usize {
        self.nb_subspace_centroids
    }

    /// The entries, row by row: entry `(j, c)` is `values()[j * k + c]`.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// What the entries hold.
    pub fn kind(&self) -> SubspaceDistance {
        self.kind
    }

    /// Entry `(chunk, centroid)`, or `None` when out of range.
    pub fn get(&self, chunk: usize, centroid: usize) -> Option<f32> {
        if chunk >= self.m_chunks || centroid >= self.nb_subspace_centroids {
            return None;
        }
        self.values
            .get(chunk * self.nb_subspace_centroids + centroid)
            .copied()
    }

    // ANCHOR: distance_to_code
    /// The distance to one stored code: the sum of its `m` table entries, one per chunk.
    ///
    /// A code of the wrong length, or with a byte that names no centroid, is an error rather
    /// than a panic: codes come back from storage, and storage can be damaged.
    pub fn distance_to_code(&self, code: &[u8]) -> Result<f32> {
        if code.len() != self.m_chunks {
            return Err(Error::CodeLength {
                len: code.len(),
                expected: self.m_chunks,
            });
        }
        // Task ch08_task1_distance_to_code: write this body (chapter 8, "Search: one table per query, m look-ups per row"),
        // then check it with `cargo xtask check 8`.
        todo!("ch08_task1_distance_to_code: see chapter 8, section \"Search: one table per query, m look-ups per row\"")
    }
    // ANCHOR_END: distance_to_code
}

/// The error for a code byte that names no centroid.
pub(crate) fn invalid_code_byte(byte: u8, nb_subspace_centroids: usize) -> Error {
    Error::InvalidParameter {
        name: "code",
        reason: format!(
            "byte {byte} names no centroid: each sub-space has {nb_subspace_centroids} (0 to {})",
            nb_subspace_centroids - 1
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_summed_one_per_chunk() {
        // The original's example: rows {0.2, 0.6} and {0.7, 0.2}.
        let table =
            DistanceTable::from_rows(&[vec![0.2, 0.6], vec![0.7, 0.2]], SubspaceDistance::Squared)
                .expect("valid rows");
        assert!((table.distance_to_code(&[0, 0]).expect("valid code") - (0.2 + 0.7)).abs() < 1e-6);
        assert!((table.distance_to_code(&[1, 0]).expect("valid code") - (0.6 + 0.7)).abs() < 1e-6);
        assert_eq!(table.get(1, 1), Some(0.2));
        assert_eq!(table.get(2, 0), None);
    }

    #[test]
    fn squared_and_non_squared_entries_differ_as_expected() {
        let (a, b) = ([0.0, 0.0], [3.0, 4.0]);
        assert_eq!(SubspaceDistance::Squared.between(&a, &b), 25.0);
        assert_eq!(
            SubspaceDistance::NonSquaredAsInOriginal.between(&a, &b),
            5.0
        );
    }

    #[test]
    fn bad_codes_are_typed_errors() {
        let table = DistanceTable::from_rows(&[vec![0.0; 4], vec![0.0; 4]], Default::default())
            .expect("valid rows");
        assert!(matches!(
            table.distance_to_code(&[0]),
            Err(Error::CodeLength {
                len: 1,
                expected: 2
            })
        ));
        assert!(matches!(
            table.distance_to_code(&[0, 4]),
            Err(Error::InvalidParameter { name: "code", .. })
        ));
    }

    #[test]
    fn ragged_rows_are_rejected() {
        assert!(matches!(
            DistanceTable::from_rows(&[vec![0.0; 2], vec![0.0; 3]], Default::default()),
            Err(Error::DimensionMismatch {
                expected: 2,
                found: 3
            })
        ));
        assert!(matches!(
            DistanceTable::from_rows(&[], Default::default()),
            Err(Error::ZeroChunks)
        ));
    }
}
