//! Inserting a batch: the collection's rows and every index's, in one transaction.

use super::{Collection, State};
use crate::engine::staleness;
use crate::error::{Error, Result};
use crate::sqlite_store::attributes::{store as store_attributes, Attributes};
use crate::sqlite_store::stored_vectors::store_vectors;
use crate::sqlite_store::{metadata, rows, StoreKind};
use crate::validation::check_batch;

impl Collection {
    /// Stores `vectors` and returns their ids, all or nothing.
    ///
    /// With `ids`, each vector is stored under the given id; without, ids continue from the
    /// largest one stored (from 0), read under the write lock so that two processes inserting
    /// at once get different ids. Every index files the new vectors in the same transaction.
    ///
    /// # Errors
    ///
    /// A bad vector (dimension, NaN, infinity), [`Error::IdCountMismatch`] or
    /// [`Error::DuplicateId`]: nothing is stored.
    pub fn insert<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
    ) -> Result<Vec<i64>> {
        self.insert_batch(vectors, ids, None)
    }

    /// As [`insert`](Self::insert), with the attributes of each vector (one row each, in the
    /// batch's order), stored in the same transaction. The first batch with attributes fixes
    /// the collection's attribute columns; later ones must bring the same.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); [`Error::InvalidAttribute`],
    /// [`Error::AttributeSchemaMismatch`] or [`Error::IdCountMismatch`] for the attributes:
    /// nothing is stored.
    pub fn insert_with_attributes<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
        attributes: &Attributes,
    ) -> Result<Vec<i64>> {
        self.insert_batch(vectors, ids, Some(attributes))
    }

    // ANCHOR: insert
    /// The insert behind both: the vectors, their attributes if any, and every index's
    /// entries, in one write transaction.
    fn insert_batch<V: AsRef<[f32]>>(
        &mut self,
        vectors: &[V],
        ids: Option<&[i64]>,
        attributes: Option<&Attributes>,
    ) -> Result<Vec<i64>> {
        if let Some(ids) = ids {
            if ids.len() != vectors.len() {
                return Err(Error::IdCountMismatch {
                    ids: ids.len(),
                    vectors: vectors.len(),
                });
            }
        }
        if vectors.is_empty() {
            return Ok(Vec::new());
        }
        let path = self.path.clone();
        self.write(|connection, state| {
            // The dimension is checked against the file's, as of this transaction.
            let Some(dimension) = check_batch(vectors, state.metadata.dimension)? else {
                return Ok(Vec::new());
            };
            let ids = match ids {
                Some(ids) => ids.to_vec(),
                None => rows::fresh_ids(connection, vectors.len())?,
            };
            if state.metadata.dimension.is_none() {
                metadata::write_value(connection, metadata::DIMENSION, &dimension.to_string())?;
            }
            store_rows(connection, state, dimension, &ids, vectors)?;
            if let Some(attributes) = attributes {
                store_attributes(connection, &ids, attributes)?;
            }
            let slices: Vec<&[f32]> = vectors.iter().map(AsRef::as_ref).collect();
            for index in state.indexes.values_mut() {
                index.add(connection, &ids, &slices)?;
            }
            staleness::record_added(connection, ids.len())?;
            state.metadata.dimension = Some(dimension);
            log::debug!("{path}: stored {} vectors", ids.len());
            Ok(ids)
        })
    }
    // ANCHOR_END: insert
}

/// The collection's own rows: raw vectors (in rows or chunks), or only ids when the codes are
/// all it keeps.
pub(super) fn store_rows<V: AsRef<[f32]>>(
    connection: &rusqlite::Connection,
    state: &State,
    dimension: usize,
    ids: &[i64],
    vectors: &[V],
) -> Result<()> {
    match state.metadata.kind {
        StoreKind::Vectors => {
            store_vectors(connection, state.metadata.layout, dimension, ids, vectors)
        }
        StoreKind::ProductQuantized => rows::insert_all(connection, ids, ids.iter().map(|_| None)),
    }
}
