//! The k-means inverted file index of chapter 6, under the original's names.
//!
//! k-means cuts the space into cells, one per centroid; each vector is filed in the cell of
//! its best centroid, and a search reads only the `n_probes` cells whose centroids score best
//! against the query. The index itself is the engine's inverted file
//! ([`crate::engine::indexes::ivf`]), kept in the collection under the name [`KMEANS_INDEX`].

use super::VectorDbSqlite;
use crate::engine::{IndexSpec, IvfSettings, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::kmeans::{Initialisation, KMeansBackend, KMeansConfig};
use crate::validation::check_k;

/// The name of the k-means index in the collection.
pub const KMEANS_INDEX: &str = "ivf";

// ANCHOR: indexed_search
/// The result of an indexed search: the neighbours, and which cells were read to find them.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedSearch {
    pub neighbours: Vec<Neighbour>,
    pub probed_cells: Vec<i64>,
}
// ANCHOR_END: indexed_search

impl VectorDbSqlite {
    /// Builds (or rebuilds) the index with `n_clusters` cells and default training settings.
    ///
    /// Returns the centroids. See [`create_kmeans_index_with`](Self::create_kmeans_index_with).
    ///
    /// # Errors
    ///
    /// As [`create_kmeans_index_with`](Self::create_kmeans_index_with).
    pub fn create_kmeans_index(&mut self, n_clusters: usize) -> Result<Vec<Vec<f32>>> {
        self.create_kmeans_index_with(&Self::default_index_config(n_clusters))
    }

    // ANCHOR: default_index_config
    /// The training settings `create_kmeans_index` uses: FAISS's, 25 rounds on a sample of at
    /// most 256 vectors per centroid ([`IvfSettings::new`]).
    pub fn default_index_config(n_clusters: usize) -> KMeansConfig {
        KMeansConfig {
            // Chapter 6 teaches k-means with linfa, from k-means++ starts; the engine's own
            // default is the fast path from random starts (chapter 12).
            backend: KMeansBackend::Linfa,
            init: Initialisation::KMeansPlusPlus,
            ..IvfSettings::new(n_clusters).kmeans
        }
    }
    // ANCHOR_END: default_index_config

    // ANCHOR: create_kmeans_index
    /// Trains k-means on the stored vectors, files every vector into its cell and stores the
    /// centroids, all in one transaction: a rebuild replaces the previous index atomically, and
    /// a failure leaves it as it was. Returns the centroids.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidClusterCount`] when `n_clusters` is 0 or above the number of vectors;
    /// a training or storage error.
    pub fn create_kmeans_index_with(&mut self, config: &KMeansConfig) -> Result<Vec<Vec<f32>>> {
        let settings = IvfSettings {
            nlist: config.n_clusters,
            kmeans: *config,
        };
        self.collection
            .create_index(KMEANS_INDEX, &IndexSpec::Ivf(settings))?;
        Ok(self.centroids().unwrap_or_default())
    }
    // ANCHOR_END: create_kmeans_index

    // ANCHOR: search_in_kmeans_index
    /// The best `k` vectors among the `n_probes` cells whose centroids best match `query`.
    ///
    /// `n_probes` runs from 1 (fastest, lowest recall) to the number of cells (reads every
    /// vector: exact, like [`search_without_index`](Self::search_without_index)).
    ///
    /// # Errors
    ///
    /// [`Error::NoIndex`] before `create_kmeans_index`; `k = 0`; `n_probes` out of range; a
    /// bad query.
    pub fn search_in_kmeans_index(
        &self,
        query: &[f32],
        k: usize,
        n_probes: usize,
    ) -> Result<IndexedSearch> {
        check_k(k)?;
        // Before `create_kmeans_index` the collection has no index of that name.
        let no_index = |error| match error {
            Error::NoSuchIndex { .. } => Error::NoIndex,
            other => other,
        };
        let params = SearchParams::k(k).with_n_probes(n_probes);
        Ok(IndexedSearch {
            neighbours: self
                .collection
                .search(Some(KMEANS_INDEX), query, &params)
                .map_err(no_index)?,
            probed_cells: self.collection.probed_cells(KMEANS_INDEX, query, &params)?,
        })
    }
    // ANCHOR_END: search_in_kmeans_index

    /// The centroids of the index, if one was built.
    pub fn centroids(&self) -> Option<Vec<Vec<f32>>> {
        self.collection.centroids(KMEANS_INDEX).ok().flatten()
    }
}
