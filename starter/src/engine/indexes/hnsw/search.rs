//! Searching the graph: a greedy walk down the upper layers, then a beam search on layer 0.
//!
//! The upper layers are sparse: few nodes, long links. A walk there moves from the entry point
//! to whichever neighbour is closer to the query, and stops at a node none of whose neighbours
//! is closer; that node starts the walk on the layer below, as a skip list drops a level. On
//! layer 0, where every node is, a single greedy walk would stop at the first local minimum, so
//! the search keeps a beam of the `ef` closest nodes found so far and expands the closest one
//! not yet expanded, until the closest candidate left is farther than the farthest of the beam
//! (the paper's Algorithm 2). A wider beam costs more distances and finds more true neighbours.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::filtered::{gather_fresh, FilteredWalk};
use super::graph::Graph;
use super::space::{Query, Space};

/// A node and its distance to the query, ordered by distance (ties by node, so that every
/// search is reproducible).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub distance: f32,
    pub node: u32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then_with(|| self.node.cmp(&other.node))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

// ANCHOR: visited
/// Which nodes a search has already scored, cleared in O(1) between searches.
///
/// A mark per node holds the number of the search that last saw it: a node is visited when its
/// mark equals the current search's number, so starting a new search is adding one to that
/// number, not clearing an array as large as the graph.
#[derive(Debug, Clone, Default)]
pub struct Visited {
    marks: Vec<u32>,
    current: u32,
    /// Nodes marked by the current search: each was scored once, so this counts distances.
    fresh: usize,
    /// Room for the unscored neighbours of the node being expanded, kept between searches.
    fresh_nodes: Vec<u32>,
}

impl Visited {
    /// Starts a new search over a graph of `nodes` nodes.
    pub fn start(&mut self, nodes: usize) {
        if self.marks.len() < nodes {
            self.marks.resize(nodes, 0);
        }
        self.current = self.current.wrapping_add(1);
        self.fresh = 0;
        if self.current == 0 {
            // After 2³² searches the numbers come round again: clear once, really.
            self.marks.fill(0);
            self.current = 1;
        }
    }

    /// Marks `node` visited; `true` when it was not yet.
    #[inline]
    pub fn insert(&mut self, node: u32) -> bool {
        let mark = &mut self.marks[node as usize];
        let fresh = *mark != self.current;
        *mark = self.current;
        self.fresh += usize::from(fresh);
        fresh
    }

    /// Marks `node` visited without counting it as scored (a node a filtered walk steps over);
    /// `true` when it was not yet visited.
    #[inline]
    pub fn insert_unscored(&mut self, node: u32) -> bool {
        let mark = &mut self.marks[node as usize];
        let fresh = *mark != self.current;
        *mark = self.current;
        fresh
    }

    /// How many nodes the current search has scored: the distances it computed.
    pub fn count(&self) -> usize {
        self.fresh
    }
}
// ANCHOR_END: visited

// ANCHOR: greedy
/// From `start`, moves on `layer` to a closer neighbour as long as there is one, and returns
/// the node where no neighbour is closer (the paper's search with `ef = 1`, as in hnswlib).
pub fn greedy_closest(
    graph: &Graph,
    space: &Space,
    query: &Query<'_>,
    mut start: Scored,
    layer: usize,
) -> Scored {
    loop {
        let mut moved = false;
        for &neighbour in graph.neighbours(start.node, layer) {
            let distance = space.distance(query, neighbour);
            if distance < start.distance {
                start = Scored {
                    distance,
                    node: neighbour,
                };
                moved = true;
            }
        }
        if !moved {
            return start;
        }
    }
}
// ANCHOR_END: greedy

// ANCHOR: search_layer
/// The `ef` nodes closest to `query` that a beam search on `layer` finds from `entries`,
/// closest first, among those `accept` lets through.
///
/// An unfiltered search accepts every node. A filtered one (chapter 14) never lets a refused
/// node into the beam, and so into the results; `walk` says whether it still steps on such
/// nodes, over them, or not at all ([`FilteredWalk`]). `accept` is asked only of the nodes the
/// walk reaches, not of the whole graph.
#[allow(clippy::too_many_arguments)] // the beam search's inputs, each named at every call
pub fn search_layer(
    graph: &Graph,
    space: &Space,
    query: &Query<'_>,
    entries: &[Scored],
    ef: usize,
    layer: usize,
    (accept, walk): (impl Fn(u32) -> bool, FilteredWalk),
    visited: &mut Visited,
) -> Vec<Scored> {
    visited.start(graph.len());
    // `candidates`: found but not yet expanded, closest on top. `beam`: the `ef` closest
    // accepted, farthest on top, so that it is the one compared and dropped. Neither holds
    // more nodes than the graph has, whatever `ef` the caller asked for.
    let room = ef.min(graph.len());
    let mut candidates: BinaryHeap<Reverse<Scored>> = BinaryHeap::with_capacity(room * 2);
    let mut beam: BinaryHeap<Scored> = BinaryHeap::with_capacity(room + 1);
    for &entry in entries {
        if visited.insert(entry.node) {
            candidates.push(Reverse(entry));
            if accept(entry.node) {
                beam.push(entry);
            }
        }
    }
    while beam.len() > ef {
        beam.pop();
    }
    while let Some(Reverse(closest)) = candidates.pop() {
        let farthest = beam.peek().map_or(f32::INFINITY, |s| s.distance);
        if closest.distance > farthest && beam.len() >= ef {
            break; // every node left to expand is farther than the whole beam
        }
        // First the neighbours not yet scored, their vectors asked for as they are found, so
        // that memory fetches them while the distances of the first ones are computed.
        let mut fresh = std::mem::take(&mut visited.fresh_nodes);
        gather_fresh(
            graph,
            closest.node,
            layer,
            walk,
            &accept,
            visited,
            &mut fresh,
        );
        for &neighbour in &fresh {
            space.prefetch(neighbour);
        }
        for &neighbour in &fresh {
            let distance = space.distance(query, neighbour);
            let farthest = beam.peek().map_or(f32::INFINITY, |s| s.distance);
            if beam.len() < ef || distance < farthest {
                let scored = Scored {
                    distance,
                    node: neighbour,
                };
                candidates.push(Reverse(scored));
                if accept(neighbour) {
                    beam.push(scored);
                    if beam.len() > ef {
                        beam.pop();
                    }
                }
            }
        }
        visited.fresh_nodes = fresh;
    }
    beam.into_sorted_vec()
}
// ANCHOR_END: search_layer

// ANCHOR: knn
/// The `ef` nodes closest to `query` among those a filter lets through (every node, for an
/// unfiltered search), walking as the filter says, closest first: down the upper layers greedily from the entry point,
/// then a beam of `ef` on layer 0.
pub fn search_graph(
    graph: &Graph,
    space: &Space,
    query: &Query<'_>,
    ef: usize,
    filter: (impl Fn(u32) -> bool, FilteredWalk),
    visited: &mut Visited,
) -> Vec<Scored> {
    match descend(graph, space, query) {
        Some(start) => search_layer(graph, space, query, &[start], ef, 0, filter, visited),
        None => Vec::new(),
    }
}

/// Where layer 0's search starts: the entry point, then a greedy walk down each upper layer
/// from where the one above stopped (`None` for an empty graph).
pub fn descend(graph: &Graph, space: &Space, query: &Query<'_>) -> Option<Scored> {
    let (entry, top) = graph.entry()?;
    let mut closest = Scored {
        distance: space.distance(query, entry),
        node: entry,
    };
    for layer in (1..=top).rev() {
        closest = greedy_closest(graph, space, query, closest, layer);
    }
    Some(closest)
}
// ANCHOR_END: knn
