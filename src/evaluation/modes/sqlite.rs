//! Search modes over [`VectorDbSqlite`]: brute force, and the k-means index at some n_probes.

use crate::distances::Metric;
use crate::error::Result;
use crate::evaluation::search_mode::SearchMode;
use crate::vector_db_sqlite::VectorDbSqlite;

// ANCHOR: load_sqlite
/// A new in-memory SQLite database ranking by `metric`, holding `base` under ids `0..n`.
pub fn load_sqlite<V: AsRef<[f32]>>(base: &[V], metric: Metric) -> Result<VectorDbSqlite> {
    let mut db = VectorDbSqlite::open_in_memory()?;
    db.set_metric(metric)?;
    let ids: Vec<i64> = (0..base.len() as i64).collect();
    db.insert(base, Some(&ids))?;
    Ok(db)
}
// ANCHOR_END: load_sqlite

/// Every stored row read and scored: [`VectorDbSqlite::search_without_index`].
#[derive(Debug, Clone, Copy)]
pub struct SqliteBruteForce<'a> {
    pub db: &'a VectorDbSqlite,
}

impl SearchMode for SqliteBruteForce<'_> {
    fn name(&self) -> String {
        "SQLite brute force".to_string()
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>> {
        let found = self.db.search_without_index(query, k)?;
        Ok(found.into_iter().map(|(id, _)| id).collect())
    }
}

// ANCHOR: sqlite_ivf
/// Only the `n_probes` nearest k-means cells read: [`VectorDbSqlite::search_in_kmeans_index`].
#[derive(Debug, Clone, Copy)]
pub struct SqliteIvf<'a> {
    pub db: &'a VectorDbSqlite,
    pub n_probes: usize,
}

impl SearchMode for SqliteIvf<'_> {
    fn name(&self) -> String {
        let n_clusters = self.db.centroids().map_or(0, <[Vec<f32>]>::len);
        format!("ivf(clusters={n_clusters}, probes={})", self.n_probes)
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>> {
        let found = self.db.search_in_kmeans_index(query, k, self.n_probes)?;
        Ok(found.neighbours.into_iter().map(|(id, _)| id).collect())
    }
}
// ANCHOR_END: sqlite_ivf

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::dataset::Dataset;
    use crate::evaluation::evaluator::Evaluator;

    fn dataset() -> Dataset {
        let base: Vec<Vec<f32>> = (0..300)
            .map(|i| vec![(i % 17) as f32, (i % 23) as f32, (i / 30) as f32])
            .collect();
        let queries = base.iter().step_by(7).cloned().collect();
        Dataset::new(base, queries, 5, Metric::Euclidean).expect("valid")
    }

    #[test]
    fn sqlite_brute_force_and_ivf_probing_every_cell_are_exact() {
        let dataset = dataset();
        let mut db = load_sqlite(dataset.base(), Metric::Euclidean).expect("loads");
        let evaluator = Evaluator::new(&dataset);
        let brute = evaluator
            .evaluate(&SqliteBruteForce { db: &db }, &mut || {})
            .expect("runs");
        assert_eq!(brute.recall, 1.0);
        db.create_kmeans_index(6).expect("builds");
        let all_cells = SqliteIvf {
            db: &db,
            n_probes: 6,
        };
        assert_eq!(all_cells.name(), "ivf(clusters=6, probes=6)");
        let exact = evaluator.evaluate(&all_cells, &mut || {}).expect("runs");
        assert_eq!(exact.recall, 1.0);
        let one_cell = evaluator
            .evaluate(
                &SqliteIvf {
                    db: &db,
                    n_probes: 1,
                },
                &mut || {},
            )
            .expect("runs");
        assert!(one_cell.recall <= 1.0 && one_cell.recall > 0.0);
    }
}
