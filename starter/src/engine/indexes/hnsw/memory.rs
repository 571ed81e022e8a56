//! A whole graph index in memory: the layers, the vectors, and the id each node stands for.
//!
//! This is what searches and inserts work on; [`super::tables`] keeps it in the file.

use std::collections::BTreeSet;
use std::sync::Mutex;

use super::filtered::FilteredWalk;
use super::graph::Graph;
use super::insert::{link_node, random_level, Linking};
use super::search::{search_graph, Visited};
use super::space::Space;
use super::HnswSettings;
use crate::distances::Metric;
use crate::engine::{IdSet, Neighbour};

// ANCHOR: hnsw
/// A hierarchical navigable small world graph over vectors stored under ids.
#[derive(Debug)]
pub struct Hnsw {
    pub(super) settings: HnswSettings,
    pub(super) graph: Graph,
    pub(super) space: Space,
    /// The collection's id of each node (a placeholder for a deleted one).
    pub(super) ids: Vec<i64>,
    /// Which nodes stand for deleted vectors: walked through, never returned.
    pub(super) deleted: Vec<bool>,
    /// How many of `deleted` are set.
    pub(super) deleted_count: usize,
    /// Visited sets left by earlier searches, to reuse rather than allocate.
    visited: Mutex<Vec<Visited>>,
}
// ANCHOR_END: hnsw

impl Hnsw {
    /// An empty graph of vectors of `dimension` values compared under `metric`.
    pub fn new(settings: HnswSettings, metric: Metric, dimension: usize) -> Self {
        Self::from_parts(
            settings,
            Graph::new(settings.m),
            Space::new(metric, dimension),
            Vec::new(),
        )
    }

    /// A graph read back from its parts.
    pub fn from_parts(settings: HnswSettings, graph: Graph, space: Space, ids: Vec<i64>) -> Self {
        let n = ids.len();
        Hnsw {
            settings,
            graph,
            space,
            ids,
            deleted: vec![false; n],
            deleted_count: 0,
            visited: Mutex::new(Vec::new()),
        }
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.graph.len()
    }

    /// `true` when there is no node.
    pub fn is_empty(&self) -> bool {
        self.graph.is_empty()
    }

    /// The layers.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The vectors, by node.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The collection's id of each node.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// How many nodes stand for deleted vectors.
    pub fn deleted_count(&self) -> usize {
        self.deleted_count
    }

    /// Whether `node` stands for a deleted vector.
    pub fn is_deleted(&self, node: u32) -> bool {
        self.deleted.get(node as usize).copied().unwrap_or(false)
    }

    // ANCHOR: hnsw_mark_deleted
    /// Marks `node` deleted and gives it `placeholder` for an id, so that the vector's id is
    /// free for a new node. The node keeps its links and its vector: other nodes' lists lead
    /// through it, and cutting it out would cut those roads.
    pub fn mark_deleted(&mut self, node: u32, placeholder: i64) {
        let Some(flag) = self.deleted.get_mut(node as usize) else {
            return;
        };
        if !*flag {
            *flag = true;
            self.deleted_count += 1;
        }
        self.ids[node as usize] = placeholder;
    }
    // ANCHOR_END: hnsw_mark_deleted

    /// The smallest id any node holds (0 for an empty graph): placeholders for deleted nodes
    /// are taken below it, where no node's id is.
    pub fn smallest_id(&self) -> i64 {
        self.ids.iter().copied().min().unwrap_or(0)
    }

    // ANCHOR: hnsw_insert
    /// Adds `vector` under `id` as a new node and links it into the graph; adds to `changed`
    /// every node whose lists changed, so that only those are written back.
    pub fn insert(&mut self, id: i64, vector: &[f32], changed: &mut BTreeSet<u32>) {
        let number = u32::try_from(self.graph.len()).unwrap_or(u32::MAX);
        let node = self
            .graph
            .add_node(random_level(self.settings.seed, number, self.settings.m));
        self.space.push(vector);
        self.ids.push(id);
        self.deleted.push(false);
        let linking = Linking {
            ef_construction: self.settings.ef_construction,
            selection: self.settings.selection,
        };
        let mut visited = self.take_visited();
        link_node(
            &mut self.graph,
            &self.space,
            node,
            linking,
            &mut visited,
            changed,
        );
        self.give_back(visited);
    }
    // ANCHOR_END: hnsw_insert

    // ANCHOR: hnsw_search
    /// The `k` nodes closest to `query` that a beam of `ef` (at least `k`) finds, as
    /// neighbours under their ids, best first.
    pub fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<Neighbour> {
        self.search_counting(query, k, ef).0
    }
    // ANCHOR_END: hnsw_search

    /// As [`search`](Self::search), with how many distances the beam search on layer 0
    /// computed: the work a beam of `ef` costs (chapter 13 compares it with FAISS's).
    pub fn search_counting(&self, query: &[f32], k: usize, ef: usize) -> (Vec<Neighbour>, usize) {
        // ANCHOR: hnsw_skip_deleted
        // A deleted node is walked through like any other and never returned: the accept test
        // of a filtered search, with "not deleted" as the filter.
        let live = |node: u32| !self.is_deleted(node);
        self.search_accepting(query, k, ef, (live, FilteredWalk::Through))
        // ANCHOR_END: hnsw_skip_deleted
    }

    // ANCHOR: hnsw_search_allowed
    /// As [`search_counting`](Self::search_counting), among the nodes whose ids are in
    /// `allowed` only, walking the graph as `walk` says.
    pub fn search_allowed(
        &self,
        query: &[f32],
        (k, ef): (usize, usize),
        allowed: &IdSet,
        walk: FilteredWalk,
    ) -> (Vec<Neighbour>, usize) {
        let accept = |node: u32| {
            !self.is_deleted(node)
                && self
                    .ids
                    .get(node as usize)
                    .is_some_and(|&id| allowed.contains(id))
        };
        self.search_accepting(query, k, ef, (accept, walk))
    }
    // ANCHOR_END: hnsw_search_allowed

    /// The best `k` of the nodes a filter lets through, and the distances computed.
    fn search_accepting(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: (impl Fn(u32) -> bool, FilteredWalk),
    ) -> (Vec<Neighbour>, usize) {
        let query = self.space.query(query);
        let mut visited = self.take_visited();
        let found = search_graph(
            &self.graph,
            &self.space,
            &query,
            ef.max(k),
            filter,
            &mut visited,
        );
        let distances = visited.count();
        self.give_back(visited);
        let neighbours = found
            .into_iter()
            .take(k)
            .map(|s| Neighbour::new(self.ids[s.node as usize], self.space.score(s.distance)))
            .collect();
        (neighbours, distances)
    }

    /// Bytes of the graph per node, in memory: its lists on every layer and its id (the
    /// vectors are counted apart: they are the collection's).
    pub fn graph_bytes_per_node(&self) -> usize {
        let bytes = self.graph.bytes() + std::mem::size_of_val(self.ids.as_slice());
        bytes.checked_div(self.len()).unwrap_or(0)
    }

    fn take_visited(&self) -> Visited {
        self.visited
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default()
    }

    fn give_back(&self, visited: Visited) {
        if let Ok(mut pool) = self.visited.lock() {
            pool.push(visited);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FlatIndex;
    use crate::engine::{SearchParams, VectorIndex};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn random_vectors(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect())
            .collect()
    }

    fn recall(metric: Metric, selection: super::super::Selection) -> f64 {
        let (base, queries) = (random_vectors(2000, 16, 1), random_vectors(50, 16, 2));
        let settings = HnswSettings {
            selection,
            ..HnswSettings::new(8, 40)
        };
        let mut hnsw = Hnsw::new(settings, metric, 16);
        let mut flat = FlatIndex::new(metric);
        for (id, vector) in (0i64..).zip(&base) {
            hnsw.insert(id * 10, vector, &mut BTreeSet::new());
        }
        let ids: Vec<i64> = (0..base.len() as i64).map(|i| i * 10).collect();
        flat.add(&ids, &base).expect("valid");
        let mut hits = 0;
        for query in &queries {
            let exact = flat.search(query, &SearchParams::k(10)).expect("valid");
            let found = hnsw.search(query, 10, 64);
            assert_eq!(found.len(), 10);
            hits += found
                .iter()
                .filter(|n| exact.iter().any(|e| e.id == n.id))
                .count();
        }
        hits as f64 / (10 * queries.len()) as f64
    }

    #[test]
    fn a_graph_finds_nearly_every_true_neighbour_under_both_metrics() {
        for metric in [Metric::Euclidean, Metric::Cosine] {
            for selection in [
                super::super::Selection::Simple,
                super::super::Selection::Heuristic,
            ] {
                let recall = recall(metric, selection);
                assert!(recall > 0.9, "{metric} {selection:?}: recall {recall}");
            }
        }
    }

    #[test]
    fn the_same_seed_builds_the_same_graph() {
        let base = random_vectors(300, 8, 3);
        let build = |seed| {
            let mut hnsw = Hnsw::new(
                HnswSettings::new(4, 16).with_seed(seed),
                Metric::Euclidean,
                8,
            );
            for (id, v) in (0i64..).zip(&base) {
                hnsw.insert(id, v, &mut BTreeSet::new());
            }
            hnsw.graph
        };
        assert_eq!(build(5), build(5));
        assert_ne!(build(5), build(6));
    }
}
