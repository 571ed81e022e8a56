//! Chapter 7's exercises: encoding with a codebook, and the asymmetric distance table.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 7`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::quantization::VectorQuantizer;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch07_task1_nearest_code",
        "Codes: one byte per chunk",
        "the centroids of sub-space `chunk` are nb_subspace_centroids × sub_dimension values from chunk × that; return the number of the one at the smallest squared distance",
    ),
    (
        "ch07_task2_distance_table",
        "Asymmetric distance",
        "one row per query chunk, one entry per centroid of that sub-space: kind.between(query_chunk, centroid), rows end to end",
    ),
];

/// m = 2 chunks of 2 values, k = 3 centroids per sub-space, given by hand.
fn quantizer() -> VectorQuantizer {
    #[rustfmt::skip]
    let codebook = vec![
        // sub-space 0: three centroids of 2 values
        0.0, 0.0,   10.0, 0.0,   0.0, 10.0,
        // sub-space 1
        1.0, 1.0,   -5.0, -5.0,  5.0, 5.0,
    ];
    VectorQuantizer::from_codebook(2, 3, 4, codebook).expect("a valid codebook")
}

#[test]
fn ch07_task1_nearest_code() {
    let quantizer = quantizer();
    assert_eq!(
        quantizer
            .quantize_vector(&[9.0, 1.0, 4.0, 6.0])
            .expect("encodes"),
        vec![1, 2]
    );
    assert_eq!(
        quantizer
            .quantize_vector(&[0.5, 8.0, -4.0, -6.0])
            .expect("encodes"),
        vec![2, 1]
    );
    assert_eq!(
        quantizer
            .quantize_vector(&[0.0, 0.0, 1.0, 1.0])
            .expect("encodes"),
        vec![0, 0]
    );
    let codes = quantizer
        .quantize_vectors(&[vec![9.0, 1.0, 4.0, 6.0], vec![0.1, 0.2, 1.2, 0.9]])
        .expect("encodes");
    assert_eq!(codes, vec![vec![1, 2], vec![0, 0]]);
}

#[test]
fn ch07_task2_distance_table() {
    let quantizer = quantizer();
    let table = quantizer
        .compute_asymmetric_distance_matrix(&[1.0, 2.0, 3.0, 4.0])
        .expect("a table");
    assert_eq!(table.m_chunks(), 2);
    assert_eq!(table.nb_subspace_centroids(), 3);
    // Squared distances: (1,2) to (0,0), (10,0), (0,10); (3,4) to (1,1), (-5,-5), (5,5).
    let expected = [5.0, 85.0, 65.0, 13.0, 145.0, 5.0];
    assert_eq!(table.values(), &expected[..]);
    assert_eq!(table.get(1, 2), Some(5.0));
}
