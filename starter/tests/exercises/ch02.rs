//! Chapter 2's exercises: the in-memory database's insert, the bounded heap of the k best, and
//! the brute-force search that feeds it.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 2`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::top_k::TopK;
use simple_vector_db::{Metric, VectorDbInMemory};

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch02_task1_store_the_batch",
        "Insert: append, never overwrite",
        "after the checks, remember the dimension, then for each (id, vector): its position in `positions`, the id in `ids`, the values appended to `values`",
    ),
    (
        "ch02_task2_bounded_heap",
        "Search: one pass, a bounded heap",
        "make a Candidate with rank_key(score); push while the heap holds fewer than k, else replace the worst (peek_mut) when the candidate is better (smaller)",
    ),
    (
        "ch02_task3_brute_force_search",
        "Search: one pass, a bounded heap",
        "score every stored vector with self.metric.score(query, vector), keep the best k in a TopK, return them best first",
    ),
];

#[test]
fn ch02_task1_store_the_batch() {
    let mut db = VectorDbInMemory::new();
    let first = db
        .insert(&[vec![10.0, 20.0, 30.0], vec![1.0, 0.0, 0.0]])
        .expect("stored");
    assert_eq!(first, vec![0, 1]);
    let second = db
        .insert(&[vec![1.0, 1.0, 1.0], vec![2.0, 2.0, 2.0]])
        .expect("stored");
    assert_eq!(second, vec![2, 3], "keys keep counting across inserts");
    assert_eq!(db.len(), 4);
    assert_eq!(db.dimension(), Some(3));
    assert_eq!(
        db.retrieve(0),
        Some(&[10.0, 20.0, 30.0][..]),
        "not overwritten"
    );
    assert_eq!(db.retrieve(3), Some(&[2.0, 2.0, 2.0][..]));
    assert_eq!(db.retrieve(4), None);
    // A bad batch stores nothing (the checks before your code do that: keep them first).
    assert!(db.insert(&[vec![1.0, 2.0]]).is_err());
    assert_eq!(db.len(), 4);
}

#[test]
fn ch02_task2_bounded_heap() {
    let scores = [0.5, 0.9, -0.2, 0.9, 0.1, 0.7, 0.3];
    let mut best = TopK::new(3, Metric::Cosine);
    for (key, &score) in scores.iter().enumerate() {
        best.push(key as i64, score);
    }
    // Highest first; the tie at 0.9 broken by the lower key.
    assert_eq!(best.into_sorted_vec(), vec![(1, 0.9), (3, 0.9), (5, 0.7)]);

    let mut nearest = TopK::new(2, Metric::Euclidean);
    for (key, &score) in [4.0, 0.5, 3.0, 0.25, 9.0].iter().enumerate() {
        nearest.push(key as i64, score);
    }
    assert_eq!(
        nearest.into_sorted_vec(),
        vec![(3, 0.25), (1, 0.5)],
        "lowest first"
    );

    let mut few = TopK::new(10, Metric::Cosine);
    few.push(7i64, 0.1);
    few.push(8, 0.2);
    assert_eq!(
        few.into_sorted_vec(),
        vec![(8, 0.2), (7, 0.1)],
        "fewer than k: all"
    );

    let mut none = TopK::new(0, Metric::Cosine);
    none.push(1i64, 1.0);
    assert!(none.into_sorted_vec().is_empty(), "k = 0 keeps nothing");

    // A long stream: the result must equal sorting everything.
    let stream: Vec<(i64, f32)> = (0..1000).map(|i| (i, ((i * 7919) % 1009) as f32)).collect();
    let mut best = TopK::new(10, Metric::Cosine);
    for &(key, score) in &stream {
        best.push(key, score);
    }
    let mut sorted = stream.clone();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    sorted.truncate(10);
    assert_eq!(best.into_sorted_vec(), sorted);
}

#[test]
fn ch02_task3_brute_force_search() {
    let mut db = VectorDbInMemory::new();
    db.insert(&[
        vec![10.0, 20.0, 30.0],
        vec![1.0, 1.0, 4.0],
        vec![0.9, 0.8, 0.7],
    ])
    .expect("stored");
    let query = [1.0, 1.0, 1.0];
    let found = db.search(&query, 2).expect("searched");
    let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
    assert_eq!(
        ids,
        vec![2, 0],
        "the two best by cosine (0.995, 0.926), best first"
    );
    assert!(found[0].score >= found[1].score);
    assert_eq!(
        db.search(&query, 10).expect("searched").len(),
        3,
        "k > n: all"
    );
    db.set_metric(Metric::Euclidean);
    let found = db.search(&query, 3).expect("searched");
    let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
    assert_eq!(ids, vec![2, 1, 0], "by euclidean distance, smallest first");
    assert!(found[0].score <= found[1].score && found[1].score <= found[2].score);
}
