//! Checking a collection's file: is it intact, and does every part agree with the others?
//!
//! SQLite's `PRAGMA integrity_check` finds damage to the file's pages. It cannot know what our
//! tables mean, so we check that too: the settings in `meta` against the rows (every vector
//! BLOB holds `4 × dimension` bytes), and every index against its collection (an inverted file
//! lists each id exactly once, in a cell that exists, with the collection's vector; a PQ index
//! holds one code of `m` bytes per id and the codebook that gives them meaning). Each problem is
//! reported, not just the first, so a damaged file can be judged as a whole.
//!
//! A file of the chunked layout keeps its vectors, lists and codes in chunks; `chunks.rs` checks
//! those. A graph index is checked the same way in both layouts (`graph.rs`), and so is an
//! IVF-PQ index (`ivfpq.rs`).

mod chunks;
mod graph;
mod ivfpq;

use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;

use crate::engine::catalog::{self, IndexRecord};
use crate::engine::indexes::{IvfIndex, PqIndex};
use crate::engine::IndexKind;
use crate::error::Result;
use crate::sqlite_store::{connection, metadata, Layout, Metadata, StoreKind};

// ANCHOR: problem
/// One thing wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The table (or `file`) the problem is in.
    pub table: String,
    pub what: String,
}
// ANCHOR_END: problem

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.table, self.what)
    }
}

pub(super) fn problem(table: impl Into<String>, what: impl Into<String>) -> Problem {
    Problem {
        table: table.into(),
        what: what.into(),
    }
}

// ANCHOR: check_file
/// Every problem found in the collection file at `path`; empty for a healthy file.
///
/// Reads only: the file is opened without creating it and nothing is written.
///
/// # Errors
///
/// [`Error::NoSuchDatabase`](crate::Error::NoSuchDatabase) or
/// [`Error::CannotOpen`](crate::Error::CannotOpen) when the file cannot be opened at all.
pub fn check_file(path: &Path) -> Result<Vec<Problem>> {
    let connection = connection::open_file(path, false)?;
    let mut problems = integrity(&connection);
    if !problems.is_empty() {
        return Ok(problems); // the pages themselves are damaged: what they say means little
    }
    let display = path.display().to_string();
    let metadata = match metadata::load(&connection, &display) {
        Ok(metadata) => metadata,
        Err(e) => {
            problems.push(problem("meta", e.to_string()));
            return Ok(problems);
        }
    };
    match metadata.layout {
        Layout::Rows => {
            problems.extend(vector_rows(&connection, metadata.kind, metadata.dimension)?)
        }
        Layout::Chunks => problems.extend(chunks::vector_chunks(&connection, &metadata)?),
    }
    problems.extend(attribute_rows(&connection)?);
    let records = match catalog::read_all(&connection) {
        Ok(records) => records,
        Err(e) => {
            problems.push(problem("indexes", e.to_string()));
            return Ok(problems);
        }
    };
    for record in records {
        if record.built_on != metadata.generation || record.metric != metadata.metric {
            problems.push(problem(
                "indexes",
                format!(
                    "index {} is stale: built for {} at generation {}, the collection is {} at generation {}",
                    record.name, record.metric, record.built_on, metadata.metric, metadata.generation
                ),
            ));
        }
        problems.extend(match metadata.layout {
            _ if record.kind == IndexKind::Hnsw => {
                graph::graph_tables(&connection, record, &metadata)?
            }
            _ if record.kind == IndexKind::IvfPq => {
                ivfpq::ivfpq_tables(&connection, record, &metadata)?
            }
            Layout::Rows => index_tables(&connection, record, &metadata)?,
            Layout::Chunks => chunks::index_chunks(&connection, record, &metadata)?,
        });
    }
    Ok(problems)
}
// ANCHOR_END: check_file

/// The attributes against their schema and the collection: a readable schema, and no row for a
/// vector the collection does not hold.
fn attribute_rows(connection: &Connection) -> Result<Vec<Problem>> {
    let schema = match crate::sqlite_store::attributes::read_schema(connection) {
        Ok(schema) => schema,
        Err(e) => return Ok(vec![problem("attribute_columns", e.to_string())]),
    };
    if schema.is_empty() {
        return Ok(Vec::new());
    }
    let orphans: rusqlite::Result<i64> = connection.query_row(
        "SELECT count(*) FROM attributes a WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.id = a.id)",
        [],
        |r| r.get(0),
    );
    Ok(match orphans {
        Ok(0) => Vec::new(),
        Ok(n) => vec![problem(
            "attributes",
            format!("{n} rows are for ids the collection does not hold"),
        )],
        Err(e) => vec![problem("attributes", e.to_string())],
    })
}

/// SQLite's own check of pages, indexes and constraints.
fn integrity(connection: &Connection) -> Vec<Problem> {
    let rows: rusqlite::Result<Vec<String>> = connection
        .prepare("PRAGMA integrity_check")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get::<_, String>(0))?
                .collect()
        });
    match rows {
        Ok(rows) if rows == ["ok"] => Vec::new(),
        Ok(rows) => rows.into_iter().map(|r| problem("file", r)).collect(),
        Err(e) => vec![problem("file", format!("integrity check failed: {e}"))],
    }
}

/// Every row's BLOB against the dimension in `meta`.
fn vector_rows(
    connection: &Connection,
    kind: StoreKind,
    dimension: Option<usize>,
) -> Result<Vec<Problem>> {
    let count: i64 = connection.query_row("SELECT count(*) FROM vectors", [], |r| r.get(0))?;
    let Some(dimension) = dimension else {
        return Ok(if count > 0 {
            vec![problem(
                "meta",
                format!("{count} vectors are stored but no dimension is recorded"),
            )]
        } else {
            Vec::new()
        });
    };
    let expected = i64::try_from(dimension * 4).unwrap_or(i64::MAX);
    // `expected` is our own number, not the file's text: safe to write into the query.
    let (query, what) = match kind {
        StoreKind::Vectors => (
            format!("SELECT count(*), min(id) FROM vectors WHERE vector IS NULL OR length(vector) != {expected}"),
            format!("BLOBs that are not {expected} bytes (dimension {dimension} × 4)"),
        ),
        StoreKind::ProductQuantized => (
            "SELECT count(*), min(id) FROM vectors WHERE vector IS NOT NULL".to_string(),
            "raw vectors in a collection that keeps only codes".to_string(),
        ),
    };
    let (bad, first): (i64, Option<i64>) =
        connection.query_row(&query, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(if bad > 0 {
        vec![problem(
            "vectors",
            format!(
                "{bad} rows hold {what}, the first with id {}",
                first.unwrap_or_default()
            ),
        )]
    } else {
        Vec::new()
    })
}

/// An index's own tables against the collection.
fn index_tables(
    connection: &Connection,
    record: IndexRecord,
    metadata: &Metadata,
) -> Result<Vec<Problem>> {
    let dimension = metadata.dimension;
    let name = record.name.clone();
    let mut problems = Vec::new();
    let (data_table, loaded) = match record.kind {
        IndexKind::Ivf => (
            format!("{name}_lists"),
            dimension
                .ok_or_else(|| "no dimension recorded".to_string())
                .and_then(|d| {
                    IvfIndex::load(connection, record.clone(), d, Layout::Rows)
                        .map_err(|e| e.to_string())
                })
                .map(|index| index.nlist()),
        ),
        IndexKind::Pq => (
            format!("{name}_codes"),
            PqIndex::load(connection, record.clone(), dimension, Layout::Rows)
                .map(|index| index.m_chunks())
                .map_err(|e| e.to_string()),
        ),
        IndexKind::Flat | IndexKind::Hnsw | IndexKind::IvfPq => {
            return Ok(vec![problem(
                "indexes",
                format!(
                    "{name}: {} has no lists or codes to check here",
                    record.kind
                ),
            )])
        }
    };
    let size = match loaded {
        Ok(size) => size,
        Err(e) => return Ok(vec![problem(format!("{name}_*"), e)]),
    };
    let mismatched = |sql: &str| -> Result<i64> {
        Ok(connection.query_row(&sql.replace("{t}", &data_table), [], |r| r.get(0))?)
    };
    let missing = mismatched(
        "SELECT count(*) FROM vectors v WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE x.id = v.id)",
    )?;
    if missing > 0 {
        problems.push(problem(
            &data_table,
            format!("{missing} ids of the collection are missing"),
        ));
    }
    let extra = mismatched(
        "SELECT count(*) FROM {t} x WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.id = x.id)",
    )?;
    if extra > 0 {
        problems.push(problem(
            &data_table,
            format!("{extra} ids are not in the collection"),
        ));
    }
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    match record.kind {
        IndexKind::Ivf => {
            let out_of_range = mismatched(&format!(
                "SELECT count(*) FROM {{t}} WHERE cell < 0 OR cell >= {size}"
            ))?;
            if out_of_range > 0 {
                problems.push(problem(
                    &data_table,
                    format!("{out_of_range} rows are filed in a cell that does not exist"),
                ));
            }
            let differ = mismatched("SELECT count(*) FROM {t} x JOIN vectors v USING (id) WHERE x.vector IS NOT v.vector")?;
            if differ > 0 {
                problems.push(problem(
                    &data_table,
                    format!("{differ} vectors differ from the collection's"),
                ));
            }
        }
        _ => {
            let bad_length = mismatched(&format!(
                "SELECT count(*) FROM {{t}} WHERE length(code) != {size}"
            ))?;
            if bad_length > 0 {
                problems.push(problem(
                    &data_table,
                    format!("{bad_length} codes are not {size} bytes long"),
                ));
            }
        }
    }
    Ok(problems)
}
