//! The product-quantized SQLite database: search quality on digits, a codebook trained once and
//! kept, reopening, and bad input leaving the database as it was.

use simple_vector_db::datasets::digits;
use simple_vector_db::evaluation::recall::mean_recall;
use simple_vector_db::evaluation::GroundTruth;
use simple_vector_db::{Error, Metric, VectorDbSqlite, VectorDbSqlitePq};

const M: usize = 16;
const CENTROIDS: usize = 32;

fn digits_db() -> (VectorDbSqlitePq, digits::Digits) {
    let digits = digits::load().expect("embedded digits");
    let mut db = VectorDbSqlitePq::open_in_memory(M, CENTROIDS).expect("opens");
    let ids: Vec<i64> = (0..digits.vectors.len() as i64).collect();
    db.insert(&digits.vectors, Some(&ids))
        .expect("valid digits");
    (db, digits)
}

#[test]
fn most_neighbours_of_vector_11_share_its_label() {
    let (db, digits) = digits_db();
    let results = db
        .search_without_index(&digits.vectors[11], 10)
        .expect("valid query");
    assert_eq!(results.len(), 10);
    assert!(
        results.windows(2).all(|w| w[0].score <= w[1].score),
        "nearest first"
    );
    let label = digits.labels[11];
    let same = results
        .iter()
        .filter(|n| digits.labels[n.id as usize] == label)
        .count();
    assert!(same >= 8, "{same} of 10 neighbours show a {label}");
}

#[test]
fn pq_search_recalls_most_of_the_exact_top_10_on_digits() {
    let (pq, digits) = digits_db();
    let exact = GroundTruth::compute(&digits.vectors, &digits.vectors, 10, Metric::Euclidean)
        .expect("valid digits");
    let found: Vec<Vec<i64>> = digits
        .vectors
        .iter()
        .map(|query| {
            let neighbours = pq.search_without_index(query, 10).expect("valid");
            neighbours.iter().map(|n| n.id).collect()
        })
        .collect();
    let recall = mean_recall(&found, &exact).expect("one result list per query");
    eprintln!(
        "VectorDbSqlitePq on digits, m = {M}, {CENTROIDS} centroids: recall@10 = {recall:.4}"
    );
    assert!(recall >= 0.83, "recall@10 = {recall:.4}");
}

#[test]
fn later_inserts_reuse_the_codebook_and_earlier_codes_keep_their_meaning() {
    let digits = digits::load().expect("embedded digits");
    let (first, second) = digits.vectors.split_at(1000);
    let mut db = VectorDbSqlitePq::open_in_memory(M, CENTROIDS).expect("opens");
    db.insert(first, None).expect("valid");
    let codebook = db
        .quantizer()
        .expect("reads")
        .codebook()
        .expect("trained")
        .to_vec();
    let codes_before: Vec<Option<Vec<u8>>> =
        (0..1000).map(|id| db.code_of(id).expect("reads")).collect();

    let ids = db.insert(second, None).expect("valid");
    assert_eq!(ids.first(), Some(&1000));
    assert_eq!(
        db.quantizer().expect("reads").codebook().expect("trained"),
        &codebook[..],
        "not retrained"
    );
    let codes_after: Vec<Option<Vec<u8>>> =
        (0..1000).map(|id| db.code_of(id).expect("reads")).collect();
    assert_eq!(codes_before, codes_after);
    // The second batch was encoded with the same codebook: its codes are what the quantizer says.
    let expected = db
        .quantizer()
        .expect("reads")
        .quantize_vector(&second[0])
        .expect("valid");
    assert_eq!(db.code_of(1000).expect("reads"), Some(expected));
}

#[test]
fn an_explicit_training_sample_then_inserts() {
    let digits = digits::load().expect("embedded digits");
    let mut db = VectorDbSqlitePq::open_in_memory(8, 16).expect("opens");
    db.train(&digits.vectors[..500]).expect("trains");
    assert!(db.quantizer().expect("reads").is_trained());
    assert_eq!(db.len().expect("counts"), 0);
    // A batch smaller than the number of centroids is fine once trained.
    db.insert(&digits.vectors[..3], None).expect("valid");
    assert_eq!(db.len().expect("counts"), 3);
    // Retraining now would orphan the stored codes.
    assert!(matches!(
        db.train(&digits.vectors),
        Err(Error::CodebookInUse { stored: 3 })
    ));
}

#[test]
fn reopening_restores_the_codebook_and_the_same_answers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("pq.db");
    let digits = digits::load().expect("embedded digits");
    let (before, rebuilt_before) = {
        let mut db = VectorDbSqlitePq::create(&path, M, CENTROIDS).expect("creates");
        db.insert(&digits.vectors, None).expect("valid");
        (
            db.search_without_index(&digits.vectors[11], 10)
                .expect("valid"),
            db.search_with_id(11).expect("reads"),
        )
    };
    // `open` reads m and k from the file.
    let mut db = VectorDbSqlitePq::open(&path).expect("reopens");
    let quantizer = db.quantizer().expect("reads");
    assert!(quantizer.is_trained());
    assert_eq!(
        (quantizer.m_chunks(), quantizer.nb_subspace_centroids()),
        (M, CENTROIDS)
    );
    assert_eq!(db.dimension(), Some(64));
    assert_eq!(
        db.search_without_index(&digits.vectors[11], 10)
            .expect("valid"),
        before
    );
    assert_eq!(db.search_with_id(11).expect("reads"), rebuilt_before);
    // New vectors after a reopen are encoded with the restored codebook, not a new one.
    let id = db.insert(&digits.vectors[..1], None).expect("valid")[0];
    assert_eq!(
        db.code_of(id).expect("reads"),
        db.code_of(0).expect("reads")
    );
}

#[test]
fn reopening_with_other_settings_or_as_another_kind_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pq_path = dir.path().join("pq.db");
    drop(VectorDbSqlitePq::create(&pq_path, M, CENTROIDS).expect("creates"));
    assert!(matches!(
        VectorDbSqlitePq::create(&pq_path, 8, CENTROIDS),
        Err(Error::PqSettingsMismatch {
            stored_m: 16,
            stored_k: 32,
            m: 8,
            k: 32
        })
    ));
    assert!(matches!(
        VectorDbSqlite::open(&pq_path),
        Err(Error::NotOurDatabase { .. })
    ));

    let plain_path = dir.path().join("plain.db");
    drop(VectorDbSqlite::open(&plain_path).expect("creates"));
    assert!(matches!(
        VectorDbSqlitePq::open(&plain_path),
        Err(Error::NotOurDatabase { .. })
    ));
    assert!(matches!(
        VectorDbSqlitePq::create(&plain_path, M, CENTROIDS),
        Err(Error::NotOurDatabase { .. })
    ));
}

// --- Bad input: a typed error, and nothing written -------------------------------------------

#[test]
fn bad_settings_are_typed_errors() {
    assert!(matches!(
        VectorDbSqlitePq::open_in_memory(0, 32),
        Err(Error::ZeroChunks)
    ));
    assert!(matches!(
        VectorDbSqlitePq::open_in_memory(8, 0),
        Err(Error::InvalidCentroidCount(0))
    ));
    assert!(matches!(
        VectorDbSqlitePq::open_in_memory(8, 257),
        Err(Error::InvalidCentroidCount(257))
    ));
}

#[test]
fn a_first_batch_too_small_to_train_on_stores_nothing() {
    let digits = digits::load().expect("embedded digits");
    let mut db = VectorDbSqlitePq::open_in_memory(M, CENTROIDS).expect("opens");
    let err = db.insert(&digits.vectors[..10], None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooFewTrainingVectors {
                found: 10,
                needed: 32
            }
        ),
        "{err}"
    );
    assert_eq!(db.len().expect("counts"), 0);
    assert!(!db.quantizer().expect("reads").is_trained());
}

#[test]
fn m_must_divide_the_dimension() {
    let digits = digits::load().expect("embedded digits");
    let mut db = VectorDbSqlitePq::open_in_memory(7, CENTROIDS).expect("opens");
    let err = db.insert(&digits.vectors, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChunksDoNotDivide {
                dimension: 64,
                m_chunks: 7
            }
        ),
        "{err}"
    );
    assert_eq!(db.len().expect("counts"), 0);
}

#[test]
fn a_duplicate_id_in_the_first_batch_stores_neither_codes_nor_codebook() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("pq.db");
    let digits = digits::load().expect("embedded digits");
    let mut ids: Vec<i64> = (0..100).collect();
    ids[99] = 0;
    {
        let mut db = VectorDbSqlitePq::create(&path, M, CENTROIDS).expect("creates");
        let err = db.insert(&digits.vectors[..100], Some(&ids)).unwrap_err();
        assert!(matches!(err, Error::DuplicateId(0)), "{err}");
        assert_eq!(db.len().expect("counts"), 0);
        assert!(!db.quantizer().expect("reads").is_trained());
    }
    let db = VectorDbSqlitePq::open(&path).expect("reopens");
    assert!(
        !db.quantizer().expect("reads").is_trained(),
        "no codebook was left in the file"
    );
}

#[test]
fn bad_vectors_and_queries_are_typed_errors() {
    let (mut db, digits) = digits_db();
    let n = db.len().expect("counts");
    assert!(matches!(
        db.insert(&[vec![1.0; 32]], None),
        Err(Error::DimensionMismatch {
            expected: 64,
            found: 32
        })
    ));
    let mut with_nan = digits.vectors[0].clone();
    with_nan[5] = f32::NAN;
    assert!(matches!(
        db.insert(&[with_nan.clone()], None),
        Err(Error::NonFiniteValue { position: 5, .. })
    ));
    assert_eq!(db.len().expect("counts"), n);
    assert!(matches!(
        db.search_without_index(&with_nan, 3),
        Err(Error::NonFiniteValue { .. })
    ));
    assert!(matches!(
        db.search_without_index(&[1.0; 63], 3),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        db.search_without_index(&digits.vectors[0], 0),
        Err(Error::ZeroK)
    ));
}

#[test]
fn a_corrupt_code_is_reported_not_misread() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("pq.db");
    let digits = digits::load().expect("embedded digits");
    {
        let mut db = VectorDbSqlitePq::create(&path, M, CENTROIDS).expect("creates");
        db.insert(&digits.vectors, None).expect("valid");
    }
    {
        let raw = rusqlite::Connection::open(&path).expect("opens");
        // The codes live in the `pq` index's own table.
        raw.execute("UPDATE pq_codes SET code = x'0102' WHERE id = 5", [])
            .expect("writes");
    }
    let db = VectorDbSqlitePq::open(&path).expect("reopens");
    assert!(matches!(
        db.search_without_index(&digits.vectors[0], 3),
        Err(Error::CodeLength {
            len: 2,
            expected: 16
        })
    ));
    assert!(matches!(
        db.search_with_id(5),
        Err(Error::CodeLength { .. })
    ));
}
