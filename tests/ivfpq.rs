//! The IVF-PQ index: residual codes rank better than raw PQ codes of the same size, re-ranking
//! raises recall and reading everything re-ranked is exact, the index survives a reopen and
//! finds what is inserted after it, bad settings and damaged tables are typed errors, a
//! filtered search never returns a vector that fails its filter, and `svdb` builds, searches,
//! shows, checks and measures it.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{s, stdout, svdb, tamper, temp_path, write_vectors};
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::collection::Strategy;
use simple_vector_db::engine::neighbour::ids_of;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::{
    Collection, IndexSpec, IvfPqSettings, Neighbour, PqSettings, SearchParams,
};
use simple_vector_db::filter::{parse, AttributeType, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Metric};

const D: usize = 16;
const N: usize = 3000;
const NLIST: usize = 32;

/// `N` base vectors and `n_queries` queries, all drawn around the same 32 centres.
fn clustered(n_queries: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mut all = generate(&ClusteredSpec {
        n_vectors: N + n_queries,
        dimension: D,
        n_clusters: 32,
        noise: 0.1,
        seed: 7,
    })
    .expect("a valid spec");
    let queries = all.split_off(N);
    (all, queries)
}

/// A euclidean collection of `layout` holding `vectors` under ids `0..n`.
fn collection_of(vectors: &[Vec<f32>], layout: Layout) -> Collection {
    let mut collection = Collection::open_in_memory_with_layout(layout).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let ids: Vec<i64> = (0..vectors.len() as i64).collect();
    collection.insert(vectors, Some(&ids)).expect("stored");
    collection
}

fn ivfpq(nlist: usize, m: usize) -> IndexSpec {
    IndexSpec::IvfPq(IvfPqSettings::new(nlist, m, 8))
}

/// The mean recall@k of `index` searched with `params` against brute force.
fn recall(
    collection: &Collection,
    index: &str,
    params: &SearchParams,
    queries: &[Vec<f32>],
) -> f64 {
    let mut hits = 0;
    for query in queries {
        let truth: HashSet<i64> = ids_of(
            &collection
                .search(None, query, &SearchParams::k(params.k))
                .expect("brute force"),
        )
        .into_iter()
        .collect();
        let found = collection
            .search(Some(index), query, params)
            .expect("searched");
        hits += found.iter().filter(|n| truth.contains(&n.id)).count();
    }
    hits as f64 / (queries.len() * params.k) as f64
}

#[test]
fn residual_codes_rank_far_better_than_raw_codes_of_the_same_size() {
    let (base, queries) = clustered(50);
    let mut collection = collection_of(&base, Layout::Chunks);
    collection
        .create_index("ivfpq", &ivfpq(NLIST, 4))
        .expect("builds");
    collection
        .create_index("pq", &IndexSpec::Pq(PqSettings::new(4, 256)))
        .expect("builds");
    // Every cell read: what is left is how well each set of 4-byte codes ranks (0.69 against
    // 0.45 when this was written).
    let all_cells = SearchParams::k(10).with_n_probes(NLIST);
    let residual = recall(&collection, "ivfpq", &all_cells, &queries);
    let raw = recall(&collection, "pq", &SearchParams::k(10), &queries);
    assert!(
        residual >= raw + 0.15,
        "IVF-PQ recall {residual:.3} against raw PQ {raw:.3} at m = 4"
    );
    let info = collection
        .index_info("ivfpq")
        .expect("reads")
        .expect("built");
    assert_eq!(info.bytes_per_vector, 4 + 8, "a code and an id per vector");
    assert_eq!(info.label, "ivfpq(nlist=32, m=4, nbits=8)");
    assert_eq!(info.settings, "m=4 nbits=8 nlist=32 seed=42");
}

#[test]
fn reranking_raises_recall_and_reading_everything_reranked_is_exact() {
    let (base, queries) = clustered(40);
    for layout in [Layout::Chunks, Layout::Rows] {
        let mut collection = collection_of(&base, layout);
        collection
            .create_index("ivfpq", &ivfpq(NLIST, 2))
            .expect("builds");
        let plain = SearchParams::k(10).with_n_probes(4);
        let without = recall(&collection, "ivfpq", &plain, &queries);
        let with = recall(
            &collection,
            "ivfpq",
            &plain.clone().with_rerank(100),
            &queries,
        );
        assert!(
            with >= without + 0.2,
            "{layout:?}: {without:.3} without re-ranking, {with:.3} with"
        );
        let everything = SearchParams::k(10).with_n_probes(NLIST).with_rerank(N);
        for query in &queries[..10] {
            let exact = collection
                .search(None, query, &SearchParams::k(10))
                .expect("brute force");
            let found = collection
                .search(Some("ivfpq"), query, &everything)
                .expect("searched");
            assert_eq!(ids_of(&found), ids_of(&exact), "{layout:?}");
            for (a, b) in found.iter().zip(&exact) {
                assert!((a.score - b.score).abs() <= 1e-5, "{layout:?}: {a:?} {b:?}");
            }
        }
    }
}

/// The answers of `index` to `queries` with `params`, streamed then preloaded.
fn answers(
    collection: &mut Collection,
    params: &SearchParams,
    queries: &[Vec<f32>],
) -> Vec<Vec<Neighbour>> {
    let mut all = Vec::new();
    for mode in [ScanMode::Streamed, ScanMode::Preloaded] {
        collection.set_scan_mode(mode).expect("mode");
        for query in queries {
            all.push(
                collection
                    .search(Some("ivfpq"), query, params)
                    .expect("searched"),
            );
        }
    }
    all
}

#[test]
fn a_reopened_index_answers_exactly_as_the_one_built_and_both_modes_agree() {
    let (base, queries) = clustered(20);
    for layout in [Layout::Chunks, Layout::Rows] {
        let (_dir, path) = temp_path("ivfpq.db");
        let mut collection = Collection::open_with_layout(&path, layout).expect("creates");
        collection.set_metric(Metric::Euclidean).expect("metric");
        collection.insert(&base, None).expect("stored");
        collection
            .create_index("ivfpq", &ivfpq(NLIST, 4))
            .expect("builds");
        // Re-ranked preloaded, the vectors come from memory; streamed, from SQLite.
        let settings = [
            SearchParams::k(10).with_n_probes(3),
            SearchParams::k(10).with_n_probes(3).with_rerank(50),
        ];
        let built: Vec<_> = settings
            .iter()
            .map(|params| answers(&mut collection, params, &queries))
            .collect();
        for (params, built) in settings.iter().zip(&built) {
            let (streamed, preloaded) = built.split_at(queries.len());
            assert_eq!(
                streamed, preloaded,
                "{layout:?} {params:?}: streamed and preloaded agree"
            );
        }
        assert_ne!(built[0], built[1], "re-ranking changed the answers");
        drop(collection);
        let mut reopened = Collection::open_existing(&path).expect("reopens");
        for (params, built) in settings.iter().zip(&built) {
            assert_eq!(
                &answers(&mut reopened, params, &queries),
                built,
                "{layout:?} {params:?}: the same scores, bit for bit"
            );
        }
        assert_eq!(check_file(&path).expect("opens"), []);
    }
}

#[test]
fn vectors_inserted_after_the_build_are_encoded_in_their_cell_and_found() {
    let (base, extra) = clustered(60);
    for layout in [Layout::Chunks, Layout::Rows] {
        let mut collection = collection_of(&base, layout);
        collection
            .create_index("ivfpq", &ivfpq(NLIST, 4))
            .expect("builds");
        collection.preload(Some("ivfpq")).expect("preloads");
        let ids: Vec<i64> = (10_000..10_000 + extra.len() as i64).collect();
        collection.insert(&extra, Some(&ids)).expect("inserted");
        let params = SearchParams::k(1).with_n_probes(2).with_rerank(20);
        for mode in [ScanMode::Preloaded, ScanMode::Streamed] {
            collection.set_scan_mode(mode).expect("mode");
            for (id, vector) in ids.iter().zip(&extra) {
                let found = collection
                    .search(Some("ivfpq"), vector, &params)
                    .expect("searched");
                assert_eq!(
                    found.first().map(|n| n.id),
                    Some(*id),
                    "{layout:?} {mode:?}"
                );
            }
        }
        let cells = collection
            .probed_cells("ivfpq", &extra[0], &SearchParams::k(1).with_n_probes(3))
            .expect("an inverted file");
        assert_eq!(cells.len(), 3);
    }
}

#[test]
fn bad_settings_and_searches_are_typed_errors_naming_what_is_wrong() {
    let (base, _) = clustered(0);
    let mut collection = collection_of(&base, Layout::Chunks);
    let refused = |collection: &mut Collection, settings: IvfPqSettings| {
        collection
            .create_index("ivfpq", &IndexSpec::IvfPq(settings))
            .expect_err("refused")
    };
    assert!(matches!(
        refused(&mut collection, IvfPqSettings::new(8, 4, 9)),
        Error::InvalidParameter { name: "nbits", .. }
    ));
    assert!(matches!(
        refused(&mut collection, IvfPqSettings::new(8, 3, 8)),
        Error::ChunksDoNotDivide {
            dimension: 16,
            m_chunks: 3
        }
    ));
    assert!(matches!(
        refused(&mut collection, IvfPqSettings::new(N + 1, 4, 8)),
        Error::InvalidClusterCount { .. }
    ));
    let mut small = collection_of(&base[..100], Layout::Chunks);
    assert!(matches!(
        refused(&mut small, IvfPqSettings::new(8, 4, 8)),
        Error::TooFewTrainingVectors {
            found: 100,
            needed: 256
        }
    ));
    assert!(
        !collection.has_index("ivfpq").expect("reads"),
        "nothing built"
    );
    collection
        .create_index("ivfpq", &ivfpq(8, 4))
        .expect("builds");
    let query = &base[0];
    assert!(matches!(
        collection.search(Some("ivfpq"), query, &SearchParams::k(5).with_n_probes(9)),
        Err(Error::InvalidProbeCount {
            n_probes: 9,
            n_clusters: 8
        })
    ));
    assert!(matches!(
        collection.search(Some("ivfpq"), &query[..3], &SearchParams::k(5)),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        collection.set_metric(Metric::Cosine),
        Err(Error::MetricNotSupported {
            metric: Metric::Cosine,
            ..
        })
    ));
    assert_eq!(
        collection.metric(),
        Metric::Euclidean,
        "the change was refused"
    );
    let mut cosine = Collection::open_in_memory().expect("opens");
    cosine.set_metric(Metric::Cosine).expect("metric");
    cosine.insert(&base, None).expect("stored");
    assert!(matches!(
        cosine.create_index("ivfpq", &ivfpq(8, 4)),
        Err(Error::MetricNotSupported { .. })
    ));
}

/// A file of the base in `layout` with an IVF-PQ index of 8 cells.
fn indexed_file(path: &Path, layout: Layout) {
    let (base, _) = clustered(0);
    let mut collection = Collection::open_with_layout(path, layout).expect("creates");
    collection.set_metric(Metric::Euclidean).expect("metric");
    collection.insert(&base, None).expect("stored");
    collection
        .create_index("ivfpq", &ivfpq(8, 4))
        .expect("builds");
}

#[test]
fn damaged_centroids_or_codebook_fence_off_the_index_and_name_their_table() {
    for (sql, needle) in [
        (
            "UPDATE ivfpq_centroids SET centroid = x'0000' WHERE cell = 2",
            "ivfpq_centroids",
        ),
        (
            "DELETE FROM ivfpq_centroids WHERE cell = 7",
            "ivfpq_centroids",
        ),
        (
            "UPDATE ivfpq_codebook SET centroids = substr(centroids, 1, 100)",
            "ivfpq_codebook",
        ),
        ("DELETE FROM ivfpq_codebook", "codebook is missing"),
        (
            "UPDATE indexes SET settings = 'm=4 nbits=12 nlist=8'",
            "nbits",
        ),
    ] {
        let (_dir, path) = temp_path("damaged.db");
        indexed_file(&path, Layout::Chunks);
        tamper(&path, sql);
        let collection = Collection::open_existing(&path).expect("the collection still opens");
        let query = collection.get(3).expect("reads").expect("stored");
        assert_eq!(
            collection
                .search(None, &query, &SearchParams::k(1))
                .expect("brute force still answers")[0]
                .id,
            3
        );
        let error = collection
            .search(Some("ivfpq"), &query, &SearchParams::k(3))
            .expect_err("the damaged index refuses");
        assert!(
            matches!(&error, Error::BadIndexRecord { index, reason } if index == "ivfpq" && reason.contains(needle)),
            "{sql}: {error}"
        );
        let problems = check_file(&path).expect("opens");
        assert!(
            problems.iter().any(|p| p.table.starts_with("ivfpq")),
            "{sql}: {problems:?}"
        );
    }
}

#[test]
fn damaged_lists_are_bad_data_naming_the_table_in_either_layout() {
    for (layout, sql) in [
        (
            Layout::Chunks,
            "UPDATE ivfpq_lists SET items = substr(items, 1, 10) WHERE rowid = (SELECT min(rowid) FROM ivfpq_lists)",
        ),
        (
            Layout::Chunks,
            "UPDATE ivfpq_lists SET list = 99 WHERE rowid = (SELECT min(rowid) FROM ivfpq_lists)",
        ),
        (
            Layout::Rows,
            "UPDATE ivfpq_lists SET code = x'01' WHERE position = (SELECT min(position) FROM ivfpq_lists)",
        ),
        (
            Layout::Rows,
            "UPDATE ivfpq_lists SET cell = -1 WHERE position = (SELECT min(position) FROM ivfpq_lists)",
        ),
    ] {
        let (_dir, path) = temp_path("lists.db");
        indexed_file(&path, layout);
        tamper(&path, sql);
        let mut collection = Collection::open_existing(&path).expect("opens");
        let query = collection.get(0).expect("reads").expect("stored");
        let error = collection
            .preload(Some("ivfpq"))
            .expect_err("a damaged list is not loaded");
        assert!(
            matches!(&error, Error::BadData { path, .. } if path == "table ivfpq_lists"),
            "{sql}: {error}"
        );
        // Streamed, every cell read: the damaged one is met too.
        collection.set_scan_mode(ScanMode::Streamed).expect("mode");
        let all = SearchParams::k(3).with_n_probes(8);
        match collection.search(Some("ivfpq"), &query, &all) {
            Err(Error::BadData { path, .. }) => assert_eq!(path, "table ivfpq_lists"),
            // A list moved to a cell that does not exist is not read by any probe.
            Ok(found) => assert!(sql.contains("list = 99") || sql.contains("cell = -1"), "{found:?}"),
            Err(other) => panic!("{sql}: {other}"),
        }
        let problems = check_file(&path).expect("opens");
        assert!(
            problems.iter().any(|p| p.table == "ivfpq_lists"),
            "{sql}: {problems:?}"
        );
    }
}

#[test]
fn a_filtered_search_in_the_index_never_returns_a_vector_that_fails_the_filter() {
    let (base, queries) = clustered(10);
    let mut collection = Collection::open_in_memory().expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let attributes = Attributes {
        columns: vec![("bucket".into(), AttributeType::Integer)],
        rows: (0..N)
            .map(|i| vec![Some(Value::Integer((i % 10) as i64))])
            .collect(),
    };
    collection
        .insert_with_attributes(&base, None, &attributes)
        .expect("stored");
    collection
        .create_index("ivfpq", &ivfpq(NLIST, 4))
        .expect("builds");
    for text in ["bucket < 5", "bucket = 3", "bucket = 3 AND bucket = 4"] {
        let filter = parse(text).expect("valid");
        let passing: HashSet<i64> = collection
            .matching_ids(&filter)
            .expect("checked")
            .into_iter()
            .collect();
        for rerank in [0, 50] {
            let params = SearchParams::k(10).with_n_probes(1).with_rerank(rerank);
            for query in &queries {
                let found = collection
                    .search_filtered(Some("ivfpq"), query, &params, &filter, Strategy::InIndex)
                    .expect("searched");
                assert_eq!(found.plan.strategy, Strategy::InIndex);
                assert!(
                    found.neighbours.iter().all(|n| passing.contains(&n.id)),
                    "{text}: {:?}",
                    found.neighbours
                );
                // One probe holds too few of a tenth: the search reads on until it has k.
                assert_eq!(found.neighbours.len(), passing.len().min(10), "{text}");
            }
        }
    }
}

// --- svdb -------------------------------------------------------------------------------------

#[test]
fn svdb_builds_searches_shows_checks_and_measures_an_ivfpq_index() {
    let (base, queries) = clustered(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, data, query_file) = (
        dir.path().join("c.db"),
        dir.path().join("base.npy"),
        dir.path().join("queries.npy"),
    );
    write_vectors(&data, &base);
    write_vectors(&query_file, &queries);
    let run = |args: &[&str]| {
        let output = svdb(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout(&output)
    };
    run(&[
        "load",
        "--db",
        s(&db),
        "--vectors",
        s(&data),
        "--metric",
        "euclidean",
    ]);
    let built = run(&[
        "index",
        "--db",
        s(&db),
        "ivfpq",
        "--nlist",
        "16",
        "--m",
        "4",
        "--nbits",
        "8",
        "--seed",
        "3",
    ]);
    assert!(
        built.contains("built index ivfpq: ivfpq(nlist=16, m=4, nbits=8)"),
        "{built}"
    );
    let found = run(&[
        "search",
        "--db",
        s(&db),
        "--queries",
        s(&query_file),
        "--k",
        "3",
        "--index",
        "ivfpq",
        "--nprobe",
        "4",
        "--rerank",
        "30",
    ]);
    assert_eq!(found.lines().count(), 1 + 5 * 3, "{found}");
    let info = run(&["info", "--db", s(&db)]);
    assert!(
        info.contains(
            "index: ivfpq ivfpq(nlist=16, m=4, nbits=8) (euclidean metric, 12 bytes per vector)"
        ),
        "{info}"
    );
    let indexes = run(&["indexes", "--db", s(&db)]);
    assert!(indexes.contains("ivfpq\tivfpq\t"), "{indexes}");
    assert!(indexes.contains("m=4 nbits=8 nlist=16 seed=3"), "{indexes}");
    assert!(run(&["check", "--db", s(&db)]).ends_with(": ok\n"));
    let refused = svdb(&[
        "search",
        "--db",
        s(&db),
        "--queries",
        s(&query_file),
        "--index",
        "ivfpq",
        "--nprobe",
        "17",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let out = dir.path().join("eval");
    run(&[
        "eval",
        "--data",
        s(&data),
        "--queries",
        s(&query_file),
        "--k",
        "5",
        "--metric",
        "euclidean",
        "--index",
        "ivfpq",
        "--nlist",
        "16",
        "--nprobe",
        "1,16",
        "--m",
        "4",
        "--rerank",
        "0,100",
        "--out",
        s(&out),
    ]);
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("written");
    let params: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).expect("a params cell"))
        .collect();
    assert_eq!(
        params,
        [
            "nlist=16 m=4 nbits=8 nprobe=1",
            "nlist=16 m=4 nbits=8 nprobe=1 rerank=100",
            "nlist=16 m=4 nbits=8 nprobe=16",
            "nlist=16 m=4 nbits=8 nprobe=16 rerank=100",
        ]
    );
    let recalls: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .nth(3)
                .expect("a recall")
                .parse()
                .expect("a number")
        })
        .collect();
    assert_eq!(recalls[3], 1.0, "every cell read, 100 re-ranked: exact");
    assert!(
        csv.lines().skip(1).all(|line| line.ends_with(",12")),
        "{csv}"
    );
}
