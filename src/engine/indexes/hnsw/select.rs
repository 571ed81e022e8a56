//! Choosing a node's neighbours among the candidates a search found.
//!
//! The obvious choice keeps the `M` closest ([`Selection::Simple`], the paper's Algorithm 3).
//! On clustered data it fails in a telling way: the `M` closest of a node at the edge of a
//! cluster are all in that cluster, so no link leaves it, and a search that enters the cluster
//! cannot get out. The heuristic ([`Selection::Heuristic`], the paper's Algorithm 4) takes the
//! candidates from the closest and keeps one only if it is closer to the node than to every
//! neighbour kept so far: a candidate that a kept neighbour already "covers" is left out, and
//! the room goes to candidates in other directions, among them the rare link to another
//! cluster. Chapter 13 measures the difference.

use super::search::Scored;
use super::space::Space;

// ANCHOR: selection
/// How a node's neighbours are chosen among its candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Selection {
    /// The `M` closest candidates.
    Simple,
    /// The candidates not already covered by a closer kept neighbour (the paper's heuristic).
    #[default]
    Heuristic,
}
// ANCHOR_END: selection

impl Selection {
    /// The name stored in the index's settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Selection::Simple => "simple",
            Selection::Heuristic => "heuristic",
        }
    }

    /// The selection named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "simple" => Some(Selection::Simple),
            "heuristic" => Some(Selection::Heuristic),
            _ => None,
        }
    }

    /// At most `max` of `candidates` (sorted closest first by their distance to the node
    /// being linked), chosen this way.
    pub fn select(self, space: &Space, candidates: &[Scored], max: usize) -> Vec<u32> {
        match self {
            Selection::Simple => keep_closest(candidates, max),
            Selection::Heuristic => keep_diverse(space, candidates, max),
        }
    }
}

// ANCHOR: simple
/// The `max` closest of `candidates`.
fn keep_closest(candidates: &[Scored], max: usize) -> Vec<u32> {
    candidates.iter().take(max).map(|c| c.node).collect()
}
// ANCHOR_END: simple

// ANCHOR: heuristic
/// The paper's heuristic: from the closest candidate on, keep a candidate unless a neighbour
/// kept before it is closer to it than the node is, until `max` are kept (a tie keeps it, as in
/// hnswlib and FAISS).
///
/// With fewer than `max` candidates there is room for all, and all are kept (as in hnswlib
/// and FAISS): pruning would only throw links away.
fn keep_diverse(space: &Space, candidates: &[Scored], max: usize) -> Vec<u32> {
    // ANCHOR: starter_ch13_task1_neighbour_heuristic
    if candidates.len() <= max {
        return candidates.iter().map(|c| c.node).collect();
    }
    let mut kept: Vec<u32> = Vec::with_capacity(max);
    for candidate in candidates {
        if kept.len() >= max {
            break;
        }
        let query = space.query_of(candidate.node);
        let covered = kept
            .iter()
            .any(|&neighbour| space.distance(&query, neighbour) < candidate.distance);
        if !covered {
            kept.push(candidate.node);
        }
    }
    kept
    // ANCHOR_END: starter_ch13_task1_neighbour_heuristic
}
// ANCHOR_END: heuristic

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;

    /// A node at 0 on a line, two candidates close together on its right, one on its left.
    fn line() -> (Space, Vec<Scored>) {
        let mut space = Space::new(Metric::Euclidean, 1);
        for x in [0.0, 1.0, 1.1, -1.5] {
            space.push(&[x]);
        }
        let node = space.query_of(0);
        let mut candidates: Vec<Scored> = (1..4)
            .map(|n| Scored {
                distance: space.distance(&node, n),
                node: n,
            })
            .collect();
        candidates.sort();
        (space, candidates)
    }

    #[test]
    fn the_heuristic_skips_a_candidate_a_kept_neighbour_covers() {
        let (space, candidates) = line();
        assert_eq!(Selection::Simple.select(&space, &candidates, 2), [1, 2]);
        // 2 (at 1.1) is closer to 1 than to the node: covered. -1.5 lies the other way.
        assert_eq!(Selection::Heuristic.select(&space, &candidates, 2), [1, 3]);
        assert_eq!(
            Selection::Heuristic.select(&space, &candidates, 3),
            [1, 2, 3],
            "room for every candidate: all are kept"
        );
    }
}
