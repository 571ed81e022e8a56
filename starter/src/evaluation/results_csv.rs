//! The rows of a sweep, and the CSV files they are written to.
//!
//! The column names are a contract: scripts and notebooks read these files, so the headers
//! [`IVF_HEADER`] and [`PQ_HEADER`] never change. A row gives its values as text once
//! ([`ResultRow::cells`]), and both the CSV writer and the terminal table use them.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::evaluation::evaluator::Evaluation;

// ANCHOR: headers
/// Header of `ivf_results.csv`.
pub const IVF_HEADER: &str = "mode,n_clusters,n_probes,k,recall,qps,p50_ms,p95_ms,p99_ms,build_s";

/// Header of `pq_results.csv`.
pub const PQ_HEADER: &str =
    "m_chunks,n_centroids,k,recall,qps,p50_ms,p95_ms,p99_ms,train_s,bytes_per_vector,compression_ratio";
// ANCHOR_END: headers

/// A row of results that knows its header.
pub trait ResultRow {
    /// The comma-separated column names.
    const HEADER: &'static str;

    /// The values, formatted, in header order.
    fn cells(&self) -> Vec<String>;
}

// ANCHOR: ivf_row
/// One setting of the k-means index sweep (or the brute-force baseline).
#[derive(Debug, Clone, PartialEq)]
pub struct IvfRow {
    /// `brute` or `ivf`.
    pub mode: String,
    /// 0 for brute force.
    pub n_clusters: usize,
    /// 0 for brute force.
    pub n_probes: usize,
    pub evaluation: Evaluation,
    /// Time to build the index (k-means and cell assignment); 0 for brute force.
    pub build_s: f64,
}
// ANCHOR_END: ivf_row

impl ResultRow for IvfRow {
    const HEADER: &'static str = IVF_HEADER;

    fn cells(&self) -> Vec<String> {
        let mut cells = vec![
            self.mode.clone(),
            self.n_clusters.to_string(),
            self.n_probes.to_string(),
        ];
        cells.extend(evaluation_cells(&self.evaluation));
        cells.push(format!("{:.4}", self.build_s));
        cells
    }
}

// ANCHOR: pq_row
/// One setting of the product quantization sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct PqRow {
    pub m_chunks: usize,
    pub n_centroids: usize,
    pub evaluation: Evaluation,
    /// Time to train the codebooks and encode the base.
    pub train_s: f64,
    /// Bytes stored per vector: one code byte per chunk.
    pub bytes_per_vector: usize,
    /// Bytes of the raw `f32` vector over `bytes_per_vector`.
    pub compression_ratio: f64,
}
// ANCHOR_END: pq_row

impl ResultRow for PqRow {
    const HEADER: &'static str = PQ_HEADER;

    fn cells(&self) -> Vec<String> {
        let mut cells = vec![self.m_chunks.to_string(), self.n_centroids.to_string()];
        cells.extend(evaluation_cells(&self.evaluation));
        cells.push(format!("{:.4}", self.train_s));
        cells.push(self.bytes_per_vector.to_string());
        cells.push(format!("{:.2}", self.compression_ratio));
        cells
    }
}

/// k, recall, qps and the three percentiles.
fn evaluation_cells(evaluation: &Evaluation) -> Vec<String> {
    let latency = &evaluation.latency;
    vec![
        evaluation.k.to_string(),
        format!("{:.6}", evaluation.recall),
        format!("{:.1}", latency.qps),
        format!("{:.4}", latency.p50_ms),
        format!("{:.4}", latency.p95_ms),
        format!("{:.4}", latency.p99_ms),
    ]
}

// ANCHOR: write_csv
/// The CSV text of `rows`: the header, then one line per row.
pub fn to_csv<R: ResultRow>(rows: &[R]) -> String {
    let mut text = format!("{}\n", R::HEADER);
    for row in rows {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{}", row.cells().join(","));
    }
    text
}

/// Writes `rows` to `path` as CSV, creating the parent directory if needed.
pub fn write_csv<R: ResultRow>(path: &Path, rows: &[R]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, to_csv(rows)).map_err(|e| Error::io(path, e))
}
// ANCHOR_END: write_csv

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::latency::LatencySummary;

    fn evaluation(recall: f64) -> Evaluation {
        Evaluation {
            mode: "test".to_string(),
            k: 10,
            recall,
            latency: LatencySummary {
                n_queries: 3,
                qps: 1234.56,
                mean_ms: 0.9,
                p50_ms: 0.8,
                p95_ms: 1.5,
                p99_ms: 2.25,
            },
        }
    }

    #[test]
    fn ivf_rows_match_the_header() {
        let rows = [IvfRow {
            mode: "ivf".to_string(),
            n_clusters: 16,
            n_probes: 4,
            evaluation: evaluation(0.995),
            build_s: 0.12345,
        }];
        let csv = to_csv(&rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], IVF_HEADER);
        assert_eq!(
            lines[1],
            "ivf,16,4,10,0.995000,1234.6,0.8000,1.5000,2.2500,0.1235"
        );
        assert_eq!(rows[0].cells().len(), IVF_HEADER.split(',').count());
    }

    #[test]
    fn pq_rows_match_the_header() {
        let rows = [PqRow {
            m_chunks: 16,
            n_centroids: 32,
            evaluation: evaluation(0.875),
            train_s: 2.0,
            bytes_per_vector: 16,
            compression_ratio: 16.0,
        }];
        let csv = to_csv(&rows);
        assert_eq!(csv.lines().next(), Some(PQ_HEADER));
        assert_eq!(
            csv.lines().nth(1),
            Some("16,32,10,0.875000,1234.6,0.8000,1.5000,2.2500,2.0000,16,16.00")
        );
        assert_eq!(rows[0].cells().len(), PQ_HEADER.split(',').count());
    }

    #[test]
    fn write_csv_creates_the_directory() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("nested").join("ivf_results.csv");
        write_csv::<IvfRow>(&path, &[]).expect("writable");
        assert_eq!(
            std::fs::read_to_string(&path).expect("written"),
            format!("{IVF_HEADER}\n")
        );
    }
}
