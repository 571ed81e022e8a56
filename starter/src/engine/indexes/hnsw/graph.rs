//! The layers of the graph in memory: who links to whom, on each layer.
//!
//! Every node is on layer 0, and on the layers above up to its own level. Layer 0 keeps up to
//! `2·M` neighbours a node, the upper layers `M`: layer 0 carries the fine-grained search, so it
//! gets the denser links (the paper's `Mmax0 = 2·M`). The lists are stored the way hnswlib and
//! FAISS store them, in fixed slots: layer 0 is one flat array of `1 + 2·M` numbers per node (a
//! count, then the slots), so a node's neighbours sit at `node × (1 + 2·M)` with no pointer to
//! follow; the few nodes that reach the upper layers get `1 + M` numbers per layer in a second
//! array, found through an offset per node.

// ANCHOR: graph
/// The neighbour lists of every node, on every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Neighbours per node on the upper layers (`M`); layer 0 keeps twice as many.
    m: usize,
    /// The top layer of each node.
    levels: Vec<u8>,
    /// Layer 0: `1 + 2·M` slots per node, a count then the neighbours.
    layer0: Vec<u32>,
    /// Where each node's upper layers start in `upper` (unused for a node of level 0).
    upper_start: Vec<usize>,
    /// Layers 1 and above: `1 + M` slots per node and layer, a count then the neighbours.
    upper: Vec<u32>,
    /// The node searches start from, on the top layer: `(node, level)`.
    entry: Option<(u32, u8)>,
}
// ANCHOR_END: graph

impl Graph {
    /// An empty graph whose nodes keep `m` neighbours on the upper layers, `2·m` on layer 0.
    pub fn new(m: usize) -> Self {
        Graph {
            m,
            levels: Vec::new(),
            layer0: Vec::new(),
            upper_start: Vec::new(),
            upper: Vec::new(),
            entry: None,
        }
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// `true` when the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// `M`: the most neighbours a node keeps on an upper layer.
    pub fn m(&self) -> usize {
        self.m
    }

    /// The most neighbours a node keeps on `layer`: `2·M` on layer 0, `M` above.
    pub fn max_links(&self, layer: usize) -> usize {
        if layer == 0 {
            2 * self.m
        } else {
            self.m
        }
    }

    /// The top layer of `node`.
    pub fn level(&self, node: u32) -> usize {
        usize::from(self.levels[node as usize])
    }

    /// Every node's top layer, by node.
    pub fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// Where searches start: the first node that reached the top layer, and that layer.
    pub fn entry(&self) -> Option<(u32, usize)> {
        self.entry.map(|(node, level)| (node, usize::from(level)))
    }

    /// Makes `node` the entry point at `level`.
    pub fn set_entry(&mut self, node: u32, level: usize) {
        self.entry = Some((node, level_byte(level)));
    }

    /// Adds a node with no neighbour yet on layers `0..=level`, and returns its number.
    pub fn add_node(&mut self, level: usize) -> u32 {
        let node = u32::try_from(self.levels.len()).unwrap_or(u32::MAX);
        self.levels.push(level_byte(level));
        self.layer0
            .resize(self.layer0.len() + 1 + self.max_links(0), 0);
        self.upper_start.push(self.upper.len());
        self.upper
            .resize(self.upper.len() + level * (1 + self.m), 0);
        node
    }

    /// The neighbours of `node` on `layer` (a layer the node is on).
    pub fn neighbours(&self, node: u32, layer: usize) -> &[u32] {
        let (list, start) = self.list_range(node, layer);
        let count = list[start] as usize;
        &list[start + 1..start + 1 + count]
    }

    /// Replaces the neighbours of `node` on `layer`; at most [`max_links`](Self::max_links) of
    /// `neighbours` are kept.
    pub fn set_neighbours(&mut self, node: u32, layer: usize, neighbours: &[u32]) {
        let count = neighbours.len().min(self.max_links(layer));
        let (list, start) = self.list_range_mut(node, layer);
        list[start] = count as u32;
        list[start + 1..start + 1 + count].copy_from_slice(&neighbours[..count]);
    }

    /// Adds `neighbour` to the list of `node` on `layer` if it has room; `false` when it is full.
    pub fn push_neighbour(&mut self, node: u32, layer: usize, neighbour: u32) -> bool {
        let max = self.max_links(layer);
        let (list, start) = self.list_range_mut(node, layer);
        let count = list[start] as usize;
        if count >= max {
            return false;
        }
        list[start + 1 + count] = neighbour;
        list[start] += 1;
        true
    }

    /// Bytes the graph keeps per node in memory: its slots on every layer, its level and the
    /// offset of its upper layers (the id each node stands for is counted by the index).
    pub fn bytes(&self) -> usize {
        std::mem::size_of_val(self.layer0.as_slice())
            + std::mem::size_of_val(self.upper.as_slice())
            + std::mem::size_of_val(self.levels.as_slice())
            + std::mem::size_of_val(self.upper_start.as_slice())
    }

    /// The slice holding the list of `node` on `layer`, and where in it the list starts.
    fn list_range(&self, node: u32, layer: usize) -> (&[u32], usize) {
        let node = node as usize;
        if layer == 0 {
            (&self.layer0, node * (1 + self.max_links(0)))
        } else {
            (
                &self.upper,
                self.upper_start[node] + (layer - 1) * (1 + self.m),
            )
        }
    }

    fn list_range_mut(&mut self, node: u32, layer: usize) -> (&mut [u32], usize) {
        let node = node as usize;
        if layer == 0 {
            let start = node * (1 + self.max_links(0));
            (&mut self.layer0, start)
        } else {
            let start = self.upper_start[node] + (layer - 1) * (1 + self.m);
            (&mut self.upper, start)
        }
    }
}

/// A level as stored: levels are drawn below [`super::MAX_LEVEL`], which fits a byte.
fn level_byte(level: usize) -> u8 {
    u8::try_from(level).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_hold_their_layer_s_capacity_and_no_more() {
        let mut graph = Graph::new(2);
        let a = graph.add_node(0);
        let b = graph.add_node(2);
        assert_eq!((graph.len(), graph.level(b)), (2, 2));
        for n in 0..4 {
            assert!(graph.push_neighbour(a, 0, n), "layer 0 keeps 2·M = 4");
        }
        assert!(!graph.push_neighbour(a, 0, 9));
        assert_eq!(graph.neighbours(a, 0), &[0, 1, 2, 3]);
        graph.set_neighbours(b, 2, &[0, 1, 5]);
        assert_eq!(graph.neighbours(b, 2), &[0, 1], "upper layers keep M = 2");
        assert!(graph.neighbours(b, 1).is_empty());
        graph.set_neighbours(a, 0, &[1]);
        assert_eq!(graph.neighbours(a, 0), &[1]);
    }
}
