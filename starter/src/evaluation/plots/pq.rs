//! The two charts of the PQ sweep: recall against compression, and recall against speed.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::evaluation::plots::chart::{save_charts, Axis, Chart, Legend, Series};
use crate::evaluation::results_csv::PqRow;

/// File name of the recall against compression ratio chart.
pub const RECALL_VS_COMPRESSION: &str = "pq_recall_vs_compression.png";
/// File name of the recall against queries per second chart.
pub const RECALL_VS_QPS: &str = "pq_recall_vs_qps.png";

// ANCHOR: plot_pq
/// Draws both charts into `dir` and returns their paths; `about` names the data set.
pub fn plot_pq_results(rows: &[PqRow], dir: &Path, about: &str) -> Result<Vec<PathBuf>> {
    let k = rows.first().map_or(0, |r| r.evaluation.k);
    let compression_path = dir.join(RECALL_VS_COMPRESSION);
    let compression = Chart {
        title: format!("PQ: recall@{k} against compression ({about})"),
        x: Axis::log2("compression ratio: raw f32 bytes / code bytes"),
        y: Axis::linear(format!("recall@{k}")),
        series: lines_by(
            rows,
            |r| r.n_centroids,
            "centroids",
            |r| {
                (
                    r.compression_ratio,
                    r.evaluation.recall,
                    format!(" m={}", r.m_chunks),
                )
            },
        ),
        legend: Legend::UpperRight,
    };
    save_charts(&compression_path, &[compression], (1000, 650))?;

    let qps_path = dir.join(RECALL_VS_QPS);
    let speed = Chart {
        title: format!("PQ: recall@{k} against speed ({about})"),
        x: Axis::linear(format!("recall@{k}")),
        y: Axis::log("queries per second"),
        series: lines_by(
            rows,
            |r| r.m_chunks,
            "chunks",
            |r| {
                (
                    r.evaluation.recall,
                    r.evaluation.latency.qps,
                    format!(" {}", r.n_centroids),
                )
            },
        ),
        legend: Legend::UpperRight,
    };
    save_charts(&qps_path, &[speed], (1000, 650))?;
    Ok(vec![compression_path, qps_path])
}

/// One series per value of `group` (in sweep order), points sorted by x, with a note each.
fn lines_by(
    rows: &[PqRow],
    group: fn(&PqRow) -> usize,
    unit: &str,
    point: fn(&PqRow) -> (f64, f64, String),
) -> Vec<Series> {
    let mut groups: Vec<usize> = Vec::new();
    for row in rows {
        if !groups.contains(&group(row)) {
            groups.push(group(row));
        }
    }
    groups
        .into_iter()
        .map(|value| {
            let mut points: Vec<(f64, f64, String)> = rows
                .iter()
                .filter(|r| group(r) == value)
                .map(point)
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                point_notes: points.iter().map(|p| p.2.clone()).collect(),
                ..Series::new(
                    format!("{value} {unit}"),
                    points.iter().map(|p| (p.0, p.1)).collect(),
                )
            }
        })
        .collect()
}
// ANCHOR_END: plot_pq

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::evaluator::Evaluation;
    use crate::evaluation::latency::LatencySummary;

    fn row(m_chunks: usize, n_centroids: usize, recall: f64) -> PqRow {
        PqRow {
            m_chunks,
            n_centroids,
            evaluation: Evaluation {
                mode: "pq".to_string(),
                k: 10,
                recall,
                latency: LatencySummary {
                    n_queries: 10,
                    qps: 1000.0 / m_chunks as f64,
                    mean_ms: 1.0,
                    p50_ms: 1.0,
                    p95_ms: 1.0,
                    p99_ms: 1.0,
                },
            },
            train_s: 1.0,
            bytes_per_vector: m_chunks,
            compression_ratio: 256.0 / m_chunks as f64,
        }
    }

    #[test]
    fn series_group_rows_and_sort_points() {
        let rows = vec![
            row(8, 16, 0.5),
            row(8, 32, 0.6),
            row(16, 16, 0.7),
            row(16, 32, 0.8),
        ];
        let by_centroids = lines_by(
            &rows,
            |r| r.n_centroids,
            "centroids",
            |r| (r.compression_ratio, r.evaluation.recall, String::new()),
        );
        assert_eq!(by_centroids.len(), 2);
        assert_eq!(by_centroids[0].label, "16 centroids");
        assert_eq!(by_centroids[0].points, vec![(16.0, 0.7), (32.0, 0.5)]);
        let dir = tempfile::tempdir().expect("temporary directory");
        let paths = plot_pq_results(&rows, dir.path(), "test").expect("draws");
        assert!(paths.iter().all(|p| p.exists()));
    }
}
