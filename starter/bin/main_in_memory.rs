//! Chapter 2: the in-memory vector database, on the original tutorial's three vectors.
//!
//! Run with `cargo run --bin main_in_memory` (`-- --help` for the options). The results go to
//! standard output, the logs to standard error: `main_in_memory 2>/dev/null` shows only the
//! results, and `--json` prints them as one JSON document for another program to read.

use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use simple_vector_db::engine::Neighbour;
use simple_vector_db::evaluation::cli::parse_positive;
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::print_json;
use simple_vector_db::{Metric, Result, VectorDbInMemory};

/// Stores the original tutorial's three vectors in memory, reads one back by its key, and
/// searches them for the query [0.1, 0.2, 0.3].
#[derive(Debug, Parser)]
#[command(name = "main_in_memory", version)]
struct Args {
    /// How results are ranked.
    #[arg(long, value_enum, default_value_t = Metric::Cosine, ignore_case = true)]
    metric: Metric,
    /// How many neighbours to return (there are three vectors).
    #[arg(long, default_value_t = 3, value_parser = parse_positive)]
    k: usize,
    /// Print the results as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

// ANCHOR: main
fn main() -> ExitCode {
    let args = Args::parse(); // a bad argument: `error: …` and exit code 2, before any work
    flex_logging::init();
    flex_logging::exit_code(run(&args))
}

fn run(args: &Args) -> Result<()> {
    let mut db = VectorDbInMemory::with_metric(args.metric); // cosine unless --metric says
    db.insert(&[[10.0, 20.0, 30.0], [-1.0, -2.0, -3.0], [0.3, 0.3, 0.3]])?;
    log::info!("stored {} vectors, ranked by {}", db.len(), db.metric()); // on stderr

    let found = Found {
        retrieved: db.retrieve(1),
        neighbours: db.search(&[0.1, 0.2, 0.3], args.k)?,
    };
    found.print(args.metric, args.json) // on stdout
}
// ANCHOR_END: main

/// What the run found: vector 1 read back by its key, and the query's neighbours.
#[derive(Debug, Serialize)]
struct Found<'a> {
    #[serde(rename = "vector_1")]
    retrieved: Option<&'a [f32]>,
    neighbours: Vec<Neighbour>,
}

impl Found<'_> {
    /// Prints the results on standard output, as text or as one JSON document.
    fn print(&self, metric: Metric, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        match self.retrieved {
            Some(vector) => println!("Retrieved vector 1: {vector:?}"),
            None => println!("Retrieved vector 1: none"),
        }
        let score_name = match metric {
            Metric::Cosine => "cosine similarity",
            Metric::Euclidean => "euclidean distance",
        };
        for Neighbour { id, score } in &self.neighbours {
            println!("key {id}: {score_name} {score:.4}");
        }
        Ok(())
    }
}
