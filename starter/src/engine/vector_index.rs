//! The one interface every index implements.
//!
//! An index is a way of answering "which k stored vectors are nearest to this query?". Brute
//! force reads every vector; an inverted file reads a few cells; product quantization reads
//! compressed codes; a graph walks from neighbour to neighbour. They differ in what they store
//! and how hard they work, not in what they are asked, so one trait serves them all: the
//! evaluator measures any [`VectorIndex`], the command-line tool and the server search through
//! it, and a new index is one new implementor.

use std::fmt;
use std::str::FromStr;

use crate::distances::Metric;
use crate::engine::{Neighbour, SearchParams};
use crate::error::{Error, Result};

// ANCHOR: index_kind
/// The kinds of index the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// Every vector compared with the query: exact.
    Flat,
    /// An inverted file: k-means cells, a few of them read per query (chapter 6).
    Ivf,
    /// Product quantization: one byte per sub-vector, asymmetric distances (chapters 7–8).
    Pq,
    /// A hierarchical navigable small world graph, walked from neighbour to neighbour
    /// (chapter 13).
    Hnsw,
    /// An inverted file whose lists hold product-quantization codes of each vector's
    /// residual to its cell's centroid (IVF-PQ).
    IvfPq,
}
// ANCHOR_END: index_kind

impl IndexKind {
    /// The name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexKind::Flat => "flat",
            IndexKind::Ivf => "ivf",
            IndexKind::Pq => "pq",
            IndexKind::Hnsw => "hnsw",
            IndexKind::IvfPq => "ivfpq",
        }
    }
}

impl fmt::Display for IndexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndexKind {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "flat" => Ok(IndexKind::Flat),
            "ivf" => Ok(IndexKind::Ivf),
            "pq" => Ok(IndexKind::Pq),
            "hnsw" => Ok(IndexKind::Hnsw),
            "ivfpq" => Ok(IndexKind::IvfPq),
            other => Err(Error::UnknownIndexKind(other.to_string())),
        }
    }
}

// ANCHOR: vector_index
/// A searchable set of vectors, each under an `i64` id.
pub trait VectorIndex {
    /// A short label for tables and logs, such as `flat` or `ivf(nlist=16)`.
    fn name(&self) -> String;

    /// What kind of index this is.
    fn kind(&self) -> IndexKind;

    /// The dimension of the vectors, once the first one is stored.
    fn dimension(&self) -> Option<usize>;

    /// The metric scores are computed with.
    fn metric(&self) -> Metric;

    /// How many vectors it holds.
    ///
    /// # Errors
    ///
    /// A storage error when the count has to be read from a file.
    fn len(&self) -> Result<usize>;

    /// `true` when it holds no vector.
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Adds `vectors` under `ids` (one id per vector), all or nothing.
    ///
    /// # Errors
    ///
    /// A bad vector (dimension, NaN, infinity), a duplicate id or a count mismatch stores
    /// nothing and returns the matching [`Error`].
    fn add(&mut self, ids: &[i64], vectors: &[Vec<f32>]) -> Result<()>;

    /// The (up to) `params.k` stored vectors that score best against `query`, best first.
    ///
    /// # Errors
    ///
    /// A bad query or bad parameters for this index (for example `n_probes` above the number
    /// of cells) return the matching [`Error`].
    fn search(&self, query: &[f32], params: &SearchParams) -> Result<Vec<Neighbour>>;

    /// How many bytes the index keeps per vector (4 × d for raw vectors, m for PQ codes).
    fn bytes_per_vector(&self) -> usize;
}
// ANCHOR_END: vector_index
