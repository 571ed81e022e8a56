//! An inverted file (IVF): k-means cells, and a list of vectors per cell.
//!
//! Training k-means on the collection cuts the space into `nlist` cells, one per centroid.
//! Every vector is filed in the cell of its best centroid; a query reads only the `n_probes`
//! cells whose centroids score best against it, so it compares itself with a fraction of the
//! vectors. Exactness is traded for speed: a true neighbour filed just across a cell border is
//! missed unless its cell is probed too (chapter 6).
//!
//! The index owns two tables. `<name>_centroids` holds the centroids. `<name>_lists` holds the
//! inverted lists themselves: a copy of every vector with its cell, written at build time cell
//! by cell, so that a probe reads a run of neighbouring pages (FAISS's `IndexIVFFlat` also keeps
//! its own copy of the vectors in its lists). Vectors inserted later join their cell's list at
//! the end of the table.
//!
//! That is the row layout, the book's first version. In a collection of the chunked layout the
//! lists are chunks instead ([`super::ivf_lists`]): each cell's vectors end to end in a few
//! BLOBs, scored as blocks by the vector kernels, and held in memory in the preloaded mode.

use crate::engine::IdSet;
use std::cell::OnceCell;

use rusqlite::{params, Connection};

use crate::distances::Metric;
use crate::engine::catalog::{IndexRecord, Settings};
use crate::engine::indexes::ivf_lists::ChunkedLists;
use crate::engine::scan::{BlockScorer, ScanMode, VectorMatrix};
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::kmeans::{assign_flat, train_centroids, Initialisation, KMeansBackend, KMeansConfig};
use crate::sqlite_store::rows::visit_rows;
use crate::sqlite_store::{Layout, Metadata};
use crate::top_k::TopK;
use crate::utils::timing::measure;
use crate::validation::check_vector;
use crate::vector_blob::{blob_as_vector, blob_to_vector, vector_to_blob};

// ANCHOR: ivf_settings
/// How to build an inverted file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IvfSettings {
    /// How many cells (k-means centroids).
    pub nlist: usize,
    /// How k-means is trained.
    pub kmeans: KMeansConfig,
}

impl IvfSettings {
    /// FAISS's recipe for `nlist` cells: 25 rounds of k-means on a sample of at most 256
    /// vectors per centroid. Cells only need to be roughly right (a search probes several), so
    /// more polished centroids are not worth the extra time. As in FAISS, the rounds run in
    /// matrix form ([`KMeansBackend::Matrix`]) from vectors drawn at random.
    pub fn new(nlist: usize) -> Self {
        IvfSettings {
            nlist,
            kmeans: KMeansConfig {
                max_iterations: 25,
                max_points_per_centroid: Some(256),
                backend: KMeansBackend::Matrix,
                init: Initialisation::RandomPoints,
                ..KMeansConfig::new(nlist)
            },
        }
    }

    /// The same settings with another k-means seed.
    pub fn with_seed(self, seed: u64) -> Self {
        IvfSettings {
            kmeans: KMeansConfig {
                seed,
                ..self.kmeans
            },
            ..self
        }
    }
}
// ANCHOR_END: ivf_settings

/// An inverted file kept in a collection's file.
#[derive(Debug, Clone)]
pub struct IvfIndex {
    record: IndexRecord,
    dimension: usize,
    centroids: Vec<Vec<f32>>,
    /// The collection's layout, which the lists follow.
    layout: Layout,
    /// The centroids end to end, for the kernels (chunked layout).
    centroid_matrix: VectorMatrix,
    /// Every cell's list in memory, loaded by the first preloaded search.
    memory: OnceCell<Vec<VectorMatrix>>,
}

impl IvfIndex {
    // ANCHOR: build
    /// Trains the centroids on `vectors` (stored under `ids`), files every vector, and writes
    /// the index's tables, inside the caller's write transaction.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidClusterCount`] when `nlist` is 0 or above the number of vectors; a
    /// training or storage error.
    pub fn build(
        connection: &Connection,
        name: &str,
        settings: &IvfSettings,
        collection: &Metadata,
        (ids, vectors): (&[i64], &[Vec<f32>]),
    ) -> Result<Self> {
        let (metric, generation) = (collection.metric, collection.generation);
        let dimension = vectors.first().map_or(0, Vec::len);
        if settings.nlist == 0 || settings.nlist > vectors.len() {
            return Err(Error::InvalidClusterCount {
                n_clusters: settings.nlist,
                n_vectors: vectors.len(),
            });
        }
        let config = KMeansConfig {
            n_clusters: settings.nlist,
            ..settings.kmeans
        };
        log::info!(
            "k-means: training {} centroids on {} vectors (at most {:?} per centroid, {} rounds)",
            config.n_clusters,
            vectors.len(),
            config.max_points_per_centroid,
            config.max_iterations
        );
        let (centroids, took) = measure(|| train_centroids(vectors, &config));
        let centroids = centroids?;
        log::info!(
            "k-means: trained in {:.2} s; filing vectors into cells",
            took.as_secs_f64()
        );
        let index = IvfIndex::new(
            IndexRecord {
                name: name.to_string(),
                kind: IndexKind::Ivf,
                metric,
                built_on: generation,
                settings: Settings::from_pairs([
                    ("nlist", config.n_clusters.to_string()),
                    ("seed", config.seed.to_string()),
                    ("max_iterations", config.max_iterations.to_string()),
                    (
                        "max_points_per_centroid",
                        config
                            .max_points_per_centroid
                            .map_or("all".to_string(), |p| p.to_string()),
                    ),
                ]),
            },
            dimension,
            centroids,
            collection.layout,
        );
        index.drop_tables(connection)?;
        index.create_tables(connection)?;
        index.write_centroids(connection)?;
        let rows: Vec<(i64, &[f32])> = ids
            .iter()
            .copied()
            .zip(vectors.iter().map(Vec::as_slice))
            .collect();
        index.write_lists(connection, &rows)?;
        log::info!("k-means: index of {} cells stored", index.centroids.len());
        Ok(index)
    }
    // ANCHOR_END: build

    /// Reads an index's centroids back from its tables.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] when the centroids are missing, too many, or of another
    /// dimension than the collection's.
    pub fn load(
        connection: &Connection,
        record: IndexRecord,
        dimension: usize,
        layout: Layout,
    ) -> Result<Self> {
        let nlist: usize = record.settings.number("nlist", &record.name)?;
        let bad = |reason: String| Error::BadIndexRecord {
            index: record.name.clone(),
            reason,
        };
        let mut statement = connection
            .prepare(&format!(
                "SELECT cell, centroid FROM {}_centroids ORDER BY cell",
                record.name
            ))
            .map_err(|e| bad(format!("table {}_centroids: {e}", record.name)))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if rows.len() != nlist {
            return Err(bad(format!(
                "{} centroids stored for nlist = {nlist}",
                rows.len()
            )));
        }
        let centroids = rows
            .iter()
            .enumerate()
            .map(|(expected, (cell, blob))| {
                if usize::try_from(*cell).ok() != Some(expected) {
                    return Err(bad(format!("centroid cells are not 0..{nlist}")));
                }
                blob_to_vector(blob, dimension)
                    .map_err(|e| bad(format!("centroid of cell {cell}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(IvfIndex::new(record, dimension, centroids, layout))
    }

    fn new(
        record: IndexRecord,
        dimension: usize,
        centroids: Vec<Vec<f32>>,
        layout: Layout,
    ) -> Self {
        let mut centroid_matrix = VectorMatrix::new(dimension);
        for (cell, centroid) in (0i64..).zip(&centroids) {
            centroid_matrix.extend(&[cell], centroid);
        }
        IvfIndex {
            record,
            dimension,
            centroids,
            layout,
            centroid_matrix,
            memory: OnceCell::new(),
        }
    }

    fn chunked_lists(&self) -> ChunkedLists {
        ChunkedLists::new(&self.record.name, self.dimension)
    }

    /// How many cells.
    pub fn nlist(&self) -> usize {
        self.centroids.len()
    }

    fn create_tables(&self, connection: &Connection) -> Result<()> {
        let name = &self.record.name;
        if self.layout == Layout::Chunks {
            connection.execute_batch(&format!(
                "CREATE TABLE {name}_centroids (cell INTEGER PRIMARY KEY, centroid BLOB NOT NULL);"
            ))?;
            return self.chunked_lists().create(connection);
        }
        connection.execute_batch(&format!(
            "CREATE TABLE {name}_centroids (
                 cell     INTEGER PRIMARY KEY,
                 centroid BLOB NOT NULL             -- 4 bytes per f32, little-endian
             );
             CREATE TABLE {name}_lists (
                 position INTEGER PRIMARY KEY,      -- storage order: cell by cell at build time
                 cell     INTEGER NOT NULL,
                 id       INTEGER NOT NULL UNIQUE,  -- the collection's id
                 vector   BLOB NOT NULL             -- a copy of the collection's vector
             );
             CREATE INDEX {name}_lists_by_cell ON {name}_lists (cell);"
        ))?;
        Ok(())
    }

    fn write_centroids(&self, connection: &Connection) -> Result<()> {
        let mut insert = connection.prepare(&format!(
            "INSERT INTO {}_centroids (cell, centroid) VALUES (?1, ?2)",
            self.record.name
        ))?;
        for (cell, centroid) in (0i64..).zip(&self.centroids) {
            insert.execute(params![cell, vector_to_blob(centroid)])?;
        }
        Ok(())
    }

    // ANCHOR: write_lists
    /// Files `rows` into their cells: sorted by (cell, id) first, so that each cell's rows sit
    /// side by side in the table and a probe reads a run of neighbouring pages.
    fn write_lists(&self, connection: &Connection, rows: &[(i64, &[f32])]) -> Result<()> {
        let vectors: Vec<&[f32]> = rows.iter().map(|&(_, vector)| vector).collect();
        let mut filed: Vec<(i64, i64, &[f32])> = self
            .cells_of_all(&vectors)
            .into_iter()
            .zip(rows)
            .map(|(cell, &(id, vector))| (cell, id, vector))
            .collect();
        filed.sort_unstable_by_key(|&(cell, id, _)| (cell, id));
        if self.layout == Layout::Chunks {
            return self.chunked_lists().append_filed(connection, &filed);
        }
        self.insert_into_lists(connection, filed.into_iter())
    }
    // ANCHOR_END: write_lists

    fn insert_into_lists<'a>(
        &self,
        connection: &Connection,
        rows: impl Iterator<Item = (i64, i64, &'a [f32])>,
    ) -> Result<()> {
        let mut insert = connection.prepare_cached(&format!(
            "INSERT INTO {}_lists (cell, id, vector) VALUES (?1, ?2, ?3)",
            self.record.name
        ))?;
        for (cell, id, vector) in rows {
            insert
                .execute(params![cell, id, vector_to_blob(vector)])
                .map_err(|e| crate::sqlite_store::rows::duplicate_or_other(e, id))?;
        }
        Ok(())
    }

    // ANCHOR: cell_of
    /// The cell a vector is filed in: the first one its own query would probe.
    fn cell_of(&self, metric: Metric, vector: &[f32]) -> i64 {
        self.cells_for(metric, vector, 1)
            .first()
            .copied()
            .unwrap_or(0)
    }
    // ANCHOR_END: cell_of

    /// The cell of each of `vectors`, as [`cell_of`](Self::cell_of) files them. A large
    /// euclidean batch in the chunked layout is filed as k-means assigns (the matrix form of
    /// chapter 12), which ranks the centroids alike, up to rounding.
    fn cells_of_all(&self, vectors: &[&[f32]]) -> Vec<i64> {
        let metric = self.record.metric;
        if self.layout == Layout::Rows || metric != Metric::Euclidean || vectors.len() < 1024 {
            return vectors.iter().map(|v| self.cell_of(metric, v)).collect();
        }
        let data: Vec<f32> = vectors.concat();
        let (mut labels, mut distances) = (vec![0; vectors.len()], vec![0.0; vectors.len()]);
        assign_flat(
            &data,
            self.dimension,
            self.centroid_matrix.values(),
            &mut labels,
            &mut distances,
        );
        labels
            .into_iter()
            .map(|label| i64::try_from(label).unwrap_or(0))
            .collect()
    }

    /// The `n` best cells for `vector`: [`best_cells`] in the row layout, the same ranking
    /// through the kernels in the chunked one (filing and probing always use the same one).
    fn cells_for(&self, metric: Metric, vector: &[f32], n: usize) -> Vec<i64> {
        match self.layout {
            Layout::Rows => best_cells(metric, &self.centroids, vector, n),
            Layout::Chunks => self
                .centroid_matrix
                .search(metric, vector, n)
                .into_iter()
                .map(|n| n.id)
                .collect(),
        }
    }

    /// The lists in memory, read from the file the first time they are needed.
    fn memory(&self, connection: &Connection) -> Result<&[VectorMatrix]> {
        if let Some(cells) = self.memory.get() {
            return Ok(cells);
        }
        let cells = match self.layout {
            Layout::Chunks => self.chunked_lists().load(connection, self.nlist())?,
            Layout::Rows => self.load_row_lists(connection)?,
        };
        log::info!(
            "index {}: {} lists loaded into memory",
            self.record.name,
            cells.len()
        );
        Ok(self.memory.get_or_init(|| cells))
    }

    /// Every row list in memory, each vector in the cell its row was filed in.
    fn load_row_lists(&self, connection: &Connection) -> Result<Vec<VectorMatrix>> {
        let mut cells = vec![VectorMatrix::new(self.dimension); self.nlist()];
        let table = format!("{}_lists", self.record.name);
        let mut statement = connection.prepare(&format!(
            "SELECT cell, id, vector FROM {table} ORDER BY position"
        ))?;
        let mut rows = statement.query([])?;
        let mut scratch = Vec::with_capacity(self.dimension);
        while let Some(row) = rows.next()? {
            let (cell, id): (i64, i64) = (row.get(0)?, row.get(1)?);
            let blob = row.get_ref(2)?.as_blob().map_err(|e| Error::BadData {
                path: format!("table {table}"),
                reason: format!("row {id}: {e}"),
            })?;
            let vector = blob_as_vector(blob, self.dimension, &mut scratch)?;
            let list = usize::try_from(cell)
                .ok()
                .and_then(|c| cells.get_mut(c))
                .ok_or_else(|| Error::BadData {
                    path: format!("table {table}"),
                    reason: format!(
                        "row {id} is filed in cell {cell}, of {} cells",
                        self.nlist()
                    ),
                })?;
            list.extend(&[id], vector);
        }
        Ok(cells)
    }

    /// `n_probes` from the parameters (1 by default, as in FAISS), checked against `nlist`.
    fn n_probes(&self, params: &SearchParams) -> Result<usize> {
        let n_probes = params.n_probes.unwrap_or(1);
        if n_probes == 0 || n_probes > self.centroids.len() {
            return Err(Error::InvalidProbeCount {
                n_probes,
                n_clusters: self.centroids.len(),
            });
        }
        Ok(n_probes)
    }

    /// Every `(id, vector)` of the lists, in id order.
    fn read_lists(&self, connection: &Connection) -> Result<Vec<(i64, Vec<f32>)>> {
        if self.layout == Layout::Chunks {
            let mut rows = self.chunked_lists().read_all(connection)?;
            rows.sort_unstable_by_key(|&(id, _)| id);
            return Ok(rows);
        }
        let mut statement = connection.prepare(&format!(
            "SELECT id, vector FROM {}_lists ORDER BY id",
            self.record.name
        ))?;
        let mut rows = Vec::new();
        let table = format!("{}_lists", self.record.name);
        visit_rows(statement.query([])?, &table, |id, blob| {
            rows.push((id, blob_to_vector(blob, self.dimension)?));
            Ok(())
        })?;
        Ok(rows)
    }
}

impl IvfIndex {
    // ANCHOR: search_blocks
    /// A search that scores whole blocks: each probed cell's chunks read from SQLite, or its
    /// matrix in memory.
    fn search_blocks(
        &self,
        connection: &Connection,
        query: &[f32],
        params: &SearchParams,
        mode: ScanMode,
    ) -> Result<Vec<Neighbour>> {
        let metric = self.record.metric;
        let probed_cells = self.cells_for(metric, query, self.n_probes(params)?);
        let mut best = TopK::new(params.k, metric);
        let mut scorer = BlockScorer::new(metric, query);
        match mode {
            ScanMode::Preloaded => {
                let cells = self.memory(connection)?;
                for cell in probed_cells.iter().filter_map(|&c| usize::try_from(c).ok()) {
                    if let Some(list) = cells.get(cell) {
                        list.offer_all(&mut scorer, &mut best);
                    }
                }
            }
            ScanMode::Streamed => {
                let lists = self.chunked_lists();
                for &cell in &probed_cells {
                    lists.scan_cell(connection, cell, &mut scorer, &mut best)?;
                }
            }
        }
        Ok(BlockScorer::finish(metric, best))
    }
    // ANCHOR_END: search_blocks
}

impl StoredIndex for IvfIndex {
    fn record(&self) -> &IndexRecord {
        &self.record
    }

    fn record_mut(&mut self) -> &mut IndexRecord {
        &mut self.record
    }

    fn label(&self) -> String {
        format!("ivf(nlist={})", self.centroids.len())
    }

    fn add(&mut self, connection: &Connection, ids: &[i64], vectors: &[&[f32]]) -> Result<()> {
        // A new vector joins its cell now, so indexed searches find it (the original left
        // vectors inserted after the build out of every indexed search).
        let metric = self.record.metric;
        let mut rows: Vec<(i64, i64, &[f32])> = ids
            .iter()
            .zip(vectors)
            .map(|(&id, &vector)| (self.cell_of(metric, vector), id, vector))
            .collect();
        if self.layout == Layout::Chunks {
            rows.sort_by_key(|&(cell, _, _)| cell); // stable: each cell keeps the batch's order
            return self.chunked_lists().append_filed(connection, &rows);
        }
        self.insert_into_lists(connection, rows.into_iter())
    }

    // ANCHOR: ivf_remove
    fn remove(&mut self, connection: &Connection, ids: &[i64]) -> Result<()> {
        if self.layout == Layout::Chunks {
            return self.chunked_lists().remove(connection, ids);
        }
        let mut delete = connection.prepare_cached(&format!(
            "DELETE FROM {}_lists WHERE id = ?1",
            self.record.name
        ))?;
        for &id in ids {
            delete.execute([id])?;
        }
        Ok(())
    }
    // ANCHOR_END: ivf_remove

    // ANCHOR: ivf_search
    fn search(
        &self,
        connection: &Connection,
        _collection: &Metadata,
        query: &[f32],
        params: &SearchParams,
        mode: ScanMode,
    ) -> Result<Vec<Neighbour>> {
        params.check()?;
        check_vector(query, self.dimension)?;
        if mode == ScanMode::Preloaded || self.layout == Layout::Chunks {
            return self.search_blocks(connection, query, params, mode);
        }
        let metric = self.record.metric;
        let probed_cells = best_cells(metric, &self.centroids, query, self.n_probes(params)?);
        let mut best = TopK::new(params.k, metric);
        let mut scratch = Vec::with_capacity(self.dimension);
        let mut statement = connection.prepare_cached(&format!(
            "SELECT id, vector FROM {}_lists WHERE cell = ?1 ORDER BY position DESC",
            self.record.name
        ))?;
        let table = format!("{}_lists", self.record.name);
        for &cell in &probed_cells {
            visit_rows(statement.query([cell])?, &table, |id, blob| {
                let vector = blob_as_vector(blob, self.dimension, &mut scratch)?;
                best.push(id, metric.score(query, vector));
                Ok(())
            })?;
        }
        Ok(best.into_neighbours())
    }
    // ANCHOR_END: ivf_search

    // ANCHOR: ivf_search_allowed
    /// Probes the `n_probes` best cells, scoring only the allowed vectors in them, and goes on
    /// to the next cells in order until `n_probes × k` allowed ones were scored (or every cell
    /// was read). A selective filter leaves few allowed vectors per cell, so its k nearest lie
    /// farther out, across more cells; asking for as many candidates per result as an
    /// unfiltered search of `n_probes` cells has reach them (chapter 14 measures it). The
    /// lists are read into memory first, as the preloaded mode holds them.
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
        let metric = self.record.metric;
        let cells = self.memory(connection)?;
        let mut best = TopK::new(params.k, metric);
        let mut found = 0usize;
        let enough = params.k.saturating_mul(n_probes);
        for (rank, cell) in self
            .cells_for(metric, query, self.nlist())
            .into_iter()
            .enumerate()
        {
            if rank >= n_probes && found >= enough {
                break;
            }
            let Some(list) = usize::try_from(cell).ok().and_then(|c| cells.get(c)) else {
                continue;
            };
            for (&id, vector) in list
                .ids()
                .iter()
                .zip(list.values().chunks_exact(self.dimension.max(1)))
            {
                if allowed.contains(id) {
                    best.push(id, metric.score(query, vector));
                    found += 1;
                }
            }
        }
        Ok(Some(best.into_neighbours()))
    }
    // ANCHOR_END: ivf_search_allowed

    fn preload(&self, connection: &Connection) -> Result<()> {
        self.memory(connection).map(|_| ())
    }

    fn forget_memory(&mut self) {
        self.memory.take();
    }

    fn follow_metric(&mut self, connection: &Connection, metric: Metric) -> Result<()> {
        // The centroids stay (k-means places them by euclidean distance whatever the metric),
        // but which centroid scores best for a vector depends on the metric: re-file them all.
        let rows = self.read_lists(connection)?;
        self.record.metric = metric;
        connection.execute(&format!("DELETE FROM {}_lists", self.record.name), [])?;
        let rows: Vec<(i64, &[f32])> = rows.iter().map(|(id, v)| (*id, v.as_slice())).collect();
        self.write_lists(connection, &rows)?;
        log::info!(
            "index {}: {} vectors re-filed for the {metric} metric",
            self.record.name,
            rows.len()
        );
        Ok(())
    }

    fn drop_tables(&self, connection: &Connection) -> Result<()> {
        let name = &self.record.name;
        connection.execute_batch(&format!(
            "DROP TABLE IF EXISTS {name}_lists; DROP TABLE IF EXISTS {name}_centroids;"
        ))?;
        Ok(())
    }

    fn bytes_per_vector(&self) -> usize {
        self.dimension * std::mem::size_of::<f32>() + std::mem::size_of::<i64>()
    }

    fn probed_cells(&self, query: &[f32], params: &SearchParams) -> Result<Option<Vec<i64>>> {
        check_vector(query, self.dimension)?;
        Ok(Some(self.cells_for(
            self.record.metric,
            query,
            self.n_probes(params)?,
        )))
    }

    fn centroids(&self) -> Option<&[Vec<f32>]> {
        Some(&self.centroids)
    }

    fn train(&mut self, _connection: &Connection, _sample: &[&[f32]]) -> Result<()> {
        Err(Error::InvalidParameter {
            name: "sample",
            reason: format!(
                "index {} is an inverted file: it trains when it is built",
                self.record.name
            ),
        })
    }
}

// ANCHOR: best_cells
/// The `n` cells whose centroids score best against `vector` under `metric`, best first.
///
/// Both filing a vector (n = 1) and probing for a query use this, so a vector is always found
/// in the first cell its own query would probe.
pub fn best_cells(metric: Metric, centroids: &[Vec<f32>], vector: &[f32], n: usize) -> Vec<i64> {
    // ANCHOR: starter_ch06_task2_best_cells
    let mut best = TopK::new(n, metric);
    for (cell, centroid) in centroids.iter().enumerate() {
        best.push(cell, metric.score(vector, centroid));
    }
    best.into_sorted_vec()
        .into_iter()
        .filter_map(|(cell, _)| i64::try_from(cell).ok())
        .collect()
    // ANCHOR_END: starter_ch06_task2_best_cells
}
// ANCHOR_END: best_cells
