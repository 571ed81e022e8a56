//! Building, listing and dropping the indexes of a collection.

use serde::Serialize;

use super::{Collection, PQ_INDEX};
use crate::engine::catalog::{self, check_index_name};
use crate::engine::indexes::{
    HnswIndex, HnswSettings, IvfIndex, IvfPqIndex, IvfPqSettings, IvfSettings, PqIndex, PqSettings,
};
use crate::engine::staleness::{self, Staleness};
use crate::engine::stored_index::StoredIndex;
use crate::engine::IndexKind;
use crate::error::{Error, Result};
use crate::sqlite_store::stored_vectors::read_all_vectors;
use crate::sqlite_store::{Metadata, StoreKind};

// ANCHOR: index_spec
/// What index to build, with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndexSpec {
    /// An inverted file of k-means cells.
    Ivf(IvfSettings),
    /// Product-quantization codes.
    Pq(PqSettings),
    /// A graph of neighbours in layers.
    Hnsw(HnswSettings),
    /// An inverted file of product-quantization codes of residuals.
    IvfPq(IvfPqSettings),
}
// ANCHOR_END: index_spec

impl IndexSpec {
    /// Builds the index this spec describes on `data` (ids and vectors), inside the caller's
    /// write transaction.
    fn build(
        &self,
        connection: &rusqlite::Connection,
        name: &str,
        collection: &Metadata,
        data: (&[i64], &[Vec<f32>]),
    ) -> Result<Box<dyn StoredIndex>> {
        Ok(match self {
            IndexSpec::Ivf(settings) => Box::new(IvfIndex::build(
                connection, name, settings, collection, data,
            )?),
            IndexSpec::Pq(settings) => Box::new(PqIndex::build(
                connection, name, settings, collection, data,
            )?),
            IndexSpec::Hnsw(settings) => Box::new(HnswIndex::build(
                connection, name, settings, collection, data,
            )?),
            IndexSpec::IvfPq(settings) => Box::new(IvfPqIndex::build(
                connection, name, settings, collection, data,
            )?),
        })
    }
}

/// What `svdb indexes` and `svdb info` show of an index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexInfo {
    pub name: String,
    pub kind: String,
    /// Such as `ivf(nlist=16)`.
    pub label: String,
    pub metric: String,
    /// The settings it was built with, `key=value` space-separated.
    pub settings: String,
    pub bytes_per_vector: usize,
    /// `false` when the collection changed in a way the index does not reflect.
    pub up_to_date: bool,
    /// What it was trained on and what changed since (`None` for an index built before this
    /// was recorded).
    pub staleness: Option<Staleness>,
}

impl Collection {
    // ANCHOR: create_index
    /// Builds the index `name` on every stored vector, replacing an index of that name, in one
    /// transaction: a failure leaves the previous index (if any) as it was.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIndexName`]; [`Error::NoRawVectors`] for a collection that keeps only
    /// codes; the index's own errors (too many cells, a metric it cannot serve, …).
    pub fn create_index(&mut self, name: &str, spec: &IndexSpec) -> Result<()> {
        check_index_name(name)?;
        let path = self.path.clone();
        self.write(|connection, state| {
            if state.metadata.kind != StoreKind::Vectors {
                return Err(Error::NoRawVectors { path });
            }
            let (ids, vectors) = read_all_vectors(connection, &state.metadata)?;
            let data = (ids.as_slice(), vectors.as_slice());
            let index = spec.build(connection, name, &state.metadata, data)?;
            if let Some(previous) = state.indexes.get(name) {
                if previous.record().kind != index.record().kind {
                    previous.drop_tables(connection)?;
                }
            }
            catalog::write(connection, index.record())?;
            staleness::record_training(connection, name, ids.len())?;
            state.indexes.insert(name.to_string(), index);
            Ok(())
        })
    }
    // ANCHOR_END: create_index

    /// Removes the index `name` and its tables.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; [`Error::InvalidParameter`] for the one index of a collection
    /// that keeps only codes (its codes are the data).
    pub fn drop_index(&mut self, name: &str) -> Result<()> {
        self.write(|connection, state| {
            let index = state.indexes.get(name).ok_or_else(|| Error::NoSuchIndex {
                name: name.to_string(),
                available: state.indexes.keys().cloned().collect(),
            })?;
            if state.metadata.kind == StoreKind::ProductQuantized && name == PQ_INDEX {
                return Err(Error::InvalidParameter {
                    name: "index",
                    reason: "the pq index holds this collection's only copy of its vectors"
                        .to_string(),
                });
            }
            index.drop_tables(connection)?;
            catalog::remove(connection, name)?;
            staleness::forget(connection, name)?;
            state.indexes.remove(name);
            Ok(())
        })
    }

    /// The indexes built on the collection, by name.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn indexes(&self) -> Result<Vec<IndexInfo>> {
        self.read(|connection, state| {
            let mut staleness = staleness::read_all(connection)?;
            Ok(state
                .indexes
                .values()
                .map(|index| {
                    let record = index.record();
                    IndexInfo {
                        name: record.name.clone(),
                        kind: record.kind.as_str().to_string(),
                        label: index.label(),
                        metric: record.metric.as_str().to_string(),
                        settings: record.settings.to_text(),
                        bytes_per_vector: index.bytes_per_vector(),
                        up_to_date: record.built_on == state.metadata.generation
                            && record.metric == state.metadata.metric,
                        staleness: staleness.remove(&record.name),
                    }
                })
                .collect())
        })
    }

    /// What [`indexes`](Self::indexes) says of the index `name`, if there is one.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn index_info(&self, name: &str) -> Result<Option<IndexInfo>> {
        Ok(self.indexes()?.into_iter().find(|info| info.name == name))
    }

    // ANCHOR: default_index
    /// The index a search uses when none is named: the only one, or brute force when there is
    /// none (`None`).
    ///
    /// # Errors
    ///
    /// [`Error::AmbiguousIndex`] when there are several.
    pub fn default_index(&self) -> Result<Option<String>> {
        let names: Vec<String> = self.indexes()?.into_iter().map(|i| i.name).collect();
        match names.as_slice() {
            [] => Ok(None),
            [only] => Ok(Some(only.clone())),
            _ => Err(Error::AmbiguousIndex { available: names }),
        }
    }
    // ANCHOR_END: default_index

    /// Trains the index `name` on `sample` before any vector is stored in it (product
    /// quantization only).
    ///
    /// # Errors
    ///
    /// [`Error::CodebookInUse`] once codes are stored; [`Error::NoSuchIndex`]; training errors.
    pub fn train_index<V: AsRef<[f32]>>(&mut self, name: &str, sample: &[V]) -> Result<()> {
        let sample: Vec<&[f32]> = sample.iter().map(AsRef::as_ref).collect();
        self.write(|connection, state| {
            let available = state.indexes.keys().cloned().collect();
            let index = state
                .indexes
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchIndex {
                    name: name.to_string(),
                    available,
                })?;
            index.train(connection, &sample)?;
            staleness::record_training(connection, name, sample.len())?;
            if state.metadata.dimension.is_none() {
                if let Some(d) = sample.first().map(|v| v.len()) {
                    crate::sqlite_store::metadata::write_value(
                        connection,
                        crate::sqlite_store::metadata::DIMENSION,
                        &d.to_string(),
                    )?;
                    state.metadata.dimension = Some(d);
                }
            }
            Ok(())
        })
    }

    /// The centroids of the inverted file `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; a storage error.
    pub fn centroids(&self, name: &str) -> Result<Option<Vec<Vec<f32>>>> {
        self.with_index(name, |index| {
            Ok(index.centroids().map(<[Vec<f32>]>::to_vec))
        })
    }

    /// The quantizer of the product-quantization index `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; a storage error.
    pub fn quantizer(&self, name: &str) -> Result<Option<crate::quantization::VectorQuantizer>> {
        self.with_index(name, |index| Ok(index.quantizer().cloned()))
    }

    /// The code the product-quantization index `name` stores for `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; a storage error.
    pub fn code_of(&self, name: &str, id: i64) -> Result<Option<Vec<u8>>> {
        self.read(|connection, state| find(state, name)?.code_of(connection, id))
    }

    /// `true` when an index named `name` exists.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn has_index(&self, name: &str) -> Result<bool> {
        self.read(|_, state| Ok(state.indexes.contains_key(name)))
    }

    /// The kind of the index `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`].
    pub fn index_kind(&self, name: &str) -> Result<IndexKind> {
        self.with_index(name, |index| Ok(index.record().kind))
    }

    fn with_index<T>(
        &self,
        name: &str,
        f: impl FnOnce(&dyn StoredIndex) -> Result<T>,
    ) -> Result<T> {
        self.read(|_, state| f(find(state, name)?))
    }
}

/// The index `name` of `state`, or [`Error::NoSuchIndex`] listing those there are.
pub(super) fn find<'s>(state: &'s super::State, name: &str) -> Result<&'s dyn StoredIndex> {
    state
        .indexes
        .get(name)
        .map(|index| index.as_ref())
        .ok_or_else(|| Error::NoSuchIndex {
            name: name.to_string(),
            available: state.indexes.keys().cloned().collect(),
        })
}
