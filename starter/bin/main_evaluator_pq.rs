//! Chapter 9: how much recall product quantization trades for how much compression and speed.
//!
//! Run with `cargo run --release --bin main_evaluator_pq` (digits, m = 8 and 16 chunks, 16 to 64
//! centroids), or `--help` for the options. Writes `pq_results.csv` and two charts to `--out`.

use std::process::ExitCode;

use clap::Parser;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive, DataArgs, LoadedVectors};
use simple_vector_db::evaluation::plots::plot_pq_results;
use simple_vector_db::evaluation::pq_sweep::{run_pq_sweep, PqSweep};
use simple_vector_db::evaluation::progress::sweep_progress;
use simple_vector_db::evaluation::results_csv::write_csv;
use simple_vector_db::evaluation::table::{print_json_report, print_report};
use simple_vector_db::utils::flex_logging;
use simple_vector_db::{Error, Metric, Result};

/// Measure recall@k, queries per second, latency and compression of product quantization for
/// every (chunks, centroids) pair.
#[derive(Debug, Parser)]
#[command(
    name = "main_evaluator_pq",
    version,
    after_help = "Examples:\n  main_evaluator_pq\n  main_evaluator_pq --m 16 --centroids 32\n  \
                  main_evaluator_pq --data base.npy --queries queries.npy --m 8,16,32 --centroids 256"
)]
struct Args {
    #[command(flatten)]
    data: DataArgs,

    /// Print the results table and the files written as one JSON document instead of the
    /// table (the CSV file and the charts are written either way).
    #[arg(long)]
    json: bool,

    /// Chunk counts (bytes per stored vector), comma-separated; each must divide the dimension.
    #[arg(long, value_delimiter = ',', default_value = "8,16", value_parser = parse_positive)]
    m: Vec<usize>,

    /// Centroids per chunk, comma-separated; each between 1 and 256 (a code is one byte) and at
    /// most the number of base vectors.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64", value_parser = parse_positive)]
    centroids: Vec<usize>,
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

fn check_arguments(args: &Args) -> Result<(LoadedVectors, PqSweep)> {
    if args.data.metric != Metric::Euclidean {
        return Err(Error::InvalidParameter {
            name: "--metric",
            reason: "product quantization ranks by euclidean distance only".to_string(),
        });
    }
    let vectors = args.data.load()?;
    let sweep = PqSweep {
        m_chunks: args.m.clone(),
        n_centroids: args.centroids.clone(),
    };
    sweep.check(vectors.base.len(), vectors.dimension())?;
    std::fs::create_dir_all(&args.data.out).map_err(|e| Error::io(&args.data.out, e))?;
    Ok((vectors, sweep))
}

fn run(args: &Args, vectors: LoadedVectors, sweep: &PqSweep) -> Result<()> {
    let about = vectors.description.clone();
    let dataset = args.data.dataset(vectors)?;
    let bar = sweep_progress((sweep.n_runs() * dataset.queries().len()) as u64);
    let rows = run_pq_sweep(&dataset, sweep, &bar)?;

    let csv_path = args.data.out.join("pq_results.csv");
    write_csv(&csv_path, &rows)?;
    let plots = plot_pq_results(&rows, &args.data.out, &about)?;
    if args.json {
        return print_json_report(&rows, &csv_path, &plots);
    }
    print_report(&rows, &csv_path, &plots);
    Ok(())
}
// ANCHOR_END: main
