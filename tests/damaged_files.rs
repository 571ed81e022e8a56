//! Files tampered with by hand: refused with a typed error that names what is wrong, or opened
//! with the damaged part fenced off; never a wrong answer given as a right one.

use std::path::Path;
use std::process::Command;

use rusqlite::Connection;
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::{Collection, IndexSpec, IvfSettings, PqSettings, SearchParams};
use simple_vector_db::{Error, Metric, VectorDbSqlitePq};

fn vectors(n: usize, d: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| (0..d).map(|j| ((i * 13 + j * 7) % 53) as f32).collect())
        .collect()
}

/// A file with 200 vectors of dimension 8, an inverted file and a PQ index.
fn indexed_file(path: &Path) {
    let mut collection = Collection::open(path).expect("creates");
    collection.set_metric(Metric::Euclidean).expect("sets");
    collection.insert(&vectors(200, 8), None).expect("stores");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(4)))
        .expect("builds");
    collection
        .create_index("pq", &IndexSpec::Pq(PqSettings::new(4, 16)))
        .expect("builds");
}

fn tamper(path: &Path, sql: &str) {
    Connection::open(path)
        .expect("opens")
        .execute_batch(sql)
        .expect("tampers");
}

#[test]
fn a_healthy_file_passes_the_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.db");
    indexed_file(&path);
    assert_eq!(check_file(&path).expect("opens"), []);
    let output = Command::new(env!("CARGO_BIN_EXE_svdb"))
        .args(["check", "--db", path.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).ends_with(": ok\n"));
}

#[test]
fn a_bad_centroid_fences_off_its_index_but_not_the_collection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.db");
    indexed_file(&path);
    tamper(
        &path,
        "UPDATE ivf_centroids SET centroid = x'0000' WHERE cell = 2",
    );
    let mut collection = Collection::open_existing(&path).expect("the collection still opens");
    let query = collection.get(3).expect("reads").expect("stored");
    let exact = collection
        .search(None, &query, &SearchParams::k(3))
        .expect("brute force still answers");
    assert_eq!(exact[0].id, 3);
    let error = collection
        .search(Some("ivf"), &query, &SearchParams::k(3))
        .expect_err("the damaged index refuses");
    assert!(
        matches!(&error, Error::BadIndexRecord { index, reason } if index == "ivf" && reason.contains("cell 2")),
        "{error}"
    );
    assert!(
        collection
            .search(Some("pq"), &query, &SearchParams::k(3))
            .is_ok(),
        "the other index is intact"
    );
    assert!(
        matches!(
            collection.insert(&vectors(1, 8), None),
            Err(Error::BadIndexRecord { .. })
        ),
        "an insert could not keep the damaged index up to date"
    );
    assert_eq!(collection.len().expect("counts"), 200);
    let problems = check_file(&path).expect("opens");
    assert!(
        problems
            .iter()
            .any(|p| p.table.starts_with("ivf") && p.what.contains("cell 2")),
        "{problems:?}"
    );
    // Rebuilding replaces it.
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(4)))
        .expect("rebuilds");
    assert_eq!(
        collection
            .search(Some("ivf"), &query, &SearchParams::k(3).with_n_probes(4))
            .expect("answers"),
        exact
    );
    assert_eq!(check_file(&path).expect("opens"), []);
}

#[test]
fn a_half_length_or_missing_codebook_is_named_not_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql, needle) in [
        (
            "half.db",
            "UPDATE pq_codebook SET centroids = substr(centroids, 1, length(centroids) / 2)",
            "codebook",
        ),
        ("gone.db", "DELETE FROM pq_codebook", "codebook is missing"),
    ] {
        let path = dir.path().join(name);
        let mut db = VectorDbSqlitePq::create(&path, 4, 16).expect("creates");
        db.insert(&vectors(200, 8), None).expect("stores");
        drop(db);
        tamper(&path, sql);
        let db = VectorDbSqlitePq::open(&path).expect("opens: the ids are intact");
        assert_eq!(
            db.dimension(),
            Some(8),
            "{name}: the dimension is the file's, not the codebook's"
        );
        let error = db
            .search_without_index(&vectors(1, 8)[0], 3)
            .expect_err("refused, not Ok([])");
        assert!(error.to_string().contains(needle), "{name}: {error}");
        assert!(!check_file(&path).expect("opens").is_empty(), "{name}");
    }
}

#[test]
fn impossible_settings_in_meta_are_refused_with_their_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql, needle) in [
        (
            "huge.db",
            "UPDATE meta SET value = '4611686018427387904' WHERE key = 'dimension'",
            "dimension",
        ),
        (
            "word.db",
            "UPDATE meta SET value = 'eight' WHERE key = 'dimension'",
            "dimension",
        ),
        (
            "metric.db",
            "UPDATE meta SET value = 'manhattan' WHERE key = 'metric'",
            "manhattan",
        ),
        (
            "gen.db",
            "UPDATE meta SET value = 'x' WHERE key = 'generation'",
            "generation",
        ),
    ] {
        let path = dir.path().join(name);
        indexed_file(&path);
        tamper(&path, sql);
        let error = Collection::open_existing(&path).expect_err("refused");
        assert!(
            matches!(error, Error::NotOurDatabase { .. }),
            "{name}: {error}"
        );
        assert!(error.to_string().contains(needle), "{name}: {error}");
        assert!(
            error.to_string().contains(name),
            "{name}: the message names the file: {error}"
        );
    }
}

#[test]
fn blobs_that_disagree_with_meta_are_found_by_the_check_and_refused_by_a_scan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.db");
    indexed_file(&path);
    tamper(
        &path,
        "UPDATE vectors SET vector = substr(vector, 1, 16) WHERE id = 7",
    );
    let collection = Collection::open_existing(&path).expect("opens");
    assert!(matches!(
        collection.search(None, &vectors(1, 8)[0], &SearchParams::k(3)),
        Err(Error::BlobLength {
            len: 16,
            expected: 32
        })
    ));
    let problems = check_file(&path).expect("opens");
    assert!(
        problems
            .iter()
            .any(|p| p.table == "vectors" && p.what.contains("id 7")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.table == "ivf_lists" && p.what.contains("differ")),
        "{problems:?}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_svdb"))
        .args(["check", "--db", path.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("problem: vectors:"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("problem(s) found"));
}
