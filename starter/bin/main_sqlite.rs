//! Chapters 4–6: the SQLite vector database, searched without and with a k-means index.
//!
//! The original scenario: 1,000 seeded random vectors of dimension 3, a timed brute-force
//! search, a k-means index of 5 cells, a timed indexed search, and the two answers compared.
//! Run with `cargo run --release --bin main_sqlite` (`-- --help` for the options). The results
//! go to standard output (`--json` for one JSON document), the logs and timings to standard
//! error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use simple_vector_db::datasets::memory_budget::{check_budget, vectors_bytes};
use simple_vector_db::engine::Neighbour;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive};
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::print_json;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Metric, Result, VectorDbSqlite};

/// Stores seeded random vectors in SQLite and searches them without and with a k-means index.
#[derive(Debug, Parser)]
#[command(name = "main_sqlite", version)]
struct Args {
    /// How many random vectors to insert.
    #[arg(long, default_value_t = 1_000, value_parser = parse_positive)]
    n_vectors: usize,
    /// Dimension of the vectors.
    #[arg(long, default_value_t = 3, value_parser = parse_positive)]
    dimension: usize,
    /// How many neighbours to return.
    #[arg(long, default_value_t = 5, value_parser = parse_positive)]
    k: usize,
    /// Number of k-means cells of the index (at most the number of vectors).
    #[arg(long, default_value_t = 5, value_parser = parse_positive)]
    clusters: usize,
    /// How many cells an indexed search reads (at most --clusters).
    #[arg(long, default_value_t = 1, value_parser = parse_positive)]
    probes: usize,
    /// How results are ranked.
    #[arg(long, value_enum, default_value_t = Metric::Cosine, ignore_case = true)]
    metric: Metric,
    /// Seed of the random vectors.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the database in this file instead of a temporary one that is removed at the end.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Print the results as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    flex_logging::init();
    // A mistake in the arguments costs `error: …` and exit code 2, before anything is inserted.
    check_then_run(open_checked(&args), |(db, _temporary)| {
        run(&args, db)?.print(args.json)
    })
}

/// Checks what clap cannot (the memory the vectors take, the counts against each other, the
/// `--db` file) and opens the database. The temporary directory is returned so that it lives
/// as long as the database.
fn open_checked(args: &Args) -> Result<(VectorDbSqlite, tempfile::TempDir)> {
    check_budget(
        || {
            format!(
                "--n-vectors {} --dimension {}",
                args.n_vectors, args.dimension
            )
        },
        vectors_bytes(args.n_vectors, args.dimension),
    )?;
    if args.probes > args.clusters {
        return Err(Error::InvalidProbeCount {
            n_probes: args.probes,
            n_clusters: args.clusters,
        });
    }
    let enough_vectors_for_the_cells = |n_vectors: usize| {
        if args.clusters > n_vectors {
            return Err(Error::InvalidClusterCount {
                n_clusters: args.clusters,
                n_vectors,
            });
        }
        Ok(())
    };
    // Refused before a new --db file is created; a kept file's own vectors count too, below.
    if !args.db.as_deref().is_some_and(Path::exists) {
        enough_vectors_for_the_cells(args.n_vectors)?;
    }
    // A temporary directory is removed when dropped, even if a step below fails.
    let temporary = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| temporary.path().join("vector_db.db"));
    let mut db = VectorDbSqlite::open(&path)?;
    if let Some(dimension) = db.dimension().filter(|&d| d != args.dimension) {
        return Err(Error::InvalidParameter {
            name: "--dimension",
            reason: format!(
                "{} holds vectors of dimension {dimension}, not {}",
                path.display(),
                args.dimension
            ),
        });
    }
    enough_vectors_for_the_cells(db.len()?.saturating_add(args.n_vectors))?;
    db.set_metric(args.metric)?;
    log::info!("database: {}", path.display());
    Ok((db, temporary))
}

// ANCHOR: run
fn run(args: &Args, mut db: VectorDbSqlite) -> Result<Found> {
    let vectors = random_vectors(args.n_vectors, args.dimension, args.seed);
    let inserted = timeit("insert", || db.insert(&vectors, None))?.len();
    let query: Vec<f32> = [0.15, 0.25, 0.35]
        .into_iter()
        .cycle()
        .take(args.dimension)
        .collect();

    let exact = timeit("search_without_index", || {
        db.search_without_index(&query, args.k)
    })?;
    let centroids = timeit("create_kmeans_index", || {
        db.create_kmeans_index(args.clusters)
    })?;
    let indexed = timeit("search_in_kmeans_index", || {
        db.search_in_kmeans_index(&query, args.k, args.probes)
    })?;
    // How many of the exact neighbours the index found: its recall on this one query.
    let found_of_exact = indexed
        .neighbours
        .iter()
        .filter(|n| exact.iter().any(|e| e.id == n.id))
        .count();
    Ok(Found {
        inserted,
        stored: db.len()?,
        without_index: exact,
        centroids,
        probed_cells: indexed.probed_cells,
        with_index: indexed.neighbours,
        found_of_exact,
    })
}
// ANCHOR_END: run

/// What the run found, printed as text or, with `--json`, as one JSON document.
#[derive(Debug, Serialize)]
struct Found {
    inserted: usize,
    /// More than `inserted` when `--db` names a file kept from an earlier run.
    stored: usize,
    without_index: Vec<Neighbour>,
    centroids: Vec<Vec<f32>>,
    probed_cells: Vec<i64>,
    with_index: Vec<Neighbour>,
    found_of_exact: usize,
}

impl Found {
    /// Prints the results on standard output.
    fn print(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        println!(
            "inserted {} vectors ({} stored)",
            self.inserted, self.stored
        );
        println!("without index, the {} nearest:", self.without_index.len());
        print_neighbours(&self.without_index);
        for (cell, centroid) in self.centroids.iter().enumerate() {
            println!("centroid of cell {cell}: {centroid:?}");
        }
        println!("with index, probing cells {:?}:", self.probed_cells);
        print_neighbours(&self.with_index);
        println!(
            "the indexed search found {} of the {} exact neighbours",
            self.found_of_exact,
            self.without_index.len()
        );
        Ok(())
    }
}

fn print_neighbours(neighbours: &[Neighbour]) {
    for Neighbour { id, score } in neighbours {
        println!("  id {id:6}  score {score:.4}");
    }
}

/// `n` seeded vectors with values uniform in [0, 1), like NumPy's `np.random.rand`.
fn random_vectors(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dimension).map(|_| rng.gen_range(0.0..1.0)).collect())
        .collect()
}
