//! The `meta` table: what a file is, and the settings that must survive a reopen.
//!
//! The Python original kept the dimension and the array type only in memory, so a new process
//! could not read its own file. Here every setting lives in the file, in a key-value table, and
//! opening a file checks first that it is one of ours, of a schema version this build reads.
//!
//! One setting is a counter, `generation`: every write transaction adds one to it. A handle
//! remembers the generation its cached settings (dimension, centroids, codebooks) were read at;
//! when the file says otherwise, another process has written, and the handle reads them again.

use rusqlite::{Connection, OptionalExtension};

use crate::distances::Metric;
use crate::error::{Error, Result};

/// The schema version this build writes.
///
/// Version 3 added the chunked layout ([`Layout::Chunks`]) and the `layout` setting. A file of
/// version 2 is a file of the row layout, which has not changed: it is read as one.
pub const SCHEMA_VERSION: i64 = 3;

/// The oldest schema version this build reads.
pub const OLDEST_READABLE_VERSION: i64 = 2;

/// What every file of ours says under `format`.
const FORMAT_NAME: &str = "simple_vector_db";

const FORMAT: &str = "format";
const VERSION: &str = "schema_version";
const KIND: &str = "kind";
pub const DIMENSION: &str = "dimension";
pub const METRIC: &str = "metric";
const GENERATION: &str = "generation";
const LAYOUT: &str = "layout";

// ANCHOR: store_kind
/// What a collection keeps of each vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The raw `f32` vectors, so any index can be built on them
    /// ([`crate::vector_db_sqlite::VectorDbSqlite`], `svdb load`).
    Vectors,
    /// Only product-quantization codes, kept by the collection's one `pq` index: 4 × d bytes per
    /// vector become m ([`crate::vector_db_sqlite_pq::VectorDbSqlitePq`]).
    ProductQuantized,
}
// ANCHOR_END: store_kind

impl StoreKind {
    /// The name stored under `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Vectors => "vectors",
            StoreKind::ProductQuantized => "product_quantized",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "vectors" => Some(StoreKind::Vectors),
            "product_quantized" => Some(StoreKind::ProductQuantized),
            _ => None,
        }
    }
}

// ANCHOR: layout
/// How a collection and its indexes lay their vectors out in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Layout {
    /// One row, one BLOB per vector (chapters 4 to 8): the layout to learn with.
    Rows,
    /// Up to 1,024 vectors per BLOB ([`super::chunks`]): the layout to scan fast.
    Chunks,
}
// ANCHOR_END: layout

impl Layout {
    /// The name stored under `layout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Rows => "rows",
            Layout::Chunks => "chunks",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "rows" => Some(Layout::Rows),
            "chunks" => Some(Layout::Chunks),
            _ => None,
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The settings of an open collection, as of one generation of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub kind: StoreKind,
    /// Rows or chunks, fixed when the collection is created.
    pub layout: Layout,
    /// `None` until the first vector is inserted.
    pub dimension: Option<usize>,
    pub metric: Metric,
    /// How many write transactions the file has seen.
    pub generation: i64,
}

/// The chunk table of a collection of the chunked layout (its items are the vectors).
pub const VECTOR_CHUNKS: &str = "vector_chunks";

// ANCHOR: schema
const CREATE_SCHEMA: &str = "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- The collection: every vector under its id. SQLite stores a table's rows in the order of
    -- its integer primary key; that key is not the user's id but `position`, the insertion order.
    CREATE TABLE vectors (
        position INTEGER PRIMARY KEY,     -- storage order: insertion order
        id       INTEGER NOT NULL UNIQUE, -- the id every search returns, as given or from 0 up
        vector   BLOB                     -- 4 bytes per f32, little-endian; NULL when only codes
                                          -- are kept, or when the vectors are kept in chunks
    );
    -- The indexes built on the collection. Each owns tables named after it ('<name>_...'),
    -- and records the metric and the generation of the collection it is up to date with.
    CREATE TABLE indexes (
        name     TEXT PRIMARY KEY,
        kind     TEXT NOT NULL,           -- 'ivf', 'pq', ...
        metric   TEXT NOT NULL,           -- the metric its tables were built for
        built_on INTEGER NOT NULL,        -- the collection generation it reflects
        settings TEXT NOT NULL            -- 'key=value' pairs, space-separated
    );";
// ANCHOR_END: schema

// ANCHOR: load_or_create
/// Reads the settings of a database of ours, or creates the schema (as `create_as`) in an
/// empty file. Runs under the write lock, so two processes creating one file do not race.
///
/// `also_create` runs in the same transaction when the schema is created (a codes-only
/// collection creates its index there), so a crash cannot leave half a new file.
pub fn load_or_create(
    connection: &Connection,
    create_as: Option<(StoreKind, Layout)>,
    path: &str,
    also_create: &dyn Fn(&Connection, &Metadata) -> Result<()>,
) -> Result<Metadata> {
    // An existing file is only read here, in one snapshot: a reader must not wait behind
    // another process's writes just to open it. Only an empty file needs the write lock.
    let reading =
        rusqlite::Transaction::new_unchecked(connection, rusqlite::TransactionBehavior::Deferred)
            .map_err(|e| super::connection::explain_open_error(e, path))?;
    let table_count: i64 = reading
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(|e| super::connection::explain_open_error(e, path))?;
    if table_count > 0 {
        let metadata = load(&reading, path)?;
        reading.commit()?;
        return Ok(metadata);
    }
    drop(reading);
    let transaction =
        rusqlite::Transaction::new_unchecked(connection, rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| super::connection::explain_open_error(e, path))?;
    // Counted again under the lock: another process may have created the schema meanwhile.
    let table_count: i64 = transaction
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(|e| super::connection::explain_open_error(e, path))?;
    let metadata = match (table_count, create_as) {
        (0, Some((kind, layout))) => {
            let metadata = create(&transaction, kind, layout)?;
            also_create(&transaction, &metadata)?;
            metadata
        }
        (0, None) => {
            return Err(Error::NotOurDatabase {
                path: path.to_string(),
                reason: "the file is empty: create a collection first (svdb load)".to_string(),
            })
        }
        _ => load(&transaction, path)?,
    };
    transaction.commit()?;
    Ok(metadata)
}

/// Reads and checks every setting of a file of ours.
pub fn load(connection: &Connection, path: &str) -> Result<Metadata> {
    let not_ours = |reason: String| Error::NotOurDatabase {
        path: path.to_string(),
        reason,
    };
    if read_value(connection, FORMAT).ok().flatten().as_deref() != Some(FORMAT_NAME) {
        return Err(not_ours("it has no simple_vector_db metadata".to_string()));
    }
    check_version(read_value(connection, VERSION)?, path, &not_ours)?;
    let kind_text = read_value(connection, KIND)?.unwrap_or_default();
    let kind = StoreKind::parse(&kind_text)
        .ok_or_else(|| not_ours(format!("meta.kind {kind_text:?} is not a collection kind")))?;
    let layout = match read_value(connection, LAYOUT)? {
        // Files of schema 2 have no such setting: they are all of the row layout.
        None => Layout::Rows,
        Some(text) => Layout::parse(&text)
            .ok_or_else(|| not_ours(format!("meta.layout {text:?} is not a layout")))?,
    };
    let dimension = match read_value(connection, DIMENSION)? {
        None => None,
        Some(text) => Some(parse_dimension(&text).map_err(not_ours)?),
    };
    let metric = read_value(connection, METRIC)?
        .unwrap_or_default()
        .parse::<Metric>()
        .map_err(|e| not_ours(format!("meta.metric: {e}")))?;
    let generation = read_generation(connection, path)?;
    Ok(Metadata {
        kind,
        layout,
        dimension,
        metric,
        generation,
    })
}
// ANCHOR_END: load_or_create

/// The largest dimension a file may claim: 2^20 floats (4 MiB) per vector.
pub const MAX_DIMENSION: usize = 1 << 20;

fn parse_dimension(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(d) if (1..=MAX_DIMENSION).contains(&d) => Ok(d),
        Ok(d) => Err(format!(
            "meta.dimension {d} is out of range (1 to {MAX_DIMENSION})"
        )),
        Err(_) => Err(format!("meta.dimension {text:?} is not a number")),
    }
}

// ANCHOR: check_version
/// Refuses files of a schema version this build does not read.
fn check_version(
    stored: Option<String>,
    path: &str,
    not_ours: &dyn Fn(String) -> Error,
) -> Result<()> {
    let text = stored.ok_or_else(|| not_ours("it has no schema version".to_string()))?;
    let found = text
        .parse::<i64>()
        .map_err(|_| not_ours(format!("its schema version {text:?} is not a number")))?;
    if !(OLDEST_READABLE_VERSION..=SCHEMA_VERSION).contains(&found) {
        return Err(Error::UnsupportedSchemaVersion {
            path: path.to_string(),
            found,
            oldest: OLDEST_READABLE_VERSION,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}
// ANCHOR_END: check_version

/// Creates the tables and the first settings, inside the caller's transaction.
fn create(connection: &Connection, kind: StoreKind, layout: Layout) -> Result<Metadata> {
    connection.execute_batch(CREATE_SCHEMA)?;
    if layout == Layout::Chunks {
        super::chunks::ChunkTable::new(VECTOR_CHUNKS, 1).create(connection)?;
    }
    let metric = match kind {
        StoreKind::Vectors => Metric::default(),
        // Asymmetric distances estimate euclidean distances: that is the metric of codes.
        StoreKind::ProductQuantized => Metric::Euclidean,
    };
    for (key, value) in [
        (FORMAT, FORMAT_NAME.to_string()),
        (VERSION, SCHEMA_VERSION.to_string()),
        (KIND, kind.as_str().to_string()),
        (LAYOUT, layout.as_str().to_string()),
        (METRIC, metric.as_str().to_string()),
        (GENERATION, "0".to_string()),
    ] {
        write_value(connection, key, &value)?;
    }
    Ok(Metadata {
        kind,
        layout,
        dimension: None,
        metric,
        generation: 0,
    })
}

/// The generation the file is at.
pub fn read_generation(connection: &Connection, path: &str) -> Result<i64> {
    let text = read_value(connection, GENERATION)?.unwrap_or_default();
    text.parse::<i64>().map_err(|_| Error::NotOurDatabase {
        path: path.to_string(),
        reason: format!("meta.generation {text:?} is not a number"),
    })
}

/// Adds one to the generation (inside a write transaction) and returns the new value.
pub fn bump_generation(connection: &Connection, path: &str) -> Result<i64> {
    let next = read_generation(connection, path)?.saturating_add(1);
    write_value(connection, GENERATION, &next.to_string())?;
    Ok(next)
}

/// The value stored under `key`, if any.
pub fn read_value(connection: &Connection, key: &str) -> Result<Option<String>> {
    // Cached: every search reads the generation, and preparing costs more than stepping.
    Ok(connection
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
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
