//! The `vectors` table: ids, atomic batch inserts and streaming scans.

use rusqlite::{ffi, params, Connection, OptionalExtension, Transaction};

use super::{metadata, SqliteStore};
use crate::error::{Error, Result};

// ANCHOR: new_row
/// One row to insert: the bytes stored for a vector and its k-means cell, if an index exists.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    pub vector: Vec<u8>,
    pub cluster: Option<i64>,
}
// ANCHOR_END: new_row

impl SqliteStore {
    // ANCHOR: insert_rows
    /// Inserts a batch in one transaction and returns the ids, in the batch's order.
    ///
    /// Without `ids`, ids continue from the largest stored id plus one (from 0 in a new database),
    /// so they match the position of each vector in the order it was inserted. A duplicate id
    /// (already stored, or twice in `ids`) rolls the whole batch back: the database is left
    /// exactly as it was. The first batch also records `dimension`, in the same transaction.
    pub fn insert_rows(
        &mut self,
        dimension: usize,
        ids: Option<&[i64]>,
        rows: impl ExactSizeIterator<Item = NewRow>,
    ) -> Result<Vec<i64>> {
        let ids = match ids {
            Some(ids) if ids.len() != rows.len() => {
                return Err(Error::IdCountMismatch {
                    ids: ids.len(),
                    vectors: rows.len(),
                })
            }
            Some(ids) => ids.to_vec(),
            None => fresh_ids(&self.connection, rows.len())?,
        };
        let transaction = self.connection.transaction()?;
        if self.metadata.dimension.is_none() {
            metadata::write_value(&transaction, metadata::DIMENSION, &dimension.to_string())?;
        }
        insert_all(&transaction, &ids, rows)?;
        // Dropping a transaction without commit rolls it back, so an error above undid it all.
        transaction.commit()?;
        self.metadata.dimension = Some(dimension);
        Ok(ids)
    }
    // ANCHOR_END: insert_rows

    /// The bytes stored for `id`, or `None` when there is no such id.
    pub fn read_row(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .connection
            .query_row("SELECT vector FROM vectors WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?)
    }

    // ANCHOR: for_each_row
    /// Calls `visit(id, bytes)` for every stored row, streaming: one row in memory at a time.
    ///
    /// Rows come in decreasing storage `position`. SQLite fills each page from its end
    /// backwards, so the rows of a page lie in *decreasing* position order in memory; reading
    /// them that way walks memory upwards, which the CPU's prefetcher follows: the scan runs
    /// several times faster once the table outgrows the CPU caches.
    pub fn for_each_row(&self, visit: impl FnMut(i64, &[u8]) -> Result<()>) -> Result<()> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT id, vector FROM vectors ORDER BY position DESC")?;
        let rows = statement.query([])?;
        visit_rows(rows, visit)
    }
    // ANCHOR_END: for_each_row

    /// Calls `visit(id, bytes)` for every row of k-means cell `cluster` (through its SQL index).
    ///
    /// Since the index build stores each cell's rows side by side, this reads a few neighbouring
    /// pages rather than one scattered page per row.
    pub fn for_each_row_in_cluster(
        &self,
        cluster: i64,
        visit: impl FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, vector FROM vectors WHERE cluster = ?1 ORDER BY position DESC",
        )?;
        let rows = statement.query([cluster])?;
        visit_rows(rows, visit)
    }
}

// ANCHOR: visit_rows
/// Steps through query results, handing each row's id and bytes to `visit` without copying.
fn visit_rows(
    mut rows: rusqlite::Rows<'_>,
    mut visit: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<()> {
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let bytes = row.get_ref(1)?.as_blob().map_err(|e| Error::BadData {
            path: "table vectors".to_string(),
            reason: format!("row {id}: {e}"),
        })?;
        visit(id, bytes)?;
    }
    Ok(())
}
// ANCHOR_END: visit_rows

// ANCHOR: fresh_ids
/// `count` ids following the largest stored id (or starting at 0).
fn fresh_ids(connection: &Connection, count: usize) -> Result<Vec<i64>> {
    let largest: Option<i64> =
        connection.query_row("SELECT max(id) FROM vectors", [], |row| row.get(0))?;
    let first = match largest {
        None => 0,
        Some(id) => id.checked_add(1).ok_or(Error::InvalidParameter {
            name: "ids",
            reason: "the largest stored id is i64::MAX: give ids explicitly".to_string(),
        })?,
    };
    (0..count)
        .map(|offset| {
            i64::try_from(offset)
                .ok()
                .and_then(|offset| first.checked_add(offset))
                .ok_or(Error::InvalidParameter {
                    name: "ids",
                    reason: "ids would overflow i64".to_string(),
                })
        })
        .collect()
}
// ANCHOR_END: fresh_ids

// ANCHOR: insert_all
/// Inserts each row under its id through one prepared statement.
fn insert_all(
    transaction: &Transaction<'_>,
    ids: &[i64],
    rows: impl Iterator<Item = NewRow>,
) -> Result<()> {
    let mut statement = transaction
        .prepare_cached("INSERT INTO vectors (id, vector, cluster) VALUES (?1, ?2, ?3)")?;
    for (&id, row) in ids.iter().zip(rows) {
        statement
            .execute(params![id, row.vector, row.cluster])
            .map_err(|e| duplicate_or_other(e, id))?;
    }
    Ok(())
}
// ANCHOR_END: insert_all

// ANCHOR: duplicate_or_other
/// A violated UNIQUE constraint means the id was taken; anything else stays an SQLite error.
fn duplicate_or_other(error: rusqlite::Error, id: i64) -> Error {
    match error.sqlite_error() {
        Some(e) if e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE => Error::DuplicateId(id),
        _ => Error::Sqlite(error),
    }
}
// ANCHOR_END: duplicate_or_other

/// How many rows the `vectors` table holds.
pub fn count(connection: &Connection) -> Result<usize> {
    let n: i64 = connection.query_row("SELECT count(*) FROM vectors", [], |row| row.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}
