//! Inserting a node: draw its level, find its neighbours layer by layer, link both ways.
//!
//! The level is drawn as in a skip list, from an exponential distribution: `⌊-ln(u) · mL⌋`
//! with `u` uniform in (0, 1] and `mL = 1/ln(M)`, so that each layer holds about `1/M` of the
//! nodes of the layer below. The new node's vector is then searched for like a query: greedily
//! down to the layer just above its own level, then with a beam of `ef_construction` on each
//! of its layers, where the neighbours it keeps are chosen among the beam ([`super::select`]).
//! Links go both ways; a neighbour whose list is already full chooses again, among its old
//! neighbours and the new node, the ones it keeps (the paper's Algorithm 1).

use std::collections::BTreeSet;

use super::filtered::FilteredWalk;
use super::graph::Graph;
use super::search::{greedy_closest, search_layer, Scored, Visited};
use super::select::Selection;
use super::space::Space;
use super::MAX_LEVEL;

// ANCHOR: random_level
/// The level of node `node` in a graph of degree `m` built with `seed`: `⌊-ln(u) / ln(m)⌋`.
///
/// `u` comes from the seed and the node's number alone (through SplitMix64, a good 64-bit
/// mixer), not from a generator's running state, so a node gets the same level whether it was
/// inserted by the build or by a later insert, in one batch or several.
pub fn random_level(seed: u64, node: u32, m: usize) -> usize {
    let bits = splitmix64(seed ^ splitmix64(u64::from(node)));
    // 53 random bits as a float in (0, 1]: never 0, whose logarithm is -∞.
    let u = ((bits >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let m_l = 1.0 / (m.max(2) as f64).ln();
    let level = (-u.ln() * m_l).floor();
    (level as usize).min(MAX_LEVEL)
}

/// SplitMix64's output function: each bit of the result depends on every bit of `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
// ANCHOR_END: random_level

/// What an insertion needs besides the graph: how wide its beam is, how it chooses.
#[derive(Debug, Clone, Copy)]
pub struct Linking {
    pub ef_construction: usize,
    pub selection: Selection,
}

// ANCHOR: insert
/// Links `node` (already added to `graph` at `level`, its vector in `space`) into the graph,
/// and adds to `changed` every node whose neighbour lists it changed.
pub fn link_node(
    graph: &mut Graph,
    space: &Space,
    node: u32,
    linking: Linking,
    visited: &mut Visited,
    changed: &mut BTreeSet<u32>,
) {
    let level = graph.level(node);
    changed.insert(node);
    let Some((entry, top)) = graph.entry() else {
        graph.set_entry(node, level); // the first node: nothing to link to
        return;
    };
    let query = space.query_of(node);
    let mut closest = Scored {
        distance: space.distance(&query, entry),
        node: entry,
    };
    for layer in (level + 1..=top).rev() {
        closest = greedy_closest(graph, space, &query, closest, layer);
    }
    let mut entries = vec![closest];
    for layer in (0..=level.min(top)).rev() {
        let found = search_layer(
            graph,
            space,
            &query,
            &entries,
            linking.ef_construction,
            layer,
            (|_| true, FilteredWalk::Through),
            visited,
        );
        let chosen = linking
            .selection
            .select(space, &found, graph.max_links(layer));
        graph.set_neighbours(node, layer, &chosen);
        for &neighbour in &chosen {
            add_link(graph, space, linking.selection, neighbour, node, layer);
            changed.insert(neighbour);
        }
        entries = found;
    }
    if level > top {
        graph.set_entry(node, level);
    }
}
// ANCHOR_END: insert

// ANCHOR: add_link
/// Adds `new` to the neighbours of `node` on `layer`; a full list is chosen again among its
/// neighbours and `new`, by their distances to `node`.
fn add_link(
    graph: &mut Graph,
    space: &Space,
    selection: Selection,
    node: u32,
    new: u32,
    layer: usize,
) {
    if graph.push_neighbour(node, layer, new) {
        return;
    }
    let base = space.query_of(node);
    let mut candidates: Vec<Scored> = graph
        .neighbours(node, layer)
        .iter()
        .chain(std::iter::once(&new))
        .map(|&n| Scored {
            distance: space.distance(&base, n),
            node: n,
        })
        .collect();
    candidates.sort_unstable();
    let kept = selection.select(space, &candidates, graph.max_links(layer));
    graph.set_neighbours(node, layer, &kept);
}
// ANCHOR_END: add_link

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_thin_out_by_a_factor_of_m_and_depend_on_the_seed_and_node_only() {
        let m = 16;
        let levels: Vec<usize> = (0..100_000).map(|n| random_level(7, n, m)).collect();
        let above = |l: usize| levels.iter().filter(|&&x| x >= l).count() as f64;
        // P(level >= 1) = 1/M, P(level >= 2) = 1/M².
        assert!((above(1) / 100_000.0 - 1.0 / 16.0).abs() < 0.005);
        assert!((above(2) / 100_000.0 - 1.0 / 256.0).abs() < 0.001);
        assert_eq!(random_level(7, 1234, m), levels[1234]);
        let other_seed: Vec<usize> = (0..1000).map(|n| random_level(8, n, m)).collect();
        assert_ne!(other_seed, levels[..1000]);
    }
}
