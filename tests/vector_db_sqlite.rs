//! The SQLite vector store, end to end: Rust counterparts of the original's tests, reopening
//! files, and every kind of bad input leaving the database as it was.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::{Error, Metric, VectorDbSqlite};
use tempfile::TempDir;

fn sample_vectors() -> Vec<Vec<f32>> {
    vec![
        vec![0.1, 0.2, 0.3],
        vec![0.4, 0.5, 0.6],
        vec![0.7, 0.8, 0.9],
    ]
}

fn temp_db() -> (TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vectors.db");
    (dir, path)
}

fn random_vector(rng: &mut Xoshiro256PlusPlus, dimension: usize) -> Vec<f32> {
    (0..dimension).map(|_| rng.gen_range(0.0..1.0)).collect()
}

#[test]
fn insert_stores_every_vector() {
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    let ids = db.insert(&sample_vectors(), None).expect("valid vectors");
    assert_eq!(db.len().expect("counts"), 3);
    assert_eq!(ids, vec![0, 1, 2], "ids count from 0, like positions");
}

#[test]
fn vectors_of_784_floats_round_trip_bit_for_bit() {
    let (_dir, path) = temp_db();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(784);
    let floats = random_vector(&mut rng, 784);
    let ints: Vec<f32> = (0..784).map(|_| rng.gen_range(0..256) as f32).collect();
    let mut db = VectorDbSqlite::open(&path).expect("opens");
    let ids = db
        .insert(&[floats.clone(), ints.clone()], None)
        .expect("valid");
    for (id, original) in ids.iter().zip([&floats, &ints]) {
        let back = db.search_with_id(*id).expect("reads").expect("stored");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(original));
    }
}

#[test]
fn given_ids_are_kept_across_two_inserts_and_returned_by_search() {
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    db.insert(&sample_vectors(), Some(&[121, 221, 331]))
        .expect("valid");
    db.insert(&[[0.67, 0.2, 0.3], [0.61, 0.5, 0.6]], Some(&[441, 551]))
        .expect("valid");
    assert_eq!(
        db.search_with_id(221).expect("reads"),
        Some(vec![0.4, 0.5, 0.6])
    );
    assert_eq!(
        db.search_with_id(551).expect("reads"),
        Some(vec![0.61, 0.5, 0.6])
    );
    assert_eq!(
        db.search_with_id(1).expect("reads"),
        None,
        "an unknown id is None"
    );

    // Search returns the ids as given: no shifting by one anywhere.
    let top = db
        .search_without_index(&[0.67, 0.2, 0.3], 1)
        .expect("valid");
    assert_eq!(top[0].id, 441);

    // Without ids, numbering continues after the largest id.
    let more = db.insert(&[[1.0, 1.0, 1.0]], None).expect("valid");
    assert_eq!(more, vec![552]);
}

#[test]
fn cosine_results_come_best_first() {
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    db.insert(&sample_vectors(), None).expect("valid");
    let results = db.search_without_index(&[0.3, 0.4, 0.5], 2).expect("valid");
    assert_eq!(results.len(), 2);
    assert!(
        results[0].score >= results[1].score,
        "similarities decrease: {results:?}"
    );
    // Computed by hand: the cosine of [0.3,0.4,0.5] with [0.4,0.5,0.6] is the highest.
    assert_eq!(results[0].id, 1);
}

#[test]
fn euclidean_results_come_nearest_first() {
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    db.set_metric(Metric::Euclidean).expect("stores the metric");
    db.insert(&sample_vectors(), None).expect("valid");
    let results = db.search_without_index(&[0.3, 0.4, 0.5], 3).expect("valid");
    let ids: Vec<i64> = results.iter().map(|r| r.id).collect();
    // Distances: id 1 → √0.03, id 0 → √0.12, id 2 → √0.48.
    assert_eq!(ids, vec![1, 0, 2]);
    assert!((results[0].score - 0.03f32.sqrt()).abs() < 1e-6);
    assert!(results.windows(2).all(|w| w[0].score <= w[1].score));
}

#[test]
fn search_returns_k_results_or_all_of_them() {
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let vectors: Vec<Vec<f32>> = (0..200).map(|_| random_vector(&mut rng, 8)).collect();
    db.insert(&vectors, None).expect("valid");
    let query = random_vector(&mut rng, 8);
    assert_eq!(db.search_without_index(&query, 7).expect("valid").len(), 7);
    assert_eq!(
        db.search_without_index(&query, 1000).expect("valid").len(),
        200
    );
    assert!(matches!(
        db.search_without_index(&query, 0),
        Err(Error::ZeroK)
    ));
}

#[test]
fn search_agrees_with_the_in_memory_database() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let vectors: Vec<Vec<f32>> = (0..500).map(|_| random_vector(&mut rng, 16)).collect();
    for metric in [Metric::Cosine, Metric::Euclidean] {
        let mut sqlite = VectorDbSqlite::open_in_memory().expect("opens");
        sqlite.set_metric(metric).expect("stores the metric");
        sqlite.insert(&vectors, None).expect("valid");
        let mut memory = simple_vector_db::VectorDbInMemory::with_metric(metric);
        memory.insert(&vectors).expect("valid");
        let query = random_vector(&mut rng, 16);
        let from_sqlite: Vec<i64> = sqlite
            .search_without_index(&query, 10)
            .expect("valid")
            .iter()
            .map(|r| r.id)
            .collect();
        let from_memory: Vec<i64> = memory
            .search(&query, 10)
            .expect("valid")
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(from_sqlite, from_memory, "{metric}");
    }
}

#[test]
fn reopening_a_file_restores_vectors_dimension_metric_and_ids() {
    let (_dir, path) = temp_db();
    let ids = {
        let mut db = VectorDbSqlite::open(&path).expect("creates");
        db.set_metric(Metric::Euclidean).expect("stores the metric");
        db.insert(&sample_vectors(), Some(&[10, 20, 30]))
            .expect("valid")
    }; // dropped: the connection is closed, as when a process ends
    let mut db = VectorDbSqlite::open(&path).expect("reopens");
    assert_eq!(ids, vec![10, 20, 30]);
    assert_eq!(db.dimension(), Some(3));
    assert_eq!(db.metric(), Metric::Euclidean);
    assert_eq!(db.len().expect("counts"), 3);
    assert_eq!(
        db.search_with_id(20).expect("reads"),
        Some(vec![0.4, 0.5, 0.6])
    );
    assert_eq!(
        db.search_without_index(&[0.7, 0.8, 0.9], 1).expect("valid")[0].id,
        30
    );
    // The dimension still guards the door after a reopen.
    assert!(matches!(
        db.insert(&[[1.0, 2.0]], None),
        Err(Error::DimensionMismatch {
            expected: 3,
            found: 2
        })
    ));
}

// --- Bad input: a typed error, and nothing written -------------------------------------------

fn db_with_samples() -> VectorDbSqlite {
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    db.insert(&sample_vectors(), Some(&[1, 2, 3]))
        .expect("valid");
    db
}

#[test]
fn a_vector_of_another_dimension_stores_nothing() {
    let mut db = db_with_samples();
    let err = db
        .insert(&[vec![1.0, 1.0, 1.0], vec![1.0, 1.0]], None)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::DimensionMismatch {
            expected: 3,
            found: 2
        }
    ));
    assert_eq!(db.len().expect("counts"), 3);
}

#[test]
fn nan_or_infinity_stores_nothing() {
    let mut db = db_with_samples();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = db
            .insert(&[vec![0.5, 0.5, 0.5], vec![0.5, bad, 0.5]], None)
            .unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteValue { position: 1, .. }),
            "{err}"
        );
    }
    assert_eq!(db.len().expect("counts"), 3);
}

#[test]
fn a_duplicate_id_rolls_back_the_whole_batch() {
    let mut db = db_with_samples();
    // 7 and 8 are new, 2 is taken: none of the three may be stored.
    let err = db
        .insert(
            &[[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
            Some(&[7, 8, 2]),
        )
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateId(2)), "{err}");
    assert_eq!(db.len().expect("counts"), 3);
    assert_eq!(db.search_with_id(7).expect("reads"), None);
    assert_eq!(
        db.search_with_id(2).expect("reads"),
        Some(vec![0.4, 0.5, 0.6]),
        "the old vector is untouched"
    );

    // The same id twice in one batch is a duplicate too.
    let err = db
        .insert(&[[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], Some(&[9, 9]))
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateId(9)));
    assert_eq!(db.len().expect("counts"), 3);
}

#[test]
fn ids_must_match_the_vectors_one_to_one() {
    let mut db = db_with_samples();
    let err = db.insert(&[[0.0, 0.0, 1.0]], Some(&[7, 8])).unwrap_err();
    assert!(matches!(err, Error::IdCountMismatch { ids: 2, vectors: 1 }));
    assert_eq!(db.len().expect("counts"), 3);
}

#[test]
fn a_bad_first_batch_does_not_fix_the_dimension() {
    let (_dir, path) = temp_db();
    let mut db = VectorDbSqlite::open(&path).expect("creates");
    assert!(db.insert(&[vec![1.0, f32::NAN]], None).is_err());
    assert_eq!(db.dimension(), None);
    drop(db);
    let mut db = VectorDbSqlite::open(&path).expect("reopens");
    assert_eq!(
        db.dimension(),
        None,
        "nothing was recorded in the file either"
    );
    db.insert(&[[1.0, 2.0, 3.0, 4.0]], None)
        .expect("any dimension is still allowed");
}

#[test]
fn bad_queries_are_typed_errors() {
    let db = db_with_samples();
    assert!(matches!(
        db.search_without_index(&[0.1, 0.2], 2),
        Err(Error::DimensionMismatch {
            expected: 3,
            found: 2
        })
    ));
    assert!(matches!(
        db.search_without_index(&[0.1, f32::NAN, 0.3], 2),
        Err(Error::NonFiniteValue { position: 1, .. })
    ));
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    let content = b"these are my notes, not a database; please do not overwrite them\n".repeat(100);
    std::fs::write(&path, &content).expect("writes");
    let err = VectorDbSqlite::open(&path).unwrap_err();
    assert!(matches!(err, Error::NotOurDatabase { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("reads"), content);
}

#[test]
fn someone_elses_sqlite_database_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    {
        let other = rusqlite::Connection::open(&path).expect("opens");
        other
            .execute_batch(
                "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Ada');",
            )
            .expect("writes");
    }
    let before = std::fs::read(&path).expect("reads");
    let err = VectorDbSqlite::open(&path).unwrap_err();
    assert!(matches!(err, Error::NotOurDatabase { .. }), "{err}");
    assert_eq!(
        std::fs::read(&path).expect("reads"),
        before,
        "not even switched to WAL"
    );
}

#[test]
fn a_newer_schema_version_is_refused() {
    let (_dir, path) = temp_db();
    drop(VectorDbSqlite::open(&path).expect("creates"));
    {
        let raw = rusqlite::Connection::open(&path).expect("opens");
        raw.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .expect("writes");
    }
    let err = VectorDbSqlite::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedSchemaVersion {
                found: 99,
                supported: simple_vector_db::sqlite_store::SCHEMA_VERSION,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_corrupt_blob_is_reported_not_misread() {
    let (_dir, path) = temp_db();
    {
        let mut db = VectorDbSqlite::open(&path).expect("creates");
        db.insert(&sample_vectors(), None).expect("valid");
    }
    {
        let raw = rusqlite::Connection::open(&path).expect("opens");
        raw.execute(
            "UPDATE vectors SET vector = x'0000803F0000' WHERE id = 1",
            [],
        )
        .expect("writes");
    }
    let db = VectorDbSqlite::open(&path).expect("reopens");
    assert!(matches!(
        db.search_with_id(1),
        Err(Error::BlobLength {
            len: 6,
            expected: 12
        })
    ));
    assert!(matches!(
        db.search_without_index(&[0.1, 0.2, 0.3], 3),
        Err(Error::BlobLength { .. })
    ));
    assert_eq!(
        db.search_with_id(0).expect("reads"),
        Some(vec![0.1, 0.2, 0.3]),
        "other rows still read"
    );
}

#[test]
fn a_path_that_cannot_be_created_is_a_typed_error() {
    let err = VectorDbSqlite::open("/no/such/directory/vectors.db").unwrap_err();
    assert!(matches!(err, Error::CannotOpen { .. }), "{err}");
}
