//! Brute-force search straight from SQLite.
//!
//! The original loaded every row through its ORM and sorted them all to keep k. Here the rows
//! are streamed one at a time from a prepared statement and offered to a bounded heap of the k
//! best ([`TopK`]): O(N log k) time, and memory for k results whatever the size of the table.

use super::VectorDbSqlite;
use crate::error::Result;
use crate::top_k::TopK;
use crate::validation::{check_k, check_vector};
use crate::vector_blob::blob_as_vector;

impl VectorDbSqlite {
    // ANCHOR: search_without_index
    /// The `k` ids whose vectors score best against `query`, best first, by reading every row.
    ///
    /// `k = 0` is an error; `k` larger than the table returns every row. An empty database
    /// returns no results.
    pub fn search_without_index(&self, query: &[f32], k: usize) -> Result<Vec<(i64, f32)>> {
        check_k(k)?;
        let Some(dimension) = self.dimension() else {
            return Ok(Vec::new());
        };
        check_vector(query, dimension)?;
        let metric = self.metric();
        let mut best = TopK::new(k, metric);
        let mut scratch = Vec::with_capacity(dimension);
        self.store.for_each_row(|id, blob| {
            let vector = blob_as_vector(blob, dimension, &mut scratch)?;
            best.push(id, metric.score(query, vector));
            Ok(())
        })?;
        Ok(best.into_sorted_vec())
    }
    // ANCHOR_END: search_without_index
}
