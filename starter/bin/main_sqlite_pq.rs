//! Chapter 8: the product-quantized SQLite database, on the handwritten digits.
//!
//! Stores the 1,797 digits as 16-byte PQ codes (instead of 256 bytes of floats), finds the 10
//! nearest neighbours of image 11 and shows their labels, then reopens the file to show that the
//! codebook was saved with it. Run with `cargo run --release --bin main_sqlite_pq`
//! (`-- --help` for the options). The results go to standard output (`--json` for one JSON
//! document), the logs and timings to standard error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use simple_vector_db::datasets::digits::{self, Digits};
use simple_vector_db::engine::Neighbour;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive};
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::print_json;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Result, VectorDbSqlitePq};

/// Stores the handwritten digits as product-quantization codes in SQLite, searches them, and
/// reopens the file to search it again with the codebook saved in it.
#[derive(Debug, Parser)]
#[command(name = "main_sqlite_pq", version)]
struct Args {
    /// Chunks per vector, so bytes per code (must divide 64).
    #[arg(long, default_value_t = 16, value_parser = parse_positive)]
    m_chunks: usize,
    /// Centroids per chunk (1 to 256).
    #[arg(long, default_value_t = 32, value_parser = parse_positive)]
    centroids: usize,
    /// Which digit image to use as the query (0 to 1796).
    #[arg(long, default_value_t = 11)]
    query: usize,
    /// How many neighbours to return.
    #[arg(long, default_value_t = 10, value_parser = parse_positive)]
    k: usize,
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
    // A mistake in the arguments costs `error: …` and exit code 2, before any training.
    check_then_run(open_checked(&args), |(checked, _temporary)| {
        run(&args, checked)?.print(args.json)
    })
}

/// The digits, and the database opened for them with the settings asked for.
struct Checked {
    digits: Digits,
    db: VectorDbSqlitePq,
    path: PathBuf,
}

// ANCHOR: open_database
/// Checks the settings and the query against the digits, then opens the database. The
/// temporary directory is returned so that it lives as long as the database.
fn open_checked(args: &Args) -> Result<(Checked, tempfile::TempDir)> {
    if !digits::DIMENSION.is_multiple_of(args.m_chunks) {
        return Err(Error::ChunksDoNotDivide {
            dimension: digits::DIMENSION,
            m_chunks: args.m_chunks,
        });
    }
    let digits = digits::load()?;
    if args.centroids > digits.vectors.len() {
        return Err(Error::TooFewTrainingVectors {
            found: digits.vectors.len(),
            needed: args.centroids,
        });
    }
    query_of(&digits, args.query)?;
    let temporary = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| temporary.path().join("vector_db_pq.db"));
    // `create` opens the file if it exists with these settings (and refuses other settings); a
    // new process that only searches would call `VectorDbSqlitePq::open(&path)`, which reads
    // them from the file.
    let db = VectorDbSqlitePq::create(&path, args.m_chunks, args.centroids)?;
    if let Some(dimension) = db.dimension().filter(|&d| d != digits::DIMENSION) {
        return Err(Error::InvalidParameter {
            name: "--db",
            reason: format!(
                "{} holds codes of {dimension}-value vectors, not of the {}-pixel digits",
                path.display(),
                digits::DIMENSION
            ),
        });
    }
    Ok((Checked { digits, db, path }, temporary))
}
// ANCHOR_END: open_database

// ANCHOR: run
fn run(args: &Args, checked: Checked) -> Result<Found> {
    let Checked {
        digits,
        mut db,
        path,
    } = checked;
    if db.is_empty()? {
        let ids: Vec<i64> = (0..digits.vectors.len() as i64).collect();
        // The first batch trains the codebook, then is encoded with it.
        timeit("insert (train the codebook, encode, store)", || {
            db.insert(&digits.vectors, Some(&ids))
        })?;
    } else {
        // A file kept with --db from an earlier run: its codes and codebook are already there.
        log::info!("{} already holds its codes and codebook", path.display());
    }
    let query = query_of(&digits, args.query)?;
    let neighbours = timeit("search_without_index", || {
        db.search_without_index(query, args.k)
    })?;
    let (stored, code_bytes) = (db.len()?, db.quantizer()?.bytes_per_vector());

    // A new process would do exactly this: open the file and search, with the saved codebook.
    drop(db);
    let reopened = VectorDbSqlitePq::open(&path)?;
    let same_after_reopening = reopened.search_without_index(query, args.k)? == neighbours;
    Ok(Found {
        database: args.db.as_ref().map(|p| p.display().to_string()),
        stored,
        code_bytes,
        raw_bytes: digits::DIMENSION * std::mem::size_of::<f32>(),
        query: args.query,
        query_label: digits.labels.get(args.query).copied(),
        neighbours: neighbours.iter().map(|n| labelled(&digits, n)).collect(),
        same_after_reopening,
    })
}
// ANCHOR_END: run

/// Image `id` of the digits, or the error that names `--query`.
fn query_of(digits: &Digits, id: usize) -> Result<&[f32]> {
    digits
        .vectors
        .get(id)
        .map(Vec::as_slice)
        .ok_or(Error::InvalidParameter {
            name: "--query",
            reason: format!("there are {} images, numbered from 0", digits.vectors.len()),
        })
}

/// What the run found, printed as text or, with `--json`, as one JSON document.
#[derive(Debug, Serialize)]
struct Found {
    /// The file kept with `--db`; `None` for a temporary one.
    database: Option<String>,
    stored: usize,
    code_bytes: usize,
    raw_bytes: usize,
    query: usize,
    query_label: Option<u8>,
    neighbours: Vec<Labelled>,
    same_after_reopening: bool,
}

/// A neighbour with the digit its image shows (`None` for an id that is not a digit's, which a
/// file kept with `--db` could hold).
#[derive(Debug, Serialize)]
struct Labelled {
    id: i64,
    /// The estimated euclidean distance, from the code.
    score: f32,
    label: Option<u8>,
}

fn labelled(digits: &Digits, neighbour: &Neighbour) -> Labelled {
    let label = usize::try_from(neighbour.id)
        .ok()
        .and_then(|i| digits.labels.get(i).copied());
    Labelled {
        id: neighbour.id,
        score: neighbour.score,
        label,
    }
}

/// A label for text output: the digit, or `?`.
fn shown(label: Option<u8>) -> String {
    label.map_or_else(|| "?".to_string(), |l| l.to_string())
}

impl Found {
    /// Prints the results on standard output.
    fn print(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        println!(
            "{} images stored as {}-byte codes instead of {} bytes of f32",
            self.stored, self.code_bytes, self.raw_bytes
        );
        if let Some(database) = &self.database {
            println!("database kept in {database}");
        }
        let label = shown(self.query_label);
        println!("query: image {} shows a {label}", self.query);
        for Labelled { id, score, label } in &self.neighbours {
            println!(
                "  id {id:4}  estimated distance {score:7.3}  shows a {}",
                shown(*label)
            );
        }
        let same = self
            .neighbours
            .iter()
            .filter(|n| n.label.is_some() && n.label == self.query_label)
            .count();
        println!(
            "{same} of {} neighbours show a {label}",
            self.neighbours.len()
        );
        println!(
            "after reopening the file, the same search gives the same answer: {}",
            self.same_after_reopening
        );
        Ok(())
    }
}
