//! The results of a sweep as an aligned table for the terminal.

use std::path::{Path, PathBuf};

use crate::evaluation::results_csv::ResultRow;

/// Prints a sweep's results table, then the files it wrote.
pub fn print_report<R: ResultRow>(rows: &[R], csv_path: &Path, plots: &[PathBuf]) {
    println!("{}", render_table(rows));
    println!("\nwrote {}", csv_path.display());
    for plot in plots {
        println!("wrote {}", plot.display());
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
    fn columns_are_right_aligned_to_the_widest_cell() {
        let table = render_table(&[Pair("brute", 1), Pair("ivf", 12345678)]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], " name     value");
        assert_eq!(lines[1], "---------------");
        assert_eq!(lines[2], "brute         1");
        assert_eq!(lines[3], "  ivf  12345678");
    }
}
