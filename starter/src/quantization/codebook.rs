//! The codebook: for every chunk position, the centroids its sub-vectors are replaced by.
//!
//! Product quantization cuts each vector into `m` chunks and learns, for each chunk position (a
//! *sub-space*), `k` centroids with k-means. The codebook is those `m × k` centroids of `d / m`
//! values each. A vector is then stored as `m` centroid numbers, and rebuilt by looking them up
//! here. It is kept as one flat `Vec<f32>` so that it can be saved and restored as a single
//! array (a database stores it as one BLOB).

use crate::distances::squared_euclidean_distance;
use crate::error::{Error, Result};
use crate::validation::check_finite;

// ANCHOR: codebook
/// `m_chunks × nb_subspace_centroids` centroids of `sub_dimension` values each.
///
/// Flat layout, sub-space by sub-space: centroid `c` of chunk `j` is
/// `values[(j * nb_subspace_centroids + c) * sub_dimension ..][.. sub_dimension]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Codebook {
    m_chunks: usize,
    nb_subspace_centroids: usize,
    sub_dimension: usize,
    values: Vec<f32>,
}
// ANCHOR_END: codebook

impl Codebook {
    /// Packs the centroids k-means found, one list of centroids per sub-space.
    ///
    /// Every sub-space must have the same number of centroids, all of the same length.
    pub fn from_subspace_centroids(subspaces: &[Vec<Vec<f32>>]) -> Result<Self> {
        let m_chunks = subspaces.len();
        let nb_subspace_centroids = subspaces.first().map_or(0, Vec::len);
        let sub_dimension = subspaces
            .first()
            .and_then(|centroids| centroids.first())
            .map_or(0, Vec::len);
        let values: Vec<f32> = subspaces
            .iter()
            .flat_map(|centroids| centroids.iter().flatten().copied())
            .collect();
        let uniform = subspaces.iter().all(|centroids| {
            centroids.len() == nb_subspace_centroids
                && centroids.iter().all(|c| c.len() == sub_dimension)
        });
        if !uniform {
            return Err(Error::InvalidParameter {
                name: "codebook",
                reason: "sub-spaces with different numbers or sizes of centroids".to_string(),
            });
        }
        Self::from_flat(m_chunks, nb_subspace_centroids, sub_dimension, values)
    }

    /// Rebuilds a codebook from its flat layout (see [`Codebook`]), checking every size.
    pub fn from_flat(
        m_chunks: usize,
        nb_subspace_centroids: usize,
        sub_dimension: usize,
        values: Vec<f32>,
    ) -> Result<Self> {
        if m_chunks == 0 {
            return Err(Error::ZeroChunks);
        }
        if !(1..=256).contains(&nb_subspace_centroids) {
            return Err(Error::InvalidCentroidCount(nb_subspace_centroids));
        }
        if sub_dimension == 0 {
            return Err(Error::EmptyVector);
        }
        let expected = m_chunks * nb_subspace_centroids * sub_dimension;
        if values.len() != expected {
            return Err(Error::InvalidParameter {
                name: "codebook",
                reason: format!(
                    "{} values, expected {expected} \
                     (m_chunks {m_chunks} × centroids {nb_subspace_centroids} × sub-dimension {sub_dimension})",
                    values.len()
                ),
            });
        }
        check_finite(&values)?;
        Ok(Codebook {
            m_chunks,
            nb_subspace_centroids,
            sub_dimension,
            values,
        })
    }

    /// How many chunks (sub-spaces) a vector is cut into.
    pub fn m_chunks(&self) -> usize {
        self.m_chunks
    }

    /// How many centroids each sub-space has.
    pub fn nb_subspace_centroids(&self) -> usize {
        self.nb_subspace_centroids
    }

    /// The length of one chunk, `d / m`.
    pub fn sub_dimension(&self) -> usize {
        self.sub_dimension
    }

    /// The length of a whole vector, `d`.
    pub fn dimension(&self) -> usize {
        self.m_chunks * self.sub_dimension
    }

    /// Every centroid value in the flat layout described on [`Codebook`].
    pub fn as_flat(&self) -> &[f32] {
        &self.values
    }

    // ANCHOR: centroid
    /// Centroid `centroid` of sub-space `chunk`, or `None` when either is out of range.
    pub fn centroid(&self, chunk: usize, centroid: usize) -> Option<&[f32]> {
        if chunk >= self.m_chunks || centroid >= self.nb_subspace_centroids {
            return None;
        }
        let start = (chunk * self.nb_subspace_centroids + centroid) * self.sub_dimension;
        self.values.get(start..start + self.sub_dimension)
    }

    /// The centroids of sub-space `chunk`, in code order (empty when `chunk` is out of range).
    pub fn subspace_centroids(&self, chunk: usize) -> Vec<&[f32]> {
        (0..self.nb_subspace_centroids)
            .filter_map(|c| self.centroid(chunk, c))
            .collect()
    }
    // ANCHOR_END: centroid

    // ANCHOR: nearest_code
    /// The code (centroid number) of sub-space `chunk` nearest to `sub_vector`.
    ///
    /// The caller passes a valid `chunk` and a sub-vector of `sub_dimension` values (the
    /// quantizer checks every vector before it gets here).
    pub(crate) fn nearest_code(&self, chunk: usize, sub_vector: &[f32]) -> u8 {
        // Task ch07_task1_nearest_code: write this body (chapter 7, "Codes: one byte per chunk"),
        // then check it with `cargo xtask check 7`.
        todo!("ch07_task1_nearest_code: see chapter 7, section \"Codes: one byte per chunk\"")
    }
    // ANCHOR_END: nearest_code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_by_two() -> Codebook {
        // Sub-space 0: (0,0) and (10,10); sub-space 1: (1,1) and (-1,-1).
        Codebook::from_subspace_centroids(&[
            vec![vec![0.0, 0.0], vec![10.0, 10.0]],
            vec![vec![1.0, 1.0], vec![-1.0, -1.0]],
        ])
        .expect("uniform centroids")
    }

    #[test]
    fn the_flat_layout_goes_sub_space_by_sub_space() {
        let codebook = two_by_two();
        assert_eq!(
            codebook.as_flat(),
            &[0.0, 0.0, 10.0, 10.0, 1.0, 1.0, -1.0, -1.0]
        );
        assert_eq!(codebook.centroid(1, 1), Some(&[-1.0, -1.0][..]));
        assert_eq!(codebook.centroid(2, 0), None);
        assert_eq!(codebook.centroid(0, 2), None);
        assert_eq!(codebook.dimension(), 4);
        assert_eq!(codebook.subspace_centroids(0).len(), 2);
    }

    #[test]
    fn nearest_code_picks_the_closest_centroid_of_its_sub_space() {
        let codebook = two_by_two();
        assert_eq!(codebook.nearest_code(0, &[9.0, 8.0]), 1);
        assert_eq!(codebook.nearest_code(0, &[1.0, 2.0]), 0);
        assert_eq!(codebook.nearest_code(1, &[0.5, 2.0]), 0);
        assert_eq!(codebook.nearest_code(1, &[-3.0, 0.0]), 1);
    }

    #[test]
    fn from_flat_round_trips() {
        let codebook = two_by_two();
        let again = Codebook::from_flat(2, 2, 2, codebook.as_flat().to_vec()).expect("same sizes");
        assert_eq!(again, codebook);
    }

    #[test]
    fn bad_sizes_are_typed_errors() {
        assert!(matches!(
            Codebook::from_flat(0, 2, 2, vec![]),
            Err(Error::ZeroChunks)
        ));
        assert!(matches!(
            Codebook::from_flat(1, 257, 1, vec![0.0; 257]),
            Err(Error::InvalidCentroidCount(257))
        ));
        assert!(matches!(
            Codebook::from_flat(2, 2, 2, vec![0.0; 7]),
            Err(Error::InvalidParameter {
                name: "codebook",
                ..
            })
        ));
        assert!(matches!(
            Codebook::from_flat(1, 1, 2, vec![0.0, f32::NAN]),
            Err(Error::NonFiniteValue { position: 1, .. })
        ));
        assert!(matches!(
            Codebook::from_subspace_centroids(&[vec![vec![0.0]], vec![vec![0.0, 1.0]]]),
            Err(Error::InvalidParameter { .. })
        ));
    }
}
