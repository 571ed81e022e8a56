//! Processes killed half-way through writing a graph index: nothing lost, nothing torn.
//!
//! The approach of `tests/processes.rs`: the real `svdb` binary runs as a child process and is
//! killed with SIGKILL at moments spread over its run. A graph is built, and new vectors are
//! linked into it, inside the collection's write transaction, so a killed build leaves no
//! index or a whole one, and a killed load leaves the rows, the graph and the vectors agreeing:
//! all of the batch or none of it. Each test is bounded in time.

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_healthy, drop_index_if_present, kill_at_spread_moments, nodes_table, remove_with_log,
    run, s, svdb_command, tables_named, uniform, write_vectors, NodeRow,
};
use rusqlite::Connection;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, SearchParams};
use simple_vector_db::sqlite_store::Layout;

/// The tables of the graph index `hnsw` in the file at `db`.
fn graph_tables(db: &Path) -> Vec<String> {
    tables_named(db, "hnsw_")
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
type Nodes = Vec<NodeRow>;

/// Whether `nodes` is the graph held in `first`; the first graph asked about becomes it.
/// Builds and loads are deterministic, so every whole one must write the same graph as the
/// uninterrupted run, which is checked first.
fn same_as_first(first: &std::cell::RefCell<Option<Nodes>>, nodes: &[NodeRow]) -> bool {
    let mut first = first.borrow_mut();
    let reference = first.get_or_insert_with(|| nodes.to_vec());
    nodes == reference.as_slice()
}

/// Whether the ids of `nodes`, as a set, are exactly `expected`.
fn ids_are(nodes: &[NodeRow], expected: std::ops::Range<i64>) -> bool {
    nodes
        .iter()
        .map(|r| r.1)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .eq(expected)
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

#[test]
fn a_graph_build_killed_at_any_moment_leaves_no_index_or_a_whole_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("f.db");
    let x = dir.path().join("x.npy");
    let vectors = uniform(20_000, 16, 1);
    write_vectors(&x, &vectors);
    let c = svdb_command(&[
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
        drop_index_if_present(&db, "hnsw");
        assert!(graph_tables(&db).is_empty(), "dropped with its tables");
    };
    let make = || {
        svdb_command(&[
            "index",
            "--db",
            s(&db),
            "hnsw",
            "--m",
            "8",
            "--ef-construction",
            "40",
        ])
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
            let nodes = nodes_table(&db, "hnsw");
            assert!(
                same_as_first(&whole, &nodes),
                "trial {trial}: another graph than the whole build's"
            );
            // The ids are the collection's (SQLite numbers them in order from 0 here).
            assert!(ids_are(&nodes, 0..20_000), "trial {trial}");
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
    let before = nodes_table(&db, "hnsw");
    let reset = || {
        remove_with_log(&db);
        std::fs::write(&db, &seed).expect("writes");
    };
    let make = || svdb_command(&["load", "--db", s(&db), "--vectors", s(&more)]);
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
        let nodes = nodes_table(&db, "hnsw");
        if count == BASE {
            outcomes.borrow_mut().0 += 1;
            assert!(
                nodes == before,
                "trial {trial}: the graph changed, the rows did not"
            );
        } else {
            outcomes.borrow_mut().1 += 1;
            assert!(
                same_as_first(&after, &nodes),
                "trial {trial}: another graph than the whole load's"
            );
        }
        assert!(
            ids_are(&nodes, 0..count as i64),
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
