//! Walking a graph under a filter: why it breaks, and two ways to keep it whole.
//!
//! A filtered search on a graph wants the nearest nodes among those a filter lets through. The
//! naive way is a bitset: the walk steps only on allowed nodes ([`FilteredWalk::Skip`]). It is
//! right while most nodes pass; when few do, the allowed nodes are islands: a node's 2·M
//! neighbours hold, on average, `2·M × share` allowed ones, so below a share of about
//! `1 / 2·M` the walk from the entry point finds no allowed neighbour at all and stops, with
//! too few results or the wrong ones. The graph was built for every node; removing most of
//! them removes the roads.
//!
//! Two remedies keep the roads:
//!
//! - [`FilteredWalk::Through`]: walk through refused nodes as if unfiltered, scoring and
//!   expanding them, and only keep them out of the beam (so out of the results). The graph is
//!   whole, but when few pass the walk scores thousands of nodes it will never return, the
//!   price Milvus's "alpha" strategy lowers by stepping on a refused node only with some
//!   probability.
//! - [`FilteredWalk::TwoHop`] (ACORN-1, Patel et al., 2024): a refused neighbour is not scored;
//!   its own neighbours are gathered instead, and the allowed ones among them are scored. Two
//!   hops of 2·M links reach `(2·M)²` nodes, so the allowed ones stay linked down to a share of
//!   about `1 / (2·M)²`, and distances are computed only for nodes the search may return. As in
//!   ACORN, the direct neighbours come first and the gathered list is cut at the layer's
//!   capacity, so that an expansion costs what an unfiltered one costs.

use super::graph::Graph;
use super::search::Visited;

// ANCHOR: filtered_walk
/// How a beam search treats the nodes its filter refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilteredWalk {
    /// Score and expand every node, return only the accepted ones (the unfiltered walk).
    #[default]
    Through,
    /// Never step on a refused node: the naive bitset, which breaks when few pass.
    Skip,
    /// Step over a refused node to its own neighbours, without scoring it (ACORN-1).
    TwoHop,
}
// ANCHOR_END: filtered_walk

/// Below this share of nodes passing, the index's filtered search steps over refused nodes;
/// above, it walks through them: most neighbours pass, two hops would only gather more of
/// them, at the cost of reading the lists of the others (measured in chapter 14).
pub const TWO_HOP_BELOW: f64 = 0.25;

impl FilteredWalk {
    /// The walk the index uses when `allowed` of `nodes` nodes pass.
    pub fn for_share(allowed: usize, nodes: usize) -> Self {
        if (allowed as f64) < TWO_HOP_BELOW * nodes as f64 {
            FilteredWalk::TwoHop
        } else {
            FilteredWalk::Through
        }
    }

    /// All of them, in the order the book measures them.
    pub const ALL: [FilteredWalk; 3] = [
        FilteredWalk::Skip,
        FilteredWalk::Through,
        FilteredWalk::TwoHop,
    ];

    /// Its name in tables and figures.
    pub fn as_str(self) -> &'static str {
        match self {
            FilteredWalk::Through => "through",
            FilteredWalk::Skip => "skip",
            FilteredWalk::TwoHop => "two-hop",
        }
    }
}

// ANCHOR: gather
/// Puts into `fresh` the neighbours of `node` on `layer` that the beam search should score
/// next: those not yet visited, and, unless the walk goes through everything, accepted.
pub fn gather_fresh(
    graph: &Graph,
    node: u32,
    layer: usize,
    walk: FilteredWalk,
    accept: &impl Fn(u32) -> bool,
    visited: &mut Visited,
    fresh: &mut Vec<u32>,
) {
    fresh.clear();
    let neighbours = graph.neighbours(node, layer);
    match walk {
        FilteredWalk::Through => {
            fresh.extend(neighbours.iter().filter(|&&n| visited.insert(n)));
        }
        FilteredWalk::Skip => {
            fresh.extend(
                neighbours
                    .iter()
                    .filter(|&&n| accept(n) && visited.insert(n)),
            );
        }
        FilteredWalk::TwoHop => {
            gather_two_hops(graph, neighbours, layer, accept, visited, fresh);
        }
    }
}
// ANCHOR_END: gather

// ANCHOR: two_hops
/// ACORN-1's expansion: the accepted neighbours, then the accepted neighbours of the refused
/// ones, up to the layer's capacity. A refused node is marked, without being scored, when its
/// list is read, so that the list is read once per search; one left unread because the room
/// ran out stays open to the next expansion that reaches it.
fn gather_two_hops(
    graph: &Graph,
    neighbours: &[u32],
    layer: usize,
    accept: &impl Fn(u32) -> bool,
    visited: &mut Visited,
    fresh: &mut Vec<u32>,
) {
    let room = graph.max_links(layer);
    for &neighbour in neighbours {
        if accept(neighbour) && visited.insert(neighbour) {
            fresh.push(neighbour);
        }
    }
    for &hop in neighbours {
        if fresh.len() >= room {
            return;
        }
        if accept(hop) || !visited.insert_unscored(hop) {
            continue;
        }
        for &second in graph.neighbours(hop, layer) {
            if accept(second) && visited.insert(second) {
                fresh.push(second);
            }
        }
    }
}
// ANCHOR_END: two_hops

#[cfg(test)]
mod tests {
    use super::*;

    /// A path 0 – 1 – 2 – 3 on layer 0, the odd nodes refused.
    fn path() -> Graph {
        let mut graph = Graph::new(2);
        for _ in 0..4 {
            graph.add_node(0);
        }
        for node in 0..4u32 {
            let links: Vec<u32> = [node.wrapping_sub(1), node + 1]
                .into_iter()
                .filter(|&n| n < 4)
                .collect();
            graph.set_neighbours(node, 0, &links);
        }
        graph
    }

    fn gathered(walk: FilteredWalk, from: u32) -> (Vec<u32>, usize) {
        let graph = path();
        let mut visited = Visited::default();
        visited.start(graph.len());
        visited.insert(from);
        let mut fresh = Vec::new();
        gather_fresh(
            &graph,
            from,
            0,
            walk,
            &|n| n % 2 == 0,
            &mut visited,
            &mut fresh,
        );
        (fresh, visited.count())
    }

    #[test]
    fn through_gathers_every_neighbour_refused_or_not() {
        assert_eq!(gathered(FilteredWalk::Through, 0), (vec![1], 2));
    }

    #[test]
    fn skip_is_stuck_where_only_refused_nodes_lead_on() {
        assert_eq!(gathered(FilteredWalk::Skip, 0), (vec![], 1));
    }

    #[test]
    fn two_hop_steps_over_a_refused_node_without_scoring_it() {
        // From 0: node 1 is refused, so its neighbour 2 is gathered; 1 is marked, not counted.
        assert_eq!(gathered(FilteredWalk::TwoHop, 0), (vec![2], 2));
        assert_eq!(gathered(FilteredWalk::TwoHop, 2), (vec![0], 2));
    }
}
