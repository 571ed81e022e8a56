//! Merging: another collection's vectors, ids and attributes added to this one.
//!
//! A large increment is often built apart (loaded, checked, measured in a file of its own)
//! and joined to the live collection at once, rather than inserted vector by vector into it.
//! Merging reads the other file's vectors with their ids and attributes in one read
//! transaction, then inserts them here in one write transaction, through the same insert as
//! any batch: every index of this collection files the new vectors, and a failure changes
//! nothing. The two must agree on what a vector is (its dimension) and how vectors are
//! compared (the metric); ids already taken here are refused, unless the merge is asked to
//! renumber, and then the new vectors get fresh ids after the largest one stored.

use serde::Serialize;

use super::Collection;
use crate::error::{Error, Result};
use crate::sqlite_store::attributes::{self, Attributes};
use crate::sqlite_store::stored_vectors::read_all_vectors;
use crate::sqlite_store::StoreKind;

/// What a merge added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merged {
    /// How many vectors were added.
    pub added: usize,
    /// Their ids here, in the other collection's id order (new ones when renumbered).
    pub ids: Vec<i64>,
    /// `true` when the ids were renumbered.
    pub renumbered: bool,
}

/// The vectors of a collection with their ids, and their attributes if it has any.
pub type Exported = (Vec<i64>, Vec<Vec<f32>>, Option<Attributes>);

impl Collection {
    // ANCHOR: merge_from
    /// Adds every vector of `other` (with its attributes) to this collection and its indexes,
    /// all or nothing. Under the other's ids, or, with `renumber`, under fresh ids.
    ///
    /// # Errors
    ///
    /// [`Error::NoRawVectors`] when `other` keeps only codes; then those of
    /// [`merge_exported`](Self::merge_exported).
    pub fn merge_from(&mut self, other: &Collection, renumber: bool) -> Result<Merged> {
        let exported = other.export()?;
        self.merge_exported(other.metric(), exported, renumber)
    }

    /// Adds what [`export`](Self::export) read from a collection ranking by `metric`.
    ///
    /// # Errors
    ///
    /// [`Error::MetricMismatch`] and [`Error::DimensionMismatch`] when the two collections
    /// disagree; [`Error::DuplicateId`] for an id both hold (without `renumber`);
    /// [`Error::AttributeSchemaMismatch`] for other attribute columns: nothing is added.
    pub fn merge_exported(
        &mut self,
        metric: crate::distances::Metric,
        (ids, vectors, attributes): Exported,
        renumber: bool,
    ) -> Result<Merged> {
        self.check_mergeable(metric, vectors.first().map(Vec::len))?;
        let given = (!renumber).then_some(ids.as_slice());
        let stored = match &attributes {
            Some(attributes) => self.insert_with_attributes(&vectors, given, attributes)?,
            None => self.insert(&vectors, given)?,
        };
        Ok(Merged {
            added: stored.len(),
            ids: stored,
            renumbered: renumber,
        })
    }
    // ANCHOR_END: merge_from

    /// Whether vectors of `dimension` ranked by `metric` can join this collection.
    ///
    /// # Errors
    ///
    /// [`Error::MetricMismatch`], [`Error::DimensionMismatch`].
    pub fn check_mergeable(
        &self,
        metric: crate::distances::Metric,
        dimension: Option<usize>,
    ) -> Result<()> {
        if metric != self.metric() {
            return Err(Error::MetricMismatch {
                expected: self.metric(),
                found: metric,
            });
        }
        if let (Some(expected), Some(found)) = (self.dimension(), dimension) {
            if expected != found {
                return Err(Error::DimensionMismatch { expected, found });
            }
        }
        Ok(())
    }

    /// Every vector with its id, in id order, and the attributes of each if the collection
    /// has any, read in one transaction.
    ///
    /// # Errors
    ///
    /// [`Error::NoRawVectors`] for a collection that keeps only codes; a damaged table.
    pub fn export(&self) -> Result<Exported> {
        self.read(|connection, state| {
            if state.metadata.kind != StoreKind::Vectors {
                return Err(Error::NoRawVectors {
                    path: self.path.clone(),
                });
            }
            let (ids, vectors) = read_all_vectors(connection, &state.metadata)?;
            let mut pairs: Vec<(i64, Vec<f32>)> = ids.into_iter().zip(vectors).collect();
            pairs.sort_by_key(|(id, _)| *id);
            let (ids, vectors): (Vec<i64>, Vec<Vec<f32>>) = pairs.into_iter().unzip();
            let attributes = attributes::read_rows(connection, &ids)?;
            Ok((ids, vectors, attributes))
        })
    }
}
