//! Chapter 8: the product-quantized SQLite database, on the handwritten digits.
//!
//! Stores the 1,797 digits as 16-byte PQ codes (instead of 256 bytes of floats), finds the 10
//! nearest neighbours of image 11 and shows their labels, then reopens the file to show that the
//! codebook was saved with it. Run with `cargo run --release --bin main_sqlite_pq`.

use std::process::ExitCode;

use std::path::PathBuf;

use clap::Parser;
use simple_vector_db::datasets::digits;
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Result, VectorDbSqlitePq};

/// Stores the digits as product-quantization codes in SQLite and searches them.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Chunks per vector, so bytes per code (must divide 64).
    #[arg(long, default_value_t = 16)]
    m_chunks: usize,
    /// Centroids per chunk (1 to 256).
    #[arg(long, default_value_t = 32)]
    centroids: usize,
    /// Which digit image to use as the query.
    #[arg(long, default_value_t = 11)]
    query: usize,
    /// How many neighbours to return.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Keep the database in this file instead of a temporary one that is removed at the end.
    #[arg(long)]
    db: Option<PathBuf>,
}

fn main() -> ExitCode {
    flex_logging::init();
    let args = Args::parse();
    flex_logging::exit_code(run(&args))
}

// ANCHOR: run
fn run(args: &Args) -> Result<()> {
    let digits = digits::load()?;
    let query = digits
        .vectors
        .get(args.query)
        .ok_or(Error::InvalidParameter {
            name: "query",
            reason: format!("there are {} images, numbered from 0", digits.vectors.len()),
        })?;
    let temporary = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| temporary.path().join("vector_db_pq.db"));

    let mut db = VectorDbSqlitePq::open(&path, args.m_chunks, args.centroids)?;
    if db.is_empty()? {
        let ids: Vec<i64> = (0..digits.vectors.len() as i64).collect();
        // The first batch trains the codebook, then is encoded with it.
        timeit("insert (train the codebook, encode, store)", || {
            db.insert(&digits.vectors, Some(&ids))
        })?;
    } else {
        // A file kept with --db from an earlier run: its codes and codebook are already there.
        log::info!(
            "{} already holds {} codes and their codebook: searching them",
            path.display(),
            db.len()?
        );
    }
    log::info!(
        "{} images stored as {}-byte codes instead of {} bytes of f32 in {}",
        db.len()?,
        db.quantizer().bytes_per_vector(),
        digits::DIMENSION * 4,
        path.display()
    );

    let results = timeit("search_without_index", || {
        db.search_without_index(query, args.k)
    })?;
    let label = digits.labels[args.query];
    log::info!("Query: image {} shows a {label}", args.query);
    for (id, distance) in &results {
        let neighbour_label = digits.labels.get(*id as usize).copied().unwrap_or(u8::MAX);
        log::info!("  id {id:4}  estimated distance {distance:7.3}  shows a {neighbour_label}");
    }
    let same = results
        .iter()
        .filter(|(id, _)| digits.labels.get(*id as usize) == Some(&label))
        .count();
    log::info!("{same} of {} neighbours show a {label}", results.len());

    // A new process would do exactly this: open the file and search, with the saved codebook.
    drop(db);
    let reopened = VectorDbSqlitePq::open(&path, args.m_chunks, args.centroids)?;
    let again = reopened.search_without_index(query, args.k)?;
    log::info!(
        "After reopening the file, the same search gives the same answer: {}",
        again == results
    );
    Ok(())
}
// ANCHOR_END: run
