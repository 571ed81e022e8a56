//! Staleness: how far a collection has moved since an index was trained on it.
//!
//! An index stays *correct* through every write: an insert files the new vector in its nearest
//! cell, a delete drops its entry. What it does not do is *learn*: the centroids of an inverted
//! file and the codebook of a product quantizer were fitted to the vectors present when they
//! were trained. When the vectors that come later are distributed like those, nothing is lost.
//! When they are not (a new topic in a document collection, a new user population), the cells
//! fill unevenly and the codes fit the newcomers badly, and recall at a fixed number of probes
//! drifts down. FAISS and Milvus leave it to the operator to retrain; to decide when, the
//! operator needs a number: how many vectors the index was trained on, and how many were added
//! and removed since. That is what this module keeps, in the `index_staleness` table, one row
//! per index, updated in the transaction of every write.
//!
//! The table is created by the first write that needs it, so files made before it existed
//! still open (read only, they report the staleness as unknown).

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::Result;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS index_staleness (
        name       TEXT PRIMARY KEY,       -- the index, as in the indexes table
        trained_on INTEGER NOT NULL,       -- vectors stored when it was last trained (or built)
        added      INTEGER NOT NULL,       -- vectors inserted since
        removed    INTEGER NOT NULL        -- vectors deleted since (a replaced one counts in both)
    )";

// ANCHOR: staleness
/// What an index was trained on, and what changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Staleness {
    /// The vectors stored when the index was last trained or built.
    pub trained_on: u64,
    /// Vectors inserted since.
    pub added: u64,
    /// Vectors deleted since.
    pub removed: u64,
}

impl Staleness {
    /// The share of the collection the training never saw or saw and lost:
    /// `(added + removed) / trained_on` (1 when it was trained on nothing).
    pub fn changed_share(&self) -> f64 {
        if self.trained_on == 0 {
            return if self.added + self.removed == 0 {
                0.0
            } else {
                1.0
            };
        }
        (self.added + self.removed) as f64 / self.trained_on as f64
    }
}
// ANCHOR_END: staleness

/// Records that the index `name` was just trained (or built) on `vectors` vectors: nothing
/// has changed since.
///
/// # Errors
///
/// A storage error.
pub fn record_training(connection: &Connection, name: &str, vectors: usize) -> Result<()> {
    connection.execute_batch(CREATE_TABLE)?;
    connection.execute(
        "INSERT INTO index_staleness (name, trained_on, added, removed) VALUES (?1, ?2, 0, 0)
         ON CONFLICT (name) DO UPDATE SET trained_on = excluded.trained_on, added = 0, removed = 0",
        params![name, count(vectors)],
    )?;
    Ok(())
}

/// Counts `vectors` more vectors inserted since every index was trained.
///
/// # Errors
///
/// A storage error.
pub fn record_added(connection: &Connection, vectors: usize) -> Result<()> {
    if has_table(connection)? {
        connection.execute(
            "UPDATE index_staleness SET added = added + ?1",
            [count(vectors)],
        )?;
    }
    Ok(())
}

/// Counts `vectors` more vectors deleted since every index was trained.
///
/// # Errors
///
/// A storage error.
pub fn record_removed(connection: &Connection, vectors: usize) -> Result<()> {
    if has_table(connection)? {
        connection.execute(
            "UPDATE index_staleness SET removed = removed + ?1",
            [count(vectors)],
        )?;
    }
    Ok(())
}

/// Forgets the index `name` (it was dropped).
///
/// # Errors
///
/// A storage error.
pub fn forget(connection: &Connection, name: &str) -> Result<()> {
    if has_table(connection)? {
        connection.execute("DELETE FROM index_staleness WHERE name = ?1", [name])?;
    }
    Ok(())
}

/// The staleness of every index that has a record, by name. Indexes built before the table
/// existed have none: their staleness is unknown. Counts stored negative (a damaged file) read
/// as 0.
///
/// # Errors
///
/// A storage error.
pub fn read_all(connection: &Connection) -> Result<BTreeMap<String, Staleness>> {
    if !has_table(connection)? {
        return Ok(BTreeMap::new());
    }
    let mut statement =
        connection.prepare("SELECT name, trained_on, added, removed FROM index_staleness")?;
    let rows = statement.query_map([], |row| {
        let number = |i: usize| -> rusqlite::Result<u64> {
            Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
        };
        Ok((
            row.get::<_, String>(0)?,
            Staleness {
                trained_on: number(1)?,
                added: number(2)?,
                removed: number(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn has_table(connection: &Connection) -> Result<bool> {
    Ok(connection
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'index_staleness'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A count as SQLite stores it (a batch can never hold more than `i64::MAX` vectors).
fn count(vectors: usize) -> i64 {
    i64::try_from(vectors).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_move_with_writes_and_reset_with_training() {
        let connection = Connection::open_in_memory().expect("memory");
        assert!(read_all(&connection).expect("read").is_empty());
        record_added(&connection, 5).expect("no table yet: nothing to count");
        record_training(&connection, "ivf", 100).expect("train");
        record_training(&connection, "pq", 50).expect("train");
        record_added(&connection, 10).expect("add");
        record_removed(&connection, 3).expect("remove");
        let all = read_all(&connection).expect("read");
        assert_eq!(
            all["ivf"],
            Staleness {
                trained_on: 100,
                added: 10,
                removed: 3
            }
        );
        assert!((all["ivf"].changed_share() - 0.13).abs() < 1e-9);
        assert_eq!(all["pq"].added, 10);
        record_training(&connection, "ivf", 107).expect("retrain");
        let all = read_all(&connection).expect("read");
        assert_eq!(all["ivf"].added + all["ivf"].removed, 0);
        assert_eq!(
            all["pq"].removed, 3,
            "the other index is as stale as before"
        );
        forget(&connection, "pq").expect("drop");
        assert!(!read_all(&connection).expect("read").contains_key("pq"));
    }
}
