//! Deleting and replacing vectors: the collection's rows, their attributes and every index's
//! entries, in one transaction.
//!
//! Each index forgets a vector its own way. An inverted file or a product quantizer drops its
//! entry (a row, or a chunk slot that the list's last item fills). A graph cannot simply drop a
//! node, which is also a road between others: it marks the node deleted, walks through it and
//! never returns it, and builds itself again once too much of it is dead (see
//! [`HnswIndex`](crate::engine::indexes::HnswIndex)). What marking leaves behind, `compact`
//! rewrites, as LSM trees and Lucene merge away their tombstones.
//!
//! A batch is checked whole before anything changes: ids the collection does not hold refuse
//! the batch ([`Error::UnknownIds`]), so that a typo in a list of ids deletes nothing rather
//! than the rest. An id given twice in one delete is deleted once; an upsert that gives an id
//! twice is refused ([`Error::DuplicateId`]), as an insert is: which vector should win?

use std::collections::HashSet;

use rusqlite::Connection;

use super::insert::store_rows;
use super::{Collection, State};
use crate::engine::staleness;
use crate::error::{Error, Result};
use crate::sqlite_store::attributes::{self, Attributes};
use crate::sqlite_store::stored_vectors::delete_vectors;
use crate::sqlite_store::{metadata, rows};
use crate::validation::check_batch;

/// How many of the unknown ids an [`Error::UnknownIds`] names.
pub const UNKNOWN_IDS_NAMED: usize = 10;

impl Collection {
    /// Deletes the vectors stored under `ids` (with their attributes and every index's
    /// entries), all or nothing; returns how many were deleted. An id given twice counts once.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownIds`] when any id is not in the collection: nothing is deleted. A
    /// storage error (nothing is deleted either).
    pub fn delete(&mut self, ids: &[i64]) -> Result<usize> {
        let ids = distinct(ids);
        if ids.is_empty() {
            return Ok(0);
        }
        let path = self.path.clone();
        self.write(|connection, state| {
            refuse_unknown(connection, &ids)?;
            delete_known(connection, state, &ids)?;
            log::debug!("{path}: deleted {} vectors", ids.len());
            Ok(ids.len())
        })
    }

    /// The ids of `ids` the collection does not hold, in the order given.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn missing_ids(&self, ids: &[i64]) -> Result<Vec<i64>> {
        self.read(|connection, _| rows::missing_ids(connection, ids))
    }

    // ANCHOR: compact
    /// Rewrites what deletes left behind, then gives the free pages back to the file system:
    /// first every index drops its deleted entries (a graph is built again on the live
    /// vectors) in one write transaction, then SQLite's `VACUUM` rewrites the file, which is
    /// atomic too. A crash leaves the old state or the new one. Returns the file's bytes
    /// before and after (0 for a collection in memory).
    ///
    /// # Errors
    ///
    /// A storage error; the collection is as it was if the first step fails.
    pub fn compact(&mut self) -> Result<(u64, u64)> {
        let before = self.file_bytes();
        self.write(|connection, state| {
            for index in state.indexes.values_mut() {
                index.compact(connection)?;
            }
            Ok(())
        })?;
        // Chunk lists are dense already (a delete fills its hole): only the pages are left.
        self.connection.execute_batch("VACUUM")?;
        // VACUUM went through the write-ahead log: copy it back so the file shows its size.
        self.connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok((before, self.file_bytes()))
    }
    // ANCHOR_END: compact

    /// The bytes of the file and of its write-ahead log.
    fn file_bytes(&self) -> u64 {
        [self.path.clone(), format!("{}-wal", self.path)]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// How many entries each index keeps for deleted vectors, by index name.
    ///
    /// # Errors
    ///
    /// A storage error (a damaged graph).
    pub fn deleted_entries(&self) -> Result<Vec<(String, usize)>> {
        self.read(|connection, state| {
            state
                .indexes
                .iter()
                .map(|(name, index)| Ok((name.clone(), index.deleted_entries(connection)?)))
                .collect()
        })
    }

    /// Stores `vectors` under `ids`, replacing the vectors (and attributes) already stored
    /// under any of them, all or nothing; returns how many replaced a stored vector. An id
    /// not stored yet is inserted. A replaced vector loses its attributes unless `attributes`
    /// gives new ones.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert): a bad vector (such as [`Error::DimensionMismatch`]),
    /// [`Error::IdCountMismatch`], [`Error::DuplicateId`] for an id given twice; nothing is
    /// changed.
    pub fn upsert<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: &[i64],
        attributes: Option<&Attributes>,
    ) -> Result<usize> {
        if ids.len() != vectors.len() {
            return Err(Error::IdCountMismatch {
                ids: ids.len(),
                vectors: vectors.len(),
            });
        }
        if let Some(&twice) = first_repeated(ids) {
            return Err(Error::DuplicateId(twice));
        }
        if vectors.is_empty() {
            return Ok(0);
        }
        self.write(|connection, state| {
            // Checked before anything is deleted, though the transaction would undo it all.
            let Some(dimension) = check_batch(vectors, state.metadata.dimension)? else {
                return Ok(0);
            };
            let missing: HashSet<i64> = rows::missing_ids(connection, ids)?.into_iter().collect();
            let present: Vec<i64> = ids
                .iter()
                .copied()
                .filter(|id| !missing.contains(id))
                .collect();
            delete_known(connection, state, &present)?;
            if state.metadata.dimension.is_none() {
                metadata::write_value(connection, metadata::DIMENSION, &dimension.to_string())?;
            }
            store_rows(connection, state, dimension, ids, vectors)?;
            if let Some(attributes) = attributes {
                attributes::store(connection, ids, attributes)?;
            }
            let slices: Vec<&[f32]> = vectors.iter().map(AsRef::as_ref).collect();
            for index in state.indexes.values_mut() {
                index.add(connection, ids, &slices)?;
            }
            staleness::record_added(connection, ids.len())?;
            state.metadata.dimension = Some(dimension);
            Ok(present.len())
        })
    }
}

// ANCHOR: delete_known
/// Deletes `ids`, each one the collection holds, from every index, then from the collection's
/// rows and attributes (the indexes may read the vectors they drop).
fn delete_known(connection: &Connection, state: &mut State, ids: &[i64]) -> Result<()> {
    // Counted first: a graph rebuilt by this delete starts its count again at zero.
    staleness::record_removed(connection, ids.len())?;
    for index in state.indexes.values_mut() {
        index.remove(connection, ids)?;
    }
    delete_vectors(connection, &state.metadata, ids)?;
    attributes::delete(connection, ids)
}
// ANCHOR_END: delete_known

/// [`Error::UnknownIds`] when any of `ids` is not stored.
fn refuse_unknown(connection: &Connection, ids: &[i64]) -> Result<()> {
    let missing = rows::missing_ids(connection, ids)?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::UnknownIds {
        count: missing.len(),
        first: missing.into_iter().take(UNKNOWN_IDS_NAMED).collect(),
    })
}

/// `ids` without repeats, in the order of their first appearance.
fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::with_capacity(ids.len());
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// The first id that appears a second time.
fn first_repeated(ids: &[i64]) -> Option<&i64> {
    let mut seen = HashSet::with_capacity(ids.len());
    ids.iter().find(|id| !seen.insert(**id))
}
