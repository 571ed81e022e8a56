//! An inverted file index (IVF): search only the k-means cells nearest to the query.
//!
//! k-means cuts the space into `n_clusters` cells, one per centroid: every point belongs to the
//! cell of its nearest centroid (a *Voronoi* cell). The index is "inverted" like a book's index:
//! for each cell, the list of vectors in it. Here that list is the `vectors` table itself: each
//! row carries its cell in `cluster`, and the build stores each cell's rows side by side, so a
//! cell is a run of neighbouring pages. A search ranks the centroids and reads only the vectors
//! of the `n_probes` best cells. With √N cells of √N vectors each, one probe reads about √N rows
//! instead of N; the price is recall, since a true neighbour can sit just across a cell border,
//! and more probes buy it back.
//!
//! The original copied every vector into a second table, could build its index only once, and
//! left vectors inserted afterwards out of every indexed search. Here the vectors are moved, never
//! copied, a rebuild replaces the index in one transaction, and [`VectorDbSqlite::insert`] files
//! new vectors into their cell.

use rusqlite::params;

use super::VectorDbSqlite;
use crate::distances::Metric;
use crate::error::{Error, Result};
use crate::kmeans::{train_centroids, KMeansConfig};
use crate::sqlite_store::create_vectors_table;
use crate::top_k::TopK;
use crate::utils::timing::measure;
use crate::validation::{check_k, check_vector};
use crate::vector_blob::{blob_as_vector, blob_to_vector, vector_to_blob};

// ANCHOR: indexed_search
/// What an indexed search found, and where it looked.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedSearch {
    /// The best `k` `(id, score)` pairs among the probed cells, best first.
    pub neighbours: Vec<(i64, f32)>,
    /// The cells that were read, best-ranked first.
    pub probed_cells: Vec<i64>,
}
// ANCHOR_END: indexed_search

impl VectorDbSqlite {
    /// Builds (or rebuilds) the index with `n_clusters` cells and default training settings.
    ///
    /// Returns the centroids. See [`create_kmeans_index_with`](Self::create_kmeans_index_with).
    pub fn create_kmeans_index(&mut self, n_clusters: usize) -> Result<Vec<Vec<f32>>> {
        self.create_kmeans_index_with(&Self::default_index_config(n_clusters))
    }

    // ANCHOR: default_index_config
    /// The training settings `create_kmeans_index` uses, close to FAISS's: 25 rounds on a
    /// sample of at most 64 vectors per centroid. Cells only need to be roughly right (a search
    /// probes several), so more polished centroids are not worth the extra minutes.
    pub fn default_index_config(n_clusters: usize) -> KMeansConfig {
        KMeansConfig {
            max_iterations: 25,
            max_points_per_centroid: Some(64),
            ..KMeansConfig::new(n_clusters)
        }
    }
    // ANCHOR_END: default_index_config

    // ANCHOR: create_kmeans_index
    /// Trains k-means on the stored vectors, files every vector into its cell and stores the
    /// centroids, all in one transaction: a rebuild replaces the previous index atomically, and
    /// a failure leaves it as it was. Returns the centroids.
    pub fn create_kmeans_index_with(&mut self, config: &KMeansConfig) -> Result<Vec<Vec<f32>>> {
        let (ids, vectors) = self.read_all_vectors()?;
        log::info!(
            "k-means: training {} centroids on {} vectors (at most {:?} per centroid, {} rounds)",
            config.n_clusters,
            vectors.len(),
            config.max_points_per_centroid,
            config.max_iterations
        );
        let (centroids, took) = measure(|| train_centroids(&vectors, config));
        let centroids = centroids?;
        log::info!(
            "k-means: trained in {:.2} s; filing vectors into cells",
            took.as_secs_f64()
        );
        let metric = self.metric();
        let cells: Vec<i64> = vectors
            .iter()
            .map(|v| {
                best_cells(metric, &centroids, v, 1)
                    .first()
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        self.write_index(&centroids, &ids, &cells)?;
        self.centroids = Some(centroids.clone());
        log::info!("k-means: index of {} cells stored", centroids.len());
        Ok(centroids)
    }
    // ANCHOR_END: create_kmeans_index

    // ANCHOR: search_in_kmeans_index
    /// The best `k` vectors among the `n_probes` cells whose centroids best match `query`.
    ///
    /// `n_probes` runs from 1 (fastest, lowest recall) to the number of cells (reads every
    /// vector: exact, like [`search_without_index`](Self::search_without_index)).
    pub fn search_in_kmeans_index(
        &self,
        query: &[f32],
        k: usize,
        n_probes: usize,
    ) -> Result<IndexedSearch> {
        check_k(k)?;
        let centroids = self.centroids.as_deref().ok_or(Error::NoIndex)?;
        if n_probes == 0 || n_probes > centroids.len() {
            return Err(Error::InvalidProbeCount {
                n_probes,
                n_clusters: centroids.len(),
            });
        }
        let dimension = self.dimension().ok_or(Error::NoIndex)?;
        check_vector(query, dimension)?;

        let metric = self.metric();
        let probed_cells = best_cells(metric, centroids, query, n_probes);
        let mut best = TopK::new(k, metric);
        let mut scratch = Vec::with_capacity(dimension);
        for &cell in &probed_cells {
            self.store.for_each_row_in_cluster(cell, |id, blob| {
                best.push(
                    id,
                    metric.score(query, blob_as_vector(blob, dimension, &mut scratch)?),
                );
                Ok(())
            })?;
        }
        Ok(IndexedSearch {
            neighbours: best.into_sorted_vec(),
            probed_cells,
        })
    }
    // ANCHOR_END: search_in_kmeans_index

    /// The centroids of the index, if one was built.
    pub fn centroids(&self) -> Option<&[Vec<f32>]> {
        self.centroids.as_deref()
    }

    // ANCHOR: cell_of
    /// The cell a new vector joins when an index exists.
    pub(super) fn cell_of(&self, vector: &[f32]) -> Option<i64> {
        let centroids = self.centroids.as_deref()?;
        best_cells(self.metric(), centroids, vector, 1)
            .first()
            .copied()
    }
    // ANCHOR_END: cell_of

    /// Reads the centroids stored in the file, if it has an index.
    pub(super) fn load_centroids(&self) -> Result<Option<Vec<Vec<f32>>>> {
        let connection = self.store.connection();
        let has_table: bool = connection.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'centroids'",
            [],
            |row| row.get(0),
        )?;
        let Some(dimension) = self.dimension().filter(|_| has_table) else {
            return Ok(None);
        };
        let mut statement =
            connection.prepare("SELECT centroid FROM centroids ORDER BY cluster")?;
        let blobs = statement
            .query_map([], |row| row.get::<_, Vec<u8>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let centroids = blobs
            .iter()
            .map(|blob| blob_to_vector(blob, dimension))
            .collect::<Result<Vec<_>>>()?;
        Ok((!centroids.is_empty()).then_some(centroids))
    }

    /// Every stored vector with its id (k-means needs them all in memory to train and assign).
    fn read_all_vectors(&self) -> Result<(Vec<i64>, Vec<Vec<f32>>)> {
        let dimension = self.dimension().unwrap_or(0);
        let mut rows = Vec::new();
        self.store.for_each_row(|id, blob| {
            rows.push((id, blob_to_vector(blob, dimension)?));
            Ok(())
        })?;
        // The training sample is drawn by position in this list, so fix its order: by decreasing
        // id, the order of a freshly written table. Otherwise a rebuild, which reads the table
        // in the cell order left by the previous build, would train on other vectors, and the
        // same data and seed would give another index.
        rows.sort_unstable_by_key(|(id, _)| std::cmp::Reverse(*id));
        Ok(rows.into_iter().unzip())
    }

    // ANCHOR: write_index
    /// Replaces the stored index, all or nothing: the centroids, each vector's cell, and the
    /// table itself, rewritten with each cell's rows side by side.
    fn write_index(&mut self, centroids: &[Vec<f32>], ids: &[i64], cells: &[i64]) -> Result<()> {
        let transaction = self.store.connection_mut().transaction()?;
        transaction.execute_batch(
            "CREATE TABLE IF NOT EXISTS centroids (cluster INTEGER PRIMARY KEY, centroid BLOB NOT NULL);
             DELETE FROM centroids;
             CREATE TEMP TABLE new_cells (id INTEGER PRIMARY KEY, cluster INTEGER NOT NULL);",
        )?;
        {
            let mut insert =
                transaction.prepare("INSERT INTO centroids (cluster, centroid) VALUES (?1, ?2)")?;
            for (cell, centroid) in centroids.iter().enumerate() {
                insert.execute(params![
                    i64::try_from(cell).unwrap_or(i64::MAX),
                    vector_to_blob(centroid)
                ])?;
            }
            let mut file =
                transaction.prepare("INSERT INTO new_cells (id, cluster) VALUES (?1, ?2)")?;
            for (id, cell) in ids.iter().zip(cells) {
                file.execute(params![id, cell])?;
            }
        }
        // An inverted file keeps one list per cell. Here the lists are the table itself: copied
        // once in (cell, id) order, so a probe reads a run of neighbouring pages instead of one
        // scattered page per row. The vectors move; they are not duplicated.
        transaction.execute_batch(&format!(
            "{}
             INSERT INTO vectors_in_cell_order (id, vector, cluster)
                 SELECT v.id, v.vector, c.cluster FROM vectors AS v JOIN new_cells AS c USING (id)
                 ORDER BY c.cluster, v.id;
             DROP TABLE vectors;
             ALTER TABLE vectors_in_cell_order RENAME TO vectors;
             CREATE INDEX vectors_by_cluster ON vectors (cluster);
             DROP TABLE new_cells;",
            create_vectors_table("vectors_in_cell_order")
        ))?;
        transaction.commit()?;
        Ok(())
    }
    // ANCHOR_END: write_index
}

// ANCHOR: best_cells
/// The `n` cells whose centroids score best against `vector` under `metric`, best first.
///
/// Both filing a vector (n = 1) and probing for a query use this, so a vector is always found
/// in the first cell its own query would probe.
fn best_cells(metric: Metric, centroids: &[Vec<f32>], vector: &[f32], n: usize) -> Vec<i64> {
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
