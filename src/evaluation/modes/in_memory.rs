//! Brute force over [`VectorDbInMemory`]: exact, and the yardstick for everything else.

use crate::distances::Metric;
use crate::error::Result;
use crate::evaluation::search_mode::SearchMode;
use crate::vector_db_in_memory::VectorDbInMemory;

/// Every query compared with every vector, in memory.
#[derive(Debug, Clone)]
pub struct InMemoryBruteForce {
    db: VectorDbInMemory,
}

impl InMemoryBruteForce {
    /// Loads `base` (vector `i` gets key `i`) into an in-memory database ranking by `metric`.
    pub fn new<V: AsRef<[f32]>>(base: &[V], metric: Metric) -> Result<Self> {
        let mut db = VectorDbInMemory::with_metric(metric);
        db.insert(base)?;
        Ok(InMemoryBruteForce { db })
    }
}

impl SearchMode for InMemoryBruteForce {
    fn name(&self) -> String {
        "in-memory brute force".to_string()
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>> {
        let found = self.db.search(query, k)?;
        Ok(found.into_iter().map(|(key, _)| key as i64).collect())
    }
}
