//! IVF-PQ: an inverted file whose lists hold product-quantization codes of residuals.
//!
//! Chapter 6's inverted file reads few vectors per query but keeps each one whole, `4 × d`
//! bytes; chapters 7–8's product quantization keeps `m` bytes per vector but reads every code.
//! IVF-PQ (Jégou, Douze & Schmid, 2011; FAISS's `IndexIVFPQ`) does both:
//!
//! 1. **Coarse cells.** k-means cuts the space into `nlist` cells, exactly as chapter 6 does
//!    ([`cells`]). A vector is filed in the cell of its nearest centroid `c`, and a query
//!    probes only its `nprobe` nearest cells.
//! 2. **Residual codes.** What a list stores for a vector `x` is not `x` but its *residual*
//!    `r = x − c`, what is left once the cell has said where `x` roughly is, encoded by one
//!    product quantizer trained on the residuals of every cell ([`residual`]): `m` bytes.
//! 3. **A table per probed cell.** The distance from a query `q` to a stored vector is
//!    estimated as `‖q − c − r̂‖²`, where `r̂` is the residual the code stands for. That is
//!    chapter 7's asymmetric distance with `q − c` in place of `q`: for each probed cell, the
//!    `m × 256` table of distances from the pieces of `q − c` to the sub-space centroids, and
//!    each code of the list is scored by `m` look-ups in it ([`table`], [`scan`]).
//! 4. **Re-ranking, if asked.** The best `rerank` candidates are scored again with the exact
//!    vectors, read from the collection ([`super::rerank`]), as FAISS's `IndexRefineFlat` does.
//!
//! ## Why residuals quantize better than the vectors themselves
//!
//! A product quantizer has 256 centroids per sub-space to describe whatever it is given. Given
//! the raw vectors of a clustered collection, most of that resolution goes on telling the
//! clusters apart, which is what the coarse cells already say: the codes repeat, in 256 coarse
//! steps, information the cell number gives for free. Residuals are all centred on zero and
//! spread only as far as a cell is wide, a fraction of the whole collection's spread, so the
//! same 256 centroids tile a much smaller region, finely, and spend their resolution on what
//! the cell does not already say. The quantization error (how far `r̂` lies from `r`) shrinks
//! with that spread, and so does the error of every estimated distance: on clustered data, at
//! the same `m` bytes, IVF-PQ ranks far better than PQ on the raw vectors (the tests measure
//! it). The gain is only as large as what the cells explain: where they explain little of the
//! spread (sentence embeddings spread over a sphere, say), residuals are hardly smaller than
//! the vectors, while those of different cells lean in different directions, and one codebook
//! for all of them fits each a little worse than a codebook of the raw vectors would.
//!
//! ## Computing the tables: FAISS's precomputed terms
//!
//! Computed directly, each probed cell's table costs `256 × d` multiply-adds (the distance of
//! every piece of `q − c` to every sub-space centroid), more than scanning a short list. For
//! the euclidean distance the table splits into parts that do not all depend on the query:
//!
//! ```text
//! ‖q − c − r̂‖² = ‖q − c‖²  +  Σⱼ (‖r̂ⱼ‖² + 2⟨cⱼ, r̂ⱼ⟩)  −  2 Σⱼ ⟨qⱼ, r̂ⱼ⟩
//!                 coarse        per cell, at open        per query, once
//! ```
//!
//! The coarse term is the distance the probe already computed to choose the cell; the middle
//! term depends only on the cell and the codebook, so it is computed once for every cell and
//! centroid (`nlist × m × 256` values) when the index is first searched; the last is one
//! `m × 256` table per query. A probed cell's table is then the sum of two rows of 256 values
//! per sub-space, 256 additions instead of `256 × d / m` multiply-adds ([`table`]). This is
//! FAISS's `use_precomputed_table`; when the precomputed terms would take more than
//! [`table::PRECOMPUTED_BUDGET`] bytes, each cell's table is computed directly instead, as
//! FAISS also falls back to. Both give the same sums, up to rounding (a unit test checks it).
//!
//! ## Metrics
//!
//! The index ranks by euclidean distance only, as the PQ index does: a collection of another
//! metric is refused with [`Error::MetricNotSupported`], at
//! build and when the collection's metric changes. (FAISS's inner-product IVF-PQ scores
//! `⟨q, c⟩ + ⟨q, r̂⟩`, but a cosine also needs each vector's norm, which the codes do not
//! keep; unit-length vectors, such as sentence embeddings, rank the same by euclidean distance.)
//!
//! The pieces, one file each:
//!
//! - [`cells`]: the coarse k-means cells, and which ones a query probes;
//! - [`residual`]: residuals, and their codes;
//! - [`table`]: the per-cell look-up tables, precomputed or direct;
//! - [`scan`]: scoring a list of codes through a table;
//! - [`lists`]: the lists of `(id, code)` in the collection's file, in either layout;
//! - [`index`]: the index of a collection: build, open, search, insert.

pub mod cells;
pub mod index;
pub mod lists;
pub mod residual;
pub mod scan;
pub mod table;

pub use index::IvfPqIndex;

use crate::engine::indexes::{IvfSettings, PqSettings};
use crate::error::{Error, Result};
use crate::kmeans::KMeansConfig;

// ANCHOR: ivfpq_settings
/// How to build an IVF-PQ index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IvfPqSettings {
    /// How many coarse cells (k-means centroids).
    pub nlist: usize,
    /// Bytes per code: how many sub-vectors a residual is cut into (must divide the dimension).
    pub m: usize,
    /// Bits per sub-vector code, 1 to 8: `2^nbits` centroids per sub-space.
    pub nbits: u32,
    /// How the coarse cells are trained (chapter 6's recipe by default).
    pub coarse: KMeansConfig,
    /// How each sub-space of the residuals is trained (chapter 7's recipe by default).
    pub fine: KMeansConfig,
}

impl IvfPqSettings {
    /// `nlist` cells and codes of `m` sub-vectors of `nbits` bits, trained as FAISS trains
    /// them: 25 rounds of k-means in matrix form, on at most 256 vectors per centroid, for the
    /// cells and for each sub-space.
    pub fn new(nlist: usize, m: usize, nbits: u32) -> Self {
        IvfPqSettings {
            nlist,
            m,
            nbits,
            coarse: IvfSettings::new(nlist).kmeans,
            fine: PqSettings::new(m, 1 << nbits.min(8)).default_kmeans(),
        }
    }

    /// The same settings, both k-means seeded with `seed`.
    pub fn with_seed(self, seed: u64) -> Self {
        IvfPqSettings {
            coarse: KMeansConfig {
                seed,
                ..self.coarse
            },
            fine: KMeansConfig { seed, ..self.fine },
            ..self
        }
    }
    // ANCHOR_END: ivfpq_settings

    /// Centroids per sub-space, `2^nbits`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `nbits` outside 1..=8.
    pub fn nb_subspace_centroids(&self) -> Result<usize> {
        PqSettings::from_bits(self.m, self.nbits).map(|pq| pq.nb_subspace_centroids)
    }

    /// Checks the settings against the collection they would be built on.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `nbits` outside 1..=8; [`Error::ZeroChunks`] for
    /// `m = 0`; [`Error::ChunksDoNotDivide`] when `m` does not divide the dimension;
    /// [`Error::InvalidClusterCount`] when `nlist` is 0 or above the number of vectors;
    /// [`Error::TooFewTrainingVectors`] below `2^nbits` vectors.
    pub fn check(&self, n_vectors: usize, dimension: usize) -> Result<()> {
        let needed = self.nb_subspace_centroids()?;
        if self.m == 0 {
            return Err(Error::ZeroChunks);
        }
        if !dimension.is_multiple_of(self.m) {
            return Err(Error::ChunksDoNotDivide {
                dimension,
                m_chunks: self.m,
            });
        }
        if self.nlist == 0 || self.nlist > n_vectors {
            return Err(Error::InvalidClusterCount {
                n_clusters: self.nlist,
                n_vectors,
            });
        }
        if n_vectors < needed {
            return Err(Error::TooFewTrainingVectors {
                found: n_vectors,
                needed,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_name_what_is_wrong() {
        let check = |nlist, m, nbits, n, d| IvfPqSettings::new(nlist, m, nbits).check(n, d);
        assert!(check(4, 2, 8, 300, 8).is_ok());
        assert!(matches!(
            check(4, 2, 9, 300, 8),
            Err(Error::InvalidParameter { name: "nbits", .. })
        ));
        assert!(matches!(
            check(4, 2, 0, 300, 8),
            Err(Error::InvalidParameter { name: "nbits", .. })
        ));
        assert!(matches!(check(4, 0, 8, 300, 8), Err(Error::ZeroChunks)));
        assert!(matches!(
            check(4, 3, 8, 300, 8),
            Err(Error::ChunksDoNotDivide {
                dimension: 8,
                m_chunks: 3
            })
        ));
        assert!(matches!(
            check(0, 2, 8, 300, 8),
            Err(Error::InvalidClusterCount { n_clusters: 0, .. })
        ));
        assert!(matches!(
            check(301, 2, 8, 300, 8),
            Err(Error::InvalidClusterCount {
                n_clusters: 301,
                n_vectors: 300
            })
        ));
        assert!(matches!(
            check(4, 2, 8, 200, 8),
            Err(Error::TooFewTrainingVectors {
                found: 200,
                needed: 256
            })
        ));
        assert!(
            check(4, 2, 4, 200, 8).is_ok(),
            "16 centroids need 16 vectors"
        );
    }

    #[test]
    fn a_seed_reaches_both_trainings() {
        let settings = IvfPqSettings::new(8, 4, 8).with_seed(7);
        assert_eq!((settings.coarse.seed, settings.fine.seed), (7, 7));
        assert_eq!(settings.fine.n_clusters, 256);
        assert_eq!(settings.coarse.n_clusters, 8);
    }
}
