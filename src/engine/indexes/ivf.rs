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

use rusqlite::{params, Connection};

use crate::distances::Metric;
use crate::engine::catalog::{IndexRecord, Settings};
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::kmeans::{train_centroids, KMeansConfig};
use crate::sqlite_store::rows::visit_rows;
use crate::sqlite_store::Metadata;
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
    /// more polished centroids are not worth the extra time.
    pub fn new(nlist: usize) -> Self {
        IvfSettings {
            nlist,
            kmeans: KMeansConfig {
                max_iterations: 25,
                max_points_per_centroid: Some(256),
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
        metric: Metric,
        generation: i64,
        (ids, vectors): (&[i64], &[Vec<f32>]),
    ) -> Result<Self> {
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
        let index = IvfIndex {
            record: IndexRecord {
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
        };
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
    pub fn load(connection: &Connection, record: IndexRecord, dimension: usize) -> Result<Self> {
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
        Ok(IvfIndex {
            record,
            dimension,
            centroids,
        })
    }

    /// How many cells.
    pub fn nlist(&self) -> usize {
        self.centroids.len()
    }

    fn create_tables(&self, connection: &Connection) -> Result<()> {
        let name = &self.record.name;
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
        let metric = self.record.metric;
        let mut filed: Vec<(i64, i64, &[f32])> = rows
            .iter()
            .map(|&(id, vector)| (self.cell_of(metric, vector), id, vector))
            .collect();
        filed.sort_unstable_by_key(|&(cell, id, _)| (cell, id));
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
        best_cells(metric, &self.centroids, vector, 1)
            .first()
            .copied()
            .unwrap_or(0)
    }
    // ANCHOR_END: cell_of

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
        let rows = ids
            .iter()
            .zip(vectors)
            .map(|(&id, &vector)| (self.cell_of(metric, vector), id, vector));
        self.insert_into_lists(connection, rows)
    }

    // ANCHOR: ivf_search
    fn search(
        &self,
        connection: &Connection,
        _collection: &Metadata,
        query: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Neighbour>> {
        params.check()?;
        check_vector(query, self.dimension)?;
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
        Ok(Some(best_cells(
            self.record.metric,
            &self.centroids,
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
    let mut best = TopK::new(n, metric);
    for (cell, centroid) in centroids.iter().enumerate() {
        best.push(cell, metric.score(vector, centroid));
    }
    best.into_sorted_vec()
        .into_iter()
        .filter_map(|(cell, _)| i64::try_from(cell).ok())
        .collect()
}
// ANCHOR_END: best_cells
