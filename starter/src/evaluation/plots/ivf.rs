//! The two charts of the IVF sweep: the recall/speed trade-off, and latency percentiles.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::evaluation::plots::chart::{save_charts, Axis, Chart, Legend, Series};
use crate::evaluation::results_csv::IvfRow;

/// File name of the recall against queries per second chart.
pub const RECALL_VS_QPS: &str = "ivf_recall_vs_qps.png";
/// File name of the latency percentiles chart.
pub const LATENCY: &str = "ivf_latency.png";

// ANCHOR: plot_ivf
/// Draws both charts into `dir` and returns their paths; `about` names the data set.
pub fn plot_ivf_results(rows: &[IvfRow], dir: &Path, about: &str) -> Result<Vec<PathBuf>> {
    let recall_path = dir.join(RECALL_VS_QPS);
    save_charts(&recall_path, &[recall_vs_qps(rows, about)], (1000, 650))?;
    let latency_path = dir.join(LATENCY);
    let panels = latency_panels(rows, about);
    let width = 120 + 560 * panels.len() as u32;
    save_charts(&latency_path, &panels, (width, 520))?;
    Ok(vec![recall_path, latency_path])
}

/// Recall on x, queries per second (log) on y: one line per cluster count, a point per probe
/// count, and brute force as a dashed line. Up and to the right is better.
fn recall_vs_qps(rows: &[IvfRow], about: &str) -> Chart {
    let mut series: Vec<Series> = cluster_counts(rows)
        .into_iter()
        .map(|n_clusters| {
            let settings = ivf_rows(rows, n_clusters);
            Series {
                point_notes: settings
                    .iter()
                    .map(|r| format!(" {}", r.n_probes))
                    .collect(),
                ..Series::new(
                    format!("{n_clusters} clusters (label: n_probes)"),
                    settings
                        .iter()
                        .map(|r| (r.evaluation.recall, r.evaluation.latency.qps))
                        .collect(),
                )
            }
        })
        .collect();
    if let Some(brute) = rows.iter().find(|r| r.mode == "brute") {
        let low = rows
            .iter()
            .map(|r| r.evaluation.recall)
            .fold(brute.evaluation.recall, f64::min);
        let qps = brute.evaluation.latency.qps;
        series.push(Series {
            dashed: true,
            ..Series::new("brute force", vec![(low, qps), (1.0, qps)])
        });
    }
    Chart {
        title: format!("IVF: recall@{} against speed ({about})", k_of(rows)),
        x: Axis::linear(format!("recall@{}", k_of(rows))),
        y: Axis::log("queries per second"),
        series,
        legend: Legend::UpperRight,
    }
}

/// One panel per cluster count: P50, P95 and P99 latency against n_probes, brute force P50
/// dashed for reference.
fn latency_panels(rows: &[IvfRow], about: &str) -> Vec<Chart> {
    let brute = rows.iter().find(|r| r.mode == "brute");
    cluster_counts(rows)
        .into_iter()
        .map(|n_clusters| {
            let settings = ivf_rows(rows, n_clusters);
            let line = |label: &str, pick: fn(&IvfRow) -> f64| {
                Series::new(
                    label,
                    settings
                        .iter()
                        .map(|r| (r.n_probes as f64, pick(r)))
                        .collect(),
                )
            };
            let mut series = vec![
                line("P50", |r| r.evaluation.latency.p50_ms),
                line("P95", |r| r.evaluation.latency.p95_ms),
                line("P99", |r| r.evaluation.latency.p99_ms),
            ];
            if let (Some(brute), Some(first), Some(last)) =
                (brute, settings.first(), settings.last())
            {
                let p50 = brute.evaluation.latency.p50_ms;
                series.push(Series {
                    dashed: true,
                    ..Series::new(
                        "brute force P50",
                        vec![(first.n_probes as f64, p50), (last.n_probes as f64, p50)],
                    )
                });
            }
            Chart {
                title: format!("n_clusters = {n_clusters} ({about})"),
                x: Axis::log2("n_probes"),
                y: Axis::log("latency per query (ms)"),
                series,
                legend: Legend::UpperLeft,
            }
        })
        .collect()
}
// ANCHOR_END: plot_ivf

/// The cluster counts of the `ivf` rows, in sweep order.
fn cluster_counts(rows: &[IvfRow]) -> Vec<usize> {
    let mut counts: Vec<usize> = Vec::new();
    for row in rows.iter().filter(|r| r.mode == "ivf") {
        if !counts.contains(&row.n_clusters) {
            counts.push(row.n_clusters);
        }
    }
    counts
}

/// The `ivf` rows of one cluster count, by increasing n_probes.
fn ivf_rows(rows: &[IvfRow], n_clusters: usize) -> Vec<&IvfRow> {
    let mut picked: Vec<&IvfRow> = rows
        .iter()
        .filter(|r| r.mode == "ivf" && r.n_clusters == n_clusters)
        .collect();
    picked.sort_by_key(|r| r.n_probes);
    picked
}

fn k_of(rows: &[IvfRow]) -> usize {
    rows.first().map_or(0, |r| r.evaluation.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::evaluator::Evaluation;
    use crate::evaluation::latency::LatencySummary;

    fn row(mode: &str, n_clusters: usize, n_probes: usize, recall: f64, qps: f64) -> IvfRow {
        IvfRow {
            mode: mode.to_string(),
            n_clusters,
            n_probes,
            evaluation: Evaluation {
                mode: mode.to_string(),
                k: 10,
                recall,
                latency: LatencySummary {
                    n_queries: 10,
                    qps,
                    mean_ms: 1e3 / qps,
                    p50_ms: 1e3 / qps,
                    p95_ms: 1.5e3 / qps,
                    p99_ms: 2e3 / qps,
                },
            },
            build_s: 0.1,
        }
    }

    #[test]
    fn one_line_per_cluster_count_plus_brute_force() {
        let rows = vec![
            row("brute", 0, 0, 1.0, 100.0),
            row("ivf", 4, 2, 0.99, 300.0),
            row("ivf", 4, 1, 0.9, 500.0),
            row("ivf", 8, 1, 0.8, 900.0),
        ];
        let chart = recall_vs_qps(&rows, "test");
        let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "4 clusters (label: n_probes)",
                "8 clusters (label: n_probes)",
                "brute force"
            ]
        );
        assert_eq!(chart.series[0].points, vec![(0.9, 500.0), (0.99, 300.0)]);
        assert_eq!(chart.series[2].points, vec![(0.8, 100.0), (1.0, 100.0)]);
        assert_eq!(latency_panels(&rows, "test").len(), 2);
        let dir = tempfile::tempdir().expect("temporary directory");
        let paths = plot_ivf_results(&rows, dir.path(), "test").expect("draws");
        assert!(paths.iter().all(|p| p.exists()));
    }
}
