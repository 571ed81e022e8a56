//! The results of a sweep as an aligned table for the terminal, or as JSON for a program.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::error::Result;
use crate::evaluation::results_csv::ResultRow;
use crate::utils::output::print_json;

/// Prints a sweep's results table, then the files it wrote.
pub fn print_report<R: ResultRow>(rows: &[R], csv_path: &Path, plots: &[PathBuf]) {
    println!("{}", render_table(rows));
    println!("\nwrote {}", csv_path.display());
    for plot in plots {
        println!("wrote {}", plot.display());
    }
}

/// What [`print_json_report`] prints: the rows, and every file the sweep wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonReport {
    pub rows: Vec<Map<String, Value>>,
    pub wrote: Vec<String>,
}

/// Prints what [`print_report`] does as one JSON document: `{"rows": [...], "wrote": [...]}`.
///
/// # Errors
///
/// Standard output cannot be written.
pub fn print_json_report<R: ResultRow>(
    rows: &[R],
    csv_path: &Path,
    plots: &[PathBuf],
) -> Result<()> {
    let wrote = std::iter::once(csv_path)
        .chain(plots.iter().map(PathBuf::as_path))
        .map(|path| path.display().to_string())
        .collect();
    print_json(&JsonReport {
        rows: rows_as_json(rows),
        wrote,
    })
}

/// Each row as a JSON object keyed by the CSV header, with the CSV's values: the file and the
/// document then carry the same names and the same rounding.
pub fn rows_as_json<R: ResultRow>(rows: &[R]) -> Vec<Map<String, Value>> {
    rows.iter()
        .map(|row| {
            R::HEADER
                .split(',')
                .zip(row.cells())
                .map(|(name, cell)| (name.to_string(), json_cell(&cell)))
                .collect()
        })
        .collect()
}

/// A cell as a JSON number when it is one, as text otherwise (a mode's name; `inf`, which JSON
/// has no number for).
fn json_cell(cell: &str) -> Value {
    if let Ok(whole) = cell.parse::<i64>() {
        return Value::from(whole);
    }
    match cell.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(number) => Value::Number(number),
        None => Value::String(cell.to_string()),
    }
}

// ANCHOR: render_table
/// `rows` under their header, each column right-aligned to its widest cell.
pub fn render_table<R: ResultRow>(rows: &[R]) -> String {
    let header: Vec<String> = R::HEADER.split(',').map(str::to_string).collect();
    let body: Vec<Vec<String>> = rows.iter().map(ResultRow::cells).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            std::iter::once(&header)
                .chain(&body)
                .filter_map(|line| line.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let format_line = |line: &[String]| {
        line.iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:>width$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let rule = "-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1));
    let mut lines = vec![format_line(&header), rule];
    lines.extend(body.iter().map(|line| format_line(line)));
    lines.join("\n")
}
// ANCHOR_END: render_table

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair(&'static str, usize);

    impl ResultRow for Pair {
        const HEADER: &'static str = "name,value";
        fn cells(&self) -> Vec<String> {
            vec![self.0.to_string(), self.1.to_string()]
        }
    }

    #[test]
    fn json_rows_are_keyed_by_the_header_with_numbers_as_numbers() {
        let rows = rows_as_json(&[Pair("brute", 1)]);
        assert_eq!(
            serde_json::to_string(&rows).ok().as_deref(),
            Some(r#"[{"name":"brute","value":1}]"#)
        );
        assert_eq!(json_cell("0.25"), Value::from(0.25));
        assert_eq!(json_cell("inf"), Value::from("inf"));
    }

    #[test]
    fn columns_are_right_aligned_to_the_widest_cell() {
        let table = render_table(&[Pair("brute", 1), Pair("ivf", 12345678)]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], " name     value");
        assert_eq!(lines[1], "---------------");
        assert_eq!(lines[2], "brute         1");
        assert_eq!(lines[3], "  ivf  12345678");
    }
}
