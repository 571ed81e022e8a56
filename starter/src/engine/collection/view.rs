//! A collection seen through one of its indexes, as a [`VectorIndex`].
//!
//! Adding through the view adds to the collection, and so to every index on it: an index
//! cannot hold a vector its collection does not.

use super::Collection;
use crate::distances::Metric;
use crate::engine::{IndexInfo, IndexKind, Neighbour, SearchParams, VectorIndex};
use crate::error::Result;

// ANCHOR: collection_index
/// The collection searched by brute force (`index: None`) or through the index named `index`.
#[derive(Debug)]
pub struct CollectionIndex<'c> {
    collection: &'c mut Collection,
    index: Option<String>,
}
// ANCHOR_END: collection_index

impl Collection {
    /// This collection as a [`VectorIndex`] searched through `index` (`None`: brute force).
    pub fn as_index(&mut self, index: Option<&str>) -> CollectionIndex<'_> {
        CollectionIndex {
            collection: self,
            index: index.filter(|name| *name != "flat").map(str::to_string),
        }
    }
}

impl VectorIndex for CollectionIndex<'_> {
    fn name(&self) -> String {
        self.info()
            .map_or_else(|| "flat".to_string(), |info| info.label)
    }

    fn kind(&self) -> IndexKind {
        self.index
            .as_deref()
            .and_then(|name| self.collection.index_kind(name).ok())
            .unwrap_or(IndexKind::Flat)
    }

    fn dimension(&self) -> Option<usize> {
        self.collection.dimension()
    }

    fn metric(&self) -> Metric {
        self.collection.metric()
    }

    fn len(&self) -> Result<usize> {
        self.collection.len()
    }

    fn add(&mut self, ids: &[i64], vectors: &[Vec<f32>]) -> Result<()> {
        self.collection.insert(vectors, Some(ids)).map(|_| ())
    }

    fn search(&self, query: &[f32], params: &SearchParams) -> Result<Vec<Neighbour>> {
        self.collection.search(self.index.as_deref(), query, params)
    }

    fn bytes_per_vector(&self) -> usize {
        self.info().map_or_else(
            || self.collection.dimension().unwrap_or(0) * std::mem::size_of::<f32>(),
            |info| info.bytes_per_vector,
        )
    }
}

impl CollectionIndex<'_> {
    /// The catalog's word on the index searched through (`None` for brute force).
    fn info(&self) -> Option<IndexInfo> {
        let name = self.index.as_deref()?;
        self.collection.index_info(name).ok().flatten()
    }
}
