//! Chapter 12's exercise: the cheap question a block scan asks before any heap operation.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 12`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::top_k::TopK;
use simple_vector_db::Metric;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[(
    "ch12_task1_admits",
    "Blocks",
    "true while the heap holds fewer than k; else compare rank_key(score) with the worst kept rank (peek), a tie admitted (<=) since the key may still win it",
)];

#[test]
fn ch12_task1_admits() {
    let mut best = TopK::new(2, Metric::Cosine);
    assert!(best.admits(-1.0), "an empty collector admits anything");
    best.push(1i64, 0.5);
    assert!(best.admits(-1.0), "not full yet");
    best.push(2, 0.8);
    assert!(!best.admits(0.4), "worse than the worst kept (0.5)");
    assert!(best.admits(0.6), "better than the worst kept");
    assert!(best.admits(0.5), "a tie may still win on its key");

    let mut nearest = TopK::new(1, Metric::Euclidean);
    nearest.push(7i64, 2.0);
    assert!(nearest.admits(1.0), "a smaller distance is better");
    assert!(!nearest.admits(3.0));

    let none: TopK<i64> = TopK::new(0, Metric::Cosine);
    assert!(!none.admits(1.0), "k = 0 admits nothing");

    // admits must agree with what push keeps.
    let mut best = TopK::new(3, Metric::Euclidean);
    for (key, score) in [
        (0i64, 5.0),
        (1, 1.0),
        (2, 4.0),
        (3, 2.0),
        (4, 4.5),
        (5, 0.5),
    ] {
        let admitted = best.admits(score);
        best.push(key, score);
        let kept = best
            .clone()
            .into_sorted_vec()
            .iter()
            .any(|&(k, _)| k == key);
        assert_eq!(admitted, kept, "key {key}, score {score}");
    }
}
