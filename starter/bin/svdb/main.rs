//! `svdb`: the engine from the command line, for vectors you bring yourself.
//!
//! ```text
//! svdb load    --db F.db --vectors X.npy [--ids IDS.npy] [--attributes A.csv] [--metric euclidean|cosine]
//! svdb index   --db F.db ivf --nlist N [--seed S]      | pq --m M --nbits B
//!                        | hnsw --m 32 --ef-construction 40 [--seed S]
//!                        | ivfpq --nlist N --m M [--nbits 8] [--seed S]
//! svdb indexes --db F.db
//! svdb search  --db F.db --queries Q.npy --k 10 [--index NAME] [--nprobe P | --ef EF] [--rerank R] [--output IDS.npy]
//!                [--filter EXPR [--strategy auto|pre|post|iterative|in-index] [--explain]]
//! svdb eval    --data X.npy [--queries Q.npy] --k 10 --index flat|ivf|pq|hnsw|ivfpq ... --out DIR
//! svdb info    --db F.db
//! svdb delete  --db F.db --ids 4,8,15 | --ids-file IDS.npy
//! svdb upsert  --db F.db --vectors X.npy --ids IDS.npy [--attributes A.csv]
//! svdb compact --db F.db
//! svdb retrain --db F.db --index NAME [--seed S]
//! svdb merge   --into A.db B.db [--renumber]
//! svdb check   --db F.db
//! svdb serve   --db F.db [--addr 127.0.0.1:7700] [--readers N] [--cache-entries 1024] [--max-body-bytes N]
//! svdb backup  --db F.db --to FILE | --dir DIR [--keep 7]
//! svdb bench-serve [--addr 127.0.0.1:7700] [--concurrency 1,8,32] [--duration 10s] [--max-requests N]
//!                [--queries Q.npy | --by-id] [--k 10] [--index NAME] [--nprobe P] [--ef EF] [--wait-ready 60s] [--repeat]
//! ```
//!
//! Results go to stdout (`--json` for a JSON document instead of text), logs to stderr. Every
//! argument and input file is checked before any work: a mistake prints `error: …` and exits
//! with 2; a failure during the work exits with 1.

/// Prints a line of results on stdout, returning the error of a failed write (`?` inside).
macro_rules! say {
    ($($arg:tt)*) => {
        simple_vector_db::utils::output::print_line(format_args!($($arg)*))?
    };
}

mod backup;
mod bench_serve;
mod commands;
mod eval;
#[cfg(feature = "serve")]
mod serve;

use std::process::ExitCode;

use clap::Parser;
use simple_vector_db::utils::flex_logging;

use commands::Command;

/// A vector database in one SQLite file: load .npy vectors, build indexes, search, measure.
#[derive(Debug, Parser)]
#[command(name = "svdb", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    flex_logging::init();
    let cli = Cli::parse();
    match cli.command.prepare() {
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        Ok(prepared) => match prepared.run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
    }
}
