//! Chapter 15's exercise: the residuals IVF-PQ encodes instead of the vectors.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 15`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::engine::indexes::ivfpq::cells::CoarseCells;
use simple_vector_db::engine::indexes::ivfpq::residual::residuals;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[(
    "ch15_task1_residuals",
    "IVF-PQ: an inverted file of compressed residuals",
    "for vector i, subtract the centroid of its cell cells_of[i] value by value (cells.centroid), all residuals end to end in one Vec",
)];

#[test]
fn ch15_task1_residuals() {
    let cells = CoarseCells::from_centroids(3, vec![vec![0.0, 0.0, 0.0], vec![10.0, 20.0, 30.0]]);
    let a = [1.0, 2.0, 3.0];
    let b = [11.0, 19.0, 30.5];
    let c = [-1.0, 0.0, 1.0];
    let flat = residuals(&cells, &[&a, &b, &c], &[0, 1, 1]);
    assert_eq!(
        flat,
        vec![1.0, 2.0, 3.0, 1.0, -1.0, 0.5, -11.0, -20.0, -29.0],
        "x minus the centroid of x's cell, end to end"
    );
    assert!(residuals(&cells, &[], &[]).is_empty());
}
