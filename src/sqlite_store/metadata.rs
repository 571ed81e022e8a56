//! The `meta` table: what a file is, and the settings that must survive a reopen.
//!
//! The Python original kept the dimension and the array type only in memory, so a new process
//! could not read its own file. Here every setting lives in the file, in a key-value table, and
//! opening a file checks first that it is one of ours, of a schema version this build can read.

use rusqlite::{Connection, OptionalExtension};

use crate::distances::Metric;
use crate::error::{Error, Result};

/// The schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: i64 = 1;

/// What every file of ours says under `format`.
const FORMAT_NAME: &str = "simple_vector_db";

const FORMAT: &str = "format";
const VERSION: &str = "schema_version";
const KIND: &str = "kind";
pub(super) const DIMENSION: &str = "dimension";
pub(super) const METRIC: &str = "metric";

/// Which database wrote a file: they share a schema but not the meaning of the `vector` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Raw `f32` vectors ([`crate::vector_db_sqlite::VectorDbSqlite`]).
    Vectors,
    /// Product-quantized codes ([`crate::vector_db_sqlite_pq::VectorDbSqlitePq`]).
    ProductQuantized,
}

impl StoreKind {
    fn as_str(self) -> &'static str {
        match self {
            StoreKind::Vectors => "vectors",
            StoreKind::ProductQuantized => "product_quantized",
        }
    }
}

/// The settings of an open database.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub kind: StoreKind,
    /// `None` until the first vector is inserted.
    pub dimension: Option<usize>,
    pub metric: Metric,
}

// ANCHOR: schema
const CREATE_META: &str = "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );";

/// The `vectors` table under `name` (the k-means index rebuilds it under another name first).
///
/// SQLite stores a table's rows in the order of its integer primary key. That key is not the
/// user's `id` but `position`, which only says where a row sits: new rows go at the end, and
/// building a k-means index rewrites the table with each cell's rows side by side (chapter 6).
pub fn create_vectors_table(name: &str) -> String {
    format!(
        "CREATE TABLE {name} (
            position INTEGER PRIMARY KEY,   -- storage order: insertion order, or cell by cell
            id       INTEGER NOT NULL UNIQUE, -- the id every search returns, as given or from 0 up
            vector   BLOB NOT NULL,         -- 4 bytes per f32, little-endian (or a PQ code)
            cluster  INTEGER                -- the vector's k-means cell (chapter 6), NULL without index
        );"
    )
}
// ANCHOR_END: schema

// ANCHOR: load_or_create
/// Reads the settings of a database of ours, or creates the schema in an empty file.
pub fn load_or_create(connection: &Connection, kind: StoreKind, path: &str) -> Result<Metadata> {
    let not_ours = |reason: String| Error::NotOurDatabase {
        path: path.to_string(),
        reason,
    };
    let table_count: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(|e| super::connection::explain_open_error(e, path))?;
    if table_count == 0 {
        return create(connection, kind);
    }
    if read_value(connection, FORMAT).ok().flatten().as_deref() != Some(FORMAT_NAME) {
        return Err(not_ours("it has no simple_vector_db metadata".to_string()));
    }
    check_version(read_value(connection, VERSION)?, &not_ours)?;
    let stored_kind = read_value(connection, KIND)?.unwrap_or_default();
    if stored_kind != kind.as_str() {
        return Err(not_ours(format!(
            "it holds a {stored_kind:?} database, not a {:?} one",
            kind.as_str()
        )));
    }
    let dimension = match read_value(connection, DIMENSION)? {
        None => None,
        Some(text) => Some(
            text.parse::<usize>()
                .map_err(|_| not_ours(format!("its dimension {text:?} is not a number")))?,
        ),
    };
    let metric = read_value(connection, METRIC)?
        .unwrap_or_default()
        .parse::<Metric>()
        .map_err(|e| not_ours(e.to_string()))?;
    Ok(Metadata {
        kind,
        dimension,
        metric,
    })
}
// ANCHOR_END: load_or_create

// ANCHOR: check_version
/// Refuses files written by a newer schema than this build knows.
fn check_version(stored: Option<String>, not_ours: &dyn Fn(String) -> Error) -> Result<()> {
    let text = stored.ok_or_else(|| not_ours("it has no schema version".to_string()))?;
    let found = text
        .parse::<i64>()
        .map_err(|_| not_ours(format!("its schema version {text:?} is not a number")))?;
    if found > SCHEMA_VERSION {
        return Err(Error::UnsupportedSchemaVersion {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}
// ANCHOR_END: check_version

/// Creates the tables and the first settings, all or nothing.
fn create(connection: &Connection, kind: StoreKind) -> Result<Metadata> {
    let transaction = connection.unchecked_transaction()?;
    transaction.execute_batch(CREATE_META)?;
    transaction.execute_batch(&create_vectors_table("vectors"))?;
    let metric = Metric::default();
    for (key, value) in [
        (FORMAT, FORMAT_NAME.to_string()),
        (VERSION, SCHEMA_VERSION.to_string()),
        (KIND, kind.as_str().to_string()),
        (METRIC, metric.as_str().to_string()),
    ] {
        write_value(&transaction, key, &value)?;
    }
    transaction.commit()?;
    Ok(Metadata {
        kind,
        dimension: None,
        metric,
    })
}

/// The value stored under `key`, if any.
pub fn read_value(connection: &Connection, key: &str) -> Result<Option<String>> {
    Ok(connection
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Stores `value` under `key`, replacing any previous value.
pub fn write_value(connection: &Connection, key: &str, value: &str) -> Result<()> {
    connection.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
