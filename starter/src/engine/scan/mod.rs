//! Scanning blocks of vectors fast: the pieces every brute-force pass of the engine shares.
//!
//! A search that reads vectors one at a time pays, per vector, a call, a bounds check and a
//! branch on the metric. The engine scores **blocks** instead: a run of vectors end to end in
//! memory (a chunk read from SQLite, an inverted list, a preloaded matrix) goes to one kernel
//! call ([`crate::kernels`]), which streams through it with SIMD, and only then are the scores
//! offered to the top-k heap. [`BlockScorer`] holds what a query needs for that (its norm, for
//! cosine); [`VectorMatrix`] is a set of vectors held in memory as one flat array, with the ids
//! and norms beside it, which is what the preloaded mode keeps.

mod block_scorer;
mod vector_matrix;

pub use block_scorer::BlockScorer;
pub use vector_matrix::{Lookup, VectorMatrix};

// ANCHOR: scan_mode
/// Where a search reads the vectors (or codes) it scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ScanMode {
    /// From SQLite, at every query: memory stays flat whatever the size of the collection.
    #[default]
    Streamed,
    /// From memory: loaded once, then every query runs at memory speed. This is what a
    /// server does at start-up.
    Preloaded,
}
// ANCHOR_END: scan_mode

impl ScanMode {
    /// The name used on the command line and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanMode::Streamed => "streamed",
            ScanMode::Preloaded => "preloaded",
        }
    }
}
