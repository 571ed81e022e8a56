//! IVF-PQ as an index of a collection: built, reopened, searched, kept up to date.
//!
//! The index owns three tables: `<name>_centroids` (the coarse cells, one row each, as the
//! inverted file keeps them), `<name>_codebook` (one row: the residual quantizer's centroids,
//! as the PQ index keeps them) and `<name>_lists` (the `(id, code)` of every vector, cell by
//! cell, see [`super::lists`]). Opening a collection reads the centroids and the codebook,
//! each checked for its size before it is read; the precomputed terms of the tables are
//! derived from them on the first search (or when the index is preloaded), and the lists are
//! read per probe (streamed) or once into memory (preloaded). A vector inserted after the
//! build is encoded against its own cell and appended to that cell's list.

use std::cell::OnceCell;

use rusqlite::{params, Connection, OptionalExtension};

use super::cells::CoarseCells;
use super::lists::{CellCodes, Lists};
use super::residual::{encode, encode_rows, residuals};
use super::scan::{scan_list, scan_list_allowed};
use super::table::{CellTerms, QueryTables, PRECOMPUTED_BUDGET};
use super::IvfPqSettings;
use crate::distances::Metric;
use crate::engine::catalog::{IndexRecord, Settings};
use crate::engine::indexes::rerank::rerank_exactly;
use crate::engine::scan::ScanMode;
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IdSet, IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::kmeans::KMeansConfig;
use crate::quantization::VectorQuantizer;
use crate::sqlite_store::{Metadata, StoreKind};
use crate::top_k::TopK;
use crate::utils::timing::measure;
use crate::validation::{check_batch, check_vector};
use crate::vector_blob::{blob_to_vector, vector_to_blob};

/// An IVF-PQ index kept in a collection's file.
#[derive(Debug, Clone)]
pub struct IvfPqIndex {
    record: IndexRecord,
    dimension: usize,
    cells: CoarseCells,
    /// Trained on the residuals of every cell.
    quantizer: VectorQuantizer,
    lists: Lists,
    /// The collection it indexes, whose vectors a filtered search re-ranks with.
    collection: Metadata,
    /// The shared part of every cell's table, derived on the first search.
    terms: OnceCell<CellTerms>,
    /// Every cell's list in memory, loaded by the first preloaded (or filtered) search.
    memory: OnceCell<Vec<CellCodes>>,
}

impl IvfPqIndex {
    // ANCHOR: build
    /// Trains the cells on `vectors` (stored under `ids`), then the quantizer on their
    /// residuals, encodes every vector in its cell and writes the index's tables, inside the
    /// caller's write transaction.
    ///
    /// # Errors
    ///
    /// [`Error::MetricNotSupported`] unless the collection is euclidean; bad settings
    /// ([`IvfPqSettings::check`]); a training or storage error.
    pub fn build(
        connection: &Connection,
        name: &str,
        settings: &IvfPqSettings,
        collection: &Metadata,
        (ids, vectors): (&[i64], &[Vec<f32>]),
    ) -> Result<Self> {
        check_metric(name, collection.metric)?;
        let dimension = vectors.first().map_or(0, Vec::len);
        settings.check(vectors.len(), dimension)?;
        let coarse = KMeansConfig {
            n_clusters: settings.nlist,
            ..settings.coarse
        };
        let cells = CoarseCells::train(vectors, &coarse)?;
        let slices: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        let cells_of = cells.assign(&slices);
        let residuals = residuals(&cells, &slices, &cells_of);
        let k = settings.nb_subspace_centroids()?;
        let mut quantizer = VectorQuantizer::new(settings.m, k)?.with_kmeans_config(settings.fine);
        let rows: Vec<&[f32]> = residuals.chunks_exact(dimension).collect();
        let (trained, took) = measure(|| quantizer.fit(&rows));
        trained?;
        log::info!(
            "ivfpq: residual quantizer of m = {} and {k} centroids trained in {:.2} s",
            settings.m,
            took.as_secs_f64()
        );
        let codes = encode_rows(&quantizer, &residuals, dimension)?;
        let index = IvfPqIndex::new(
            record(name, settings, collection),
            dimension,
            cells,
            quantizer,
            collection,
        );
        index.drop_tables(connection)?;
        index.create_tables(connection)?;
        index.cells.write(connection, &index.centroids_table())?;
        index.write_codebook(connection)?;
        let mut filed: Vec<(usize, i64, &[u8])> = cells_of
            .iter()
            .zip(ids)
            .zip(codes.chunks_exact(settings.m))
            .map(|((&cell, &id), code)| (cell, id, code))
            .collect();
        // Cell by cell, so that each cell's codes sit side by side in the file.
        filed.sort_unstable_by_key(|&(cell, id, _)| (cell, id));
        index.lists.append(connection, &filed)?;
        log::info!(
            "ivfpq: {} codes filed in {} cells",
            filed.len(),
            index.cells.nlist()
        );
        Ok(index)
    }
    // ANCHOR_END: build

    /// Reads an index back from its tables: its settings, then its centroids and codebook,
    /// each checked before it is used.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] naming what does not add up: settings missing or out of
    /// range, centroids missing, extra or of the wrong size, a codebook missing or of the
    /// wrong size.
    pub fn load(
        connection: &Connection,
        record: IndexRecord,
        collection: &Metadata,
    ) -> Result<Self> {
        let bad = |reason: String| Error::BadIndexRecord {
            index: record.name.clone(),
            reason,
        };
        let nlist: usize = record.settings.number("nlist", &record.name)?;
        let m: usize = record.settings.number("m", &record.name)?;
        let nbits: u32 = record.settings.number("nbits", &record.name)?;
        let dimension = collection
            .dimension
            .ok_or_else(|| bad("the collection has no dimension yet".to_string()))?;
        let k = IvfPqSettings::new(nlist, m, nbits)
            .nb_subspace_centroids()
            .map_err(|e| bad(e.to_string()))?;
        if m == 0 || !dimension.is_multiple_of(m) {
            return Err(bad(format!(
                "m = {m} does not divide the dimension {dimension}"
            )));
        }
        let centroids_table = format!("{}_centroids", record.name);
        let cells = CoarseCells::read(connection, &record, &centroids_table, nlist, dimension)?;
        let quantizer = read_codebook(connection, &record, m, k, dimension)?;
        Ok(IvfPqIndex::new(
            record, dimension, cells, quantizer, collection,
        ))
    }

    fn new(
        record: IndexRecord,
        dimension: usize,
        cells: CoarseCells,
        quantizer: VectorQuantizer,
        collection: &Metadata,
    ) -> Self {
        let lists = Lists::new(&record.name, collection.layout, quantizer.m_chunks());
        IvfPqIndex {
            record,
            dimension,
            cells,
            quantizer,
            lists,
            collection: collection.clone(),
            terms: OnceCell::new(),
            memory: OnceCell::new(),
        }
    }

    /// How many cells.
    pub fn nlist(&self) -> usize {
        self.cells.nlist()
    }

    /// Bytes per code.
    pub fn m(&self) -> usize {
        self.quantizer.m_chunks()
    }

    /// The quantizer of the residuals.
    pub fn residual_quantizer(&self) -> &VectorQuantizer {
        &self.quantizer
    }

    fn centroids_table(&self) -> String {
        format!("{}_centroids", self.record.name)
    }

    fn create_tables(&self, connection: &Connection) -> Result<()> {
        CoarseCells::create_table(connection, &self.centroids_table())?;
        connection.execute_batch(&format!(
            "CREATE TABLE {}_codebook (
                 id        INTEGER PRIMARY KEY CHECK (id = 0),  -- one codebook per index
                 centroids BLOB NOT NULL                        -- m × 2^nbits × (d / m) f32
             );",
            self.record.name
        ))?;
        self.lists.create(connection)
    }

    fn write_codebook(&self, connection: &Connection) -> Result<()> {
        connection.execute(
            &format!(
                "INSERT INTO {}_codebook (id, centroids) VALUES (0, ?1)",
                self.record.name
            ),
            params![vector_to_blob(self.quantizer.codebook()?)],
        )?;
        Ok(())
    }

    /// The terms every cell's table shares, computed the first time they are needed.
    fn terms(&self) -> Result<&CellTerms> {
        if let Some(terms) = self.terms.get() {
            return Ok(terms);
        }
        let terms = CellTerms::new(&self.cells, &self.quantizer, PRECOMPUTED_BUDGET)?;
        Ok(self.terms.get_or_init(|| terms))
    }

    /// The tables of one query.
    fn tables<'a>(&'a self, query: &'a [f32]) -> Result<QueryTables<'a>> {
        let shape = (self.m(), self.quantizer.nb_subspace_centroids());
        Ok(QueryTables::new(query, &self.cells, self.terms()?, shape))
    }

    /// Every list in memory, read from the file the first time it is needed.
    fn memory(&self, connection: &Connection) -> Result<&[CellCodes]> {
        if let Some(cells) = self.memory.get() {
            return Ok(cells);
        }
        let cells = self.lists.load(connection, self.nlist())?;
        log::info!(
            "index {}: {} lists of codes loaded into memory",
            self.record.name,
            cells.len()
        );
        Ok(self.memory.get_or_init(|| cells))
    }

    /// `n_probes` from the parameters (1 by default, as in FAISS), checked against `nlist`.
    fn n_probes(&self, params: &SearchParams) -> Result<usize> {
        let n_probes = params.n_probes.unwrap_or(1);
        if n_probes == 0 || n_probes > self.nlist() {
            return Err(Error::InvalidProbeCount {
                n_probes,
                n_clusters: self.nlist(),
            });
        }
        Ok(n_probes)
    }

    /// How many candidates the codes are asked for: `k`, or the re-ranking depth when it is
    /// deeper and the collection keeps the vectors to re-rank with.
    fn depth(params: &SearchParams, collection: &Metadata) -> Option<usize> {
        params
            .rerank
            .filter(|&depth| depth > 0 && collection.kind == StoreKind::Vectors)
            .map(|depth| depth.max(params.k))
    }

    // ANCHOR: finish
    /// The candidates best first, re-ranked with the exact vectors when `depth` asks for it,
    /// or with their estimated distances (the square roots of the sums of the tables).
    fn finish(
        &self,
        connection: &Connection,
        collection: &Metadata,
        query: &[f32],
        best: TopK<i64>,
        (k, depth): (usize, Option<usize>),
    ) -> Result<Vec<Neighbour>> {
        // Precomputed terms can round a true zero to a hair below it.
        let candidates: Vec<Neighbour> = best
            .into_neighbours()
            .into_iter()
            .map(|n| Neighbour::new(n.id, n.score.max(0.0).sqrt()))
            .collect();
        match depth {
            Some(_) => rerank_exactly(connection, collection, query, candidates, k),
            None => Ok(candidates),
        }
    }
    // ANCHOR_END: finish
}

impl StoredIndex for IvfPqIndex {
    fn record(&self) -> &IndexRecord {
        &self.record
    }

    fn record_mut(&mut self) -> &mut IndexRecord {
        &mut self.record
    }

    fn label(&self) -> String {
        format!(
            "ivfpq(nlist={}, m={}, nbits={})",
            self.nlist(),
            self.m(),
            self.quantizer.nb_subspace_centroids().trailing_zeros()
        )
    }

    // ANCHOR: ivfpq_add
    fn add(&mut self, connection: &Connection, ids: &[i64], vectors: &[&[f32]]) -> Result<()> {
        check_batch(vectors, Some(self.dimension))?;
        let cells_of = self.cells.assign(vectors);
        let codes = encode(&self.quantizer, &self.cells, vectors, &cells_of)?;
        let mut filed: Vec<(usize, i64, &[u8])> = cells_of
            .iter()
            .zip(ids)
            .zip(codes.chunks_exact(self.m()))
            .map(|((&cell, &id), code)| (cell, id, code))
            .collect();
        filed.sort_by_key(|&(cell, _, _)| cell); // stable: each cell keeps the batch's order
        self.lists.append(connection, &filed)
    }
    // ANCHOR_END: ivfpq_add

    fn remove(&mut self, connection: &Connection, ids: &[i64]) -> Result<()> {
        self.lists.remove(connection, ids)
    }

    // ANCHOR: ivfpq_search
    fn search(
        &self,
        connection: &Connection,
        collection: &Metadata,
        query: &[f32],
        params: &SearchParams,
        mode: ScanMode,
    ) -> Result<Vec<Neighbour>> {
        params.check()?;
        check_vector(query, self.dimension)?;
        let probed = self.cells.probe(query, self.n_probes(params)?);
        let depth = Self::depth(params, collection);
        let mut best = TopK::new(depth.unwrap_or(params.k), Metric::Euclidean);
        let mut tables = self.tables(query)?;
        let mut scores = Vec::new();
        let memory = match mode {
            ScanMode::Preloaded => Some(self.memory(connection)?),
            ScanMode::Streamed => None,
        };
        for (cell, coarse) in probed {
            let table = tables.for_cell(cell, coarse);
            match memory {
                Some(lists) => {
                    if let Some(list) = lists.get(cell) {
                        scan_list(table, &list.ids, &list.codes, &mut scores, &mut best);
                    }
                }
                None => self.lists.visit_cell(connection, cell, |ids, codes| {
                    scan_list(table, ids, codes, &mut scores, &mut best);
                    Ok(())
                })?,
            }
        }
        self.finish(connection, collection, query, best, (params.k, depth))
    }
    // ANCHOR_END: ivfpq_search

    // ANCHOR: ivfpq_search_allowed
    /// Probes the `n_probes` nearest cells, scoring only the allowed codes in them, and goes on
    /// to the next cells in order until `n_probes × k` allowed ones were scored or every cell
    /// was read, as the inverted file does (chapter 14). The lists are read into memory first,
    /// as the preloaded mode holds them.
    fn search_allowed(
        &self,
        connection: &Connection,
        query: &[f32],
        params: &SearchParams,
        allowed: &IdSet,
    ) -> Result<Option<Vec<Neighbour>>> {
        params.check()?;
        check_vector(query, self.dimension)?;
        let n_probes = self.n_probes(params)?;
        let lists = self.memory(connection)?;
        let collection = Metadata {
            metric: self.record.metric,
            ..self.collection.clone()
        };
        let depth = Self::depth(params, &collection);
        let mut best = TopK::new(depth.unwrap_or(params.k), Metric::Euclidean);
        let mut tables = self.tables(query)?;
        let mut found = 0;
        let enough = params.k.saturating_mul(n_probes);
        for (rank, (cell, coarse)) in self
            .cells
            .probe(query, self.nlist())
            .into_iter()
            .enumerate()
        {
            if rank >= n_probes && found >= enough {
                break;
            }
            if let Some(list) = lists.get(cell) {
                let table = tables.for_cell(cell, coarse);
                found += scan_list_allowed(table, &list.ids, &list.codes, allowed, &mut best);
            }
        }
        self.finish(connection, &collection, query, best, (params.k, depth))
            .map(Some)
    }
    // ANCHOR_END: ivfpq_search_allowed

    fn preload(&self, connection: &Connection) -> Result<()> {
        // The terms too: the first query should not pay for what every query shares.
        self.terms()?;
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
        self.lists.drop_table(connection)?;
        connection.execute_batch(&format!(
            "DROP TABLE IF EXISTS {name}_codebook; DROP TABLE IF EXISTS {name}_centroids;"
        ))?;
        Ok(())
    }

    fn bytes_per_vector(&self) -> usize {
        // A list holds the code and the id of each vector, as FAISS's lists do.
        self.m() + std::mem::size_of::<i64>()
    }

    fn probed_cells(&self, query: &[f32], params: &SearchParams) -> Result<Option<Vec<i64>>> {
        check_vector(query, self.dimension)?;
        let probed = self.cells.probe(query, self.n_probes(params)?);
        Ok(Some(
            probed
                .into_iter()
                .filter_map(|(cell, _)| i64::try_from(cell).ok())
                .collect(),
        ))
    }

    fn centroids(&self) -> Option<&[Vec<f32>]> {
        Some(self.cells.centroids())
    }

    fn train(&mut self, _connection: &Connection, _sample: &[&[f32]]) -> Result<()> {
        Err(Error::InvalidParameter {
            name: "sample",
            reason: format!(
                "index {} is an IVF-PQ index: it trains when it is built",
                self.record.name
            ),
        })
    }
}

/// The record of an index built with `settings` on `collection`.
fn record(name: &str, settings: &IvfPqSettings, collection: &Metadata) -> IndexRecord {
    IndexRecord {
        name: name.to_string(),
        kind: IndexKind::IvfPq,
        metric: collection.metric,
        built_on: collection.generation,
        settings: Settings::from_pairs([
            ("nlist", settings.nlist.to_string()),
            ("m", settings.m.to_string()),
            ("nbits", settings.nbits.to_string()),
            ("seed", settings.coarse.seed.to_string()),
        ]),
    }
}

/// The residual quantizer of the index of `record`, its codebook's length checked before the
/// codebook is read.
fn read_codebook(
    connection: &Connection,
    record: &IndexRecord,
    m: usize,
    k: usize,
    dimension: usize,
) -> Result<VectorQuantizer> {
    let table = format!("{}_codebook", record.name);
    let bad = |reason: String| Error::BadIndexRecord {
        index: record.name.clone(),
        reason: format!("table {table}: {reason}"),
    };
    // k × d floats: k centroids of d / m values for each of the m sub-spaces.
    let floats = k
        .checked_mul(dimension)
        .ok_or_else(|| bad("codebook size overflows".to_string()))?;
    let length: Option<i64> = connection
        .query_row(
            &format!("SELECT length(centroids) FROM {table} WHERE id = 0"),
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| bad(e.to_string()))?
        .flatten();
    match length {
        None => return Err(bad("the codebook is missing".to_string())),
        Some(length) if usize::try_from(length).ok() != floats.checked_mul(4) => {
            return Err(bad(format!(
                "a codebook of {length} bytes, expected {k} × {dimension} floats of 4 bytes"
            )))
        }
        Some(_) => {}
    }
    let blob: Vec<u8> = connection
        .query_row(
            &format!("SELECT centroids FROM {table} WHERE id = 0"),
            [],
            |row| row.get(0),
        )
        .map_err(|e| bad(e.to_string()))?;
    let flat = blob_to_vector(&blob, floats).map_err(|e| bad(e.to_string()))?;
    VectorQuantizer::from_codebook(m, k, dimension, flat).map_err(|e| bad(e.to_string()))
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
