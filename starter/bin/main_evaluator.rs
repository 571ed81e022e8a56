//! Chapter 9: how much recall the k-means index (IVF) trades for how much speed.
//!
//! Run with `cargo run --release --bin main_evaluator` (digits, 16 and 42 clusters, 1 to 16
//! probes), or `--help` for the options. Writes `ivf_results.csv` and two charts to `--out`.

use std::process::ExitCode;

use clap::Parser;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive, DataArgs, LoadedVectors};
use simple_vector_db::evaluation::ivf_sweep::{run_ivf_sweep, IvfSweep};
use simple_vector_db::evaluation::plots::plot_ivf_results;
use simple_vector_db::evaluation::progress::sweep_progress;
use simple_vector_db::evaluation::results_csv::write_csv;
use simple_vector_db::evaluation::table::{print_json_report, print_report};
use simple_vector_db::utils::flex_logging;
use simple_vector_db::{Error, Result};

/// Measure recall@k, queries per second and latency of the k-means index (IVF) of the SQLite
/// vector database, against brute force, for every (clusters, probes) pair.
#[derive(Debug, Parser)]
#[command(
    name = "main_evaluator",
    version,
    after_help = "Examples:\n  main_evaluator\n  main_evaluator --clusters 16 --probes 1,2,4,8,16\n  \
                  main_evaluator --data base.npy --queries queries.npy --k 10 --out results/\n  \
                  main_evaluator --generate 100000,64,100 --n-queries 1000 --clusters 316 --probes 1,4,16,64"
)]
struct Args {
    #[command(flatten)]
    data: DataArgs,

    /// Print the results table and the files written as one JSON document instead of the
    /// table (the CSV file and the charts are written either way).
    #[arg(long)]
    json: bool,

    /// Cluster counts (cells) to build the index with, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,42", value_parser = parse_positive)]
    clusters: Vec<usize>,

    /// Probe counts (cells read per query) to search with, comma-separated; each at most the
    /// smallest cluster count.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16", value_parser = parse_positive)]
    probes: Vec<usize>,

    /// Train each index's k-means on a seeded sample of at most N vectors per cluster (more is
    /// slower to build, and can place the cells better). Without it, the index's default.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    points_per_centroid: Option<usize>,

    /// Seed of each index's k-means training (default 42). Another seed places the cells
    /// differently: run a few to see how much recall at one probe owes to the draw.
    #[arg(long, value_name = "SEED")]
    kmeans_seed: Option<u64>,
}

// ANCHOR: main
fn main() -> ExitCode {
    let args = Args::parse();
    flex_logging::init();
    // Everything the user controls is checked first: a mistake costs a message, not a sweep.
    check_then_run(check_arguments(&args), |(vectors, sweep)| {
        run(&args, vectors, &sweep)
    })
}

fn check_arguments(args: &Args) -> Result<(LoadedVectors, IvfSweep)> {
    let vectors = args.data.load()?;
    let sweep = IvfSweep {
        clusters: args.clusters.clone(),
        probes: args.probes.clone(),
        points_per_centroid: args.points_per_centroid,
        kmeans_seed: args.kmeans_seed,
    };
    sweep.check(vectors.base.len())?;
    std::fs::create_dir_all(&args.data.out).map_err(|e| Error::io(&args.data.out, e))?;
    Ok((vectors, sweep))
}

fn run(args: &Args, vectors: LoadedVectors, sweep: &IvfSweep) -> Result<()> {
    let about = vectors.description.clone();
    let dataset = args.data.dataset(vectors)?;
    let bar = sweep_progress((sweep.n_runs() * dataset.queries().len()) as u64);
    let rows = run_ivf_sweep(&dataset, sweep, &bar)?;

    let csv_path = args.data.out.join("ivf_results.csv");
    write_csv(&csv_path, &rows)?;
    let plots = plot_ivf_results(&rows, &args.data.out, &about)?;
    if args.json {
        return print_json_report(&rows, &csv_path, &plots);
    }
    print_report(&rows, &csv_path, &plots);
    Ok(())
}
// ANCHOR_END: main
