//! Chapter 14's charts: filtered search as fewer vectors pass.
//!
//! The x axis of both is the share of vectors that pass the filter, on a log scale: 0.5 at the
//! right is 50 % filtered out, 0.001 at the left 99.9 %, so that the ratios the write-ups
//! plot (50, 90, 99, 99.9 % filtered out) are equally spaced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::evaluation::filtered_walks::WalkRow;
use crate::evaluation::index_sweep::IndexRow;
use crate::evaluation::plots::chart::{save_charts, Axis, Chart, Legend, Scale, Series};

/// File name of the strategies chart `svdb eval --filter` draws beside `results.csv`.
pub const FILTERED: &str = "filtered.png";

// ANCHOR: plot_filtered
/// Draws recall and queries per second against the share passing, a line per strategy (and
/// search setting), into `dir`; returns the path, or `None` when no row is a filtered one.
///
/// # Errors
///
/// Drawing or writing the file.
pub fn plot_filtered_sweep(rows: &[IndexRow], dir: &Path, about: &str) -> Result<Option<PathBuf>> {
    let mut lines: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for row in rows {
        let Some((line, passing)) = line_of(&row.params) else {
            continue;
        };
        lines
            .entry(line)
            .or_default()
            .push((passing, row.recall, row.qps));
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let series = |pick: fn(&(f64, f64, f64)) -> f64| -> Vec<Series> {
        lines
            .iter()
            .map(|(label, points)| {
                let mut points: Vec<(f64, f64)> = points.iter().map(|p| (p.0, pick(p))).collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series::new(label.clone(), points)
            })
            .collect()
    };
    let index = rows.first().map_or("", |r| r.index.as_str());
    let k = rows.first().map_or(0, |r| r.k);
    let charts = [
        Chart {
            title: format!("{index}: recall@{k} of the filtered top-{k}"),
            x: passing_axis(),
            y: Axis {
                range: Some((0.0, 1.02)),
                ..Axis::linear(format!("recall@{k}"))
            },
            series: series(|p| p.1),
            legend: Legend::LowerRight,
        },
        Chart {
            title: format!("{index}: queries per second ({about})"),
            x: passing_axis(),
            y: Axis::log("queries per second"),
            series: series(|p| p.2),
            legend: Legend::UpperLeft,
        },
    ];
    let path = dir.join(FILTERED);
    save_charts(&path, &charts, (1300, 560))?;
    Ok(Some(path))
}
// ANCHOR_END: plot_filtered

/// A filtered row's line (its strategy, and its search setting if any) and share passing.
fn line_of(params: &str) -> Option<(String, f64)> {
    let value = |key: &str| {
        params
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
    };
    let strategy = value("strategy")?;
    let passing: f64 = value("selectivity")?.parse().ok()?;
    let setting = ["nprobe", "ef", "rerank"]
        .iter()
        .filter_map(|key| value(key).map(|v| format!(" {key}={v}")))
        .collect::<String>();
    Some((format!("{strategy}{setting}"), passing.max(1e-6)))
}

/// The share passing, log scale.
fn passing_axis() -> Axis {
    Axis {
        scale: Scale::Log10,
        ..Axis::log("share of vectors passing the filter")
    }
}

/// Draws chapter 14's picture of the three graph walks: recall, and distances per query,
/// against the share passing.
///
/// # Errors
///
/// Drawing or writing the file.
pub fn plot_walks(rows: &[WalkRow], path: &Path, about: &str) -> Result<()> {
    let series = |pick: fn(&WalkRow) -> f64| -> Vec<Series> {
        let mut walks: Vec<&str> = Vec::new();
        for row in rows {
            if !walks.contains(&row.walk) {
                walks.push(row.walk);
            }
        }
        walks
            .into_iter()
            .map(|walk| {
                let mut points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.walk == walk)
                    .map(|r| (r.passing, pick(r)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series::new(walk, points)
            })
            .collect()
    };
    let charts = [
        Chart {
            title: "Graph walks under a filter: recall".to_string(),
            x: passing_axis(),
            y: Axis {
                range: Some((0.0, 1.02)),
                ..Axis::linear("recall@10 of the filtered top-10")
            },
            series: series(|r| r.recall),
            legend: Legend::LowerRight,
        },
        Chart {
            title: format!("… and their work ({about})"),
            x: passing_axis(),
            y: Axis::log("distances computed per query"),
            series: series(|r| r.distances),
            legend: Legend::UpperLeft,
        },
    ];
    save_charts(path, &charts, (1300, 560))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filtered_row_is_placed_by_its_strategy_and_share() {
        assert_eq!(
            line_of("m=32 ef=64 filter=bucket+<+10 strategy=auto selectivity=0.0098"),
            Some(("auto ef=64".to_string(), 0.0098))
        );
        assert_eq!(line_of("nlist=16 nprobe=4"), None);
    }
}
