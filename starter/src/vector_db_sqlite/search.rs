//! Brute-force search straight from SQLite.
//!
//! The original loaded every row through its ORM and sorted them all to keep k. Here the rows
//! are streamed one at a time from a prepared statement and offered to a bounded heap of the k
//! best ([`TopK`](crate::top_k::TopK)): O(N log k) time, and memory for k results whatever the
//! size of the table.

use super::VectorDbSqlite;
use crate::engine::{Neighbour, SearchParams};
use crate::error::Result;

impl VectorDbSqlite {
    // ANCHOR: search_without_index
    /// The `k` ids whose vectors score best against `query`, best first, by reading every row.
    ///
    /// `k = 0` is an error; `k` larger than the table returns every row. An empty database
    /// returns no results.
    ///
    /// # Errors
    ///
    /// `k = 0`, a bad query, or a corrupt row.
    pub fn search_without_index(&self, query: &[f32], k: usize) -> Result<Vec<Neighbour>> {
        self.collection.search(None, query, &SearchParams::k(k))
    }
    // ANCHOR_END: search_without_index
}
