//! The `vectors` table: ids, batch inserts and streaming scans.
//!
//! Every function takes the connection (or the open transaction) it works in: the collection
//! decides where a transaction starts and ends, so that a batch, the indexes it updates and the
//! generation counter commit together or not at all.

use rusqlite::{ffi, params, Connection, OptionalExtension};

use crate::error::{Error, Result};

// ANCHOR: insert_all
/// Inserts each vector's bytes (`None` for a collection that keeps only codes) under its id,
/// through one prepared statement.
pub fn insert_all<'a>(
    connection: &Connection,
    ids: &[i64],
    blobs: impl Iterator<Item = Option<&'a [u8]>>,
) -> Result<()> {
    let mut statement =
        connection.prepare_cached("INSERT INTO vectors (id, vector) VALUES (?1, ?2)")?;
    for (&id, blob) in ids.iter().zip(blobs) {
        statement
            .execute(params![id, blob])
            .map_err(|e| duplicate_or_other(e, id))?;
    }
    Ok(())
}
// ANCHOR_END: insert_all

// ANCHOR: duplicate_or_other
/// A violated UNIQUE constraint means the id was taken; anything else stays an SQLite error.
pub fn duplicate_or_other(error: rusqlite::Error, id: i64) -> Error {
    match error.sqlite_error() {
        // A UNIQUE id column, or an id that is the table's INTEGER PRIMARY KEY.
        Some(e)
            if e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            Error::DuplicateId(id)
        }
        _ => Error::Sqlite(error),
    }
}
// ANCHOR_END: duplicate_or_other

// ANCHOR: fresh_ids
/// `count` ids following the largest stored id (or starting at 0).
///
/// Called inside the write transaction, after its lock is taken: two processes inserting at
/// once cannot both read the same largest id.
pub fn fresh_ids(connection: &Connection, count: usize) -> Result<Vec<i64>> {
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

/// The bytes stored for `id`: `None` when there is no such id, `Some(None)` when the row keeps
/// no raw vector.
pub fn read_row(connection: &Connection, id: i64) -> Result<Option<Option<Vec<u8>>>> {
    Ok(connection
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
pub fn for_each_row(
    connection: &Connection,
    visit: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut statement =
        connection.prepare_cached("SELECT id, vector FROM vectors ORDER BY position DESC")?;
    let rows = statement.query([])?;
    visit_rows(rows, "vectors", visit)
}
// ANCHOR_END: for_each_row

// ANCHOR: visit_rows
/// Steps through query results, handing each row's id and bytes to `visit` without copying.
///
/// `table` names the table in the error a row that holds no BLOB gets.
pub fn visit_rows(
    mut rows: rusqlite::Rows<'_>,
    table: &str,
    mut visit: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<()> {
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let bytes = row.get_ref(1)?.as_blob().map_err(|e| Error::BadData {
            path: format!("table {table}"),
            reason: format!("row {id}: {e}"),
        })?;
        visit(id, bytes)?;
    }
    Ok(())
}
// ANCHOR_END: visit_rows

/// How many rows the `vectors` table holds.
pub fn count(connection: &Connection) -> Result<usize> {
    let n: i64 = connection.query_row("SELECT count(*) FROM vectors", [], |row| row.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The ids of `ids` that the `vectors` table does not hold, in the order given.
///
/// # Errors
///
/// An SQLite error.
pub fn missing_ids(connection: &Connection, ids: &[i64]) -> Result<Vec<i64>> {
    let mut statement = connection.prepare_cached("SELECT 1 FROM vectors WHERE id = ?1")?;
    let mut missing = Vec::new();
    for &id in ids {
        if !statement.exists([id])? {
            missing.push(id);
        }
    }
    Ok(missing)
}

/// Deletes the rows of `ids` from the `vectors` table.
///
/// # Errors
///
/// An SQLite error.
pub fn delete_all(connection: &Connection, ids: &[i64]) -> Result<()> {
    let mut statement = connection.prepare_cached("DELETE FROM vectors WHERE id = ?1")?;
    for &id in ids {
        statement.execute([id])?;
    }
    Ok(())
}
