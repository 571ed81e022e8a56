//! The fast paths give the answers of the simple ones: the chunked layout against the row
//! layout, the preloaded mode against the streamed one, for brute force, the inverted file and
//! product quantization; chunks that grow one vector at a time; a preloaded handle that notices
//! another handle's write; a damaged chunk that is reported, not trusted.

mod common;

use common::temp_path;
use rusqlite::Connection;
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::{
    Collection, IndexSpec, IvfSettings, Neighbour, PqSettings, SearchParams,
};
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Metric};

fn clustered(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut vectors = generate(&ClusteredSpec {
        n_vectors: n,
        dimension,
        n_clusters: 12,
        noise: 0.5,
        seed,
    })
    .expect("a valid spec");
    // A zero vector: cosine must score it 0 on every path, not NaN.
    vectors[7] = vec![0.0; dimension];
    vectors
}

fn collection(layout: Layout, metric: Metric, vectors: &[Vec<f32>]) -> Collection {
    let mut collection = Collection::open_in_memory_with_layout(layout).expect("opens");
    collection.set_metric(metric).expect("sets the metric");
    let ids: Vec<i64> = (0..vectors.len() as i64).map(|i| i * 3 + 1).collect();
    collection
        .insert(vectors, Some(&ids))
        .expect("valid vectors");
    collection
}

/// Same ids in the same order, scores within float rounding.
fn assert_same(found: &[Neighbour], expected: &[Neighbour], what: &str) {
    let ids = |n: &[Neighbour]| n.iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids(found), ids(expected), "{what}");
    for (a, b) in found.iter().zip(expected) {
        let tolerance = 1e-4 * b.score.abs().max(1.0);
        assert!(
            (a.score - b.score).abs() <= tolerance,
            "{what}: {a:?} against {b:?}"
        );
    }
}

/// Every search of `queries` through `index` on `fast` against the same on `simple`.
fn assert_same_answers(
    simple: &Collection,
    fast: &Collection,
    index: Option<&str>,
    params: &SearchParams,
    queries: &[Vec<f32>],
    what: &str,
) {
    for (q, query) in queries.iter().enumerate() {
        let expected = simple.search(index, query, params).expect("searches");
        let found = fast.search(index, query, params).expect("searches");
        assert_same(&found, &expected, &format!("{what}, query {q}"));
    }
}

#[test]
fn brute_force_in_chunks_and_in_memory_answers_as_rows_do() {
    let vectors = clustered(2_500, 24, 1);
    let queries = clustered(25, 24, 2);
    for metric in [Metric::Euclidean, Metric::Cosine] {
        let rows = collection(Layout::Rows, metric, &vectors);
        let mut chunks = collection(Layout::Chunks, metric, &vectors);
        let params = SearchParams::k(10);
        assert_same_answers(
            &rows,
            &chunks,
            None,
            &params,
            &queries,
            &format!("{metric} chunks"),
        );
        chunks.preload(None).expect("loads");
        assert_eq!(chunks.scan_mode(), ScanMode::Preloaded);
        assert_same_answers(
            &rows,
            &chunks,
            None,
            &params,
            &queries,
            &format!("{metric} preloaded"),
        );
        let mut rows_in_memory = collection(Layout::Rows, metric, &vectors);
        rows_in_memory
            .set_scan_mode(ScanMode::Preloaded)
            .expect("sets");
        assert_same_answers(
            &rows,
            &rows_in_memory,
            None,
            &params,
            &queries,
            &format!("{metric} rows preloaded"),
        );
    }
}

#[test]
fn the_inverted_file_in_chunks_and_in_memory_answers_as_rows_do() {
    let vectors = clustered(3_000, 16, 3);
    let queries = clustered(30, 16, 4);
    for metric in [Metric::Euclidean, Metric::Cosine] {
        let mut rows = collection(Layout::Rows, metric, &vectors);
        let mut chunks = collection(Layout::Chunks, metric, &vectors);
        let spec = IndexSpec::Ivf(IvfSettings::new(20));
        rows.create_index("ivf", &spec).expect("builds");
        chunks.create_index("ivf", &spec).expect("builds");
        assert_eq!(
            rows.centroids("ivf").expect("ivf"),
            chunks.centroids("ivf").expect("ivf")
        );
        for n_probes in [1, 3, 20] {
            let params = SearchParams::k(10).with_n_probes(n_probes);
            for query in &queries {
                assert_eq!(
                    rows.probed_cells("ivf", query, &params).expect("cells"),
                    chunks.probed_cells("ivf", query, &params).expect("cells")
                );
            }
            let what = format!("{metric} nprobe {n_probes}");
            assert_same_answers(&rows, &chunks, Some("ivf"), &params, &queries, &what);
            chunks.preload(Some("ivf")).expect("loads");
            assert_same_answers(
                &rows,
                &chunks,
                Some("ivf"),
                &params,
                &queries,
                &format!("{what} preloaded"),
            );
            chunks.set_scan_mode(ScanMode::Streamed).expect("sets");
        }
        // Vectors added after the build join their cells in both layouts.
        let more = clustered(300, 16, 5);
        let ids: Vec<i64> = (0..300).map(|i| 100_000 + i).collect();
        rows.insert(&more, Some(&ids)).expect("inserts");
        chunks.insert(&more, Some(&ids)).expect("inserts");
        let params = SearchParams::k(10).with_n_probes(2);
        assert_same_answers(
            &rows,
            &chunks,
            Some("ivf"),
            &params,
            &more[..20],
            &format!("{metric} after inserts"),
        );
        let all = SearchParams::k(10).with_n_probes(20);
        assert_same_answers(
            &rows,
            &chunks,
            None,
            &all,
            &more[..20],
            &format!("{metric} brute force after inserts"),
        );
    }
}

#[test]
fn product_quantization_in_chunks_and_in_memory_answers_as_rows_do() {
    let vectors = clustered(2_000, 32, 6);
    let queries = clustered(20, 32, 7);
    let mut rows = collection(Layout::Rows, Metric::Euclidean, &vectors);
    let mut chunks = collection(Layout::Chunks, Metric::Euclidean, &vectors);
    let spec = IndexSpec::Pq(PqSettings::new(8, 64));
    rows.create_index("pq", &spec).expect("builds");
    chunks.create_index("pq", &spec).expect("builds");
    for id in [1, 4, 3 * 1_999 + 1] {
        assert_eq!(
            rows.code_of("pq", id).expect("pq"),
            chunks.code_of("pq", id).expect("pq")
        );
    }
    for params in [SearchParams::k(10), SearchParams::k(10).with_rerank(50)] {
        assert_same_answers(&rows, &chunks, Some("pq"), &params, &queries, "pq chunks");
        chunks.preload(Some("pq")).expect("loads");
        assert_same_answers(
            &rows,
            &chunks,
            Some("pq"),
            &params,
            &queries,
            "pq preloaded",
        );
        chunks.set_scan_mode(ScanMode::Streamed).expect("sets");
    }
}

#[test]
fn chunks_that_grow_one_vector_at_a_time_keep_every_vector() {
    let (_dir, path) = temp_path("grow.db");
    let vectors = clustered(2_200, 8, 8);
    {
        let mut chunks = Collection::open_with_layout(&path, Layout::Chunks).expect("creates");
        chunks.set_metric(Metric::Euclidean).expect("sets");
        for vector in &vectors[..1_100] {
            chunks.insert(&[vector], None).expect("inserts");
        }
        chunks.insert(&vectors[1_100..], None).expect("inserts");
    }
    // Reopened with plain `open`: the file keeps its own layout.
    let chunks = Collection::open(&path).expect("reopens");
    assert_eq!(chunks.layout(), Layout::Chunks);
    assert_eq!(chunks.len().expect("counts"), vectors.len());
    for (id, vector) in vectors.iter().enumerate().step_by(97) {
        assert_eq!(chunks.get(id as i64).expect("reads").as_ref(), Some(vector));
    }
    assert_eq!(chunks.get(99_999).expect("reads"), None);
    let rows = collection(Layout::Rows, Metric::Euclidean, &vectors);
    let found = chunks
        .search(None, &vectors[5], &SearchParams::k(5))
        .expect("searches");
    let expected = rows
        .search(None, &vectors[5], &SearchParams::k(5))
        .expect("searches");
    // The row collection numbers its ids 3i + 1.
    let expected: Vec<i64> = expected.iter().map(|n| (n.id - 1) / 3).collect();
    assert_eq!(found.iter().map(|n| n.id).collect::<Vec<_>>(), expected);
    assert!(check_file(&path).expect("checks").is_empty());
}

#[test]
fn a_preloaded_handle_sees_another_handles_writes() {
    let (_dir, path) = temp_path("shared.db");
    let vectors = clustered(1_500, 8, 9);
    let mut writer = Collection::open_with_layout(&path, Layout::Chunks).expect("creates");
    writer.set_metric(Metric::Euclidean).expect("sets");
    writer.insert(&vectors, None).expect("inserts");
    writer
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(8)))
        .expect("builds");
    let mut reader = Collection::open_existing(&path).expect("opens");
    reader.preload(None).expect("loads");
    let far = vec![50.0f32; 8];
    let before = reader
        .search(None, &far, &SearchParams::k(1))
        .expect("searches");
    writer
        .insert(std::slice::from_ref(&far), Some(&[77_777]))
        .expect("inserts");
    let after = reader
        .search(None, &far, &SearchParams::k(1))
        .expect("searches");
    assert_ne!(before[0].id, 77_777);
    assert_eq!(after[0].id, 77_777, "the preloaded copy was read again");
    reader.preload(Some("ivf")).expect("loads");
    let through_ivf = reader
        .search(Some("ivf"), &far, &SearchParams::k(1).with_n_probes(1))
        .expect("searches");
    assert_eq!(through_ivf[0].id, 77_777);
}

#[test]
fn a_damaged_chunk_is_reported_and_refused_not_trusted() {
    let (_dir, path) = temp_path("damaged.db");
    let vectors = clustered(1_200, 8, 10);
    {
        let mut chunks = Collection::open_with_layout(&path, Layout::Chunks).expect("creates");
        chunks.insert(&vectors, None).expect("inserts");
    }
    let connection = Connection::open(&path).expect("opens");
    connection
        .execute("UPDATE vector_chunks SET count = 4000 WHERE chunk = 0", [])
        .expect("damages");
    drop(connection);
    let problems = check_file(&path).expect("checks");
    assert!(
        problems
            .iter()
            .any(|p| p.table == "vector_chunks" && p.what.contains("count 4000")),
        "{problems:?}"
    );
    let collection = Collection::open_existing(&path).expect("opens");
    let error = collection
        .search(None, &vectors[0], &SearchParams::k(3))
        .expect_err("a damaged chunk");
    assert!(matches!(error, Error::BadData { .. }), "{error}");
}

#[test]
fn a_file_of_schema_2_is_read_as_the_row_layout_it_is() {
    let (_dir, path) = temp_path("v2.db");
    let vectors = clustered(300, 8, 11);
    {
        let mut rows = Collection::open(&path).expect("creates");
        rows.insert(&vectors, None).expect("inserts");
    }
    // What the previous build wrote: no layout setting, version 2.
    let connection = Connection::open(&path).expect("opens");
    connection
        .execute_batch(
            "DELETE FROM meta WHERE key = 'layout';
             UPDATE meta SET value = '2' WHERE key = 'schema_version';",
        )
        .expect("rewrites");
    drop(connection);
    let mut collection = Collection::open_existing(&path).expect("opens a version 2 file");
    assert_eq!(collection.layout(), Layout::Rows);
    assert_eq!(
        collection.get(5).expect("reads").as_ref(),
        Some(&vectors[5])
    );
    collection
        .insert(&vectors[..3], None)
        .expect("writes to it");
    let found = collection
        .search(None, &vectors[9], &SearchParams::k(1))
        .expect("searches");
    assert_eq!(found[0].id, 9);
    assert!(check_file(&path).expect("checks").is_empty());
}
