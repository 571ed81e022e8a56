//! The k-means index sweep: recall and speed for each (n_clusters, n_probes) pair.
//!
//! The base goes into an in-memory [`Collection`](crate::engine::Collection) once. Brute force
//! over its rows is measured first, as the exact baseline; then for each cluster count an
//! inverted file is (re)built and every probe count measured on it, all through the one
//! [`VectorIndex`](crate::engine::VectorIndex) interface. More probes read more cells: recall rises towards 1
//! and queries per second fall towards brute force.

use indicatif::ProgressBar;

use crate::engine::{IndexSpec, IvfSettings, SearchParams};
use crate::error::{Error, Result};
use crate::evaluation::dataset::Dataset;
use crate::evaluation::evaluator::Evaluator;
use crate::evaluation::load::load_collection;
use crate::evaluation::results_csv::IvfRow;
use crate::kmeans::KMeansConfig;
use crate::sqlite_store::Layout;
use crate::utils::timing::measure;

/// The name the sweep gives its inverted file.
const IVF: &str = "ivf";

// ANCHOR: ivf_sweep
/// The settings an IVF sweep tries: every probe count on an index of every cluster count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfSweep {
    pub clusters: Vec<usize>,
    pub probes: Vec<usize>,
    /// Train k-means on at most this many vectors per cluster; `None` keeps the index's default.
    pub points_per_centroid: Option<usize>,
    /// Seed of each index's k-means; `None` keeps the index's default. One training is one draw:
    /// sweeping seeds shows how much of a recall figure is luck.
    pub kmeans_seed: Option<u64>,
}

impl IvfSweep {
    /// Checks the settings against a base of `n_vectors` vectors before anything runs.
    pub fn check(&self, n_vectors: usize) -> Result<()> {
        let invalid = |name, reason| Err(Error::InvalidParameter { name, reason });
        if self.clusters.is_empty() || self.probes.is_empty() {
            return invalid("--clusters/--probes", "need at least one value each".into());
        }
        if self.points_per_centroid == Some(0) {
            return invalid("--points-per-centroid", "must be at least 1".into());
        }
        if let Some(&n_clusters) = self.clusters.iter().find(|&&c| c == 0 || c > n_vectors) {
            return Err(Error::InvalidClusterCount {
                n_clusters,
                n_vectors,
            });
        }
        let fewest_clusters = self.clusters.iter().copied().min().unwrap_or(0);
        if let Some(&n_probes) = self.probes.iter().find(|&&p| p == 0 || p > fewest_clusters) {
            return Err(Error::InvalidProbeCount {
                n_probes,
                n_clusters: fewest_clusters,
            });
        }
        Ok(())
    }

    /// How many searches the sweep runs: brute force once, then every pair.
    pub fn n_runs(&self) -> usize {
        1 + self.clusters.len() * self.probes.len()
    }
}

/// Measures brute force, then every (clusters, probes) pair, one row each.
pub fn run_ivf_sweep(
    dataset: &Dataset,
    sweep: &IvfSweep,
    bar: &ProgressBar,
) -> Result<Vec<IvfRow>> {
    sweep.check(dataset.base().len())?;
    let evaluator = Evaluator::new(dataset);
    let mut tick = || bar.inc(1);
    bar.set_message("loading SQLite");
    let mut collection = load_collection(dataset.base(), dataset.metric(), Layout::Rows)?;

    bar.set_message("brute force");
    let brute = evaluator.evaluate(
        &collection.as_index(None),
        &SearchParams::default(),
        &mut tick,
    )?;
    let mut rows = vec![IvfRow {
        mode: "brute".to_string(),
        n_clusters: 0,
        n_probes: 0,
        evaluation: brute,
        build_s: 0.0,
    }];
    for &n_clusters in &sweep.clusters {
        bar.set_message(format!("building {n_clusters} cells"));
        // Chapter 9 measures the index chapter 6 builds, trained as chapter 6 trains it.
        let defaults = crate::VectorDbSqlite::default_index_config(n_clusters);
        let settings = IvfSettings {
            nlist: n_clusters,
            kmeans: KMeansConfig {
                max_points_per_centroid: sweep
                    .points_per_centroid
                    .or(defaults.max_points_per_centroid),
                seed: sweep.kmeans_seed.unwrap_or(defaults.seed),
                ..defaults
            },
        };
        // The build logs its progress; keep the bar out of the way meanwhile.
        let (built, took) =
            bar.suspend(|| measure(|| collection.create_index(IVF, &IndexSpec::Ivf(settings))));
        built?;
        let index = collection.as_index(Some(IVF));
        for &n_probes in &sweep.probes {
            bar.set_message(format!("{n_clusters} cells, {n_probes} probes"));
            let params = SearchParams::default().with_n_probes(n_probes);
            rows.push(IvfRow {
                mode: "ivf".to_string(),
                n_clusters,
                n_probes,
                evaluation: evaluator.evaluate(&index, &params, &mut tick)?,
                build_s: took.as_secs_f64(),
            });
        }
    }
    bar.finish_and_clear();
    Ok(rows)
}
// ANCHOR_END: ivf_sweep

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;

    #[test]
    fn probe_counts_above_the_fewest_clusters_are_refused() {
        let sweep = IvfSweep {
            clusters: vec![16, 4],
            probes: vec![1, 8],
            points_per_centroid: None,
            kmeans_seed: None,
        };
        assert!(matches!(
            sweep.check(100),
            Err(Error::InvalidProbeCount {
                n_probes: 8,
                n_clusters: 4
            })
        ));
        let too_many_clusters = IvfSweep {
            clusters: vec![101],
            probes: vec![1],
            points_per_centroid: None,
            kmeans_seed: None,
        };
        assert!(matches!(
            too_many_clusters.check(100),
            Err(Error::InvalidClusterCount {
                n_clusters: 101,
                n_vectors: 100
            })
        ));
        assert!(IvfSweep {
            clusters: vec![],
            probes: vec![1],
            points_per_centroid: None,
            kmeans_seed: None,
        }
        .check(10)
        .is_err());
        assert_eq!(sweep.n_runs(), 5);
    }

    #[test]
    fn a_small_sweep_has_a_brute_row_and_one_row_per_pair() {
        let base: Vec<Vec<f32>> = (0..200)
            .map(|i| vec![(i % 13) as f32, (i % 7) as f32 * 2.0])
            .collect();
        let queries = base.iter().step_by(10).cloned().collect();
        let dataset = Dataset::new(base, queries, 3, Metric::Euclidean).expect("valid");
        let sweep = IvfSweep {
            clusters: vec![2, 4],
            probes: vec![1, 2],
            points_per_centroid: Some(10),
            kmeans_seed: None,
        };
        let bar = ProgressBar::hidden();
        let rows = run_ivf_sweep(&dataset, &sweep, &bar).expect("runs");
        let settings: Vec<(&str, usize, usize)> = rows
            .iter()
            .map(|r| (r.mode.as_str(), r.n_clusters, r.n_probes))
            .collect();
        assert_eq!(
            settings,
            vec![
                ("brute", 0, 0),
                ("ivf", 2, 1),
                ("ivf", 2, 2),
                ("ivf", 4, 1),
                ("ivf", 4, 2)
            ]
        );
        assert_eq!(rows[0].evaluation.recall, 1.0);
        assert_eq!(
            rows[2].evaluation.recall, 1.0,
            "2 probes of 2 cells is exact"
        );
        assert!(rows[1..].iter().all(|r| r.build_s > 0.0));
        assert_eq!(bar.position(), 5 * 20, "one step per query of each run");
    }
}
