//! Several processes on one file, and processes killed half-way: nothing lost, nothing torn.
//!
//! These tests run the real `svdb` and `main_sqlite_pq` binaries as child processes. Writers
//! take SQLite's write lock before they read what a write depends on (the largest id, the
//! schema, the codebook, the centroids), and every handle notices another's commits through the
//! file's generation counter. A process killed with SIGKILL at any moment leaves the file as it
//! was before its last transaction or after it, never between. Each test is bounded in time.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{
    assert_healthy, drop_index_if_present, kill_at_spread_moments, remove_with_log, run, s,
    svdb_command, write_vectors,
};
use simple_vector_db::engine::{Collection, SearchParams};

/// Writes `n` vectors of dimension `d` to `path`, a fixed pattern of values in [0, 1) whose
/// row `r` is row `r + offset` of the same pattern, so files of other offsets hold others.
fn write_patterned(path: &Path, n: usize, d: usize, offset: usize) {
    let vectors: Vec<Vec<f32>> = (0..n)
        .map(|row| {
            (0..d)
                .map(|j| ((((row + offset) * d + j) * 7919) % 10_007) as f32 / 10_007.0)
                .collect()
        })
        .collect();
    write_vectors(path, &vectors);
}

#[test]
fn concurrent_loads_without_ids_never_collide() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("f.db");
    let x = dir.path().join("x.npy");
    write_patterned(&x, 500, 8, 0);
    let children: Vec<Child> = (0..4)
        .map(|_| {
            svdb_command(&["load", "--db", s(&db), "--vectors", s(&x)])
                .spawn()
                .expect("spawns")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("waits");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let collection = Collection::open_existing(&db).expect("opens");
    assert_eq!(
        collection.len().expect("counts"),
        2_000,
        "no batch lost, none refused"
    );
    for id in [0, 499, 500, 1_999] {
        assert!(collection.get(id).expect("reads").is_some(), "id {id}");
    }
    assert_healthy(&db);
}

#[test]
fn a_reader_sees_what_another_process_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("f.db");
    let x = dir.path().join("x.npy");
    write_patterned(&x, 300, 4, 0);
    // The reader opens the file while it is still empty, before any dimension is known.
    assert!(
        run(svdb_command(&["load", "--db", s(&db), "--vectors", s(&x)]))
            .status
            .success()
    );
    let reader = Collection::open_existing(&db).expect("opens");
    let query = reader.get(7).expect("reads").expect("stored");
    let mut seen = vec![reader.len().expect("counts")];
    for round in 0..5 {
        let c = svdb_command(&["load", "--db", s(&db), "--vectors", s(&x)]);
        assert!(run(c).status.success());
        seen.push(reader.len().expect("counts"));
        if round == 2 {
            let c = svdb_command(&["index", "--db", s(&db), "ivf", "--nlist", "8"]);
            assert!(run(c).status.success());
        }
    }
    assert_eq!(seen, [300, 600, 900, 1_200, 1_500, 1_800]);
    // The index was built by another process after the reader opened; rows loaded after it were
    // filed into it by yet another; the reader finds them all through it.
    let exact = reader
        .search(None, &query, &SearchParams::k(6))
        .expect("brute force");
    let indexed = reader
        .search(Some("ivf"), &query, &SearchParams::k(6).with_n_probes(8))
        .expect("through the index");
    assert_eq!(exact, indexed);
    assert_eq!(exact.len(), 6, "the six copies of vector 7");
    assert!(exact.iter().all(|n| n.score == exact[0].score));
    assert_healthy(&db);
}

#[test]
fn a_load_killed_at_any_moment_stores_all_or_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("f.db");
    let x = dir.path().join("x.npy");
    let small = dir.path().join("small.npy");
    write_patterned(&x, 60_000, 32, 0);
    write_patterned(&small, 10, 32, 1);
    let reset = || {
        remove_with_log(&db);
        let c = svdb_command(&["load", "--db", s(&db), "--vectors", s(&small)]);
        assert!(run(c).status.success());
    };
    let make = || svdb_command(&["load", "--db", s(&db), "--vectors", s(&x)]);
    // ANCHOR: verify_load
    let verify = |trial: usize| {
        let count = Collection::open_existing(&db)
            .expect("reopens")
            .len()
            .expect("counts");
        assert!(
            count == 10 || count == 60_010,
            "trial {trial}: {count} rows"
        );
        assert_healthy(&db);
    };
    // ANCHOR_END: verify_load
    let killed = kill_at_spread_moments(&make, &reset, &verify, 8);
    assert!(killed > 0, "no run was killed before it finished");
}

#[test]
fn an_index_build_killed_at_any_moment_leaves_no_half_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("f.db");
    let x = dir.path().join("x.npy");
    write_patterned(&x, 20_000, 16, 0);
    let c = svdb_command(&[
        "load",
        "--db",
        s(&db),
        "--vectors",
        s(&x),
        "--metric",
        "euclidean",
    ]);
    assert!(run(c).status.success());
    let reset = || drop_index_if_present(&db, "ivf");
    let make = || svdb_command(&["index", "--db", s(&db), "ivf", "--nlist", "64"]);
    let verify = |trial: usize| {
        let collection = Collection::open_existing(&db).expect("reopens");
        if collection.has_index("ivf").expect("reads") {
            let query = collection.get(5).expect("reads").expect("stored");
            let found = collection
                .search(Some("ivf"), &query, &SearchParams::k(1).with_n_probes(64))
                .expect("a whole index answers");
            assert_eq!(found[0].id, 5, "trial {trial}");
        }
        assert_healthy(&db);
    };
    let killed = kill_at_spread_moments(&make, &reset, &verify, 8);
    assert!(killed > 0, "no build was killed before it finished");
}

#[test]
fn a_first_pq_insert_killed_at_any_moment_keeps_codebook_and_codes_together() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("pq.db");
    let reset = || remove_with_log(&db);
    let make = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_main_sqlite_pq"));
        c.args(["--db", s(&db)])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let verify = |trial: usize| {
        if !db.exists() {
            return; // killed before the file was created
        }
        let Ok(pq) = simple_vector_db::VectorDbSqlitePq::open(&db) else {
            return; // killed before the schema committed: the file is empty, not ours yet
        };
        let count = pq.len().expect("counts");
        let trained = pq.quantizer().expect("reads").is_trained();
        assert!(
            (count == 0 && !trained) || (count == 1_797 && trained),
            "trial {trial}: {count} codes, trained: {trained}"
        );
        assert_healthy(&db);
    };
    kill_at_spread_moments(&make, &reset, &verify, 8);
}

#[test]
fn two_first_pq_inserts_at_once_end_with_one_codebook_for_every_code() {
    // Two handles (two SQLite connections, the same locks as two processes) create one file
    // and insert their first batches at the same moment. Before, both trained a codebook and
    // both succeeded, one with codes encoded by a codebook the other then overwrote.
    let dir = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = dir.path().join("pq.db");
    let batch = |offset: usize| -> Vec<Vec<f32>> {
        (0..400)
            .map(|i| {
                (0..8)
                    .map(|j| (((i + offset) * 31 + j * 17) % 97) as f32)
                    .collect()
            })
            .collect()
    };
    for round in 0..5 {
        remove_with_log(&db);
        let start = std::sync::Arc::new(std::sync::Barrier::new(2));
        let workers: Vec<_> = [0, 1_000]
            .into_iter()
            .map(|offset| {
                let (db, start, vectors) = (db.clone(), start.clone(), batch(offset));
                std::thread::spawn(move || {
                    start.wait();
                    let mut pq = simple_vector_db::VectorDbSqlitePq::create(&db, 4, 16)
                        .expect("creates or opens");
                    let ids = pq.insert(&vectors, None).expect("stores");
                    (ids, vectors)
                })
            })
            .collect();
        let batches: Vec<(Vec<i64>, Vec<Vec<f32>>)> = workers
            .into_iter()
            .map(|w| w.join().expect("no panic"))
            .collect();
        let pq = simple_vector_db::VectorDbSqlitePq::open(&db).expect("opens");
        assert_eq!(pq.len().expect("counts"), 800, "round {round}");
        let quantizer = pq.quantizer().expect("reads");
        for (ids, vectors) in &batches {
            for (id, vector) in ids.iter().zip(vectors) {
                assert_eq!(
                    pq.code_of(*id).expect("reads"),
                    Some(quantizer.quantize_vector(vector).expect("encodes")),
                    "round {round}: id {id} was encoded by the stored codebook"
                );
            }
        }
        assert_healthy(&db);
    }
}
