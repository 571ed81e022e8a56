//! Helpers shared by the integration tests: running the real `svdb` binary, writing its `.npy`
//! inputs, killing it at spread-out moments, and judging the files it leaves.
//!
//! Each file under `tests/` is its own test binary and includes this module with `mod common;`
//! (a folder with `mod.rs`, so that Cargo does not build it as a test binary of its own). Only
//! helpers that at least two test files use live here; a helper used by one file stays in it.

// Every test binary compiles the whole module but uses only some of its helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rusqlite::{params, Connection};
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::{Collection, SearchParams};
use tempfile::TempDir;

// --- Running `svdb` ----------------------------------------------------------------------------

/// Runs `svdb` with `args` to the end, logging warnings only, and returns what it printed.
pub fn svdb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svdb"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("svdb runs")
}

/// `svdb` with `args`, ready to run or to spawn and kill: stdout is discarded (a killed child
/// cannot block on a full pipe) and stderr is kept for the message of a failed run.
pub fn svdb_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_svdb"));
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` to the end.
pub fn run(mut command: Command) -> Output {
    command.output().expect("the binary runs")
}

/// What a run printed on stdout, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a run printed on stderr, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `args` and checks the contract for a bad argument or input: exit code 2, an `error`
/// on stderr that mentions `needle`, and nothing on stdout (it was refused before any work).
pub fn assert_refused_before_any_work(args: &[&str], needle: &str) {
    let output = svdb(args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("error"),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(needle),
        "{args:?} should mention {needle:?}: {}",
        stderr(&output)
    );
    assert!(
        stdout(&output).is_empty(),
        "{args:?} printed {}",
        stdout(&output)
    );
}

// ANCHOR: kill_at_spread_moments
/// Runs `command` once to time it, then `trials` times killed at spread-out moments, calling
/// `verify` after each kill. Returns how many runs were killed before they finished.
pub fn kill_at_spread_moments(
    make: &dyn Fn() -> Command,
    reset: &dyn Fn(),
    verify: &dyn Fn(usize),
    trials: usize,
) -> usize {
    reset();
    let start = Instant::now();
    let output = run(make());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let full = start.elapsed();
    verify(usize::MAX);
    let mut killed = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    for trial in 0..trials {
        if Instant::now() > deadline {
            break;
        }
        reset();
        let mut child = make().spawn().expect("spawns");
        let delay = full.mul_f64((trial as f64 + 0.5) / trials as f64);
        std::thread::sleep(delay);
        if child.try_wait().expect("polls").is_none() {
            killed += 1;
        }
        let _ = child.kill(); // SIGKILL: no destructor, no rollback code runs
        let _ = child.wait();
        verify(trial);
    }
    killed
}
// ANCHOR_END: kill_at_spread_moments

// --- Inputs ------------------------------------------------------------------------------------

/// `n` seeded vectors uniform in [0, 1)^d: no two alike, so each is its own nearest neighbour.
pub fn uniform(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..d).map(|_| rng.gen::<f32>()).collect())
        .collect()
}

/// Writes `vectors` (all of one length) to `path` as a float32 `.npy` matrix, one row each.
pub fn write_vectors(path: &Path, vectors: &[Vec<f32>]) {
    let d = vectors[0].len();
    let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
    let array = Array2::from_shape_vec((vectors.len(), d), flat).expect("rectangular");
    array
        .write_npy(std::fs::File::create(path).expect("creates"))
        .expect("writes");
}

/// Writes `ids` to `path` as an int64 `.npy` vector.
pub fn write_ids(path: &Path, ids: &[i64]) {
    let file = std::fs::File::create(path).expect("creates");
    Array1::from(ids.to_vec()).write_npy(file).expect("writes");
}

/// `path` as an argument; the temporary directories these tests use are valid UTF-8.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A fresh temporary directory and a database path inside it (the file is removed with the
/// directory when the first value is dropped).
pub fn temp_path(name: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    (dir, path)
}

/// Removes the database at `db` with its write-ahead log and shared-memory file, whichever
/// of them exist, so that the next run starts from no file at all.
pub fn remove_with_log(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

// --- Judging results and files -----------------------------------------------------------------

/// Checks that `svdb check`'s rules find no problem in the file at `db`.
pub fn assert_healthy(db: &Path) {
    let problems = check_file(db).expect("the file opens");
    assert!(problems.is_empty(), "{problems:?}");
}

/// The ids among `ids` (stored as `vectors`, in the same order) whose own vector, searched
/// through `index` with `params`, does not come back with the id itself first.
pub fn self_query_misses_with(
    collection: &Collection,
    index: &str,
    params: &SearchParams,
    ids: &[i64],
    vectors: &[Vec<f32>],
) -> Vec<i64> {
    ids.iter()
        .zip(vectors)
        .filter(|(&id, vector)| {
            let found = collection
                .search(Some(index), vector, params)
                .expect("a valid search");
            found.first().map(|n| n.id) != Some(id)
        })
        .map(|(&id, _)| id)
        .collect()
}

/// Every row of the nodes table of a graph index: node, id, level, links.
pub type NodeRow = (i64, i64, i64, Vec<u8>);

/// The nodes table of the graph index `index` in the file at `path`, in node order.
pub fn nodes_table(path: &Path, index: &str) -> Vec<NodeRow> {
    let raw = Connection::open(path).expect("opens");
    let mut statement = raw
        .prepare(&format!(
            "SELECT node, id, level, links FROM {index}_nodes ORDER BY node"
        ))
        .expect("the table exists");
    let rows = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("runs")
        .collect::<rusqlite::Result<Vec<NodeRow>>>()
        .expect("reads");
    rows
}

/// The names of the tables in the file at `path` whose names start with `prefix`.
pub fn tables_named(path: &Path, prefix: &str) -> Vec<String> {
    schema_names(path, "type = 'table'", prefix)
}

/// The names of the tables and SQL indexes (every schema object) in the file at `path` whose
/// names start with `prefix`.
pub fn schema_objects(path: &Path, prefix: &str) -> Vec<String> {
    schema_names(path, "1", prefix)
}

/// The names in the schema of the file at `path` that start with `prefix`, in order, of the
/// objects the SQL condition `kinds` (on `sqlite_master`'s columns) lets through.
fn schema_names(path: &Path, kinds: &str, prefix: &str) -> Vec<String> {
    let raw = Connection::open(path).expect("opens");
    let mut statement = raw
        .prepare(&format!(
            "SELECT name FROM sqlite_master WHERE {kinds} \
             AND substr(name, 1, length(?1)) = ?1 ORDER BY name"
        ))
        .expect("valid SQL");
    let names = statement
        .query_map([prefix], |row| row.get::<_, String>(0))
        .expect("runs")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("reads");
    names
}

/// Drops the index `name` of the collection at `db` if it has one, so that the next build
/// starts from none.
pub fn drop_index_if_present(db: &Path, name: &str) {
    let mut collection = Collection::open_existing(db).expect("opens");
    if collection.has_index(name).expect("reads") {
        collection.drop_index(name).expect("drops");
    }
}

/// Runs `sql` on the file at `path` behind the library's back, to damage it.
pub fn tamper(path: &Path, sql: &str) {
    Connection::open(path)
        .expect("opens")
        .execute_batch(sql)
        .expect("tampers");
}

/// Rewrites the links BLOB of `node` in the graph index `hnsw` through `edit`, to damage it.
pub fn edit_links(path: &Path, node: i64, edit: impl FnOnce(&mut Vec<u8>)) {
    let raw = Connection::open(path).expect("opens");
    let mut links: Vec<u8> = raw
        .query_row(
            "SELECT links FROM hnsw_nodes WHERE node = ?1",
            [node],
            |r| r.get(0),
        )
        .expect("the node exists");
    edit(&mut links);
    raw.execute(
        "UPDATE hnsw_nodes SET links = ?1 WHERE node = ?2",
        params![links, node],
    )
    .expect("tampers");
}
