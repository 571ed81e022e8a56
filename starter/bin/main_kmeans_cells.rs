//! Chapter 6's picture: the Voronoi cells k-means cuts a plane into, and what a search probes.
//!
//! Seeded 2-D points drawn around a few centres are clustered by the same k-means the index
//! uses ([`train_centroids`]). Every pixel of the image is painted in the light colour of its
//! nearest centroid, which draws the cells; the points are drawn in the strong colour of their
//! cell and the centroids as big black dots. A query (the ringed dot) is placed near a border,
//! and the `--probes` cells a search would read for it are painted darker than the others,
//! with a line from the query to each of their centroids. The image holds no text: the chapter
//! gives the caption. Run with `cargo run --release --bin main_kmeans_cells`; what it drew goes
//! to standard output (`--json` for one JSON document), the logs to standard error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use plotters::prelude::*;
use serde::Serialize;
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::datasets::memory_budget::{check_budget, vectors_bytes};
use simple_vector_db::distances::squared_euclidean_distance;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive};
use simple_vector_db::evaluation::plots::frame::Frame;
use simple_vector_db::kmeans::{nearest_centroid, train_centroids, KMeansConfig};
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::print_json;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Result};

/// Draws the k-means cells of seeded 2-D points as a PNG, with the cells a query probes.
#[derive(Debug, Parser)]
#[command(name = "main_kmeans_cells", version)]
struct Args {
    /// Where to write the PNG (its directory is created if missing). The default is the current
    /// directory, so that a run never overwrites the book's picture, which `regen_book` draws.
    #[arg(long, default_value = "ch06-kmeans-cells.png")]
    out: PathBuf,
    /// How many points to draw.
    #[arg(long, default_value_t = 600, value_parser = parse_positive)]
    points: usize,
    /// How many groups the points are drawn around.
    #[arg(long, default_value_t = 6, value_parser = parse_positive)]
    clusters: usize,
    /// How many k-means cells to train (at most --points).
    #[arg(long, default_value_t = 8, value_parser = parse_positive)]
    cells: usize,
    /// How many cells the example query probes, highlighted (at most --cells).
    #[arg(long, default_value_t = 2, value_parser = parse_positive)]
    probes: usize,
    /// Seed of the points and of k-means.
    #[arg(long, default_value_t = 5)]
    seed: u64,
    /// Width and height of the image, in pixels: 64 shows anything at all, and 8192² pixels
    /// still count in a `u32`.
    #[arg(long, default_value_t = 800, value_parser = clap::value_parser!(u32).range(64..=8192))]
    size: u32,
    /// Print the results as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Light-to-strong colours for up to ten cells (more cells reuse them).
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
    (188, 189, 34),
    (127, 127, 127),
];

fn main() -> ExitCode {
    let args = Args::parse();
    flex_logging::init();
    // A mistake in the arguments costs `error: …` and exit code 2, before k-means runs.
    check_then_run(check_arguments(&args), |()| run(&args)?.print(args.json))
}

/// Checks what clap cannot: the counts against each other, the memory the points take, the
/// image's format.
fn check_arguments(args: &Args) -> Result<()> {
    check_budget(
        || format!("--points {}", args.points),
        vectors_bytes(args.points, 2),
    )?;
    if args.cells > args.points {
        return Err(Error::InvalidClusterCount {
            n_clusters: args.cells,
            n_vectors: args.points,
        });
    }
    if args.probes > args.cells {
        return Err(Error::InvalidProbeCount {
            n_probes: args.probes,
            n_clusters: args.cells,
        });
    }
    // The image format follows the extension; only PNG is drawn.
    let is_png = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return Err(Error::InvalidParameter {
            name: "--out",
            reason: format!("{} does not end in .png", args.out.display()),
        });
    }
    Ok(())
}

fn run(args: &Args) -> Result<Drawn> {
    let points = generate(&ClusteredSpec {
        n_vectors: args.points,
        dimension: 2,
        n_clusters: args.clusters,
        noise: 0.12,
        seed: args.seed,
    })?;
    let config = KMeansConfig {
        seed: args.seed,
        ..KMeansConfig::new(args.cells)
    };
    let centroids = timeit("k-means", || train_centroids(&points, &config))?;
    let query = query_near_a_border(&centroids);
    let probed = nearest_cells(&centroids, &query, args.probes);

    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let scene = Scene {
        frame: Frame::around(points.iter().map(Vec::as_slice), args.size, 1.12, 0.5),
        points: &points,
        centroids: &centroids,
        query: &query,
        probed: &probed,
    };
    timeit("drawing", || draw(&scene, &args.out)).map_err(|e| Error::Plot(e.to_string()))?;
    Ok(Drawn {
        points: points.len(),
        centroids,
        query,
        probed_cells: probed,
        wrote: args.out.display().to_string(),
    })
}

/// What the picture shows, and where it was written: text or, with `--json`, one JSON document.
#[derive(Debug, Serialize)]
struct Drawn {
    points: usize,
    centroids: Vec<Vec<f32>>,
    query: Vec<f32>,
    probed_cells: Vec<usize>,
    wrote: String,
}

impl Drawn {
    /// Prints the results on standard output.
    fn print(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        println!(
            "{} points, {} cells; the query {:?} probes cells {:?}",
            self.points,
            self.centroids.len(),
            self.query,
            self.probed_cells
        );
        println!("wrote {}", self.wrote);
        Ok(())
    }
}

/// A point just short of the middle of two neighbouring cells' centroids: near their shared
/// border, where a single probe is most likely to miss a true neighbour.
///
/// Of all pairs of centroids whose midpoint lies on their shared border (no third centroid is
/// nearer to it), the pair furthest apart is used, so the picture has room to show it.
fn query_near_a_border(centroids: &[Vec<f32>]) -> Vec<f32> {
    let between = |a: &[f32], b: &[f32], t: f32| -> Vec<f32> {
        a.iter().zip(b).map(|(x, y)| x + t * (y - x)).collect()
    };
    let mut widest: Option<(f32, usize, usize)> = None;
    for a in 0..centroids.len() {
        for b in a + 1..centroids.len() {
            let middle = between(&centroids[a], &centroids[b], 0.5);
            let neighbours = nearest_cells(centroids, &middle, 2);
            let d = squared_euclidean_distance(&centroids[a], &centroids[b]);
            let shares_border = neighbours.contains(&a) && neighbours.contains(&b);
            if shares_border && widest.is_none_or(|(best, _, _)| d > best) {
                widest = Some((d, a, b));
            }
        }
    }
    match widest {
        Some((_, a, b)) => between(&centroids[a], &centroids[b], 0.45),
        None => centroids.first().cloned().unwrap_or_else(|| vec![0.0, 0.0]),
    }
}

/// The `n` cells whose centroids are nearest to `query`, nearest first.
fn nearest_cells(centroids: &[Vec<f32>], query: &[f32], n: usize) -> Vec<usize> {
    let mut order: Vec<(f32, usize)> = centroids
        .iter()
        .enumerate()
        .map(|(cell, c)| (squared_euclidean_distance(c, query), cell))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.into_iter().take(n).map(|(_, cell)| cell).collect()
}

/// Everything the picture shows.
struct Scene<'a> {
    frame: Frame,
    points: &'a [Vec<f32>],
    centroids: &'a [Vec<f32>],
    query: &'a [f32],
    probed: &'a [usize],
}

type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn draw(scene: &Scene<'_>, out: &Path) -> DrawResult<()> {
    let size = scene.frame.size;
    let root = BitMapBackend::new(out, (size, size)).into_drawing_area();
    root.fill(&WHITE)?;
    draw_cells(&root, scene)?;
    draw_probe_lines(&root, scene)?;
    draw_points(&root, scene)?;
    draw_centroids(&root, scene)?;
    draw_query(&root, scene)?;
    root.present()?;
    Ok(())
}

// ANCHOR: cells
/// The cell of every pixel, row by row: the index of the centroid nearest to it.
fn cell_of_each_pixel(frame: Frame, centroids: &[Vec<f32>]) -> Vec<usize> {
    let mut cells = Vec::with_capacity((frame.size * frame.size) as usize);
    for row in 0..frame.size {
        for column in 0..frame.size {
            let point = frame.to_data(column, row);
            cells.push(nearest_centroid(centroids, &point).unwrap_or(0));
        }
    }
    cells
}
// ANCHOR_END: cells

/// Paints each pixel in its cell's light colour, darker in probed cells, grey on borders.
fn draw_cells<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    scene: &Scene<'_>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let size = scene.frame.size;
    let cells = cell_of_each_pixel(scene.frame, scene.centroids);
    let at = |column: u32, row: u32| cells[(row * size + column) as usize];
    for row in 0..size {
        for column in 0..size {
            let cell = at(column, row);
            let on_border = (column + 1 < size && at(column + 1, row) != cell)
                || (row + 1 < size && at(column, row + 1) != cell);
            let colour = if on_border {
                RGBColor(120, 120, 120)
            } else if scene.probed.contains(&cell) {
                tint(cell, 0.55)
            } else {
                tint(cell, 0.85)
            };
            root.draw_pixel((column as i32, row as i32), &colour)?;
        }
    }
    Ok(())
}

/// A thin line from the query to each centroid it probes.
fn draw_probe_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    scene: &Scene<'_>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let from = scene.frame.to_pixel(scene.query);
    for &cell in scene.probed {
        let to = scene.frame.to_pixel(&scene.centroids[cell]);
        root.draw(&PathElement::new(vec![from, to], BLACK.stroke_width(2)))?;
    }
    Ok(())
}

/// Each point in the strong colour of its cell.
fn draw_points<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    scene: &Scene<'_>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    for point in scene.points {
        let cell = nearest_centroid(scene.centroids, point).unwrap_or(0);
        let at = scene.frame.to_pixel(point);
        root.draw(&Circle::new(at, 4, strong(cell).filled()))?;
        root.draw(&Circle::new(at, 4, shade(cell).stroke_width(1)))?;
    }
    Ok(())
}

/// The centroids: big black dots ringed in white so they stand out on any colour.
fn draw_centroids<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    scene: &Scene<'_>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    for centroid in scene.centroids {
        let at = scene.frame.to_pixel(centroid);
        root.draw(&Circle::new(at, 13, WHITE.filled()))?;
        root.draw(&Circle::new(at, 10, BLACK.filled()))?;
    }
    Ok(())
}

/// The query: a black ring around a black dot, on white.
fn draw_query<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    scene: &Scene<'_>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let at = scene.frame.to_pixel(scene.query);
    root.draw(&Circle::new(at, 14, WHITE.filled()))?;
    root.draw(&Circle::new(at, 12, BLACK.stroke_width(3)))?;
    root.draw(&Circle::new(at, 4, BLACK.filled()))?;
    Ok(())
}

fn palette(cell: usize) -> (u8, u8, u8) {
    PALETTE[cell % PALETTE.len()]
}

/// The cell's colour mixed with `white` parts of white (0 = strong, 1 = white).
fn tint(cell: usize, white: f32) -> RGBColor {
    let (r, g, b) = palette(cell);
    let mix = |c: u8| (c as f32 + (255.0 - c as f32) * white).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

fn strong(cell: usize) -> RGBColor {
    let (r, g, b) = palette(cell);
    RGBColor(r, g, b)
}

/// A darker edge for the points, so points of light colours stay visible.
fn shade(cell: usize) -> RGBColor {
    let (r, g, b) = palette(cell);
    let dark = |c: u8| (c as f32 * 0.6).round() as u8;
    RGBColor(dark(r), dark(g), dark(b))
}
