//! Several reads that see one state of the file.
//!
//! Each operation of a collection is a transaction of its own: a search, then a read of its
//! results' attributes, are two snapshots, and a write by another handle may land between them
//! (an id found by the search, deleted before its attributes are read). A service answering one
//! request with several reads wants them all from the same moment. [`Collection::snapshot`]
//! opens one read transaction and runs the reads inside it: in write-ahead-log mode the first
//! read fixes the snapshot, and every read after it sees the file as it was then, whatever
//! other handles commit meanwhile.

use rusqlite::{Transaction, TransactionBehavior};

use super::Collection;
use crate::error::{Error, Result};
use crate::sqlite_store::attributes::{self, Attributes};

impl Collection {
    // ANCHOR: snapshot
    /// Runs `reads` on this handle inside one read transaction: every operation it makes sees
    /// the file as of its first read. `reads` may fail with an error of its own (`E`), which
    /// the collection's errors convert into.
    ///
    /// # Errors
    ///
    /// Those of `reads`, or a storage error.
    pub fn snapshot<T, E: From<Error>>(
        &self,
        reads: impl FnOnce(&Collection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let transaction =
            Transaction::new_unchecked(&self.connection, TransactionBehavior::Deferred)
                .map_err(Error::from)?;
        // The first read pins the snapshot (and brings the cache up to date with it).
        self.refresh(&transaction)?;
        let result = reads(self);
        transaction.commit().map_err(Error::from)?;
        result
    }
    // ANCHOR_END: snapshot

    /// The attributes of `ids`, a row each in their order (all missing for an id without
    /// attributes); `None` when the collection has no attribute columns.
    ///
    /// # Errors
    ///
    /// [`Error::BadData`] for a stored value of the wrong type.
    pub fn attributes_of(&self, ids: &[i64]) -> Result<Option<Attributes>> {
        self.read(|connection, _| attributes::read_rows(connection, ids))
    }
}
