//! `svdb delete`, `svdb upsert` and `svdb compact`: what they print, what they refuse before
//! any work, and what a kill in the middle of them leaves: the file as before or as after.

mod common;

use std::path::Path;

use common::{
    assert_healthy, assert_refused_before_any_work, kill_at_spread_moments, remove_with_log, s,
    stderr, stdout, svdb, svdb_command, temp_path, uniform, write_ids, write_vectors,
};
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, IvfSettings, SearchParams};
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::Metric;

/// A chunked collection of `n` vectors of `d` under ids 0..n, with an inverted file and a graph.
fn build(path: &Path, n: usize, d: usize) -> Vec<Vec<f32>> {
    let mut collection = Collection::open_with_layout(path, Layout::Chunks).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors = uniform(n, d, 21);
    collection.insert(&vectors, None).expect("stored");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(8).with_seed(1)))
        .expect("built");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("built");
    vectors
}

#[test]
fn svdb_delete_deletes_the_ids_given_and_refuses_unknown_ones_before_any_work() {
    let (dir, db) = temp_path("delete.db");
    build(&db, 200, 8);
    let output = svdb(&["delete", "--db", s(&db), "--ids", "4,8,15"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("deleted 3 vectors (197 left)"),
        "{}",
        stdout(&output)
    );

    assert_refused_before_any_work(&["delete", "--db", s(&db), "--ids", "5,4,999"], "[4, 999]");
    let output = svdb(&["delete", "--db", s(&db), "--ids", "5,999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("[999]"), "{}", stderr(&output));

    let ids = dir.path().join("ids.npy");
    write_ids(&ids, &[5, 6, 7]);
    let output = svdb(&["delete", "--db", s(&db), "--ids-file", s(&ids), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("\"deleted\": 3"),
        "{}",
        stdout(&output)
    );

    let collection = Collection::open_existing(&db).expect("opens");
    assert_eq!(collection.len().expect("len"), 194);
    for id in [4, 5, 6, 7, 8, 15] {
        assert_eq!(collection.get(id).expect("reads"), None, "{id}");
    }
    drop(collection);
    let info = stdout(&svdb(&["info", "--db", s(&db)]));
    assert!(info.contains("count: 194"), "{info}");
    assert!(info.contains("index hnsw: 6 deleted vectors"), "{info}");
    assert_healthy(&db);
}

#[test]
fn svdb_upsert_replaces_and_inserts_and_svdb_compact_reports_the_space_reclaimed() {
    let (dir, db) = temp_path("upsert.db");
    build(&db, 3000, 16);
    let (vectors, ids) = (dir.path().join("x.npy"), dir.path().join("ids.npy"));
    write_vectors(&vectors, &[vec![9.0; 16], vec![-9.0; 16]]);
    write_ids(&ids, &[10, 5000]);
    let output = svdb(&[
        "upsert",
        "--db",
        s(&db),
        "--vectors",
        s(&vectors),
        "--ids",
        s(&ids),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("replaced 1 vectors, inserted 1"),
        "{}",
        stdout(&output)
    );

    let half: Vec<i64> = (1000..2500).collect();
    let delete_ids = dir.path().join("half.npy");
    write_ids(&delete_ids, &half[..500]);
    let output = svdb(&["delete", "--db", s(&db), "--ids-file", s(&delete_ids)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = svdb(&["compact", "--db", s(&db), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    let (before, after) = (
        report["bytes_before"].as_u64(),
        report["bytes_after"].as_u64(),
    );
    assert!(after < before, "{report}");
    assert!(report["reclaimed"].as_u64() > Some(0), "{report}");
    let collection = Collection::open_existing(&db).expect("opens");
    assert_eq!(
        collection.deleted_entries().expect("counts")[0],
        ("hnsw".into(), 0)
    );
    for index in [None, Some("ivf"), Some("hnsw")] {
        let found = collection
            .search(index, &[9.0; 16], &SearchParams::k(1))
            .expect("searches");
        assert_eq!(found[0].id, 10, "{index:?}");
    }
    assert_eq!(collection.len().expect("len"), 2501);
    drop(collection);
    assert_healthy(&db);
}

/// Copies the file at `template` (closed, its log checkpointed) to `db`.
fn reset_from(template: &Path, db: &Path) {
    remove_with_log(db);
    std::fs::copy(template, db).expect("copies");
}

#[test]
fn a_killed_delete_leaves_the_file_before_or_after_the_batch() {
    let (dir, template) = temp_path("template.db");
    let n = 20_000;
    build(&template, n, 16);
    let doomed: Vec<i64> = (0..n as i64).filter(|i| i % 4 == 1).collect();
    let ids = dir.path().join("doomed.npy");
    write_ids(&ids, &doomed);
    let db = dir.path().join("killed.db");
    let make = || svdb_command(&["delete", "--db", s(&db), "--ids-file", s(&ids)]);
    let verify = |trial: usize| {
        assert_healthy(&db);
        let collection = Collection::open_existing(&db).expect("opens");
        let len = collection.len().expect("len");
        let after = n - doomed.len();
        assert!(len == n || len == after, "trial {trial}: {len} vectors");
        let found = collection
            .search(Some("hnsw"), &uniform(1, 16, 21)[0], &SearchParams::k(10))
            .expect("searches");
        if len == after {
            assert_eq!(collection.get(doomed[0]).expect("reads"), None);
            assert!(
                found.iter().all(|f| f.id % 4 != 1 && f.id >= 0),
                "{found:?}"
            );
        } else {
            assert!(collection.get(doomed[0]).expect("reads").is_some());
            assert_eq!(found[0].id, 0, "the first vector finds itself");
        }
    };
    let killed = kill_at_spread_moments(&make, &|| reset_from(&template, &db), &verify, 6);
    assert!(killed > 0, "no run was killed before it finished");
}

#[test]
fn a_killed_compact_leaves_the_file_before_or_after_it() {
    let (dir, template) = temp_path("template.db");
    let n = 20_000;
    build(&template, n, 16);
    let mut collection = Collection::open_existing(&template).expect("opens");
    // Below the graph's rebuild share: deleted nodes left for the compaction to drop.
    let doomed: Vec<i64> = (0..n as i64).filter(|i| i % 10 == 1).collect();
    collection.delete(&doomed).expect("deleted");
    drop(collection);
    let db = dir.path().join("killed.db");
    let make = || svdb_command(&["compact", "--db", s(&db)]);
    let verify = |trial: usize| {
        assert_healthy(&db);
        let collection = Collection::open_existing(&db).expect("opens");
        assert_eq!(
            collection.len().expect("len"),
            n - doomed.len(),
            "trial {trial}"
        );
        let deleted = collection.deleted_entries().expect("counts")[0].1;
        assert!(
            deleted == 0 || deleted == doomed.len(),
            "trial {trial}: {deleted}"
        );
        let found = collection
            .search(Some("hnsw"), &uniform(1, 16, 21)[0], &SearchParams::k(10))
            .expect("searches");
        assert_eq!(found[0].id, 0, "trial {trial}");
        assert!(
            found.iter().all(|f| f.id % 10 != 1 && f.id >= 0),
            "{found:?}"
        );
    };
    let killed = kill_at_spread_moments(&make, &|| reset_from(&template, &db), &verify, 6);
    assert!(killed > 0, "no run was killed before it finished");
}
