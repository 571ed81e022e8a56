//! Chapters 4–6: the SQLite vector database, searched without and with a k-means index.
//!
//! The original scenario: 1,000 seeded random vectors of dimension 3, a timed brute-force
//! search, a k-means index of 5 cells, a timed indexed search, and the two answers compared.
//! Run with `cargo run --release --bin main_sqlite` (`-- --help` for the options).

use std::process::ExitCode;

use std::path::PathBuf;

use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Metric, Result, VectorDbSqlite};

/// Stores random vectors in SQLite and searches them with and without a k-means index.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// How many random vectors to insert.
    #[arg(long, default_value_t = 1_000)]
    n_vectors: usize,
    /// Dimension of the vectors.
    #[arg(long, default_value_t = 3)]
    dimension: usize,
    /// How many neighbours to return.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Number of k-means cells of the index.
    #[arg(long, default_value_t = 5)]
    clusters: usize,
    /// How many cells an indexed search reads.
    #[arg(long, default_value_t = 1)]
    probes: usize,
    /// "cosine" or "euclidean".
    #[arg(long, default_value = "cosine")]
    metric: Metric,
    /// Seed of the random vectors.
    #[arg(long, default_value_t = 42)]
    seed: u64,
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
    // A temporary directory is removed when dropped, even if a step below fails.
    let temporary =
        tempfile::tempdir().map_err(|e| simple_vector_db::Error::io(std::env::temp_dir(), e))?;
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| temporary.path().join("vector_db.db"));
    let mut db = VectorDbSqlite::open(&path)?;
    db.set_metric(args.metric)?;

    let vectors = random_vectors(args.n_vectors, args.dimension, args.seed);
    let ids = timeit("insert", || db.insert(&vectors, None))?;
    log::info!("Inserted {} vectors into {}", ids.len(), path.display());

    let query: Vec<f32> = [0.15, 0.25, 0.35]
        .iter()
        .copied()
        .cycle()
        .take(args.dimension)
        .collect();
    let exact = timeit("search_without_index", || {
        db.search_without_index(&query, args.k)
    })?;
    log::info!("Most {} similar vectors without index: {exact:?}", args.k);

    let centroids = timeit("create_kmeans_index", || {
        db.create_kmeans_index(args.clusters)
    })?;
    log::info!("Centroids: {centroids:?}");

    let indexed = timeit("search_in_kmeans_index", || {
        db.search_in_kmeans_index(&query, args.k, args.probes)
    })?;
    log::info!("Probed cells: {:?}", indexed.probed_cells);
    log::info!(
        "Most {} similar vectors with index: {:?}",
        args.k,
        indexed.neighbours
    );

    let found = indexed
        .neighbours
        .iter()
        .filter(|n| exact.iter().any(|e| e.0 == n.0))
        .count();
    log::info!(
        "The indexed search found {found} of the {} exact neighbours",
        exact.len()
    );
    Ok(())
}
// ANCHOR_END: run

/// `n` seeded vectors with values uniform in [0, 1), like NumPy's `np.random.rand`.
fn random_vectors(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dimension).map(|_| rng.gen_range(0.0..1.0)).collect())
        .collect()
}
