//! HNSW: a hierarchical navigable small world graph (Malkov & Yashunin, 2016).
//!
//! A graph index links each vector to a few of its near neighbours, and searches by walking:
//! from some node, move to whichever neighbour is closer to the query, until none is. In a
//! graph where near vectors are linked and a few long links cross the space (a *navigable small
//! world*), such a walk reaches the query's neighbourhood in a few hops and scores only the
//! vectors along its way, a few hundred or thousand of a collection of millions.
//!
//! HNSW adds the idea of a skip list: layers. Every node is on layer 0; each node also draws a
//! random level, so that about one node in `M` is on layer 1, one in `M²` on layer 2, and so
//! on. The sparse upper layers hold the long links: a search starts at the top, at the entry
//! point, walks greedily down layer after layer, each walk starting where the one above
//! stopped, and on layer 0 keeps a beam of the `ef` best nodes instead of one. Building is
//! inserting: each new node searches for itself and links to the neighbours it finds, chosen
//! with a heuristic that keeps links pointing in different directions ([`select`]).
//!
//! Everything here is written by hand, following the paper and the sources of hnswlib and
//! FAISS: the graph *is* the lesson. The pieces, one file each:
//!
//! - [`graph`]: the neighbour lists of every layer, in fixed slots;
//! - [`space`]: the vectors and the distance the graph compares (through the kernels);
//! - [`search`]: the greedy walk and the beam search;
//! - [`filtered`]: how the beam search walks when a filter refuses nodes (chapter 14);
//! - [`select`]: the simple selection and the paper's heuristic;
//! - [`insert`]: random levels and linking a new node;
//! - [`memory`]: the whole index in memory;
//! - [`tables`]: the graph in the collection's file;
//! - [`index`]: the graph as an index of a collection.

pub mod filtered;
pub mod graph;
pub mod index;
pub mod insert;
pub mod memory;
pub mod search;
pub mod select;
pub mod space;
pub mod tables;

pub use filtered::FilteredWalk;
pub use index::HnswIndex;
pub use memory::Hnsw;
pub use select::Selection;

use crate::error::{Error, Result};

/// The highest level a node can draw (it stays below 256, so that a level fits a byte). With
/// `M ≥ 2`, a node reaches it once in 2³² draws or fewer.
pub const MAX_LEVEL: usize = 32;

// ANCHOR: hnsw_settings
/// How to build a graph index, and how wide its searches are by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswSettings {
    /// Neighbours per node on the upper layers; layer 0 keeps `2·M`.
    pub m: usize,
    /// The beam width of the search each insertion makes for its neighbours.
    pub ef_construction: usize,
    /// The beam width of a search that does not choose one (`SearchParams::ef`).
    pub ef_search: usize,
    /// How neighbours are chosen among the beam.
    pub selection: Selection,
    /// Seed of the levels: the same seed and the same vectors build the same graph.
    pub seed: u64,
}

impl HnswSettings {
    /// `M` neighbours and a construction beam of `ef_construction`, with FAISS's default
    /// search beam of 16, the heuristic selection and seed 42.
    pub fn new(m: usize, ef_construction: usize) -> Self {
        HnswSettings {
            m,
            ef_construction,
            ef_search: 16,
            selection: Selection::Heuristic,
            seed: 42,
        }
    }

    /// The same settings with another seed.
    pub fn with_seed(self, seed: u64) -> Self {
        HnswSettings { seed, ..self }
    }

    /// The same settings with another neighbour selection.
    pub fn with_selection(self, selection: Selection) -> Self {
        HnswSettings { selection, ..self }
    }
    // ANCHOR_END: hnsw_settings

    /// Checks that a graph can be built with these settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when `M < 2` (one link a node makes a chain, not a graph),
    /// when `ef_construction < M` (the beam could not even hold the `M` neighbours to choose
    /// from), or when `ef_search` is 0.
    pub fn check(&self) -> Result<()> {
        if self.m < 2 {
            return Err(Error::InvalidParameter {
                name: "m",
                reason: format!("{} is below 2: a node needs at least two links", self.m),
            });
        }
        if self.m > 1024 {
            return Err(Error::InvalidParameter {
                name: "m",
                reason: format!("{} is above 1024", self.m),
            });
        }
        if self.ef_construction < self.m {
            return Err(Error::InvalidParameter {
                name: "ef_construction",
                reason: format!(
                    "{} is below M = {}: the beam must hold at least the M neighbours it chooses from",
                    self.ef_construction, self.m
                ),
            });
        }
        if self.ef_search == 0 {
            return Err(Error::InvalidParameter {
                name: "ef_search",
                reason: "must be at least 1".to_string(),
            });
        }
        Ok(())
    }
}
