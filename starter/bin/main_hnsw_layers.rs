//! Chapter 13's picture: the layers of a real HNSW graph, and the path of one search down them.
//!
//! Seeded 2-D points drawn around a few centres are inserted one by one into an in-memory
//! [`Hnsw`], exactly as the index builds. Each layer is then drawn as a square panel, stacked
//! as the layers are (the top layer at the top, layer 0 at the bottom): all points faint grey,
//! the layer's nodes in blue, its links as thin lines, the entry point as a big ringed dot. A
//! query (the cross) is searched for with the search's own functions, one layer at a time, and
//! its path is drawn in vermilion: on each upper layer the greedy hops, from the node the
//! layer above stopped at (ringed); on layer 0 the beam it ends with (small rings) and the `k`
//! nearest nodes (dots). The image holds no text but the layer numbers: the chapter gives the
//! caption. Run with `cargo run --release --bin main_hnsw_layers`; what it drew goes to
//! standard output (`--json` for one JSON document), the logs to standard error.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::distances::squared_euclidean_distance;
use simple_vector_db::engine::indexes::hnsw::insert::random_level;
use simple_vector_db::engine::indexes::hnsw::Hnsw;
use simple_vector_db::engine::HnswSettings;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive};
use simple_vector_db::evaluation::plots::hnsw::{
    draw_hnsw_layers, layers_of, trace_search, Layer, LayersPicture, SearchPath,
};
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::{print_json, print_line};
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Metric, Result};

/// Draws the layers of an HNSW graph of seeded 2-D points as a PNG, with one search's path.
#[derive(Debug, Parser)]
#[command(name = "main_hnsw_layers", version)]
struct Args {
    /// Where to write the PNG (its directory is created if missing). The default is the current
    /// directory, so that a run never overwrites the book's picture, which `regen_book` draws.
    #[arg(long, default_value = "ch13-hnsw-layers.png")]
    out: PathBuf,
    /// How many points to insert (2 to 100,000).
    #[arg(long, default_value_t = 300, value_parser = parse_positive)]
    points: usize,
    /// How many groups the points are drawn around.
    #[arg(long, default_value_t = 5, value_parser = parse_positive)]
    clusters: usize,
    /// M: links per node on the upper layers (2·M on layer 0); about one node in M reaches
    /// the layer above.
    #[arg(long, default_value_t = 6)]
    m: usize,
    /// The beam of the search each insertion makes for its neighbours (at least M).
    #[arg(long, default_value_t = 32)]
    ef_construction: usize,
    /// The beam of the drawn search on layer 0 (at least --k).
    #[arg(long, default_value_t = 16, value_parser = parse_positive)]
    ef: usize,
    /// How many nearest nodes the drawn search keeps.
    #[arg(long, default_value_t = 5, value_parser = parse_positive)]
    k: usize,
    /// Seed of the points and of the nodes' levels.
    #[arg(long, default_value_t = 10)]
    seed: u64,
    /// Width and height of each layer's panel, in pixels.
    #[arg(long, default_value_t = 560, value_parser = clap::value_parser!(u32).range(64..=4096))]
    size: u32,
    /// Print the results as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// The most points drawn: more make a picture of ink, and the build would take a while.
const MAX_POINTS: usize = 100_000;

/// The tallest image drawn: a few layers of a large panel, not a strip of dozens.
const MAX_HEIGHT: u64 = 16_384;

fn main() -> ExitCode {
    let args = Args::parse();
    flex_logging::init();
    // A mistake in the arguments costs `error: …` and exit code 2, before the graph is built.
    check_then_run(check_arguments(&args), |settings| {
        run(&args, settings)?.print(args.json)
    })
}

/// Checks what clap cannot: the settings of the graph, the counts against each other, the
/// height of the image and its format.
fn check_arguments(args: &Args) -> Result<HnswSettings> {
    if !(2..=MAX_POINTS).contains(&args.points) {
        return Err(Error::InvalidParameter {
            name: "--points",
            reason: format!(
                "{} is out of range: must be between 2 (a link needs two nodes) and {MAX_POINTS}",
                args.points
            ),
        });
    }
    let settings = HnswSettings {
        ef_search: args.ef,
        ..HnswSettings::new(args.m, args.ef_construction).with_seed(args.seed)
    };
    settings.check()?;
    if args.ef < args.k {
        return Err(Error::EfBelowK {
            ef: args.ef,
            k: args.k,
        });
    }
    if args.k > args.points {
        return Err(Error::InvalidParameter {
            name: "--k",
            reason: format!("{} is above --points {}", args.k, args.points),
        });
    }
    check_height(args)?;
    check_is_png(args)?;
    Ok(settings)
}

/// One panel per layer: the levels the nodes will draw are known before the build (they
/// depend on the seed and the node's number alone), so a too-tall image is refused now.
fn check_height(args: &Args) -> Result<()> {
    let top = (0..u32::try_from(args.points).unwrap_or(u32::MAX))
        .map(|node| random_level(args.seed, node, args.m))
        .max()
        .unwrap_or(0);
    let height = (top as u64 + 1) * u64::from(args.size);
    if height > MAX_HEIGHT {
        return Err(Error::InvalidParameter {
            name: "--size",
            reason: format!(
                "{} layers of {} pixels make an image {height} pixels tall, above {MAX_HEIGHT}: \
                 lower --size or --points, or raise --m",
                top + 1,
                args.size
            ),
        });
    }
    Ok(())
}

/// The image format follows the extension; only PNG is drawn.
fn check_is_png(args: &Args) -> Result<()> {
    let is_png = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if is_png {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "--out",
            reason: format!("{} does not end in .png", args.out.display()),
        })
    }
}

fn run(args: &Args, settings: HnswSettings) -> Result<Drawn> {
    let points = generate(&ClusteredSpec {
        n_vectors: args.points,
        dimension: 2,
        n_clusters: args.clusters,
        noise: 0.12,
        seed: args.seed,
    })?;
    let hnsw = timeit("building the graph", || build(settings, &points));
    let layers = layers_of(hnsw.graph());
    let query = query_far_from_the_entry(&hnsw, &points);
    let path = trace_search(&hnsw, &query, args.ef, args.k)?;

    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let picture = LayersPicture {
        hnsw: &hnsw,
        layers: &layers,
        query: &query,
        path: &path,
    };
    timeit("drawing", || {
        draw_hnsw_layers(&picture, &args.out, args.size)
    })?;
    Ok(Drawn {
        points: points.len(),
        m: settings.m,
        ef_construction: settings.ef_construction,
        seed: settings.seed,
        entry: hnsw
            .graph()
            .entry()
            .map(|(node, layer)| Entry { node, layer }),
        layers: layers.iter().map(LayerSummary::of).collect(),
        query,
        ef: args.ef,
        k: args.k,
        path,
        wrote: args.out.display().to_string(),
    })
}

/// The graph of `points`, inserted in order: node `i` is point `i`, under id `i`.
fn build(settings: HnswSettings, points: &[Vec<f32>]) -> Hnsw {
    let mut hnsw = Hnsw::new(settings, Metric::Euclidean, 2);
    for (id, point) in (0i64..).zip(points) {
        hnsw.insert(id, point, &mut BTreeSet::new());
    }
    hnsw
}

/// The point farthest from the entry point, pulled a little back towards it: at the edge of a
/// far group, so that the search has the whole picture to cross, and not a point of the graph
/// itself (which would find itself first).
fn query_far_from_the_entry(hnsw: &Hnsw, points: &[Vec<f32>]) -> Vec<f32> {
    let Some((entry, _)) = hnsw.graph().entry() else {
        return vec![0.0, 0.0];
    };
    let start = hnsw.space().vector(entry);
    let far = points
        .iter()
        .max_by(|a, b| {
            squared_euclidean_distance(a, start).total_cmp(&squared_euclidean_distance(b, start))
        })
        .map_or(start, Vec::as_slice);
    far.iter()
        .zip(start)
        .map(|(f, s)| f + 0.25 * (s - f))
        .collect()
}

/// How many nodes and links one layer has.
#[derive(Debug, Serialize)]
struct LayerSummary {
    layer: usize,
    nodes: usize,
    /// Entries of the neighbour lists: a link both nodes list counts twice.
    links: usize,
    /// The lines drawn: each linked pair once.
    lines: usize,
}

impl LayerSummary {
    fn of(layer: &Layer) -> Self {
        LayerSummary {
            layer: layer.layer,
            nodes: layer.nodes.len(),
            links: layer.links,
            lines: layer.lines.len(),
        }
    }
}

/// Where searches start.
#[derive(Debug, Serialize)]
struct Entry {
    node: u32,
    layer: usize,
}

/// What the picture shows, and where it was written: text or, with `--json`, one JSON document.
#[derive(Debug, Serialize)]
struct Drawn {
    points: usize,
    m: usize,
    ef_construction: usize,
    seed: u64,
    /// Layer 0 first.
    layers: Vec<LayerSummary>,
    entry: Option<Entry>,
    query: Vec<f32>,
    ef: usize,
    k: usize,
    path: SearchPath,
    wrote: String,
}

impl Drawn {
    /// Prints the results on standard output.
    fn print(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        print_line(format_args!(
            "{} points, M = {}, ef_construction = {}, seed {}: {}",
            self.points,
            self.m,
            self.ef_construction,
            self.seed,
            counted(self.layers.len(), "layer")
        ))?;
        for layer in &self.layers {
            print_line(format_args!(
                "layer {}: {}, {} ({} drawn)",
                layer.layer,
                counted(layer.nodes, "node"),
                counted(layer.links, "link"),
                counted(layer.lines, "line")
            ))?;
        }
        if let Some(entry) = &self.entry {
            print_line(format_args!(
                "entry point: node {} on layer {}",
                entry.node, entry.layer
            ))?;
        }
        self.print_path()?;
        print_line(format_args!("wrote {}", self.wrote))
    }

    /// The search's path, layer by layer from the top.
    fn print_path(&self) -> Result<()> {
        let query: Vec<String> = self.query.iter().map(|x| format!("{x:.3}")).collect();
        print_line(format_args!("search for [{}]:", query.join(", ")))?;
        for walk in &self.path.walks {
            let nodes = joined(&walk.nodes, " -> ");
            if walk.nodes.len() > 1 {
                print_line(format_args!(
                    "  on layer {}, greedy hops {nodes}",
                    walk.layer
                ))?;
            } else {
                print_line(format_args!(
                    "  on layer {}, no hop: no neighbour of node {nodes} is closer",
                    walk.layer
                ))?;
            }
        }
        print_line(format_args!(
            "  on layer 0, a beam of ef = {} from node {} ends on {}",
            self.ef,
            self.path.beam_start,
            joined(&self.path.beam, ", ")
        ))?;
        print_line(format_args!(
            "  the {} nearest: {}",
            self.k,
            joined(&self.path.found, ", ")
        ))
    }
}

/// `n` and `thing`, in the plural unless `n` is 1.
fn counted(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

fn joined(nodes: &[u32], separator: &str) -> String {
    let names: Vec<String> = nodes.iter().map(u32::to_string).collect();
    names.join(separator)
}
