//! A product-quantized vector database on SQLite.
//!
//! Instead of `4 × d` bytes per vector, the file keeps each vector's PQ code: `m` bytes (chapter
//! 7). A search builds the query's `m × k` distance table once and sums `m` table entries per
//! stored code, so it reads and computes far less than a brute-force search, at the price of
//! approximate distances.
//!
//! The codebook is what gives the bytes their meaning, so it is trained once (on the first batch,
//! or by [`train`](VectorDbSqlitePq::train) on a sample), stored in the file in the same
//! transaction as the first codes, and restored when the file is reopened. The original
//! retrained it on every insert, which silently turned every code stored before into garbage,
//! and never saved it, so its file could not be reopened.
//!
//! Under the original's names, this is a thin layer over the engine: a [`Collection`] that
//! keeps only codes, in its one product-quantization index.

use std::path::Path;

use crate::engine::collection::PQ_INDEX;
use crate::engine::{Collection, Neighbour, PqSettings, SearchParams};
use crate::error::{Error, Result};
use crate::quantization::VectorQuantizer;
use crate::sqlite_store::StoreKind;

// ANCHOR: struct
/// Vectors stored as product-quantization codes in SQLite, searched by asymmetric distance.
#[derive(Debug)]
pub struct VectorDbSqlitePq {
    /// A collection of ids whose one index, [`PQ_INDEX`], keeps the codes and the codebook.
    collection: Collection,
}
// ANCHOR_END: struct

impl VectorDbSqlitePq {
    // ANCHOR: open
    /// Opens the PQ database at `path`, with the settings it was created with.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchDatabase`] when there is no file (create it with
    /// [`create`](Self::create)); [`Error::NotOurDatabase`] when it is not a PQ database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let collection = Collection::open_existing(path)?;
        if collection.kind() != StoreKind::ProductQuantized {
            return Err(Error::NotOurDatabase {
                path: collection.path().to_string(),
                reason: "it holds raw vectors, not a PQ database's codes".to_string(),
            });
        }
        Ok(VectorDbSqlitePq { collection })
    }

    /// Creates the PQ database at `path`, with `m_chunks` bytes per code and
    /// `nb_subspace_centroids` centroids per chunk (or opens it, if it exists with those
    /// settings).
    ///
    /// # Errors
    ///
    /// Bad settings; [`Error::PqSettingsMismatch`] when the file exists with other settings.
    pub fn create(
        path: impl AsRef<Path>,
        m_chunks: usize,
        nb_subspace_centroids: usize,
    ) -> Result<Self> {
        let settings = PqSettings::new(m_chunks, nb_subspace_centroids);
        VectorQuantizer::new(m_chunks, nb_subspace_centroids)?; // checks the settings first
        Ok(VectorDbSqlitePq {
            collection: Collection::open_quantized(Some(path.as_ref()), &settings)?,
        })
    }
    // ANCHOR_END: open

    /// A new PQ database in memory, gone when dropped.
    ///
    /// # Errors
    ///
    /// Bad settings.
    pub fn open_in_memory(m_chunks: usize, nb_subspace_centroids: usize) -> Result<Self> {
        let settings = PqSettings::new(m_chunks, nb_subspace_centroids);
        VectorQuantizer::new(m_chunks, nb_subspace_centroids)?;
        Ok(VectorDbSqlitePq {
            collection: Collection::open_quantized(None, &settings)?,
        })
    }

    // ANCHOR: train
    /// Trains the codebook on `sample` and stores it in the file.
    ///
    /// Allowed while the database holds no code: once codes are stored, a new codebook would
    /// make them meaningless, so it is refused with [`Error::CodebookInUse`].
    ///
    /// # Errors
    ///
    /// [`Error::CodebookInUse`]; too few vectors; a bad vector.
    pub fn train<V: AsRef<[f32]>>(&mut self, sample: &[V]) -> Result<()> {
        self.collection.train_index(PQ_INDEX, sample)
    }
    // ANCHOR_END: train

    // ANCHOR: insert
    /// Encodes `vectors` with the codebook and stores their codes; returns their ids.
    ///
    /// The first batch trains the codebook when [`train`](Self::train) was not called, in the
    /// same transaction as its codes; every later batch is encoded with that same codebook.
    /// Ids behave as in [`VectorDbSqlite::insert`](crate::VectorDbSqlite::insert); a bad
    /// vector or a duplicate id stores nothing (not even a codebook trained for this batch).
    ///
    /// # Errors
    ///
    /// A bad vector, a duplicate id, too few vectors to train on: nothing is stored.
    pub fn insert<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
    ) -> Result<Vec<i64>> {
        self.collection.insert(vectors, ids)
    }
    // ANCHOR_END: insert

    // ANCHOR: search_without_index
    /// The `k` ids nearest to `query` by asymmetric distance, best first, with the estimated
    /// euclidean distance (the square root of the summed squared table entries).
    ///
    /// # Errors
    ///
    /// `k = 0`, or a bad query.
    pub fn search_without_index(&self, query: &[f32], k: usize) -> Result<Vec<Neighbour>> {
        self.collection
            .search(Some(PQ_INDEX), query, &SearchParams::k(k))
    }
    // ANCHOR_END: search_without_index

    /// The approximate vector stored under `id` (rebuilt from its code), or `None`.
    ///
    /// # Errors
    ///
    /// A corrupt code.
    pub fn search_with_id(&self, id: i64) -> Result<Option<Vec<f32>>> {
        match self.code_of(id)? {
            Some(code) => Ok(Some(self.quantizer()?.rebuild_vector(&code)?)),
            None => Ok(None),
        }
    }

    /// The PQ code stored under `id`, or `None`.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn code_of(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.collection.code_of(PQ_INDEX, id)
    }

    /// The quantizer, with its codebook once trained.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn quantizer(&self) -> Result<VectorQuantizer> {
        self.collection
            .quantizer(PQ_INDEX)?
            .ok_or_else(|| Error::BadIndexRecord {
                index: PQ_INDEX.to_string(),
                reason: "it is not a product-quantization index".to_string(),
            })
    }

    /// The dimension of the vectors, once known.
    pub fn dimension(&self) -> Option<usize> {
        self.collection.dimension()
    }

    /// How many codes are stored.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn len(&self) -> Result<usize> {
        self.collection.len()
    }

    /// `true` when no code is stored.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn is_empty(&self) -> Result<bool> {
        self.collection.is_empty()
    }

    /// The engine's collection underneath.
    pub fn collection(&self) -> &Collection {
        &self.collection
    }
}
