//! Chapter 8's exercise: the distance to a stored code, m look-ups in the query's table.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 8`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::quantization::{DistanceTable, SubspaceDistance};
use simple_vector_db::Error;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[(
    "ch08_task1_distance_to_code",
    "Search: one table per query, m look-ups per row",
    "byte j of the code names a centroid of sub-space j: add row j's entry for it, one row of nb_subspace_centroids entries per chunk; a byte past the row is an error (invalid_code_byte), not a panic",
)];

#[test]
fn ch08_task1_distance_to_code() {
    let table = DistanceTable::from_rows(
        &[
            vec![1.0, 2.0, 4.0],
            vec![10.0, 20.0, 40.0],
            vec![100.0, 200.0, 400.0],
        ],
        SubspaceDistance::Squared,
    )
    .expect("a table");
    assert_eq!(table.distance_to_code(&[0, 0, 0]).expect("a code"), 111.0);
    assert_eq!(table.distance_to_code(&[2, 1, 0]).expect("a code"), 124.0);
    assert_eq!(table.distance_to_code(&[1, 2, 2]).expect("a code"), 442.0);
    assert!(matches!(
        table.distance_to_code(&[0, 0]),
        Err(Error::CodeLength {
            len: 2,
            expected: 3
        })
    ));
    assert!(
        table.distance_to_code(&[0, 3, 0]).is_err(),
        "byte 3 names no centroid of 3: a damaged code is an error"
    );
}
