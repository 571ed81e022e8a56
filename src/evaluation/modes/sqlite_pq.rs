//! Product quantization in SQLite: [`VectorDbSqlitePq::search_without_index`] over stored codes.

use crate::error::Result;
use crate::evaluation::search_mode::SearchMode;
use crate::vector_db_sqlite_pq::VectorDbSqlitePq;

// ANCHOR: sqlite_pq
/// An in-memory PQ database holding the codes of the base vectors under ids `0..n`.
#[derive(Debug)]
pub struct SqlitePq {
    db: VectorDbSqlitePq,
}

impl SqlitePq {
    /// Trains the codebook on `base`, then encodes and stores `base`.
    pub fn load<V: AsRef<[f32]>>(
        base: &[V],
        m_chunks: usize,
        nb_subspace_centroids: usize,
    ) -> Result<Self> {
        let mut db = VectorDbSqlitePq::open_in_memory(m_chunks, nb_subspace_centroids)?;
        db.train(base)?;
        let ids: Vec<i64> = (0..base.len() as i64).collect();
        db.insert(base, Some(&ids))?;
        Ok(SqlitePq { db })
    }

    /// Bytes stored per vector.
    pub fn bytes_per_vector(&self) -> usize {
        self.db.quantizer().bytes_per_vector()
    }
}

impl SearchMode for SqlitePq {
    fn name(&self) -> String {
        let quantizer = self.db.quantizer();
        format!(
            "SQLite pq(m={}, centroids={})",
            quantizer.m_chunks(),
            quantizer.nb_subspace_centroids()
        )
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>> {
        let found = self.db.search_without_index(query, k)?;
        Ok(found.into_iter().map(|(id, _)| id).collect())
    }
}
// ANCHOR_END: sqlite_pq

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;
    use crate::evaluation::dataset::Dataset;
    use crate::evaluation::evaluator::Evaluator;
    use crate::evaluation::modes::InMemoryPq;

    #[test]
    fn finds_what_in_memory_pq_finds() {
        let base: Vec<Vec<f32>> = (0..150)
            .map(|i| (0..8).map(|j| ((i * (j + 5)) % 13) as f32).collect())
            .collect();
        let queries: Vec<Vec<f32>> = base.iter().step_by(10).cloned().collect();
        let dataset = Dataset::new(base, queries, 5, Metric::Euclidean).expect("valid");
        let in_sqlite = SqlitePq::load(dataset.base(), 4, 8).expect("loads");
        let in_memory = InMemoryPq::train(dataset.base(), 4, 8).expect("trains");
        assert_eq!(in_sqlite.bytes_per_vector(), 4);
        for query in dataset.queries() {
            assert_eq!(
                in_sqlite.search(query, 5).expect("searches"),
                in_memory.search(query, 5).expect("searches"),
                "same seeded codebook, same codes, same answers"
            );
        }
        let evaluation = Evaluator::new(&dataset)
            .evaluate(&in_sqlite, &mut || {})
            .expect("runs");
        assert!(evaluation.recall > 0.0 && evaluation.recall <= 1.0);
    }
}
