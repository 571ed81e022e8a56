//! A persistent vector database: SQLite underneath, vectors stored as BLOBs.
//!
//! Each vector is one row of the `vectors` table, its `f32` values packed into a BLOB (see
//! [`crate::vector_blob`]). The dimension and the metric are written into the file itself, so a
//! new process reopens it as it was. Inserting is one transaction per batch; searching streams
//! the rows through a bounded heap ([`search_without_index`](VectorDbSqlite::search_without_index)),
//! or reads only a few k-means cells ([`search_in_kmeans_index`](VectorDbSqlite::search_in_kmeans_index),
//! chapter 6).
//!
//! Under the original's names, this is a thin layer over the engine's
//! [`Collection`]: the k-means index is the collection's inverted file named
//! [`KMEANS_INDEX`], in tables of its own.

mod kmeans_index;
mod search;

pub use kmeans_index::{IndexedSearch, KMEANS_INDEX};

use std::path::Path;

use crate::distances::Metric;
use crate::engine::Collection;
use crate::error::{Error, Result};
use crate::sqlite_store::StoreKind;

// ANCHOR: struct
/// Vectors stored in an SQLite file (or in memory), searched by brute force or by k-means cells.
#[derive(Debug)]
pub struct VectorDbSqlite {
    collection: Collection,
}
// ANCHOR_END: struct

impl VectorDbSqlite {
    // ANCHOR: open
    /// Opens the database file at `path`, creating it if it does not exist.
    ///
    /// Reopening restores the dimension, the metric, the ids and the k-means index.
    ///
    /// # Errors
    ///
    /// A file that cannot be opened, is not ours, or has another schema version;
    /// [`Error::NotOurDatabase`] for a PQ database, which keeps no raw vectors.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let collection = Collection::open(path)?;
        // A collection opens whatever it keeps; this database needs the raw vectors, so a file
        // of codes only is refused here, as `VectorDbSqlitePq::open` refuses one of raw vectors.
        if collection.kind() != StoreKind::Vectors {
            return Err(Error::NotOurDatabase {
                path: collection.path().to_string(),
                reason: "it is a PQ database: it keeps codes, not raw vectors".to_string(),
            });
        }
        Ok(VectorDbSqlite { collection })
    }

    /// A new database in memory, gone when dropped.
    ///
    /// # Errors
    ///
    /// An SQLite error if memory cannot be had.
    pub fn open_in_memory() -> Result<Self> {
        Ok(VectorDbSqlite {
            collection: Collection::open_in_memory()?,
        })
    }
    // ANCHOR_END: open

    // ANCHOR: insert
    /// Stores `vectors` in one transaction and returns their ids.
    ///
    /// With `ids`, each vector is stored under the given id; without, ids continue from the
    /// largest one stored (from 0 in a new database). Every vector is checked first (dimension,
    /// NaN, infinity, a norm too large to square in `f32`); a bad vector or a duplicate id stores nothing at all. With a k-means
    /// index, each new vector joins its cell in the same transaction.
    ///
    /// # Errors
    ///
    /// A bad vector, a duplicate id, or ids that do not match the vectors: nothing is stored.
    pub fn insert<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
    ) -> Result<Vec<i64>> {
        self.collection.insert(vectors, ids)
    }
    // ANCHOR_END: insert

    // ANCHOR: search_with_id
    /// The vector stored under `id`, bit for bit, or `None` when there is no such id.
    ///
    /// # Errors
    ///
    /// A corrupt row.
    pub fn search_with_id(&self, id: i64) -> Result<Option<Vec<f32>>> {
        self.collection.get(id)
    }
    // ANCHOR_END: search_with_id

    /// Chooses how searches rank vectors; the choice is saved in the file, and a k-means index
    /// re-files its vectors for the new metric in the same transaction.
    ///
    /// # Errors
    ///
    /// A storage error: then nothing changed.
    pub fn set_metric(&mut self, metric: Metric) -> Result<()> {
        self.collection.set_metric(metric)
    }

    /// The metric searches rank by.
    pub fn metric(&self) -> Metric {
        self.collection.metric()
    }

    /// The dimension fixed by the first insert, if any.
    pub fn dimension(&self) -> Option<usize> {
        self.collection.dimension()
    }

    /// How many vectors are stored.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn len(&self) -> Result<usize> {
        self.collection.len()
    }

    /// `true` when no vector is stored.
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

    /// The engine's collection underneath, to build other indexes or search with every knob.
    pub fn collection_mut(&mut self) -> &mut Collection {
        &mut self.collection
    }
}
