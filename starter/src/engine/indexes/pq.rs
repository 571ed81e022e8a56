//! Product quantization (PQ) as an index: a codebook, and an `m`-byte code per vector.
//!
//! Each vector is cut into `m` sub-vectors and each sub-vector replaced by the number of its
//! nearest centroid in that sub-space: `4 × d` bytes become `m` (chapter 7). A query builds its
//! `m × k` table of distances to every sub-space centroid once, then scores each code by adding
//! `m` table entries (asymmetric distance), an estimate of the euclidean distance.
//!
//! The index owns `<name>_codebook` (one row: the trained centroids) and `<name>_codes` (one
//! code per id). The codebook gives the codes their meaning, so it is trained once, in the same
//! transaction as the first codes it encodes, and never replaced while codes depend on it. When
//! the collection keeps its raw vectors, a search can re-rank its best candidates exactly
//! (`rerank`), as FAISS's `IndexRefine` does.
//!
//! In a collection of the chunked layout the codes are chunks of one list instead of a row
//! each: 1,024 codes end to end per BLOB, scored by the table-lookup kernel
//! ([`crate::kernels`]), and held in memory as one flat `u8` array in the preloaded mode.

use std::cell::OnceCell;

use rusqlite::{params, Connection, OptionalExtension};

use crate::distances::Metric;
use crate::engine::catalog::{IndexRecord, Settings};
use crate::engine::indexes::rerank::rerank_exactly;
use crate::engine::scan::ScanMode;
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::kernels::PqTable;
use crate::kmeans::{Initialisation, KMeansBackend, KMeansConfig};
use crate::quantization::{DistanceTable, VectorQuantizer};
use crate::sqlite_store::chunks::ChunkTable;
use crate::sqlite_store::rows::visit_rows;
use crate::sqlite_store::{Layout, Metadata, StoreKind};
use crate::top_k::TopK;
use crate::vector_blob::{blob_to_vector, vector_to_blob};

// ANCHOR: pq_settings
/// How to build a product-quantization index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PqSettings {
    /// Bytes per code: how many sub-vectors a vector is cut into (must divide the dimension).
    pub m_chunks: usize,
    /// Centroids per sub-space, at most 256 (2^nbits, one byte per sub-vector).
    pub nb_subspace_centroids: usize,
    /// How each sub-space is trained (`None`: the quantizer's defaults).
    pub kmeans: Option<KMeansConfig>,
}
// ANCHOR_END: pq_settings

impl PqSettings {
    /// `m_chunks` bytes per code, `nb_subspace_centroids` centroids per sub-space.
    pub fn new(m_chunks: usize, nb_subspace_centroids: usize) -> Self {
        PqSettings {
            m_chunks,
            nb_subspace_centroids,
            kmeans: None,
        }
    }

    /// FAISS's way of saying it: `m` sub-vectors of `nbits` bits each (nbits from 1 to 8).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `nbits` outside 1..=8.
    pub fn from_bits(m: usize, nbits: u32) -> Result<Self> {
        if !(1..=8).contains(&nbits) {
            return Err(Error::InvalidParameter {
                name: "nbits",
                reason: format!("{nbits} is out of range: a code byte holds 1 to 8 bits"),
            });
        }
        Ok(Self::new(m, 1 << nbits))
    }

    /// The same settings, trained (in matrix form) from another k-means seed.
    pub fn with_seed(self, seed: u64) -> Self {
        PqSettings {
            kmeans: Some(KMeansConfig {
                seed,
                ..self.kmeans.unwrap_or_else(|| self.default_kmeans())
            }),
            ..self
        }
    }

    /// How the engine trains each sub-space, as FAISS does: in matrix form, 25 rounds from
    /// random vectors, on at most 256 vectors per centroid.
    pub(crate) fn default_kmeans(&self) -> KMeansConfig {
        KMeansConfig {
            backend: KMeansBackend::Matrix,
            max_iterations: 25,
            init: Initialisation::RandomPoints,
            ..KMeansConfig::new(self.nb_subspace_centroids)
        }
    }

    /// The untrained quantizer; without a `kmeans` config, it trains in matrix form
    /// ([`KMeansBackend::Matrix`]) with the other defaults (256 vectors per centroid).
    fn quantizer(&self) -> Result<VectorQuantizer> {
        let quantizer = VectorQuantizer::new(self.m_chunks, self.nb_subspace_centroids)?;
        let config = self.kmeans.unwrap_or_else(|| self.default_kmeans());
        Ok(quantizer.with_kmeans_config(config))
    }

    fn to_settings(self) -> Settings {
        let mut pairs = vec![
            ("m", self.m_chunks.to_string()),
            ("n_centroids", self.nb_subspace_centroids.to_string()),
        ];
        if let Some(config) = self.kmeans {
            pairs.push(("seed", config.seed.to_string()));
        }
        Settings::from_pairs(pairs)
    }
}

/// A product-quantization index kept in a collection's file.
#[derive(Debug, Clone)]
pub struct PqIndex {
    record: IndexRecord,
    quantizer: VectorQuantizer,
    /// The collection's layout, which the codes follow.
    layout: Layout,
    /// Every code in memory, loaded by the first preloaded search.
    memory: OnceCell<FlatCodes>,
}

// ANCHOR: flat_codes
/// Codes held in memory: `ids.len()` codes of `m` bytes, end to end in one array.
#[derive(Debug, Clone, Default)]
struct FlatCodes {
    ids: Vec<i64>,
    codes: Vec<u8>,
}
// ANCHOR_END: flat_codes

/// Codes scored per kernel call.
const CODE_BLOCK: usize = 1024;

impl PqIndex {
    /// Creates the tables of an index that trains on the first vectors it is given.
    ///
    /// # Errors
    ///
    /// Bad settings ([`Error::ZeroChunks`], [`Error::InvalidCentroidCount`]) or a storage error.
    pub fn create_untrained(
        connection: &Connection,
        name: &str,
        settings: &PqSettings,
        generation: i64,
        layout: Layout,
    ) -> Result<Self> {
        let index = PqIndex {
            record: record(name, settings, generation),
            quantizer: settings.quantizer()?,
            layout,
            memory: OnceCell::new(),
        };
        index.drop_tables(connection)?;
        index.create_tables(connection)?;
        Ok(index)
    }

    /// Trains the codebook on `vectors` and encodes them all, inside the caller's write
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`Error::MetricNotSupported`] unless `metric` is euclidean; bad settings; too few
    /// vectors to train on.
    pub fn build(
        connection: &Connection,
        name: &str,
        settings: &PqSettings,
        collection: &Metadata,
        (ids, vectors): (&[i64], &[Vec<f32>]),
    ) -> Result<Self> {
        check_metric(name, collection.metric)?;
        let mut index = Self::create_untrained(
            connection,
            name,
            settings,
            collection.generation,
            collection.layout,
        )?;
        let vectors: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        index.add(connection, ids, &vectors)?;
        Ok(index)
    }

    /// Reads the settings and the codebook (if trained) back from the file.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] when the settings or the codebook's size do not add up.
    pub fn load(
        connection: &Connection,
        record: IndexRecord,
        dimension: Option<usize>,
        layout: Layout,
    ) -> Result<Self> {
        let bad = |reason: String| Error::BadIndexRecord {
            index: record.name.clone(),
            reason,
        };
        let m: usize = record.settings.number("m", &record.name)?;
        let k: usize = record.settings.number("n_centroids", &record.name)?;
        let blob: Option<Vec<u8>> = connection
            .query_row(
                &format!(
                    "SELECT centroids FROM {}_codebook WHERE id = 0",
                    record.name
                ),
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| bad(format!("table {}_codebook: {e}", record.name)))?;
        let quantizer = match (blob, dimension) {
            (None, _) => {
                // Codes without their codebook mean nothing: say so rather than answer `[]`.
                let index = PqIndex {
                    record: record.clone(),
                    quantizer: VectorQuantizer::new(m, k).map_err(|e| bad(e.to_string()))?,
                    layout,
                    memory: OnceCell::new(),
                };
                let stored = index.stored_codes(connection)?;
                if stored > 0 {
                    return Err(bad(format!(
                        "{stored} codes are stored but the codebook is missing"
                    )));
                }
                index.quantizer
            }
            (Some(_), None) => {
                return Err(bad(
                    "a codebook is stored but the collection has no dimension".into(),
                ))
            }
            (Some(blob), Some(dimension)) => {
                // The codebook holds k centroids of d/m values for each of the m chunks: k × d floats.
                let floats = k
                    .checked_mul(dimension)
                    .ok_or_else(|| bad("codebook size overflows".into()))?;
                let flat = blob_to_vector(&blob, floats)
                    .map_err(|e| bad(format!("codebook of {k} × {dimension} floats: {e}")))?;
                VectorQuantizer::from_codebook(m, k, dimension, flat)
                    .map_err(|e| bad(e.to_string()))?
            }
        };
        Ok(PqIndex {
            record,
            quantizer,
            layout,
            memory: OnceCell::new(),
        })
    }

    fn code_chunks(&self) -> ChunkTable {
        ChunkTable::new(format!("{}_codes", self.record.name), self.m_chunks())
    }

    /// Bytes per code.
    pub fn m_chunks(&self) -> usize {
        self.quantizer.m_chunks()
    }

    fn create_tables(&self, connection: &Connection) -> Result<()> {
        let name = &self.record.name;
        connection.execute_batch(&format!(
            "CREATE TABLE {name}_codebook (
                 id        INTEGER PRIMARY KEY CHECK (id = 0),  -- one codebook per index
                 centroids BLOB NOT NULL                        -- m × k × (d / m) f32 values
             );"
        ))?;
        if self.layout == Layout::Chunks {
            return self.code_chunks().create(connection);
        }
        connection.execute_batch(&format!(
            "CREATE TABLE {name}_codes (
                 id   INTEGER PRIMARY KEY,                      -- the collection's id
                 code BLOB NOT NULL                             -- m bytes
             );"
        ))?;
        Ok(())
    }

    // ANCHOR: save_codebook
    /// Writes the trained codebook (inside the transaction that stores the first codes).
    fn save_codebook(&self, connection: &Connection) -> Result<()> {
        connection.execute(
            &format!(
                "INSERT INTO {}_codebook (id, centroids) VALUES (0, ?1)",
                self.record.name
            ),
            params![vector_to_blob(self.quantizer.codebook()?)],
        )?;
        Ok(())
    }
    // ANCHOR_END: save_codebook

    fn stored_codes(&self, connection: &Connection) -> Result<usize> {
        if self.layout == Layout::Chunks {
            return self.code_chunks().len(connection);
        }
        let n: i64 = connection.query_row(
            &format!("SELECT count(*) FROM {}_codes", self.record.name),
            [],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

impl PqIndex {
    /// The codes in rows (the row layout), each scored by the checked look-ups of chapter 7.
    fn scan_rows(
        &self,
        connection: &Connection,
        table: &DistanceTable,
        best: &mut TopK<i64>,
    ) -> Result<()> {
        let mut statement = connection.prepare_cached(&format!(
            "SELECT id, code FROM {}_codes ORDER BY id DESC",
            self.record.name
        ))?;
        let codes_table = format!("{}_codes", self.record.name);
        let rows = statement.query([])?;
        visit_rows(rows, &codes_table, |id, code| {
            best.push(id, table.distance_to_code(code)?);
            Ok(())
        })
    }

    // ANCHOR: scan_blocks
    /// The codes in blocks, chunks from SQLite or the flat array in memory, each block scored
    /// by one call of the table-lookup kernel.
    fn scan_blocks(
        &self,
        connection: &Connection,
        table: &DistanceTable,
        mode: ScanMode,
        best: &mut TopK<i64>,
    ) -> Result<()> {
        let m = self.m_chunks();
        // Padded to 256 entries a row, so that any code byte is a valid index: the inner loop
        // needs no check, and a damaged byte scores +inf instead of reading another row.
        let lookup = PqTable::new(table.values(), m, table.nb_subspace_centroids())?;
        let mut scores = vec![0.0f32; CODE_BLOCK];
        let mut offer = |ids: &[i64], codes: &[u8]| {
            for (ids, codes) in ids.chunks(CODE_BLOCK).zip(codes.chunks(CODE_BLOCK * m)) {
                let scores = &mut scores[..ids.len()];
                lookup.scan(codes, scores);
                for (&id, &score) in ids.iter().zip(scores.iter()) {
                    if best.admits(score) {
                        best.push(id, score);
                    }
                }
            }
        };
        match mode {
            ScanMode::Preloaded => {
                let memory = self.memory(connection)?;
                offer(&memory.ids, &memory.codes);
            }
            ScanMode::Streamed => {
                let mut ids = Vec::new();
                self.code_chunks()
                    .for_each_chunk(connection, Some(0), |chunk| {
                        chunk.ids_into(&mut ids);
                        offer(&ids, chunk.items);
                        Ok(())
                    })?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: scan_blocks

    /// The codes in memory, read from the file the first time they are needed.
    fn memory(&self, connection: &Connection) -> Result<&FlatCodes> {
        if let Some(memory) = self.memory.get() {
            return Ok(memory);
        }
        let mut memory = FlatCodes::default();
        let m = self.m_chunks();
        match self.layout {
            Layout::Chunks => self
                .code_chunks()
                .for_each_chunk(connection, Some(0), |chunk| {
                    memory.ids.extend((0..chunk.count).map(|i| chunk.id(i)));
                    memory.codes.extend_from_slice(chunk.items);
                    Ok(())
                })?,
            Layout::Rows => {
                let mut statement = connection.prepare(&format!(
                    "SELECT id, code FROM {}_codes ORDER BY id DESC",
                    self.record.name
                ))?;
                let codes_table = format!("{}_codes", self.record.name);
                visit_rows(statement.query([])?, &codes_table, |id, code| {
                    if code.len() != m {
                        return Err(Error::CodeLength {
                            len: code.len(),
                            expected: m,
                        });
                    }
                    memory.ids.push(id);
                    memory.codes.extend_from_slice(code);
                    Ok(())
                })?;
            }
        }
        log::info!(
            "index {}: {} codes loaded into memory",
            self.record.name,
            memory.ids.len()
        );
        Ok(self.memory.get_or_init(|| memory))
    }
}

fn record(name: &str, settings: &PqSettings, generation: i64) -> IndexRecord {
    IndexRecord {
        name: name.to_string(),
        kind: IndexKind::Pq,
        metric: Metric::Euclidean,
        built_on: generation,
        settings: settings.to_settings(),
    }
}

/// Asymmetric distances estimate euclidean distances, and nothing else.
fn check_metric(name: &str, metric: Metric) -> Result<()> {
    if metric != Metric::Euclidean {
        return Err(Error::MetricNotSupported {
            index: name.to_string(),
            metric,
        });
    }
    Ok(())
}

impl StoredIndex for PqIndex {
    fn record(&self) -> &IndexRecord {
        &self.record
    }

    fn record_mut(&mut self) -> &mut IndexRecord {
        &mut self.record
    }

    fn label(&self) -> String {
        format!(
            "pq(m={}, centroids={})",
            self.quantizer.m_chunks(),
            self.quantizer.nb_subspace_centroids()
        )
    }

    // ANCHOR: pq_add
    fn add(&mut self, connection: &Connection, ids: &[i64], vectors: &[&[f32]]) -> Result<()> {
        if !self.quantizer.is_trained() {
            // The first batch trains the codebook, in the transaction that stores its codes:
            // a crash or an error leaves neither, and no code is ever stored without it.
            self.train(connection, vectors)?;
        }
        if self.layout == Layout::Chunks {
            let codes = self.quantizer.quantize_in_blocks(vectors)?;
            return self.code_chunks().append(connection, 0, ids, &codes);
        }
        let codes = self.quantizer.quantize_vectors(vectors)?;
        let mut insert = connection.prepare_cached(&format!(
            "INSERT INTO {}_codes (id, code) VALUES (?1, ?2)",
            self.record.name
        ))?;
        for (&id, code) in ids.iter().zip(codes) {
            insert
                .execute(params![id, code])
                .map_err(|e| crate::sqlite_store::rows::duplicate_or_other(e, id))?;
        }
        Ok(())
    }
    // ANCHOR_END: pq_add

    // ANCHOR: pq_remove
    fn remove(&mut self, connection: &Connection, ids: &[i64]) -> Result<()> {
        if self.layout == Layout::Chunks {
            let table = self.code_chunks();
            let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
            let located = table.locate(connection, Some(0), &wanted)?;
            table.remove_located(connection, located)?;
            return Ok(());
        }
        let mut delete = connection.prepare_cached(&format!(
            "DELETE FROM {}_codes WHERE id = ?1",
            self.record.name
        ))?;
        for &id in ids {
            delete.execute([id])?;
        }
        Ok(())
    }
    // ANCHOR_END: pq_remove

    // ANCHOR: pq_search
    fn search(
        &self,
        connection: &Connection,
        collection: &Metadata,
        query: &[f32],
        params: &SearchParams,
        mode: ScanMode,
    ) -> Result<Vec<Neighbour>> {
        params.check()?;
        if !self.quantizer.is_trained() {
            return Ok(Vec::new()); // nothing was ever stored
        }
        // Checks the query (dimension, NaN) and computes its m × k table, once.
        let table = self.quantizer.compute_asymmetric_distance_matrix(query)?;
        let rerank = params
            .rerank
            .filter(|&depth| depth > 0 && collection.kind == StoreKind::Vectors);
        let mut best = TopK::new(
            rerank.map_or(params.k, |d| d.max(params.k)),
            Metric::Euclidean,
        );
        if mode == ScanMode::Preloaded || self.layout == Layout::Chunks {
            self.scan_blocks(connection, &table, mode, &mut best)?;
        } else {
            self.scan_rows(connection, &table, &mut best)?;
        }
        // The table holds squared distances; the square root estimates the euclidean distance.
        let candidates: Vec<Neighbour> = best
            .into_neighbours()
            .into_iter()
            .map(|n| Neighbour::new(n.id, n.score.sqrt()))
            .collect();
        match rerank {
            Some(_) => rerank_exactly(connection, collection, query, candidates, params.k),
            None => Ok(candidates),
        }
    }
    // ANCHOR_END: pq_search

    fn preload(&self, connection: &Connection) -> Result<()> {
        self.memory(connection).map(|_| ())
    }

    fn forget_memory(&mut self) {
        self.memory.take();
    }

    fn follow_metric(&mut self, _connection: &Connection, metric: Metric) -> Result<()> {
        check_metric(&self.record.name, metric)
    }

    fn drop_tables(&self, connection: &Connection) -> Result<()> {
        let name = &self.record.name;
        connection.execute_batch(&format!(
            "DROP TABLE IF EXISTS {name}_codes; DROP TABLE IF EXISTS {name}_codebook;"
        ))?;
        Ok(())
    }

    fn bytes_per_vector(&self) -> usize {
        self.quantizer.bytes_per_vector()
    }

    fn quantizer(&self) -> Option<&VectorQuantizer> {
        Some(&self.quantizer)
    }

    fn code_of(&self, connection: &Connection, id: i64) -> Result<Option<Vec<u8>>> {
        if self.layout == Layout::Chunks {
            let mut found = None;
            let m = self.m_chunks();
            self.code_chunks()
                .for_each_chunk(connection, Some(0), |chunk| {
                    if let Some(i) = (0..chunk.count).find(|&i| chunk.id(i) == id) {
                        found = Some(chunk.items[i * m..(i + 1) * m].to_vec());
                    }
                    Ok(())
                })?;
            return Ok(found);
        }
        Ok(connection
            .query_row(
                &format!("SELECT code FROM {}_codes WHERE id = ?1", self.record.name),
                [id],
                |row| row.get(0),
            )
            .optional()?)
    }

    // ANCHOR: pq_train
    fn train(&mut self, connection: &Connection, sample: &[&[f32]]) -> Result<()> {
        let stored = self.stored_codes(connection)?;
        if stored > 0 {
            return Err(Error::CodebookInUse { stored });
        }
        let mut trained = self.quantizer.clone();
        trained.fit(sample)?;
        connection.execute(&format!("DELETE FROM {}_codebook", self.record.name), [])?;
        let previous = std::mem::replace(&mut self.quantizer, trained);
        if let Err(e) = self.save_codebook(connection) {
            self.quantizer = previous;
            return Err(e);
        }
        Ok(())
    }
    // ANCHOR_END: pq_train
}
