//! The engine's collection, end to end: metric switches, stale indexes, several indexes on one
//! collection, reopening, several handles on one file, files of another schema version, paths
//! that look like SQLite URIs, and product-quantization files created, reopened and trained.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use common::{schema_objects, self_query_misses_with, temp_path};
use rusqlite::Connection;
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::indexes::ivf::best_cells;
use simple_vector_db::engine::neighbour::ids_of;
use simple_vector_db::engine::{
    Collection, IndexSpec, IvfSettings, Neighbour, PqSettings, SearchParams,
};
use simple_vector_db::sqlite_store::SCHEMA_VERSION;
use simple_vector_db::{Error, Metric, VectorDbSqlite, VectorDbSqlitePq};

// --- Helpers -------------------------------------------------------------------------------

/// `n` seeded clustered vectors of `dimension` values around `n_clusters` centres.
fn clustered(n: usize, dimension: usize, n_clusters: usize, seed: u64) -> Vec<Vec<f32>> {
    generate(&ClusteredSpec {
        n_vectors: n,
        dimension,
        n_clusters,
        noise: 0.3,
        seed,
    })
    .expect("a valid spec")
}

fn ivf(nlist: usize) -> IndexSpec {
    IndexSpec::Ivf(IvfSettings::new(nlist))
}

fn pq(m: usize, k: usize) -> IndexSpec {
    IndexSpec::Pq(PqSettings::new(m, k))
}

/// A collection in memory ranking by `metric`, holding `vectors` under ids `0..n`.
fn collection_of(vectors: &[Vec<f32>], metric: Metric) -> Collection {
    let mut collection = Collection::open_in_memory().expect("opens");
    collection.set_metric(metric).expect("sets the metric");
    let ids: Vec<i64> = (0..vectors.len() as i64).collect();
    collection
        .insert(vectors, Some(&ids))
        .expect("valid vectors");
    collection
}

/// The ids (of `ids`, stored as `vectors`) whose own query through `index` with one probe does
/// not come back with themselves first.
fn self_query_misses(
    collection: &Collection,
    index: &str,
    ids: &[i64],
    vectors: &[Vec<f32>],
) -> Vec<i64> {
    self_query_misses_with(
        collection,
        index,
        &SearchParams::k(1).with_n_probes(1),
        ids,
        vectors,
    )
}

fn count_rows(path: &Path, table: &str) -> i64 {
    let raw = Connection::open(path).expect("opens");
    raw.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("the table exists")
}

// --- (a) Changing the metric -----------------------------------------------------------------

#[test]
fn after_a_metric_switch_every_vector_still_finds_itself_with_one_probe() {
    let vectors = clustered(2_000, 8, 16, 5);
    let ids: Vec<i64> = (0..vectors.len() as i64).collect();
    let mut collection = collection_of(&vectors, Metric::Euclidean);
    collection.create_index("ivf", &ivf(32)).expect("builds");
    assert_eq!(
        self_query_misses(&collection, "ivf", &ids, &vectors),
        Vec::<i64>::new(),
        "euclidean, as built"
    );

    // The switch must matter for the test to mean anything: many vectors have another best
    // cell under cosine than under euclidean, so an index that kept its lists would miss them.
    let centroids = collection
        .centroids("ivf")
        .expect("reads")
        .expect("an inverted file has centroids");
    let moved = vectors
        .iter()
        .filter(|v| {
            best_cells(Metric::Euclidean, &centroids, v, 1)
                != best_cells(Metric::Cosine, &centroids, v, 1)
        })
        .count();
    eprintln!("{moved} of 2000 vectors have another best cell under cosine");
    assert!(moved > 50, "only {moved} vectors change cells");

    for metric in [Metric::Cosine, Metric::Euclidean, Metric::Cosine] {
        collection
            .set_metric(metric)
            .expect("the ivf index follows");
        assert_eq!(collection.metric(), metric);
        let info = collection.indexes().expect("lists");
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].metric, metric.as_str());
        assert!(info[0].up_to_date, "{metric}");
        // The centroids stay: only the filing depends on the metric.
        assert_eq!(
            collection.centroids("ivf").expect("reads").as_ref(),
            Some(&centroids)
        );
        let misses = self_query_misses(&collection, "ivf", &ids, &vectors);
        assert!(
            misses.is_empty(),
            "after switching to {metric}, {} of 2000 vectors miss themselves: {:?}",
            misses.len(),
            &misses[..misses.len().min(10)]
        );
    }
}

#[test]
fn a_pq_index_refuses_cosine_and_nothing_changes() {
    let (_dir, path) = temp_path("pq_metric.db");
    let vectors = clustered(600, 16, 10, 6);
    let mut collection = Collection::open(&path).expect("creates");
    collection.set_metric(Metric::Euclidean).expect("sets");
    collection.insert(&vectors, None).expect("valid");
    // Two indexes: the inverted file (first by name) could follow, the PQ index cannot, so
    // the inverted file's re-filing must be rolled back with the rest.
    collection.create_index("ivf", &ivf(8)).expect("builds");
    collection.create_index("pq", &pq(4, 16)).expect("builds");
    let generation = collection.generation().expect("reads");
    let indexes = collection.indexes().expect("lists");
    let lists_before = ivf_cells(&path);
    let query = &vectors[17];
    let params = SearchParams::k(5).with_n_probes(2);
    let through_ivf = collection
        .search(Some("ivf"), query, &params)
        .expect("valid");
    let through_pq = collection
        .search(Some("pq"), query, &params)
        .expect("valid");

    let err = collection.set_metric(Metric::Cosine).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::MetricNotSupported { index, metric: Metric::Cosine } if index == "pq"
        ),
        "{err}"
    );
    assert_eq!(collection.metric(), Metric::Euclidean);
    assert_eq!(collection.generation().expect("reads"), generation);
    assert_eq!(collection.indexes().expect("lists"), indexes);
    assert_eq!(
        ivf_cells(&path),
        lists_before,
        "the ivf lists were not re-filed"
    );
    assert_eq!(
        collection
            .search(Some("ivf"), query, &params)
            .expect("still fresh"),
        through_ivf
    );
    assert_eq!(
        collection
            .search(Some("pq"), query, &params)
            .expect("still fresh"),
        through_pq
    );
    drop(collection);
    let reopened = Collection::open(&path).expect("reopens");
    assert_eq!(
        reopened.metric(),
        Metric::Euclidean,
        "nothing written to the file"
    );
    assert_eq!(reopened.indexes().expect("lists"), indexes);

    // A PQ index cannot be built on a cosine collection either.
    let mut cosine = collection_of(&vectors, Metric::Cosine);
    assert!(matches!(
        cosine.create_index("pq", &pq(4, 16)),
        Err(Error::MetricNotSupported { .. })
    ));
    assert!(cosine.indexes().expect("lists").is_empty());
}

/// `(id, cell)` of every row of the `ivf` index's lists, by id.
fn ivf_cells(path: &Path) -> Vec<(i64, i64)> {
    let raw = Connection::open(path).expect("opens");
    let mut statement = raw
        .prepare("SELECT id, cell FROM ivf_lists ORDER BY id")
        .expect("valid SQL");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("runs")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("reads");
    rows
}

// --- (b) A stale index is refused --------------------------------------------------------------

fn indexed_file(path: &Path, vectors: &[Vec<f32>]) {
    let mut collection = Collection::open(path).expect("creates");
    collection.set_metric(Metric::Euclidean).expect("sets");
    collection.insert(vectors, None).expect("valid");
    collection.create_index("ivf", &ivf(4)).expect("builds");
}

#[test]
fn an_index_that_missed_a_write_is_stale_and_brute_force_still_works() {
    let (_dir, path) = temp_path("stale.db");
    let vectors = clustered(200, 8, 4, 7);
    indexed_file(&path, &vectors);
    let raw = Connection::open(&path).expect("opens");
    raw.execute("UPDATE indexes SET built_on = built_on - 1", [])
        .expect("tampers");
    drop(raw);

    let mut collection = Collection::open(&path).expect("reopens");
    let params = SearchParams::k(3);
    let err = collection
        .search(Some("ivf"), &vectors[0], &params)
        .unwrap_err();
    assert!(
        matches!(&err, Error::StaleIndex { name, .. } if name == "ivf"),
        "{err}"
    );
    let exact = collection
        .search(None, &vectors[0], &params)
        .expect("brute force reads the collection itself");
    assert_eq!(exact[0], Neighbour::new(0, 0.0));
    let info = collection.indexes().expect("lists");
    assert!(!info[0].up_to_date);

    // A later write does not make it fresh again: it still missed one.
    collection.insert(&vectors[..1], None).expect("valid");
    assert!(matches!(
        collection.search(Some("ivf"), &vectors[0], &params),
        Err(Error::StaleIndex { .. })
    ));
    // Rebuilding does.
    collection.create_index("ivf", &ivf(4)).expect("rebuilds");
    let found = collection
        .search(Some("ivf"), &vectors[0], &params)
        .expect("fresh");
    assert_eq!(found[0].score, 0.0);
    assert!(collection.indexes().expect("lists")[0].up_to_date);
}

#[test]
fn an_index_built_for_another_metric_is_stale() {
    let (_dir, path) = temp_path("stale_metric.db");
    let vectors = clustered(200, 8, 4, 8);
    indexed_file(&path, &vectors);
    let raw = Connection::open(&path).expect("opens");
    raw.execute(
        "UPDATE indexes SET metric = 'cosine' WHERE name = 'ivf'",
        [],
    )
    .expect("tampers");
    drop(raw);

    let collection = Collection::open(&path).expect("reopens");
    assert_eq!(collection.metric(), Metric::Euclidean);
    let err = collection
        .search(Some("ivf"), &vectors[3], &SearchParams::k(3))
        .unwrap_err();
    assert!(
        matches!(&err, Error::StaleIndex { name, reason } if name == "ivf" && reason.contains("cosine")),
        "{err}"
    );
    assert_eq!(
        collection
            .search(None, &vectors[3], &SearchParams::k(1))
            .expect("brute force")[0]
            .id,
        3
    );
}

// --- (c) Several indexes on one collection ------------------------------------------------------

#[test]
fn several_indexes_are_named_listed_and_dropped_with_their_tables() {
    let (_dir, path) = temp_path("several.db");
    let vectors = clustered(500, 16, 8, 9);
    let mut collection = Collection::open(&path).expect("creates");
    collection.set_metric(Metric::Euclidean).expect("sets");
    collection.insert(&vectors, None).expect("valid");
    assert_eq!(collection.default_index().expect("lists"), None);

    collection.create_index("ivf", &ivf(8)).expect("builds");
    assert_eq!(
        collection.default_index().expect("lists").as_deref(),
        Some("ivf")
    );
    collection.create_index("pq", &pq(4, 16)).expect("builds");
    let err = collection.default_index().unwrap_err();
    assert!(
        matches!(&err, Error::AmbiguousIndex { available } if available == &["ivf", "pq"]),
        "{err}"
    );
    let info = collection.indexes().expect("lists");
    let kinds: Vec<(&str, &str)> = info
        .iter()
        .map(|i| (i.name.as_str(), i.kind.as_str()))
        .collect();
    assert_eq!(kinds, [("ivf", "ivf"), ("pq", "pq")]);
    assert_eq!(info[0].label, "ivf(nlist=8)");
    assert_eq!(info[1].bytes_per_vector, 4);

    // The search goes through the index it names: the inverted file scores exactly, the PQ
    // index estimates from codes; brute force (no name) is exact over every row.
    let query = &vectors[42];
    let params = SearchParams::k(5).with_n_probes(8);
    let exact = collection.search(None, query, &params).expect("valid");
    let through_ivf = collection
        .search(Some("ivf"), query, &params)
        .expect("valid");
    let through_pq = collection
        .search(Some("pq"), query, &params)
        .expect("valid");
    assert_eq!(through_ivf, exact, "8 of 8 cells probed: exact");
    assert_eq!(exact[0], Neighbour::new(42, 0.0));
    assert!(
        through_pq[0].score > 0.0,
        "a PQ score estimates from codes: {through_pq:?}"
    );
    let err = collection.search(Some("hnsw"), query, &params).unwrap_err();
    assert!(
        matches!(&err, Error::NoSuchIndex { name, available } if name == "hnsw" && available == &["ivf", "pq"]),
        "{err}"
    );
    assert_eq!(schema_objects(&path, "pq_"), ["pq_codebook", "pq_codes"]);

    collection.drop_index("pq").expect("drops");
    assert_eq!(schema_objects(&path, "pq_"), Vec::<String>::new());
    assert_eq!(
        schema_objects(&path, "ivf_"),
        ["ivf_centroids", "ivf_lists", "ivf_lists_by_cell"],
        "the other index keeps its tables"
    );
    assert_eq!(
        collection.default_index().expect("lists").as_deref(),
        Some("ivf")
    );
    assert!(matches!(
        collection.search(Some("pq"), query, &params),
        Err(Error::NoSuchIndex { .. })
    ));
    assert!(matches!(
        collection.drop_index("pq"),
        Err(Error::NoSuchIndex { .. })
    ));
    collection.drop_index("ivf").expect("drops");
    assert_eq!(schema_objects(&path, "ivf_"), Vec::<String>::new());
    assert_eq!(count_rows(&path, "indexes"), 0);
    assert_eq!(collection.default_index().expect("lists"), None);
    assert_eq!(
        collection.len().expect("counts"),
        500,
        "the collection stays"
    );
}

#[test]
fn bad_index_names_are_refused() {
    let mut collection = collection_of(&clustered(50, 4, 2, 1), Metric::Euclidean);
    for bad in ["", "Ivf", "flat", "ivf; DROP TABLE vectors", "1ivf"] {
        assert!(
            matches!(
                collection.create_index(bad, &ivf(2)),
                Err(Error::InvalidIndexName { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(collection.indexes().expect("lists").is_empty());
}

// --- (d) Reopening, and inserting after a build ---------------------------------------------------

#[test]
fn a_reopened_file_keeps_its_indexes_and_answers_identically() {
    let (_dir, path) = temp_path("reopen.db");
    let vectors = clustered(800, 16, 10, 10);
    let queries = clustered(20, 16, 10, 11);
    let params = SearchParams::k(10).with_n_probes(2);
    let answers = |collection: &Collection| -> Vec<(Vec<Neighbour>, Vec<Neighbour>)> {
        queries
            .iter()
            .map(|q| {
                (
                    collection.search(Some("ivf"), q, &params).expect("valid"),
                    collection.search(Some("pq"), q, &params).expect("valid"),
                )
            })
            .collect()
    };
    let (indexes, before) = {
        let mut collection = Collection::open(&path).expect("creates");
        collection.set_metric(Metric::Euclidean).expect("sets");
        collection.insert(&vectors, None).expect("valid");
        collection.create_index("ivf", &ivf(16)).expect("builds");
        collection.create_index("pq", &pq(8, 32)).expect("builds");
        (collection.indexes().expect("lists"), answers(&collection))
    };
    let mut collection = Collection::open(&path).expect("reopens");
    assert_eq!(collection.indexes().expect("lists"), indexes);
    assert_eq!(answers(&collection), before);

    // Vectors inserted after the build (and after the reopen) are filed into every index.
    let new_vectors = clustered(100, 16, 10, 12);
    let new_ids: Vec<i64> = (10_000..10_100).collect();
    collection
        .insert(&new_vectors, Some(&new_ids))
        .expect("valid");
    assert_eq!(
        self_query_misses(&collection, "ivf", &new_ids, &new_vectors),
        Vec::<i64>::new()
    );
    for (&id, vector) in new_ids.iter().zip(&new_vectors) {
        assert!(collection.code_of("pq", id).expect("reads").is_some());
        let found = collection
            .search(Some("pq"), vector, &SearchParams::k(1).with_rerank(50))
            .expect("valid");
        assert_eq!(found, [Neighbour::new(id, 0.0)], "re-ranked exactly");
    }
    assert!(collection
        .indexes()
        .expect("lists")
        .iter()
        .all(|i| i.up_to_date));
}

// --- (e) Two handles on one file -------------------------------------------------------------------

#[test]
fn two_handles_see_each_others_writes() {
    let (_dir, path) = temp_path("shared.db");
    let mut a = Collection::open(&path).expect("creates");
    let mut b = Collection::open(&path).expect("opens the same file");
    a.set_metric(Metric::Euclidean).expect("sets");

    // A was opened on an empty file: it learns the dimension and the rows from B's insert.
    let first = clustered(2_000, 16, 16, 20);
    b.insert(&first, None).expect("valid");
    assert_eq!(b.metric(), Metric::Euclidean, "B read A's metric");
    assert_eq!(a.len().expect("counts"), 2_000);
    assert_eq!(a.dimension(), Some(16));
    let found = a
        .search(None, &first[7], &SearchParams::k(1))
        .expect("valid");
    assert_eq!(found, [Neighbour::new(7, 0.0)]);

    // B builds an index; A, opened before, inserts through it without knowing.
    b.create_index("ivf", &ivf(16)).expect("builds");
    let second = clustered(1_000, 16, 16, 21);
    let second_ids = a.insert(&second, None).expect("valid");
    assert_eq!(second_ids.first(), Some(&2_000));
    assert_eq!(
        self_query_misses(&a, "ivf", &second_ids, &second),
        Vec::<i64>::new(),
        "A's rows are filed in B's index"
    );
    assert_eq!(
        self_query_misses(&b, "ivf", &second_ids, &second),
        Vec::<i64>::new(),
        "and B finds them too"
    );

    // B rebuilds with another seed: A must probe by the new centroids, not its cached ones.
    let centroids_before = a.centroids("ivf").expect("reads");
    b.create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(16).with_seed(7)))
        .expect("rebuilds");
    let after = a.centroids("ivf").expect("reads");
    assert_ne!(after, centroids_before, "another seed, other centroids");
    assert_eq!(after, b.centroids("ivf").expect("reads"));
    let sample_ids: Vec<i64> = (0..3_000).step_by(6).collect();
    let sample: Vec<Vec<f32>> = sample_ids
        .iter()
        .map(|&id| a.get(id).expect("reads").expect("stored"))
        .collect();
    assert_eq!(sample.len(), 500);
    assert_eq!(
        self_query_misses(&a, "ivf", &sample_ids, &sample),
        Vec::<i64>::new(),
        "500 of 500 self-queries through the rebuilt index"
    );
}

#[test]
fn automatic_ids_from_two_handles_never_collide() {
    let (_dir, path) = temp_path("ids.db");
    let vectors = clustered(400, 4, 4, 30);
    let mut a = Collection::open(&path).expect("creates");
    let mut b = Collection::open(&path).expect("opens");
    let mut ids = Vec::new();
    for (i, batch) in vectors.chunks(10).enumerate() {
        let handle = if i % 2 == 0 { &mut a } else { &mut b };
        ids.extend(handle.insert(batch, None).expect("valid"));
    }
    // And from two threads at once, each with its own connection.
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let path = path.clone();
            let vectors = vectors.clone();
            std::thread::spawn(move || {
                let mut handle = Collection::open(&path).expect("opens");
                let mut ids = Vec::new();
                for batch in vectors.chunks(20).skip(t).step_by(2) {
                    ids.extend(handle.insert(batch, None).expect("valid"));
                }
                ids
            })
        })
        .collect();
    for thread in threads {
        ids.extend(thread.join().expect("the thread inserts"));
    }
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 800);
    assert_eq!(unique.len(), 800, "every id handed out once");
    assert_eq!(a.len().expect("counts"), 800);
    assert_eq!(unique, (0..800).collect::<HashSet<i64>>());
}

// --- (f) Files of another schema version ----------------------------------------------------------

/// A file as schema version `version` wrote it: the meta table, and the old layout of the
/// vectors table (with its `cluster` column).
fn old_schema_file(path: &Path, version: i64) {
    let raw = Connection::open(path).expect("creates");
    raw.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE vectors (position INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE,
                               vector BLOB, cluster INTEGER);
         INSERT INTO vectors (id, vector, cluster) VALUES (0, x'0000803F', NULL);",
    )
    .expect("writes");
    for (key, value) in [
        ("format", "simple_vector_db".to_string()),
        ("schema_version", version.to_string()),
        ("kind", "vectors".to_string()),
        ("dimension", "1".to_string()),
        ("metric", "cosine".to_string()),
    ] {
        raw.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            [key, value.as_str()],
        )
        .expect("writes");
    }
}

#[test]
fn files_of_another_schema_version_are_refused_and_left_untouched() {
    for version in [1, 0, -7] {
        let (dir, path) = temp_path("old.db");
        old_schema_file(&path, version);
        let before = std::fs::read(&path).expect("reads");
        let refused = |err: Error| match err {
            Error::UnsupportedSchemaVersion {
                found, supported, ..
            } => {
                assert_eq!(found, version);
                assert_eq!(supported, SCHEMA_VERSION);
            }
            other => panic!("version {version}: {other}"),
        };
        let err = Collection::open(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("unsupported schema version {version}")),
            "{err}"
        );
        refused(err);
        refused(Collection::open_existing(&path).unwrap_err());
        refused(VectorDbSqlite::open(&path).unwrap_err());
        refused(VectorDbSqlitePq::open(&path).unwrap_err());
        refused(VectorDbSqlitePq::create(&path, 1, 2).unwrap_err());
        refused(Collection::open_quantized(Some(&path), &PqSettings::new(1, 2)).unwrap_err());
        assert_eq!(
            std::fs::read(&path).expect("reads"),
            before,
            "version {version}: not a byte written"
        );
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .expect("lists")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        assert_eq!(files, ["old.db"], "no WAL or journal left behind");
    }
}

// --- (g) Paths ---------------------------------------------------------------------------------------

/// The path the URI test opens, relative to the working directory.
const URI_LIKE: &str = "file:x?mode=memory";

#[test]
fn a_uri_like_path_is_a_file_name() {
    // The path must reach SQLite as it is, relative, to be mistaken for a URI: so the check
    // runs in a child process (this test binary again) whose working directory is a fresh
    // temporary directory, rather than changing this process's directory under other tests.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "uri_like_path_in_the_working_directory",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SVDB_URI_TEST_DIR", dir.path())
        .current_dir(dir.path())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
    assert!(
        dir.path().join(URI_LIKE).is_file(),
        "a file named {URI_LIKE:?} was created"
    );
    assert!(dir.path().join(":memory:").is_file());
}

/// Run by [`a_uri_like_path_is_a_file_name`] in a child process, in a temporary directory.
#[test]
#[ignore = "run by a_uri_like_path_is_a_file_name, in a temporary working directory"]
fn uri_like_path_in_the_working_directory() {
    let Some(dir) = std::env::var_os("SVDB_URI_TEST_DIR") else {
        eprintln!("skipped: only meaningful when run by a_uri_like_path_is_a_file_name");
        return;
    };
    assert_eq!(
        std::env::current_dir().expect("a working directory"),
        PathBuf::from(dir)
    );
    let vectors = clustered(30, 4, 2, 40);
    {
        let mut collection = Collection::open(URI_LIKE).expect("creates a file");
        collection.insert(&vectors, None).expect("valid");
    }
    assert!(Path::new(URI_LIKE).is_file(), "a file of that name exists");
    let collection = Collection::open(URI_LIKE).expect("reopens");
    assert_eq!(collection.len().expect("counts"), 30, "the data survived");
    assert_eq!(
        collection.get(29).expect("reads"),
        Some(vectors[29].clone())
    );
    let reopened = VectorDbSqlite::open(URI_LIKE).expect("reopens");
    assert_eq!(reopened.len().expect("counts"), 30);

    // SQLite's other special name is a file name too.
    {
        let mut collection = Collection::open(":memory:").expect("creates a file");
        collection.insert(&vectors, None).expect("valid");
    }
    assert!(Path::new(":memory:").is_file());
    let collection = Collection::open(":memory:").expect("reopens");
    assert_eq!(collection.len().expect("counts"), 30);
}

#[test]
fn an_empty_path_is_refused() {
    assert!(matches!(
        Collection::open(""),
        Err(Error::CannotOpen { .. })
    ));
    assert!(matches!(
        Collection::open_existing(""),
        Err(Error::CannotOpen { .. })
    ));
    assert!(matches!(
        VectorDbSqlite::open(""),
        Err(Error::CannotOpen { .. })
    ));
    assert!(matches!(
        VectorDbSqlitePq::create("", 4, 16),
        Err(Error::CannotOpen { .. })
    ));
}

// --- (h) Product-quantization files: open and create -----------------------------------------------

#[test]
fn opening_a_missing_pq_database_creates_nothing() {
    let (dir, path) = temp_path("missing.db");
    let err = VectorDbSqlitePq::open(&path).unwrap_err();
    assert!(matches!(err, Error::NoSuchDatabase { .. }), "{err}");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("lists").count(), 0);
    assert!(matches!(
        Collection::open_existing(&path),
        Err(Error::NoSuchDatabase { .. })
    ));
    assert!(!path.exists());
}

#[test]
fn creating_a_pq_database_again_needs_the_same_settings() {
    let (_dir, path) = temp_path("pq.db");
    let vectors = clustered(300, 16, 6, 50);
    drop(VectorDbSqlitePq::create(&path, 4, 16).expect("creates"));
    // Untrained yet: the settings are still the file's.
    assert!(matches!(
        VectorDbSqlitePq::create(&path, 8, 16),
        Err(Error::PqSettingsMismatch {
            stored_m: 4,
            stored_k: 16,
            m: 8,
            k: 16
        })
    ));
    let mut db = VectorDbSqlitePq::create(&path, 4, 16).expect("the same settings open it");
    db.insert(&vectors, None).expect("valid");
    drop(db);
    assert!(matches!(
        VectorDbSqlitePq::create(&path, 4, 32),
        Err(Error::PqSettingsMismatch {
            stored_m: 4,
            stored_k: 16,
            m: 4,
            k: 32
        })
    ));
    let db = VectorDbSqlitePq::open(&path).expect("reads m and k from the file");
    let quantizer = db.quantizer().expect("reads");
    assert_eq!(
        (quantizer.m_chunks(), quantizer.nb_subspace_centroids()),
        (4, 16)
    );
    assert_eq!(db.len().expect("counts"), 300);
}

// --- (i) A failed first PQ insert -------------------------------------------------------------------

#[test]
fn a_failed_first_pq_insert_leaves_nothing_and_a_later_one_trains() {
    let (_dir, path) = temp_path("pq_first.db");
    let vectors = clustered(300, 16, 6, 60);
    let mut db = VectorDbSqlitePq::create(&path, 4, 32).expect("creates");
    let err = db.insert(&vectors[..10], None).unwrap_err();
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
    assert_eq!(db.dimension(), None);
    assert!(!db.quantizer().expect("reads").is_trained());
    assert_eq!(count_rows(&path, "pq_codebook"), 0);
    assert_eq!(count_rows(&path, "pq_codes"), 0);
    assert_eq!(count_rows(&path, "vectors"), 0);

    let ids = db.insert(&vectors, None).expect("valid");
    assert_eq!(ids.first(), Some(&0), "the failed batch used no ids");
    assert_eq!(ids.len(), 300);
    assert!(db.quantizer().expect("reads").is_trained());
    assert_eq!(count_rows(&path, "pq_codebook"), 1);
    assert_eq!(count_rows(&path, "pq_codes"), 300);
    let found = db.search_without_index(&vectors[5], 10).expect("valid");
    assert!(ids_of(&found).contains(&5), "{found:?}");
    drop(db);
    let reopened = VectorDbSqlitePq::open(&path).expect("reopens");
    assert_eq!(
        reopened
            .search_without_index(&vectors[5], 10)
            .expect("valid"),
        found
    );
}
