//! A persistent vector database: SQLite underneath, vectors stored as BLOBs.
//!
//! Each vector is one row of the `vectors` table, its `f32` values packed into a BLOB (see
//! [`crate::vector_blob`]). The dimension and the metric are written into the file itself, so a
//! new process reopens it as it was. Inserting is one transaction per batch; searching streams
//! the rows through a bounded heap ([`search_without_index`](VectorDbSqlite::search_without_index)),
//! or reads only a few k-means cells ([`search_in_kmeans_index`](VectorDbSqlite::search_in_kmeans_index),
//! chapter 6).

mod kmeans_index;
mod search;

pub use kmeans_index::IndexedSearch;

use std::path::Path;

use crate::distances::Metric;
use crate::error::Result;
use crate::sqlite_store::{NewRow, SqliteStore, StoreKind};
use crate::validation::check_batch;
use crate::vector_blob::{blob_to_vector, vector_to_blob};

// ANCHOR: struct
/// Vectors stored in an SQLite file (or in memory), searched by brute force or by k-means cells.
#[derive(Debug)]
pub struct VectorDbSqlite {
    store: SqliteStore,
    /// The k-means centroids, when an index exists (kept in memory: a few KiB, read every search).
    centroids: Option<Vec<Vec<f32>>>,
}
// ANCHOR_END: struct

impl VectorDbSqlite {
    // ANCHOR: open
    /// Opens the database file at `path`, creating it if it does not exist.
    ///
    /// Reopening restores the dimension, the metric, the ids and the k-means index.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_store(SqliteStore::open(path.as_ref(), StoreKind::Vectors)?)
    }

    /// A new database in memory, gone when dropped.
    pub fn open_in_memory() -> Result<Self> {
        Self::from_store(SqliteStore::open_in_memory(StoreKind::Vectors)?)
    }
    // ANCHOR_END: open

    fn from_store(store: SqliteStore) -> Result<Self> {
        let mut db = VectorDbSqlite {
            store,
            centroids: None,
        };
        db.centroids = db.load_centroids()?;
        Ok(db)
    }

    // ANCHOR: insert
    /// Stores `vectors` in one transaction and returns their ids.
    ///
    /// With `ids`, each vector is stored under the given id; without, ids continue from the
    /// largest one stored (from 0 in a new database). Every vector is checked first (dimension,
    /// NaN, infinity); a bad vector or a duplicate id stores nothing at all.
    pub fn insert<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
    ) -> Result<Vec<i64>> {
        let Some(dimension) = check_batch(vectors, self.store.dimension())? else {
            return Ok(Vec::new()); // an empty first batch: nothing to store, no dimension yet
        };
        // With an index, a new vector joins its cell now, so indexed searches find it (the
        // original left vectors inserted after the build out of every indexed search).
        let cells: Vec<Option<i64>> = vectors.iter().map(|v| self.cell_of(v.as_ref())).collect();
        let rows = vectors.iter().zip(cells).map(|(vector, cluster)| NewRow {
            vector: vector_to_blob(vector.as_ref()),
            cluster,
        });
        self.store.insert_rows(dimension, ids, rows)
    }
    // ANCHOR_END: insert

    // ANCHOR: search_with_id
    /// The vector stored under `id`, bit for bit, or `None` when there is no such id.
    pub fn search_with_id(&self, id: i64) -> Result<Option<Vec<f32>>> {
        let (Some(blob), Some(dimension)) = (self.store.read_row(id)?, self.store.dimension())
        else {
            return Ok(None);
        };
        Ok(Some(blob_to_vector(&blob, dimension)?))
    }
    // ANCHOR_END: search_with_id

    /// Chooses how searches rank vectors; the choice is saved in the file.
    pub fn set_metric(&mut self, metric: Metric) -> Result<()> {
        self.store.set_metric(metric)
    }

    /// The metric searches rank by.
    pub fn metric(&self) -> Metric {
        self.store.metric()
    }

    /// The dimension fixed by the first insert, if any.
    pub fn dimension(&self) -> Option<usize> {
        self.store.dimension()
    }

    /// How many vectors are stored.
    pub fn len(&self) -> Result<usize> {
        self.store.len()
    }

    /// `true` when no vector is stored.
    pub fn is_empty(&self) -> Result<bool> {
        self.store.is_empty()
    }
}
