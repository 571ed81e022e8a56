//! What an index kept in a collection's file does, beyond what every index does.
//!
//! An index inside a file does not manage its own transactions: the [`Collection`] opens one,
//! and every index files the new vectors into its own tables inside it, so that the batch, the
//! indexes and the generation counter commit together or not at all.
//!
//! [`Collection`]: crate::engine::Collection

use crate::engine::IdSet;

use rusqlite::Connection;

use crate::distances::Metric;
use crate::engine::catalog::IndexRecord;
use crate::engine::scan::ScanMode;
use crate::engine::{Neighbour, SearchParams};
use crate::error::Result;
use crate::quantization::VectorQuantizer;
use crate::sqlite_store::Metadata;

// ANCHOR: stored_index
/// An index whose data lives in tables of the collection's file.
pub trait StoredIndex: std::fmt::Debug {
    /// Its row of the `indexes` table.
    fn record(&self) -> &IndexRecord;

    /// Its row of the `indexes` table, to change in the cache what a write changed in the file
    /// (the generation it is up to date with).
    fn record_mut(&mut self) -> &mut IndexRecord;

    /// A label with its settings, such as `ivf(nlist=16)`.
    fn label(&self) -> String;

    /// Files `vectors` (stored under `ids`) into the index's tables, inside the collection's
    /// write transaction.
    fn add(&mut self, connection: &Connection, ids: &[i64], vectors: &[&[f32]]) -> Result<()>;

    /// Takes the vectors stored under `ids` out of the index, inside the collection's write
    /// transaction (each id is one the index holds: the collection checked them). The
    /// collection's own rows are still there when this runs.
    fn remove(&mut self, connection: &Connection, ids: &[i64]) -> Result<()>;

    /// The best `params.k` vectors for `query`, read inside the collection's read transaction
    /// from the index's tables, or from memory in [`ScanMode::Preloaded`] (loaded then, if
    /// they are not yet).
    fn search(
        &self,
        connection: &Connection,
        collection: &Metadata,
        query: &[f32],
        params: &SearchParams,
        mode: ScanMode,
    ) -> Result<Vec<Neighbour>>;

    /// The best `params.k` vectors for `query` among those whose ids are in `allowed`, found by
    /// the index itself: an inverted file skips the others in the cells it reads, a graph walks
    /// through them but never returns them. `None` when the index cannot (product
    /// quantization), and the caller chooses another strategy.
    fn search_allowed(
        &self,
        _connection: &Connection,
        _query: &[f32],
        _params: &SearchParams,
        _allowed: &IdSet,
    ) -> Result<Option<Vec<Neighbour>>> {
        Ok(None)
    }

    /// Rewrites what deletes left behind (a graph's deleted nodes), inside a write transaction.
    fn compact(&mut self, _connection: &Connection) -> Result<()> {
        Ok(())
    }

    /// How many entries stand for deleted vectors and are still kept (a graph's deleted nodes).
    fn deleted_entries(&self, _connection: &Connection) -> Result<usize> {
        Ok(0)
    }

    /// Loads into memory what a preloaded search reads, if it is not yet.
    fn preload(&self, _connection: &Connection) -> Result<()> {
        Ok(())
    }

    /// Drops what [`preload`](Self::preload) loaded: a write changed what it mirrors.
    fn forget_memory(&mut self) {}

    /// Rebuilds what depends on the metric, inside a write transaction, or refuses the change.
    fn follow_metric(&mut self, connection: &Connection, metric: Metric) -> Result<()>;

    /// Removes the index's tables.
    fn drop_tables(&self, connection: &Connection) -> Result<()>;

    /// Bytes kept per vector.
    fn bytes_per_vector(&self) -> usize;

    /// The cells a query would read, for an inverted file (chapter 6 prints them).
    fn probed_cells(&self, _query: &[f32], _params: &SearchParams) -> Result<Option<Vec<i64>>> {
        Ok(None)
    }

    /// The centroids of an inverted file.
    fn centroids(&self) -> Option<&[Vec<f32>]> {
        None
    }

    /// The quantizer of a product-quantization index.
    fn quantizer(&self) -> Option<&VectorQuantizer> {
        None
    }

    /// The code stored for `id` by a product-quantization index.
    fn code_of(&self, _connection: &Connection, _id: i64) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Trains the index on `sample` before anything is stored in it, inside a write
    /// transaction (product quantization can; an inverted file trains when it is built).
    fn train(&mut self, connection: &Connection, sample: &[&[f32]]) -> Result<()>;
}
// ANCHOR_END: stored_index
