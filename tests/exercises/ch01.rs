//! Chapter 1's exercises: the two metrics a database ranks by.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 1`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::distances::{
    cosine_similarity, euclidean_distance, squared_euclidean_distance,
};

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch01_task1_cosine_similarity",
        "Cosine similarity",
        "a · b / (‖a‖ ‖b‖), clamped to [-1, 1]; a zero vector has no direction: return 0.0, never NaN",
    ),
    (
        "ch01_task2_squared_euclidean_distance",
        "Euclidean distance, plain and squared",
        "Σ (aᵢ - bᵢ)², no square root: euclidean_distance takes the root of your sum",
    ),
];

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-5
}

#[test]
fn ch01_task1_cosine_similarity() {
    let q = [1.0, 0.0];
    assert!(
        close(cosine_similarity(&q, &[2.0, 0.0]), 1.0),
        "same direction"
    );
    assert!(close(cosine_similarity(&q, &[0.0, 1.0]), 0.0), "orthogonal");
    assert!(close(cosine_similarity(&q, &[-1.0, 0.0]), -1.0), "opposite");
    // The worked example of the chapter: [1, 2, 3] against [4, 5, 6] is 32 / (√14 √77).
    let expected = 32.0 / (14.0f32.sqrt() * 77.0f32.sqrt());
    assert!(close(
        cosine_similarity(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]),
        expected
    ));
    // Length does not matter, only direction.
    let a = [0.3, -1.2, 4.0];
    let b = [2.0, 0.5, 1.0];
    let scaled: Vec<f32> = a.iter().map(|x| x * 1000.0).collect();
    assert!(close(
        cosine_similarity(&a, &b),
        cosine_similarity(&scaled, &b)
    ));
    let zero = cosine_similarity(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0]);
    assert_eq!(zero, 0.0, "a zero vector scores 0.0, not NaN");
    let same = cosine_similarity(&[0.1, 0.7, 0.3], &[0.1, 0.7, 0.3]);
    assert!((-1.0..=1.0).contains(&same), "clamped into [-1, 1]: {same}");
}

#[test]
fn ch01_task2_squared_euclidean_distance() {
    assert_eq!(squared_euclidean_distance(&[0.0, 0.0], &[3.0, 4.0]), 25.0);
    assert_eq!(euclidean_distance(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
    assert_eq!(
        squared_euclidean_distance(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]),
        0.0
    );
    // More values than one SIMD block, so that a loop over the tail is checked too.
    let a: Vec<f32> = (0..21).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..21).map(|i| (i * 2) as f32).collect();
    let expected: f32 = (0..21).map(|i| (i * i) as f32).sum();
    assert!(close(squared_euclidean_distance(&a, &b), expected));
    assert_eq!(
        squared_euclidean_distance(&a, &b),
        squared_euclidean_distance(&b, &a),
        "symmetric"
    );
}
