//! Chapter 13's picture: the layers of a small HNSW graph of 2-D points, and one search down them.
//!
//! Each layer is drawn as its own square panel, stacked as the layers are, the top layer at
//! the top, so that the picture reads downwards in the order a search runs. Every panel shows
//! all the points faintly, the nodes on that layer in colour, the layer's links as thin lines
//! and the entry point as a big ringed dot. Over them goes the path of one query: on each upper
//! layer the greedy walk, hop by hop, and on layer 0 the beam the search ends with and its `k`
//! nearest nodes.
//!
//! The path is not drawn from a sketch of the algorithm but traced with the search's own
//! functions ([`greedy_closest`], [`search_layer`]) called layer by layer, and checked against
//! [`Hnsw::search`]: the picture shows what the code does.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;

use crate::engine::indexes::hnsw::filtered::FilteredWalk;
use crate::engine::indexes::hnsw::graph::Graph;
use crate::engine::indexes::hnsw::search::{greedy_closest, search_layer, Scored, Visited};
use crate::engine::indexes::hnsw::space::{Query, Space};
use crate::engine::indexes::hnsw::Hnsw;
use crate::error::{Error, Result};
use crate::evaluation::plots::font::{self, FAMILY};
use crate::evaluation::plots::frame::Frame;

/// What one layer holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub layer: usize,
    /// The nodes on this layer: those whose level is at least `layer`.
    pub nodes: Vec<u32>,
    /// Entries in the neighbour lists of the layer (a link each way counts twice).
    pub links: usize,
    /// The pairs of linked nodes, each once (lower node first): the lines drawn.
    pub lines: Vec<(u32, u32)>,
}

/// The greedy walk of a search on one upper layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Walk {
    pub layer: usize,
    /// The node the walk starts from (where the walk above stopped), then each hop.
    pub nodes: Vec<u32>,
}

/// The path of one search down the layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchPath {
    /// The walks on the upper layers, top layer first.
    pub walks: Vec<Walk>,
    /// Where layer 0's beam search starts: the node the last walk stopped at.
    pub beam_start: u32,
    /// The `ef` nodes the beam ends with, closest first.
    pub beam: Vec<u32>,
    /// The `k` closest of them: the search's answer.
    pub found: Vec<u32>,
}

/// Every layer of `graph`, layer 0 first.
pub fn layers_of(graph: &Graph) -> Vec<Layer> {
    let top = graph.entry().map_or(0, |(_, level)| level);
    (0..=top)
        .map(|layer| {
            let nodes: Vec<u32> = (0u32..)
                .zip(graph.levels())
                .filter(|&(_, &level)| usize::from(level) >= layer)
                .map(|(node, _)| node)
                .collect();
            let links = nodes
                .iter()
                .map(|&n| graph.neighbours(n, layer).len())
                .sum();
            let lines = lines_of(graph, &nodes, layer);
            Layer {
                layer,
                nodes,
                links,
                lines,
            }
        })
        .collect()
}

/// Each linked pair of `nodes` on `layer` once, whether one or both of them list the other.
fn lines_of(graph: &Graph, nodes: &[u32], layer: usize) -> Vec<(u32, u32)> {
    let mut lines: Vec<(u32, u32)> = nodes
        .iter()
        .flat_map(|&a| {
            graph
                .neighbours(a, layer)
                .iter()
                .map(move |&b| (a.min(b), a.max(b)))
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

// ANCHOR: trace
/// The path a search for `query` takes through `hnsw`, with a beam of `ef` on layer 0 and the
/// `k` nearest kept: the same steps as [`Hnsw::search`], one layer at a time.
///
/// # Errors
///
/// [`Error::InvalidParameter`] for an empty graph (no entry point to start from), and
/// [`Error::Plot`] if the traced path does not end where the real search does.
pub fn trace_search(hnsw: &Hnsw, query: &[f32], ef: usize, k: usize) -> Result<SearchPath> {
    let (graph, space) = (hnsw.graph(), hnsw.space());
    let Some((entry, top)) = graph.entry() else {
        return Err(Error::InvalidParameter {
            name: "graph",
            reason: "an empty graph has no entry point to search from".to_string(),
        });
    };
    let prepared = space.query(query);
    let mut closest = Scored {
        distance: space.distance(&prepared, entry),
        node: entry,
    };
    let mut walks = Vec::new();
    for layer in (1..=top).rev() {
        let walk = greedy_walk(graph, space, &prepared, closest, layer);
        closest = greedy_closest(graph, space, &prepared, closest, layer);
        if walk.last() != Some(&closest.node) {
            return Err(Error::Plot(format!(
                "the walk traced on layer {layer} ended on {walk:?}, greedy_closest on node {}",
                closest.node
            )));
        }
        walks.push(Walk { layer, nodes: walk });
    }
    let ef = ef.max(k);
    let beam: Vec<u32> = search_layer(
        graph,
        space,
        &prepared,
        &[closest],
        ef,
        0,
        (|_| true, FilteredWalk::Through),
        &mut Visited::default(),
    )
    .iter()
    .map(|s| s.node)
    .collect();
    let found: Vec<u32> = beam.iter().copied().take(k).collect();
    check_against_search(hnsw, query, ef, &found)?;
    Ok(SearchPath {
        walks,
        beam_start: closest.node,
        beam,
        found,
    })
}
// ANCHOR_END: trace

/// [`greedy_closest`], one hop at a time: each pass over the current node's neighbours moves
/// to the closest of those closer than it, as that function's passes do; the nodes visited.
fn greedy_walk(
    graph: &Graph,
    space: &Space,
    query: &Query<'_>,
    start: Scored,
    layer: usize,
) -> Vec<u32> {
    let mut walk = vec![start.node];
    let mut at = start;
    loop {
        let mut next = at;
        for &neighbour in graph.neighbours(at.node, layer) {
            let distance = space.distance(query, neighbour);
            if distance < next.distance {
                next = Scored {
                    distance,
                    node: neighbour,
                };
            }
        }
        if next.node == at.node {
            return walk; // no neighbour is closer: the walk stops here
        }
        walk.push(next.node);
        at = next;
    }
}

/// Checks that the traced answer is the one [`Hnsw::search`] gives (its ids are node ids).
fn check_against_search(hnsw: &Hnsw, query: &[f32], ef: usize, found: &[u32]) -> Result<()> {
    let ids = hnsw.ids();
    let traced: Vec<i64> = found.iter().map(|&n| ids[n as usize]).collect();
    let searched: Vec<i64> = hnsw
        .search(query, found.len(), ef)
        .iter()
        .map(|n| n.id)
        .collect();
    if traced == searched {
        Ok(())
    } else {
        Err(Error::Plot(format!(
            "the traced search found ids {traced:?}, Hnsw::search {searched:?}"
        )))
    }
}

/// Everything the picture shows.
#[derive(Debug, Clone, Copy)]
pub struct LayersPicture<'a> {
    pub hnsw: &'a Hnsw,
    /// Layer 0 first, as [`layers_of`] returns them.
    pub layers: &'a [Layer],
    pub query: &'a [f32],
    pub path: &'a SearchPath,
}

// ANCHOR: draw
/// Draws one square panel of `size` pixels per layer, stacked with the top layer at the top,
/// into a PNG at `out` (whose directory must exist).
///
/// # Errors
///
/// [`Error::Plot`] when plotters cannot draw or write the image.
pub fn draw_hnsw_layers(picture: &LayersPicture<'_>, out: &Path, size: u32) -> Result<()> {
    font::register()?;
    let panels = u32::try_from(picture.layers.len().max(1)).unwrap_or(u32::MAX);
    let root = BitMapBackend::new(out, (size, size.saturating_mul(panels))).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let points: Vec<&[f32]> = (0..picture.hnsw.len())
        .map(|n| picture.hnsw.space().vector(n as u32))
        .collect();
    // A little lower than centred: the layer's label sits above the points.
    let frame = Frame::around(points.iter().copied(), size, 1.16, 0.53);
    let areas = root.split_evenly((picture.layers.len().max(1), 1));
    for (layer, area) in picture.layers.iter().rev().zip(&areas) {
        let panel = Panel {
            area,
            frame,
            points: &points,
        };
        panel.draw(layer, picture).map_err(plot_error)?;
    }
    root.present().map_err(plot_error)
}
// ANCHOR_END: draw

type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Links of the upper layers, as thin blue-grey lines.
const LINK: RGBColor = RGBColor(120, 160, 200);
/// Links of layer 0, lighter: there are many more of them, and the path goes over them.
const LINK_0: RGBColor = RGBColor(180, 203, 225);
/// Nodes on the layer (Okabe and Ito's blue, as in the charts).
const NODE: RGBColor = RGBColor(0, 114, 178);
/// The search's path (Okabe and Ito's vermilion).
const PATH: RGBColor = RGBColor(213, 94, 0);
/// Points not on the layer.
const FAINT: RGBColor = RGBColor(205, 205, 205);

/// One layer's panel.
struct Panel<'p, DB: DrawingBackend> {
    area: &'p DrawingArea<DB, Shift>,
    frame: Frame,
    points: &'p [&'p [f32]],
}

impl<DB: DrawingBackend> Panel<'_, DB>
where
    DB::ErrorType: 'static,
{
    /// Draws `layer`, bottom to top: the faint points, the links, the nodes, the path, the
    /// entry point and the query, then the label and the panel's edge.
    fn draw(&self, layer: &Layer, picture: &LayersPicture<'_>) -> DrawResult<()> {
        let upper = layer.layer > 0;
        for point in self.points {
            self.dot(point, 2, FAINT)?;
        }
        let link = if upper {
            LINK.stroke_width(2)
        } else {
            LINK_0.stroke_width(1)
        };
        for &(a, b) in &layer.lines {
            self.line(a, b, link)?;
        }
        for &node in &layer.nodes {
            self.dot(self.points[node as usize], if upper { 5 } else { 3 }, NODE)?;
        }
        match picture.path.walks.iter().find(|w| w.layer == layer.layer) {
            Some(walk) => self.draw_walk(&walk.nodes)?,
            None if !upper => self.draw_beam(picture.path, picture.query)?,
            None => {}
        }
        if let Some((entry, _)) = picture.hnsw.graph().entry() {
            self.draw_entry(entry)?;
        }
        self.draw_query(picture.query)?;
        self.draw_label(layer.layer)?;
        let (width, height) = self.area.dim_in_pixel();
        let edge = [(0, 0), (width as i32 - 1, height as i32 - 1)];
        self.area.draw(&Rectangle::new(
            edge,
            RGBColor(170, 170, 170).stroke_width(1),
        ))?;
        Ok(())
    }

    /// The greedy walk: thick lines from hop to hop, the start ringed, each hop a dot.
    fn draw_walk(&self, walk: &[u32]) -> DrawResult<()> {
        for pair in walk.windows(2) {
            self.line(pair[0], pair[1], PATH.stroke_width(5))?;
        }
        if let Some(&start) = walk.first() {
            self.ring(self.points[start as usize], 10, PATH)?;
        }
        for &hop in walk.iter().skip(1) {
            self.haloed_dot(self.points[hop as usize], 7, PATH)?;
        }
        Ok(())
    }

    /// Layer 0's beam: where it started (ringed), the `ef` nodes it ends with (small rings)
    /// and the `k` nearest of them (dots joined to the query).
    fn draw_beam(&self, path: &SearchPath, query: &[f32]) -> DrawResult<()> {
        let from = self.frame.to_pixel(query);
        for &node in &path.found {
            let to = self.frame.to_pixel(self.points[node as usize]);
            self.area
                .draw(&PathElement::new(vec![from, to], PATH.stroke_width(2)))?;
        }
        self.ring(self.points[path.beam_start as usize], 10, PATH)?;
        for &node in &path.beam {
            self.ring(self.points[node as usize], 5, PATH)?;
        }
        for &node in &path.found {
            self.haloed_dot(self.points[node as usize], 5, PATH)?;
        }
        Ok(())
    }

    /// The entry point: a big black dot in a black ring, on white.
    fn draw_entry(&self, entry: u32) -> DrawResult<()> {
        let at = self.frame.to_pixel(self.points[entry as usize]);
        self.area.draw(&Circle::new(at, 15, WHITE.filled()))?;
        self.area
            .draw(&Circle::new(at, 13, BLACK.stroke_width(3)))?;
        self.area.draw(&Circle::new(at, 7, BLACK.filled()))?;
        Ok(())
    }

    /// The query: a black cross on a white disc.
    fn draw_query(&self, query: &[f32]) -> DrawResult<()> {
        let (x, y) = self.frame.to_pixel(query);
        self.area.draw(&Circle::new((x, y), 11, WHITE.filled()))?;
        let arm = 8;
        let style = BLACK.stroke_width(4);
        self.area.draw(&PathElement::new(
            vec![(x - arm, y - arm), (x + arm, y + arm)],
            style,
        ))?;
        self.area.draw(&PathElement::new(
            vec![(x - arm, y + arm), (x + arm, y - arm)],
            style,
        ))?;
        Ok(())
    }

    /// "layer N" in the top left corner, small: the chapter's caption says the rest.
    fn draw_label(&self, layer: usize) -> DrawResult<()> {
        let (_, height) = self.area.dim_in_pixel();
        let font_size = (height / 26).max(10);
        let style = (FAMILY, font_size).into_font().color(&RGBColor(60, 60, 60));
        let margin = (height / 60).max(4) as i32;
        self.area.draw(&Text::new(
            format!("layer {layer}"),
            (margin, margin),
            style,
        ))?;
        Ok(())
    }

    fn dot(&self, point: &[f32], radius: u32, colour: RGBColor) -> DrawResult<()> {
        let at = self.frame.to_pixel(point);
        self.area.draw(&Circle::new(at, radius, colour.filled()))?;
        Ok(())
    }

    /// A dot with a white edge, so that it stands out over lines and other dots.
    fn haloed_dot(&self, point: &[f32], radius: u32, colour: RGBColor) -> DrawResult<()> {
        self.dot(point, radius + 2, WHITE)?;
        self.dot(point, radius, colour)
    }

    fn ring(&self, point: &[f32], radius: u32, colour: RGBColor) -> DrawResult<()> {
        let at = self.frame.to_pixel(point);
        self.area
            .draw(&Circle::new(at, radius, colour.stroke_width(2)))?;
        Ok(())
    }

    fn line(&self, a: u32, b: u32, style: ShapeStyle) -> DrawResult<()> {
        let ends = vec![
            self.frame.to_pixel(self.points[a as usize]),
            self.frame.to_pixel(self.points[b as usize]),
        ];
        self.area.draw(&PathElement::new(ends, style))?;
        Ok(())
    }
}

fn plot_error<E: std::fmt::Display>(error: E) -> Error {
    Error::Plot(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;
    use crate::engine::HnswSettings;
    use std::collections::BTreeSet;

    fn grid_graph() -> Hnsw {
        let mut hnsw = Hnsw::new(HnswSettings::new(4, 16), Metric::Euclidean, 2);
        for i in 0..200i64 {
            let point = [(i % 20) as f32, (i / 20) as f32];
            hnsw.insert(i, &point, &mut BTreeSet::new());
        }
        hnsw
    }

    #[test]
    fn layers_thin_out_and_every_line_joins_two_nodes_of_its_layer() {
        let hnsw = grid_graph();
        let layers = layers_of(hnsw.graph());
        assert_eq!(layers[0].nodes.len(), 200);
        for pair in layers.windows(2) {
            assert!(pair[1].nodes.len() <= pair[0].nodes.len());
            for &(a, b) in &pair[1].lines {
                assert!(a < b && pair[1].nodes.contains(&a) && pair[1].nodes.contains(&b));
            }
        }
    }

    #[test]
    fn the_traced_path_walks_down_from_the_entry_to_the_search_s_answer() {
        let hnsw = grid_graph();
        let path = trace_search(&hnsw, &[13.2, 4.7], 16, 5).expect("a graph to search");
        let entry = hnsw.graph().entry().map(|(node, _)| node);
        assert_eq!(
            path.walks.first().and_then(|w| w.nodes.first()).copied(),
            entry
        );
        for pair in path.walks.windows(2) {
            assert_eq!(pair[0].nodes.last(), pair[1].nodes.first());
        }
        assert_eq!(path.found.len(), 5);
        assert_eq!(
            path.found[0],
            5 * 20 + 13,
            "(13, 5), the nearest grid point"
        );
    }
}
