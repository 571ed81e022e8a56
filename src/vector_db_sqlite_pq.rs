//! A product-quantized vector database on SQLite.
//!
//! Instead of `4 × d` bytes per vector, each row stores the vector's PQ code: `m` bytes (chapter
//! 7). A search builds the query's `m × k` distance table once and sums `m` table entries per
//! stored code, so it reads and computes far less than a brute-force search, at the price of
//! approximate distances. Ids, schema, settings, transactions and streaming come from the same
//! [`SqliteStore`] as [`VectorDbSqlite`](crate::VectorDbSqlite).
//!
//! The codebook is what gives the bytes their meaning, so it is trained once (on the first batch,
//! or by [`train`](VectorDbSqlitePq::train) on a sample), stored in the file, and restored when
//! the file is reopened. The original retrained it on every insert, which silently turned every
//! code stored before into garbage, and never saved it, so its file could not be reopened.

use std::path::Path;

use rusqlite::{params, OptionalExtension};

use crate::distances::Metric;
use crate::error::{Error, Result};
use crate::kmeans::KMeansConfig;
use crate::quantization::VectorQuantizer;
use crate::sqlite_store::{NewRow, SqliteStore, StoreKind};
use crate::top_k::TopK;
use crate::validation::check_k;
use crate::vector_blob::{blob_to_vector, vector_to_blob};

const M_CHUNKS: &str = "pq_m_chunks";
const CENTROIDS: &str = "pq_nb_subspace_centroids";

// ANCHOR: struct
/// Vectors stored as product-quantization codes in SQLite, searched by asymmetric distance.
#[derive(Debug)]
pub struct VectorDbSqlitePq {
    store: SqliteStore,
    /// Trained once; its codebook is also in the file's `codebook` table.
    quantizer: VectorQuantizer,
}
// ANCHOR_END: struct

impl VectorDbSqlitePq {
    // ANCHOR: open
    /// Opens (or creates) the PQ database at `path`, with `m_chunks` bytes per code and
    /// `nb_subspace_centroids` centroids per chunk.
    ///
    /// Reopening restores the codebook, so the stored codes keep their meaning. A file created
    /// with other settings is refused ([`Error::PqSettingsMismatch`]).
    pub fn open(
        path: impl AsRef<Path>,
        m_chunks: usize,
        nb_subspace_centroids: usize,
    ) -> Result<Self> {
        let quantizer = VectorQuantizer::new(m_chunks, nb_subspace_centroids)?;
        Self::from_store(
            SqliteStore::open(path.as_ref(), StoreKind::ProductQuantized)?,
            quantizer,
        )
    }
    // ANCHOR_END: open

    /// A new PQ database in memory, gone when dropped.
    pub fn open_in_memory(m_chunks: usize, nb_subspace_centroids: usize) -> Result<Self> {
        let quantizer = VectorQuantizer::new(m_chunks, nb_subspace_centroids)?;
        Self::from_store(
            SqliteStore::open_in_memory(StoreKind::ProductQuantized)?,
            quantizer,
        )
    }

    // ANCHOR: from_store
    fn from_store(store: SqliteStore, quantizer: VectorQuantizer) -> Result<Self> {
        let mut db = VectorDbSqlitePq { store, quantizer };
        db.check_or_record_settings()?;
        db.store.connection().execute_batch(
            "CREATE TABLE IF NOT EXISTS codebook (
                 id        INTEGER PRIMARY KEY CHECK (id = 0),  -- one codebook per database
                 centroids BLOB NOT NULL                        -- m × k × (d / m) f32 values
             );",
        )?;
        if let Some(restored) = db.load_codebook()? {
            db.quantizer = restored;
        }
        Ok(db)
    }
    // ANCHOR_END: from_store

    /// How each sub-space is trained (iterations, runs, seed, sampling), before the first training.
    pub fn with_kmeans_config(mut self, config: KMeansConfig) -> Self {
        self.quantizer = self.quantizer.with_kmeans_config(config);
        self
    }

    // ANCHOR: train
    /// Trains the codebook on `sample` and stores it in the file.
    ///
    /// Allowed while the database holds no code: once codes are stored, a new codebook would
    /// make them meaningless, so it is refused with [`Error::CodebookInUse`].
    pub fn train<V: AsRef<[f32]>>(&mut self, sample: &[V]) -> Result<()> {
        let stored = self.store.len()?;
        if stored > 0 {
            return Err(Error::CodebookInUse { stored });
        }
        let mut trained = self.quantizer.clone();
        trained.fit(sample)?;
        self.save_codebook(&trained)?;
        self.quantizer = trained;
        Ok(())
    }
    // ANCHOR_END: train

    // ANCHOR: insert
    /// Encodes `vectors` with the codebook and stores their codes; returns their ids.
    ///
    /// The first batch trains the codebook when [`train`](Self::train) was not called; every
    /// later batch is encoded with that same codebook. Ids behave as in
    /// [`VectorDbSqlite::insert`](crate::VectorDbSqlite::insert); a bad vector or a duplicate
    /// id stores nothing (not even a codebook trained for this batch).
    pub fn insert<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
    ) -> Result<Vec<i64>> {
        if vectors.is_empty() {
            return Ok(Vec::new());
        }
        let untrained = (!self.quantizer.is_trained()).then(|| self.quantizer.clone());
        if untrained.is_some() {
            self.train(vectors)?;
        }
        let stored = self.store_codes(vectors, ids);
        if let (Err(_), Some(untrained)) = (&stored, untrained) {
            self.forget_codebook(untrained)?;
        }
        stored
    }

    fn store_codes<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
    ) -> Result<Vec<i64>> {
        let codes = self.quantizer.quantize_vectors(vectors)?; // checks dimension, NaN, infinity
        let dimension = self.quantizer.dimension().ok_or(Error::NotTrained)?;
        let rows = codes.into_iter().map(|code| NewRow {
            vector: code,
            cluster: None,
        });
        self.store.insert_rows(dimension, ids, rows)
    }
    // ANCHOR_END: insert

    // ANCHOR: search_without_index
    /// The `k` ids nearest to `query` by asymmetric distance, best first, with the estimated
    /// euclidean distance (the square root of the summed squared table entries).
    pub fn search_without_index(&self, query: &[f32], k: usize) -> Result<Vec<(i64, f32)>> {
        check_k(k)?;
        if !self.quantizer.is_trained() {
            return Ok(Vec::new()); // nothing was ever inserted
        }
        // Checks the query (dimension, NaN) and computes its m × k table, once.
        let table = self.quantizer.compute_asymmetric_distance_matrix(query)?;
        let mut best = TopK::new(k, Metric::Euclidean);
        self.store.for_each_row(|id, code| {
            best.push(id, table.distance_to_code(code)?);
            Ok(())
        })?;
        Ok(best
            .into_sorted_vec()
            .into_iter()
            .map(|(id, squared)| (id, squared.sqrt()))
            .collect())
    }
    // ANCHOR_END: search_without_index

    /// The approximate vector stored under `id` (rebuilt from its code), or `None`.
    pub fn search_with_id(&self, id: i64) -> Result<Option<Vec<f32>>> {
        match self.code_of(id)? {
            Some(code) => Ok(Some(self.quantizer.rebuild_vector(&code)?)),
            None => Ok(None),
        }
    }

    /// The PQ code stored under `id`, or `None`.
    pub fn code_of(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.store.read_row(id)
    }

    /// The quantizer, with its codebook once trained.
    pub fn quantizer(&self) -> &VectorQuantizer {
        &self.quantizer
    }

    /// The dimension of the vectors, once known.
    pub fn dimension(&self) -> Option<usize> {
        self.quantizer.dimension().or(self.store.dimension())
    }

    /// How many codes are stored.
    pub fn len(&self) -> Result<usize> {
        self.store.len()
    }

    /// `true` when no code is stored.
    pub fn is_empty(&self) -> Result<bool> {
        self.store.is_empty()
    }

    // ANCHOR: settings
    /// Records m and k in a new file, or checks them against those of an existing one.
    fn check_or_record_settings(&mut self) -> Result<()> {
        let (m, k) = (
            self.quantizer.m_chunks(),
            self.quantizer.nb_subspace_centroids(),
        );
        let stored = (
            self.store.read_value(M_CHUNKS)?,
            self.store.read_value(CENTROIDS)?,
        );
        match stored {
            (Some(stored_m), Some(stored_k)) => {
                let parse = |text: String| text.parse::<usize>().unwrap_or(0);
                let (stored_m, stored_k) = (parse(stored_m), parse(stored_k));
                if (stored_m, stored_k) != (m, k) {
                    return Err(Error::PqSettingsMismatch {
                        stored_m,
                        stored_k,
                        m,
                        k,
                    });
                }
                Ok(())
            }
            _ => {
                self.store.write_value(M_CHUNKS, &m.to_string())?;
                self.store.write_value(CENTROIDS, &k.to_string())?;
                // Asymmetric distances estimate euclidean distances: that is the metric here.
                self.store.set_metric(Metric::Euclidean)
            }
        }
    }
    // ANCHOR_END: settings

    // ANCHOR: save_codebook
    /// Writes the trained codebook into the file (replacing any previous one).
    fn save_codebook(&self, quantizer: &VectorQuantizer) -> Result<()> {
        self.store.connection().execute(
            "INSERT INTO codebook (id, centroids) VALUES (0, ?1)
             ON CONFLICT (id) DO UPDATE SET centroids = excluded.centroids",
            params![vector_to_blob(quantizer.codebook()?)],
        )?;
        Ok(())
    }

    /// Restores the quantizer from the stored codebook, if the file has one.
    fn load_codebook(&self) -> Result<Option<VectorQuantizer>> {
        let blob: Option<Vec<u8>> = self
            .store
            .connection()
            .query_row("SELECT centroids FROM codebook WHERE id = 0", [], |row| {
                row.get(0)
            })
            .optional()?;
        let Some(blob) = blob else {
            return Ok(None);
        };
        let (m, k) = (
            self.quantizer.m_chunks(),
            self.quantizer.nb_subspace_centroids(),
        );
        // The codebook holds k centroids of d/m values for each of the m chunks: k × d floats.
        let n_floats = blob.len() / 4;
        let dimension = n_floats / k;
        let flat = blob_to_vector(&blob, dimension * k)?;
        Ok(Some(VectorQuantizer::from_codebook(m, k, dimension, flat)?))
    }
    // ANCHOR_END: save_codebook

    // ANCHOR: forget_codebook
    /// Undoes a codebook trained for a first batch that could not be stored.
    fn forget_codebook(&mut self, untrained: VectorQuantizer) -> Result<()> {
        self.store
            .connection()
            .execute("DELETE FROM codebook", [])?;
        self.quantizer = untrained;
        Ok(())
    }
    // ANCHOR_END: forget_codebook
}
