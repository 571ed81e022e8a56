//! Chapter 9's exercise: recall@k, the share of the true neighbours a search found.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 9`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::evaluation::recall::recall_at_k;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[(
    "ch09_task1_recall_at_k",
    "Recall@k",
    "|first k found ∩ first k true| / k: only the first k of each list count, a repeated id counts once, a short result counts its missing ids as misses, k = 0 gives 0",
)];

#[test]
fn ch09_task1_recall_at_k() {
    assert_eq!(recall_at_k(&[1, 2, 3], &[1, 2, 3], 3), 1.0);
    assert_eq!(
        recall_at_k(&[3, 2, 1], &[1, 2, 3], 3),
        1.0,
        "order does not matter"
    );
    assert_eq!(recall_at_k(&[1, 9, 8, 2], &[1, 2, 3, 4], 4), 0.5);
    assert_eq!(
        recall_at_k(&[1, 2, 3, 4], &[4, 5, 6, 7], 2),
        0.0,
        "only the first k count"
    );
    assert_eq!(recall_at_k(&[5], &[5, 6], 2), 0.5, "a short result: misses");
    assert_eq!(
        recall_at_k(&[5, 5, 5], &[5, 6, 7], 3),
        1.0 / 3.0,
        "an id counts once"
    );
    assert_eq!(recall_at_k(&[1], &[1], 0), 0.0);
}
