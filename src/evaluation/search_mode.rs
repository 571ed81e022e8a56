//! The one thing the evaluator needs from a database: answer a query with ids.
//!
//! Brute force in memory, brute force in SQLite, the k-means index at some n_probes, product
//! quantization: each is a [`SearchMode`], built on the data set's base vectors (inserted under
//! ids `0..n`), so one evaluator can time and grade them all the same way.

use crate::error::Result;

// ANCHOR: search_mode
/// A way of searching a database already loaded with the base vectors.
pub trait SearchMode {
    /// A short label for tables and logs, such as `ivf(clusters=16, probes=4)`.
    fn name(&self) -> String;

    /// The ids of (up to) `k` base vectors nearest to `query`, best first.
    fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>>;
}
// ANCHOR_END: search_mode
