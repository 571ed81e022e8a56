//! The SQLite plumbing shared by every SQLite-backed database in this crate.
//!
//! [`VectorDbSqlite`](crate::vector_db_sqlite::VectorDbSqlite) stores raw `f32` vectors and
//! [`VectorDbSqlitePq`](crate::vector_db_sqlite_pq::VectorDbSqlitePq) stores compressed codes,
//! but both need the same things underneath: open a file (or memory) with sensible settings,
//! recognise their own files, remember the dimension and metric *in the file* so that a new
//! process can reopen it, hand out ids, insert a batch atomically and stream rows back. This
//! module does those once, for both.
//!
//! The schema is two tables: `meta (key, value)` for the settings and
//! `vectors (position, id, vector, cluster)` for the data, where `position` is the storage order,
//! `id` the id searches return, `vector` whatever bytes the database stores per vector, and
//! `cluster` the vector's cell in the k-means index of chapter 6 (NULL while there is none).

mod connection;
mod metadata;
mod rows;

use std::path::Path;

use rusqlite::Connection;

pub use metadata::{create_vectors_table, Metadata, StoreKind, SCHEMA_VERSION};
pub use rows::NewRow;

use crate::distances::Metric;
use crate::error::Result;

// ANCHOR: store
/// An open SQLite database of ours: the connection and the settings read from its `meta` table.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Connection,
    metadata: Metadata,
}
// ANCHOR_END: store

impl SqliteStore {
    // ANCHOR: open_store
    /// Opens (or creates) the database file at `path`, which must hold a database of `kind`.
    pub fn open(path: &Path, kind: StoreKind) -> Result<Self> {
        let connection = connection::open_file(path)?;
        // Check that the file is ours (or empty) before changing anything in it.
        let metadata = metadata::load_or_create(&connection, kind, &path.display().to_string())?;
        connection::enable_write_ahead_log(&connection)?;
        Ok(SqliteStore {
            connection,
            metadata,
        })
    }
    // ANCHOR_END: open_store

    /// A fresh database that lives in memory and vanishes when dropped.
    pub fn open_in_memory(kind: StoreKind) -> Result<Self> {
        let connection = connection::open_memory()?;
        let metadata = metadata::load_or_create(&connection, kind, ":memory:")?;
        Ok(SqliteStore {
            connection,
            metadata,
        })
    }

    /// The connection, for queries specific to one kind of database.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The connection, mutably, to open transactions.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// The settings read from (and kept in step with) the `meta` table.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The dimension fixed by the first insert, if any.
    pub fn dimension(&self) -> Option<usize> {
        self.metadata.dimension
    }

    /// The metric searches rank by.
    pub fn metric(&self) -> Metric {
        self.metadata.metric
    }

    // ANCHOR: set_metric
    /// Changes the metric, in the file as well, so that reopening keeps it.
    pub fn set_metric(&mut self, metric: Metric) -> Result<()> {
        metadata::write_value(&self.connection, metadata::METRIC, metric.as_str())?;
        self.metadata.metric = metric;
        Ok(())
    }
    // ANCHOR_END: set_metric

    /// A setting of the `meta` table that a particular database kind keeps there.
    pub fn read_value(&self, key: &str) -> Result<Option<String>> {
        metadata::read_value(&self.connection, key)
    }

    /// Stores a setting in the `meta` table.
    pub fn write_value(&self, key: &str, value: &str) -> Result<()> {
        metadata::write_value(&self.connection, key, value)
    }

    /// How many vectors are stored.
    pub fn len(&self) -> Result<usize> {
        rows::count(&self.connection)
    }

    /// `true` when no vector is stored.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}
