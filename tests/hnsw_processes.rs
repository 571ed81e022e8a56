//! Processes killed half-way through writing a graph index: nothing lost, nothing torn.
//!
//! The approach of `tests/processes.rs`: the real `svdb` binary runs as a child process and is
//! killed with SIGKILL at moments spread over its run. A graph is built, and new vectors are
//! linked into it, inside the collection's write transaction, so a killed build leaves no
//! index or a whole one, and a killed load leaves the rows, the graph and the vectors agreeing:
//! all of the batch or none of it. Each test is bounded in time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rusqlite::Connection;
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, SearchParams};
use simple_vector_db::sqlite_store::Layout;

fn svdb() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_svdb"));
    command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn run(mut command: Command) -> Output {
    command.output().expect("the binary runs")
}

/// `n` seeded vectors uniform in [0, 1)^d: no two alike, so each is its own nearest neighbour.
fn uniform(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..d).map(|_| rng.gen::<f32>()).collect())
        .collect()
}

fn write_vectors(path: &Path, vectors: &[Vec<f32>]) {
    let d = vectors[0].len();
    let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
    let array = Array2::from_shape_vec((vectors.len(), d), flat).expect("rectangular");
    array
        .write_npy(std::fs::File::create(path).expect("creates"))
        .expect("writes");
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn assert_healthy(db: &Path) {
    let problems = check_file(db).expect("the file opens");
    assert!(problems.is_empty(), "{problems:?}");
}

fn remove_with_log(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// The tables of the file whose names start with `hnsw_`.
fn graph_tables(db: &Path) -> Vec<String> {
    let raw = Connection::open(db).expect("opens");
    let mut statement = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'hnsw\\_%' ESCAPE '\\' ORDER BY name")
        .expect("valid SQL");
    let names = statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("runs")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("reads");
    names
}

/// `(rows of hnsw_nodes, nodes of the entry row)`.
fn graph_counts(db: &Path) -> (i64, i64) {
    let raw = Connection::open(db).expect("opens");
    let rows = raw
        .query_row("SELECT count(*) FROM hnsw_nodes", [], |r| r.get(0))
        .expect("the nodes table");
    let entry = raw
        .query_row("SELECT nodes FROM hnsw_entry", [], |r| r.get(0))
        .expect("the entry row");
    (rows, entry)
}

/// Every row of `hnsw_nodes` (node, id, level, links), in node order.
type Nodes = Vec<(i64, i64, i64, Vec<u8>)>;

fn nodes_table(db: &Path) -> Nodes {
    let raw = Connection::open(db).expect("opens");
    let mut statement = raw
        .prepare("SELECT node, id, level, links FROM hnsw_nodes ORDER BY node")
        .expect("the nodes table");
    let rows = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("runs")
        .collect::<rusqlite::Result<Nodes>>()
        .expect("reads");
    rows
}

/// The ids among `ids` (id `i` stored as `vectors[i]`) that a search of their own vector
/// through the graph, `k` results in a beam of `ef`, does not return.
fn unfound(
    collection: &Collection,
    vectors: &[Vec<f32>],
    ids: impl Iterator<Item = i64>,
    (k, ef): (usize, usize),
) -> Vec<i64> {
    let params = SearchParams::k(k).with_ef(ef);
    ids.filter(|&id| {
        let found = collection
            .search(Some("hnsw"), &vectors[id as usize], &params)
            .expect("a whole graph answers");
        !found.iter().any(|n| n.id == id)
    })
    .collect()
}

/// Runs `command` once to time it, then `trials` times killed at spread-out moments, calling
/// `verify` after each kill. Returns how many runs were killed before they finished.
/// (Copied from `tests/processes.rs`.)
fn kill_at_spread_moments(
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

#[test]
fn a_graph_build_killed_at_any_moment_leaves_no_index_or_a_whole_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("f.db");
    let x = dir.path().join("x.npy");
    let vectors = uniform(20_000, 16, 1);
    write_vectors(&x, &vectors);
    let mut c = svdb();
    c.args([
        "load",
        "--db",
        s(&db),
        "--vectors",
        s(&x),
        "--layout",
        "rows",
        "--metric",
        "euclidean",
    ]);
    assert!(run(c).status.success());
    let reset = || {
        let mut collection = Collection::open_existing(&db).expect("opens");
        if collection.has_index("hnsw").expect("reads") {
            collection.drop_index("hnsw").expect("drops");
        }
        drop(collection);
        assert!(graph_tables(&db).is_empty(), "dropped with its tables");
    };
    let make = || {
        let mut c = svdb();
        c.args([
            "index",
            "--db",
            s(&db),
            "hnsw",
            "--m",
            "8",
            "--ef-construction",
            "40",
        ]);
        c
    };
    let outcomes = std::cell::RefCell::new((0, 0));
    // The graph the uninterrupted build writes; a build is deterministic (seed 42).
    let whole: std::cell::RefCell<Option<Nodes>> = std::cell::RefCell::new(None);
    let verify = |trial: usize| {
        let collection = Collection::open_existing(&db).expect("reopens");
        assert_eq!(collection.len().expect("counts"), 20_000, "trial {trial}");
        if collection.has_index("hnsw").expect("reads") {
            outcomes.borrow_mut().1 += 1;
            let info = collection
                .index_info("hnsw")
                .expect("reads")
                .expect("listed");
            assert!(info.up_to_date, "trial {trial}");
            assert_eq!(graph_counts(&db), (20_000, 20_000), "trial {trial}");
            let nodes = nodes_table(&db);
            let reference = whole
                .borrow_mut()
                .get_or_insert_with(|| nodes.clone())
                .clone();
            assert!(
                nodes == reference,
                "trial {trial}: another graph than the whole build's"
            );
            // The ids are the collection's (SQLite numbers them in order from 0 here).
            assert!(
                nodes
                    .iter()
                    .map(|r| r.1)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .eq(0..20_000),
                "trial {trial}"
            );
            assert_eq!(
                unfound(&collection, &vectors, (0..20_000).step_by(97), (1, 64)),
                Vec::<i64>::new(),
                "trial {trial}"
            );
        } else {
            outcomes.borrow_mut().0 += 1;
            assert!(
                graph_tables(&db).is_empty(),
                "trial {trial}: tables of an index that is not listed"
            );
        }
        drop(collection);
        assert_healthy(&db);
    };
    let killed = kill_at_spread_moments(&make, &reset, &verify, 8);
    let (none, whole) = outcomes.into_inner();
    eprintln!("{killed} builds killed: {none} left no index, {whole} a whole one");
    assert!(killed > 0, "no build was killed before it finished");
    assert!(none > 0, "no killed build was checked for leftovers");
}

#[test]
fn a_load_into_a_graph_indexed_collection_killed_at_any_moment_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("f.db");
    let more = dir.path().join("more.npy");
    const BASE: usize = 3_000;
    const MORE: usize = 10_000;
    // Id `i` is `vectors[i]`: the base first, then the loaded ones.
    let mut vectors = uniform(BASE, 16, 2);
    vectors.extend(uniform(MORE, 16, 3));
    write_vectors(&more, &vectors[BASE..]);
    // The file before each load: the base in chunks and a graph on it, checkpointed.
    let seed = {
        let mut collection = Collection::open_with_layout(&db, Layout::Chunks).expect("creates");
        collection.insert(&vectors[..BASE], None).expect("stores");
        collection
            .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
            .expect("builds");
        drop(collection);
        assert!(!dir.path().join("f.db-wal").exists(), "checkpointed");
        std::fs::read(&db).expect("reads")
    };
    let before = nodes_table(&db);
    let reset = || {
        remove_with_log(&db);
        std::fs::write(&db, &seed).expect("writes");
    };
    let make = || {
        let mut c = svdb();
        c.args(["load", "--db", s(&db), "--vectors", s(&more)]);
        c
    };
    let outcomes = std::cell::RefCell::new((0, 0));
    // The graph the uninterrupted load leaves; linking is deterministic.
    let after: std::cell::RefCell<Option<Nodes>> = std::cell::RefCell::new(None);
    let verify = |trial: usize| {
        let collection = Collection::open_existing(&db).expect("reopens");
        let count = collection.len().expect("counts");
        assert!(
            count == BASE || count == BASE + MORE,
            "trial {trial}: {count} rows"
        );
        assert_eq!(
            graph_counts(&db),
            (count as i64, count as i64),
            "trial {trial}"
        );
        let nodes = nodes_table(&db);
        if count == BASE {
            outcomes.borrow_mut().0 += 1;
            assert!(
                nodes == before,
                "trial {trial}: the graph changed, the rows did not"
            );
        } else {
            outcomes.borrow_mut().1 += 1;
            let reference = after
                .borrow_mut()
                .get_or_insert_with(|| nodes.clone())
                .clone();
            assert!(
                nodes == reference,
                "trial {trial}: another graph than the whole load's"
            );
        }
        assert!(
            nodes
                .iter()
                .map(|r| r.1)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .eq(0..count as i64),
            "trial {trial}: the graph's ids are not the stored ones"
        );
        assert!(
            collection
                .index_info("hnsw")
                .expect("reads")
                .expect("listed")
                .up_to_date,
            "trial {trial}"
        );
        // Every stored id, old and new, is found through the graph with a wide beam.
        assert_eq!(
            unfound(&collection, &vectors, 0..count as i64, (10, 100)),
            Vec::<i64>::new(),
            "trial {trial}"
        );
        drop(collection);
        assert_healthy(&db);
    };
    let killed = kill_at_spread_moments(&make, &reset, &verify, 8);
    let (none, all) = outcomes.into_inner();
    eprintln!("{killed} loads killed: {none} stored nothing, {all} everything");
    assert!(killed > 0, "no load was killed before it finished");
    assert!(none > 0, "no killed load was checked for leftovers");
}
