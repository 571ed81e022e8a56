//! The product quantization sweep: recall, speed and size for each (m_chunks, n_centroids) pair.
//!
//! For each pair a new in-memory collection that keeps only codes
//! ([`Collection::open_quantized`], what [`VectorDbSqlitePq`](crate::vector_db_sqlite_pq::VectorDbSqlitePq)
//! is built on) trains its codebooks on the base and stores the base's codes (timed together as
//! the training time), then every query is searched against the codes through its `pq` index. More chunks and more
//! centroids describe each vector more finely: recall rises, and so does the cost of a search
//! (a bigger distance table) or of storage (more bytes per vector).

use indicatif::ProgressBar;

use crate::engine::collection::PQ_INDEX;
use crate::engine::{Collection, PqSettings, SearchParams, VectorIndex};
use crate::error::{Error, Result};
use crate::evaluation::dataset::Dataset;
use crate::evaluation::evaluator::Evaluator;
use crate::evaluation::results_csv::PqRow;
use crate::utils::timing::measure;

// ANCHOR: pq_sweep
/// The settings a PQ sweep tries: every centroid count for every chunk count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PqSweep {
    pub m_chunks: Vec<usize>,
    pub n_centroids: Vec<usize>,
}

impl PqSweep {
    /// Checks the settings against a base of `n_vectors` vectors of `dimension` values.
    pub fn check(&self, n_vectors: usize, dimension: usize) -> Result<()> {
        if self.m_chunks.is_empty() || self.n_centroids.is_empty() {
            return Err(Error::InvalidParameter {
                name: "--m/--centroids",
                reason: "need at least one value each".to_string(),
            });
        }
        for &m_chunks in &self.m_chunks {
            if m_chunks == 0 {
                return Err(Error::ZeroChunks);
            }
            if !dimension.is_multiple_of(m_chunks) {
                return Err(Error::ChunksDoNotDivide {
                    dimension,
                    m_chunks,
                });
            }
        }
        for &n_centroids in &self.n_centroids {
            if !(1..=256).contains(&n_centroids) {
                return Err(Error::InvalidCentroidCount(n_centroids));
            }
            if n_centroids > n_vectors {
                return Err(Error::TooFewTrainingVectors {
                    found: n_vectors,
                    needed: n_centroids,
                });
            }
        }
        Ok(())
    }

    /// How many settings the sweep measures.
    pub fn n_runs(&self) -> usize {
        self.m_chunks.len() * self.n_centroids.len()
    }
}

/// Trains, encodes and searches with every (m_chunks, n_centroids) pair, one row each.
pub fn run_pq_sweep(dataset: &Dataset, sweep: &PqSweep, bar: &ProgressBar) -> Result<Vec<PqRow>> {
    sweep.check(dataset.base().len(), dataset.dimension())?;
    let evaluator = Evaluator::new(dataset);
    let raw_bytes = dataset.dimension() * std::mem::size_of::<f32>();
    let mut rows = Vec::with_capacity(sweep.n_runs());
    for &m_chunks in &sweep.m_chunks {
        for &n_centroids in &sweep.n_centroids {
            bar.set_message(format!("training m={m_chunks}, {n_centroids} centroids"));
            let (trained, took) = bar.suspend(|| {
                measure(|| load_codes(dataset.base(), PqSettings::new(m_chunks, n_centroids)))
            });
            let mut collection = trained?;
            let index = collection.as_index(Some(PQ_INDEX));
            bar.set_message(format!("m={m_chunks}, {n_centroids} centroids"));
            let evaluation =
                evaluator.evaluate(&index, &SearchParams::default(), &mut || bar.inc(1))?;
            let bytes_per_vector = index.bytes_per_vector();
            rows.push(PqRow {
                m_chunks,
                n_centroids,
                evaluation,
                train_s: took.as_secs_f64(),
                bytes_per_vector,
                compression_ratio: raw_bytes as f64 / bytes_per_vector as f64,
            });
        }
    }
    bar.finish_and_clear();
    Ok(rows)
}
// ANCHOR_END: pq_sweep

/// A codes-only collection trained on `base` and holding its codes under ids `0..n`.
fn load_codes(base: &[Vec<f32>], settings: PqSettings) -> Result<Collection> {
    let mut collection = Collection::open_quantized(None, &settings)?;
    collection.train_index(PQ_INDEX, base)?;
    let ids: Vec<i64> = (0..base.len() as i64).collect();
    collection.insert(base, Some(&ids))?;
    Ok(collection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;

    #[test]
    fn bad_settings_are_typed_errors() {
        let sweep = |m: usize, c: usize| PqSweep {
            m_chunks: vec![m],
            n_centroids: vec![c],
        };
        assert!(sweep(8, 16).check(100, 64).is_ok());
        assert!(matches!(
            sweep(6, 16).check(100, 64),
            Err(Error::ChunksDoNotDivide {
                dimension: 64,
                m_chunks: 6
            })
        ));
        assert!(matches!(
            sweep(0, 16).check(100, 64),
            Err(Error::ZeroChunks)
        ));
        assert!(matches!(
            sweep(8, 257).check(1000, 64),
            Err(Error::InvalidCentroidCount(257))
        ));
        assert!(matches!(
            sweep(8, 0).check(1000, 64),
            Err(Error::InvalidCentroidCount(0))
        ));
        assert!(matches!(
            sweep(8, 64).check(50, 64),
            Err(Error::TooFewTrainingVectors {
                found: 50,
                needed: 64
            })
        ));
    }

    #[test]
    fn a_small_sweep_reports_sizes_and_recall() {
        let base: Vec<Vec<f32>> = (0..120)
            .map(|i| (0..8).map(|j| ((i * (j + 3)) % 11) as f32).collect())
            .collect();
        let queries = base.iter().step_by(6).cloned().collect();
        let dataset = Dataset::new(base, queries, 5, Metric::Euclidean).expect("valid");
        let sweep = PqSweep {
            m_chunks: vec![2, 4],
            n_centroids: vec![4, 16],
        };
        let rows = run_pq_sweep(&dataset, &sweep, &ProgressBar::hidden()).expect("runs");
        let settings: Vec<(usize, usize, usize)> = rows
            .iter()
            .map(|r| (r.m_chunks, r.n_centroids, r.bytes_per_vector))
            .collect();
        assert_eq!(settings, vec![(2, 4, 2), (2, 16, 2), (4, 4, 4), (4, 16, 4)]);
        // 8 floats are 32 bytes: 16x smaller in 2 bytes, 8x in 4.
        assert_eq!(rows[0].compression_ratio, 16.0);
        assert_eq!(rows[3].compression_ratio, 8.0);
        assert!(rows
            .iter()
            .all(|r| (0.0..=1.0).contains(&r.evaluation.recall)));
        // A finer code finds more of the true neighbours than the coarsest one.
        assert!(rows[3].evaluation.recall > rows[0].evaluation.recall);
    }
}
