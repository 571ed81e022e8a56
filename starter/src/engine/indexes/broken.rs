//! An index whose tables could not be read: kept in view, never used.
//!
//! An index is derived data. When its tables are damaged (a centroid of the wrong size, a
//! missing codebook), the collection it was built from may still be whole, so opening the file
//! must not fail because of it: the collection opens, brute force works, and the damaged index
//! stays listed with what is wrong with it. Anything that would read or maintain it is refused
//! with [`Error::BadIndexRecord`] until it is rebuilt or dropped; an insert is refused too,
//! since it could not keep that index up to date.

use rusqlite::Connection;

use crate::distances::Metric;
use crate::engine::catalog::IndexRecord;
use crate::engine::stored_index::StoredIndex;
use crate::engine::{Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::sqlite_store::Metadata;

// ANCHOR: broken_index
/// An index that failed to load, and why.
#[derive(Debug, Clone)]
pub struct BrokenIndex {
    record: IndexRecord,
    reason: String,
}

impl BrokenIndex {
    /// Keeps `record` with the error its tables gave.
    pub fn new(record: IndexRecord, error: &Error) -> Self {
        let reason = match error {
            Error::BadIndexRecord { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        BrokenIndex { record, reason }
    }

    fn refuse<T>(&self) -> Result<T> {
        Err(Error::BadIndexRecord {
            index: self.record.name.clone(),
            reason: format!("{}; rebuild it or drop it", self.reason),
        })
    }
}
// ANCHOR_END: broken_index

impl StoredIndex for BrokenIndex {
    fn record(&self) -> &IndexRecord {
        &self.record
    }

    fn record_mut(&mut self) -> &mut IndexRecord {
        &mut self.record
    }

    fn label(&self) -> String {
        format!("{}(damaged: {})", self.record.kind, self.reason)
    }

    fn add(&mut self, _connection: &Connection, _ids: &[i64], _vectors: &[&[f32]]) -> Result<()> {
        self.refuse()
    }

    fn remove(&mut self, _connection: &Connection, _ids: &[i64]) -> Result<()> {
        self.refuse()
    }

    fn search(
        &self,
        _connection: &Connection,
        _collection: &Metadata,
        _query: &[f32],
        _params: &SearchParams,
        _mode: crate::engine::scan::ScanMode,
    ) -> Result<Vec<Neighbour>> {
        self.refuse()
    }

    fn follow_metric(&mut self, _connection: &Connection, _metric: Metric) -> Result<()> {
        self.refuse()
    }

    fn drop_tables(&self, connection: &Connection) -> Result<()> {
        // Whatever kind it was, its tables are the ones named after it.
        let name = &self.record.name;
        for suffix in [
            "lists",
            "centroids",
            "codes",
            "codebook",
            "nodes",
            "entry",
            "deleted",
        ] {
            connection.execute_batch(&format!("DROP TABLE IF EXISTS {name}_{suffix};"))?;
        }
        Ok(())
    }

    fn bytes_per_vector(&self) -> usize {
        0
    }

    fn train(&mut self, _connection: &Connection, _sample: &[&[f32]]) -> Result<()> {
        self.refuse()
    }
}
