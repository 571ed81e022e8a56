//! Chapter 14's experiment: why a graph breaks under a selective filter, and how two remedies
//! keep it whole.
//!
//! Builds one HNSW graph over seeded clustered vectors, gives every vector a uniform random
//! attribute, and for each share of vectors passing (by default 50 %, 10 %, 1 %, 0.1 %) grades
//! the three filtered walks of [`FilteredWalk`] against the exact filtered top-k: the bitset
//! walk that never steps on a refused node, the walk through every node, and ACORN-1's two hops.
//! Prints a table (or `--json`) and draws recall and distances per query against the share
//! passing. Run with `cargo run --release --bin main_filtered_walks`.
//!
//! [`FilteredWalk`]: simple_vector_db::engine::indexes::hnsw::FilteredWalk

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use simple_vector_db::datasets::clustered::ClusteredSpec;
use simple_vector_db::engine::HnswSettings;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive};
use simple_vector_db::evaluation::filtered_walks::{measure_walks, WalkRow, WalksSetup};
use simple_vector_db::evaluation::plots::filtered::plot_walks;
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::{print_json, print_line};
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Result};

/// Measures three ways for a graph to walk under a filter, as fewer vectors pass.
#[derive(Debug, Parser)]
#[command(name = "main_filtered_walks", version)]
struct Args {
    /// Where to write the PNG (its directory is created if missing). The default is the current
    /// directory, so that a run never overwrites the book's picture, which `regen_book` draws.
    #[arg(long, default_value = "ch14-graph-walks.png")]
    out: PathBuf,
    /// How many base vectors (at most 200,000).
    #[arg(long, default_value_t = 50_000, value_parser = parse_positive)]
    n: usize,
    /// Their dimension.
    #[arg(long, default_value_t = 32, value_parser = parse_positive)]
    dim: usize,
    /// How many groups they are drawn around.
    #[arg(long, default_value_t = 100, value_parser = parse_positive)]
    clusters: usize,
    /// How many queries, drawn like the base.
    #[arg(long, default_value_t = 200, value_parser = parse_positive)]
    queries: usize,
    /// M: links per node (2·M on layer 0).
    #[arg(long, default_value_t = 16)]
    m: usize,
    /// The beam of each insertion's search.
    #[arg(long, default_value_t = 64)]
    ef_construction: usize,
    /// The beam of the filtered searches (at least --k).
    #[arg(long, default_value_t = 64, value_parser = parse_positive)]
    ef: usize,
    #[arg(long, default_value_t = 10, value_parser = parse_positive)]
    k: usize,
    /// The shares of vectors passing, comma-separated, each in (0, 1].
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.1,0.01,0.001")]
    passing: Vec<f64>,
    /// Seed of the vectors, the attribute and the levels.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the results as one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

/// The largest base: the ground truth is a brute force per query and share.
const MAX_N: usize = 200_000;

fn main() -> ExitCode {
    let args = Args::parse();
    flex_logging::init();
    check_then_run(check_arguments(&args), |setup| {
        let rows = timeit("building and measuring", || measure_walks(&setup))?;
        let about = format!(
            "{} x {}, M = {}, ef = {}",
            args.n, args.dim, args.m, args.ef
        );
        timeit("drawing", || plot_walks(&rows, &args.out, &about))?;
        Measured {
            rows,
            wrote: args.out.display().to_string(),
        }
        .print(args.json)
    })
}

/// Checks what clap cannot, before the graph is built.
fn check_arguments(args: &Args) -> Result<WalksSetup> {
    if args.n > MAX_N {
        return Err(Error::InvalidParameter {
            name: "--n",
            reason: format!("{} is above {MAX_N}", args.n),
        });
    }
    if args.ef < args.k {
        return Err(Error::EfBelowK {
            ef: args.ef,
            k: args.k,
        });
    }
    if !args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        return Err(Error::InvalidParameter {
            name: "--out",
            reason: format!("{} does not end in .png", args.out.display()),
        });
    }
    let graph = HnswSettings {
        ef_search: args.ef,
        ..HnswSettings::new(args.m, args.ef_construction).with_seed(args.seed)
    };
    let setup = WalksSetup {
        data: ClusteredSpec {
            n_vectors: args.n,
            dimension: args.dim,
            n_clusters: args.clusters,
            noise: 0.8,
            seed: args.seed,
        },
        queries: args.queries,
        graph,
        k: args.k,
        passing: args.passing.clone(),
    };
    setup.check()?;
    Ok(setup)
}

/// The table, and where the picture went.
#[derive(Debug, Serialize)]
struct Measured {
    rows: Vec<WalkRow>,
    wrote: String,
}

impl Measured {
    fn print(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        print_line(format_args!(
            "{:>9} {:>8} {:>7} {:>10} {:>9} {:>6}",
            "passing", "walk", "recall", "distances", "queries/s", "short"
        ))?;
        for row in &self.rows {
            print_line(format_args!(
                "{:>8.1}% {:>8} {:>7.3} {:>10.0} {:>9.0} {:>6}",
                row.passing * 100.0,
                row.walk,
                row.recall,
                row.distances,
                row.queries_per_second,
                row.short
            ))?;
        }
        print_line(format_args!("wrote {}", self.wrote))
    }
}
