//! Chapter 13's exercise: the heuristic that chooses a node's neighbours in the graph.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 13`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::engine::indexes::hnsw::search::Scored;
use simple_vector_db::engine::indexes::hnsw::space::Space;
use simple_vector_db::engine::indexes::Selection;
use simple_vector_db::Metric;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[(
    "ch13_task1_neighbour_heuristic",
    "The heuristic",
    "candidates come closest first; keep one unless a neighbour kept before it is closer to it than the node is (space.distance(&space.query_of(candidate), kept) < candidate.distance); stop at max; with no more than max candidates keep them all",
)];

/// The node at the origin (0) and five candidates: 1 and 2 close together on the right, 3 a
/// little further on the left, 4 right behind 1, and 5 far up.
fn space_and_candidates() -> (Space, Vec<Scored>) {
    let mut space = Space::new(Metric::Euclidean, 2);
    let points = [
        [0.0, 0.0],
        [1.0, 0.0],
        [1.1, 0.1],
        [-1.5, 0.0],
        [2.0, 0.0],
        [0.0, 3.0],
    ];
    for point in points {
        space.push(&point);
    }
    let node = space.query_of(0);
    let mut candidates: Vec<Scored> = (1..points.len() as u32)
        .map(|n| Scored {
            distance: space.distance(&node, n),
            node: n,
        })
        .collect();
    candidates.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    (space, candidates)
}

#[test]
fn ch13_task1_neighbour_heuristic() {
    let (space, candidates) = space_and_candidates();
    // 2 is closer to 1 than to the node, and so is 4: both are reached through 1.
    assert_eq!(
        Selection::Heuristic.select(&space, &candidates, 4),
        vec![1, 3, 5]
    );
    assert_eq!(
        Selection::Heuristic.select(&space, &candidates, 2),
        vec![1, 3],
        "at most max"
    );
    assert_eq!(
        Selection::Heuristic.select(&space, &candidates, 5),
        vec![1, 2, 3, 4, 5],
        "room for every candidate: all kept"
    );
    assert_eq!(
        Selection::Simple.select(&space, &candidates, 3),
        vec![1, 2, 3],
        "the simple way keeps the closest"
    );
}
