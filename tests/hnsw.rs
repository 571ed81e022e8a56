//! The graph index (HNSW) through the collection: recall against brute force under both
//! metrics and both layouts, both neighbour selections, a file reopened without a rebuild,
//! vectors inserted after the build and by another handle, a metric change, builds that the
//! seed makes byte-identical, typed errors for bad settings and bad searches, and damaged graph
//! tables refused and reported, never a panic.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use common::{
    edit_links, nodes_table, self_query_misses_with, tables_named, tamper, temp_path, NodeRow,
};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rusqlite::Connection;
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::indexes::Selection;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, Neighbour, SearchParams};
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Metric};

// --- Helpers -------------------------------------------------------------------------------

/// `n` seeded clustered vectors of `dimension` values around 20 centres.
fn clustered(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    generate(&ClusteredSpec {
        n_vectors: n,
        dimension,
        n_clusters: 20,
        noise: 0.3,
        seed,
    })
    .expect("a valid spec")
}

/// `n` clustered vectors and `queries` more drawn the same way (around the same centres).
fn base_and_queries(
    n: usize,
    queries: usize,
    dimension: usize,
    seed: u64,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mut base = clustered(n + queries, dimension, seed);
    let queries = base.split_off(n);
    (base, queries)
}

/// `n` seeded vectors uniform in [-1, 1]^dimension (no two alike).
fn uniform(n: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dimension).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

fn hnsw(m: usize, ef_construction: usize) -> IndexSpec {
    IndexSpec::Hnsw(HnswSettings::new(m, ef_construction))
}

/// A collection in the file at `path`, in `layout`, ranking by `metric`, holding `vectors`
/// under ids `0, 3, 6, ...` (not the node numbers, so that a mix-up would show).
fn collection_at(path: &Path, layout: Layout, metric: Metric, vectors: &[Vec<f32>]) -> Collection {
    let mut collection = Collection::open_with_layout(path, layout).expect("creates");
    collection.set_metric(metric).expect("sets the metric");
    let ids: Vec<i64> = (0..vectors.len() as i64).map(|i| i * 3).collect();
    collection
        .insert(vectors, Some(&ids))
        .expect("valid vectors");
    collection
}

/// The fraction of the true 10 nearest neighbours (brute force) that the graph returns at
/// beam width `ef`; also checks that every id the graph returns carries its exact score.
fn recall_at_10(collection: &Collection, index: &str, queries: &[Vec<f32>], ef: usize) -> f64 {
    let mut hits = 0;
    for query in queries {
        let exact = collection
            .search(None, query, &SearchParams::k(10))
            .expect("brute force");
        let found = collection
            .search(Some(index), query, &SearchParams::k(10).with_ef(ef))
            .expect("through the graph");
        assert_eq!(found.len(), 10);
        let distinct: HashSet<i64> = found.iter().map(|n| n.id).collect();
        assert_eq!(distinct.len(), 10, "no id twice: {found:?}");
        for n in &found {
            if let Some(e) = exact.iter().find(|e| e.id == n.id) {
                hits += 1;
                assert!(
                    (n.score - e.score).abs() <= 1e-4 * e.score.abs().max(1.0),
                    "the graph's score of {} is {}, brute force says {}",
                    n.id,
                    n.score,
                    e.score
                );
            }
        }
    }
    hits as f64 / (10 * queries.len()) as f64
}

/// The ids (stored as `vectors`) whose own query through the graph, in a beam of 32, does not
/// return them first.
fn self_query_misses(
    collection: &Collection,
    index: &str,
    ids: &[i64],
    vectors: &[Vec<f32>],
) -> Vec<i64> {
    self_query_misses_with(
        collection,
        index,
        &SearchParams::k(1).with_ef(32),
        ids,
        vectors,
    )
}

/// Whether the graph index `hnsw` of `collection` is listed as up to date.
fn graph_up_to_date(collection: &Collection) -> bool {
    collection
        .index_info("hnsw")
        .expect("reads")
        .expect("listed")
        .up_to_date
}

/// The answers of the graph index `hnsw` to each of `queries`, searched with `params`.
fn graph_answers(
    collection: &Collection,
    queries: &[Vec<f32>],
    params: &SearchParams,
) -> Vec<Vec<Neighbour>> {
    queries
        .iter()
        .map(|q| {
            collection
                .search(Some("hnsw"), q, params)
                .expect("searches")
        })
        .collect()
}

/// The entry row of `index`: node, level, nodes, upper_lists.
fn entry_row(path: &Path, index: &str) -> (i64, i64, i64, i64) {
    let raw = Connection::open(path).expect("opens");
    raw.query_row(
        &format!("SELECT node, level, nodes, upper_lists FROM {index}_entry"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .expect("one entry row")
}

// --- Recall ----------------------------------------------------------------------------------

#[test]
fn recall_at_10_is_above_0_95_under_both_metrics_in_both_layouts() {
    let (vectors, queries) = base_and_queries(3_000, 60, 24, 1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    for layout in [Layout::Rows, Layout::Chunks] {
        for metric in [Metric::Euclidean, Metric::Cosine] {
            let path = dir.path().join(format!("{layout}-{metric}.db"));
            let mut collection = collection_at(&path, layout, metric, &vectors);
            collection
                .create_index("hnsw", &hnsw(12, 64))
                .expect("builds");
            let what = format!("{layout}, {metric}");
            let wide = recall_at_10(&collection, "hnsw", &queries, 64);
            let narrow = recall_at_10(&collection, "hnsw", &queries, 10);
            eprintln!("{what}: recall@10 {narrow:.3} at ef 10, {wide:.3} at ef 64");
            assert!(wide > 0.95, "{what}: recall@10 at ef 64 is {wide}");
            assert!(wide >= narrow, "{what}: a wider beam lost recall");
            // Preloaded or streamed, the graph is searched in memory: the same answers.
            let streamed = graph_answers(&collection, &queries, &SearchParams::k(10).with_ef(64));
            collection.preload(Some("hnsw")).expect("preloads");
            assert_eq!(collection.scan_mode(), ScanMode::Preloaded);
            for (query, expected) in queries.iter().zip(&streamed) {
                let found = collection
                    .search(Some("hnsw"), query, &SearchParams::k(10).with_ef(64))
                    .expect("searches");
                assert_eq!(&found, expected, "{what}: preloaded");
            }
            assert_eq!(check_file(&path).expect("opens"), [], "{what}");
        }
    }
}

#[test]
fn the_simple_selection_builds_another_graph_that_also_finds_the_neighbours() {
    let (dir, path) = temp_path("simple.db");
    let vectors = uniform(2_500, 16, 3);
    let queries = uniform(60, 16, 4);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    let simple = HnswSettings::new(12, 64).with_selection(Selection::Simple);
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(simple))
        .expect("builds");
    let info = collection
        .index_info("hnsw")
        .expect("reads")
        .expect("listed");
    assert!(
        info.settings.contains("selection=simple"),
        "{}",
        info.settings
    );
    let recall = recall_at_10(&collection, "hnsw", &queries, 64);
    eprintln!("simple selection: recall@10 {recall:.3} at ef 64");
    assert!(recall > 0.95, "simple selection: recall@10 {recall}");

    // The same vectors and seed with the heuristic: another graph (the setting is used).
    let other = dir.path().join("heuristic.db");
    let mut heuristic = collection_at(&other, Layout::Rows, Metric::Euclidean, &vectors);
    heuristic
        .create_index("hnsw", &hnsw(12, 64))
        .expect("builds");
    let (a, b) = (nodes_table(&path, "hnsw"), nodes_table(&other, "hnsw"));
    assert_eq!(a.len(), b.len());
    let levels = |rows: &[NodeRow]| rows.iter().map(|r| r.2).collect::<Vec<_>>();
    assert_eq!(levels(&a), levels(&b), "the levels depend on the seed only");
    let differ = a.iter().zip(&b).filter(|(x, y)| x.3 != y.3).count();
    assert!(differ > a.len() / 4, "only {differ} nodes link differently");
}

#[test]
fn the_default_beam_is_ef_search_raised_to_k() {
    let (_dir, path) = temp_path("beam.db");
    let vectors = uniform(1_500, 12, 5);
    let mut collection = collection_at(&path, Layout::Chunks, Metric::Euclidean, &vectors);
    let settings = HnswSettings {
        ef_search: 48,
        ..HnswSettings::new(6, 32)
    };
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(settings))
        .expect("builds");
    let queries = uniform(30, 12, 6);
    for query in &queries {
        let default = collection
            .search(Some("hnsw"), query, &SearchParams::k(5))
            .expect("searches");
        let at_48 = collection
            .search(Some("hnsw"), query, &SearchParams::k(5).with_ef(48))
            .expect("searches");
        assert_eq!(default, at_48, "no ef: the index's ef_search");
        // A k above ef_search widens the beam to k: k results, not ef_search.
        let many = collection
            .search(Some("hnsw"), query, &SearchParams::k(100))
            .expect("searches");
        assert_eq!(many.len(), 100);
        assert_eq!(
            many,
            collection
                .search(Some("hnsw"), query, &SearchParams::k(100).with_ef(100))
                .expect("searches")
        );
    }
}

#[test]
fn the_index_is_listed_with_its_settings_and_dropped_with_its_tables() {
    let (_dir, path) = temp_path("listed.db");
    let vectors = uniform(1_000, 8, 7);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    collection
        .create_index(
            "graph",
            &IndexSpec::Hnsw(HnswSettings::new(8, 40).with_seed(9)),
        )
        .expect("builds");
    let info = collection
        .index_info("graph")
        .expect("reads")
        .expect("listed");
    assert_eq!(info.kind, "hnsw");
    assert_eq!(info.label, "hnsw(m=8,ef_construction=40)");
    assert_eq!(
        info.settings,
        "ef_construction=40 ef_search=16 m=8 seed=9 selection=heuristic"
    );
    assert!(info.up_to_date);
    // Bytes per vector in memory: layer 0's 1 + 2·M slots of 4 bytes, a level byte, an offset
    // and an id per node, and 1 + M slots per upper-layer list.
    let (_, _, nodes, upper_lists) = entry_row(&path, "graph");
    let upper: i64 = nodes_table(&path, "graph").iter().map(|r| r.2).sum();
    assert_eq!((nodes, upper_lists), (1_000, upper));
    let expected =
        (1_000 * (4 * 17 + 1 + std::mem::size_of::<usize>() + 8) + upper as usize * 4 * 9) / 1_000;
    assert_eq!(info.bytes_per_vector, expected);
    assert_eq!(
        tables_named(&path, "graph_"),
        ["graph_entry", "graph_nodes"]
    );
    assert_eq!(
        collection.default_index().expect("reads").as_deref(),
        Some("graph")
    );
    collection.drop_index("graph").expect("drops");
    assert!(tables_named(&path, "graph_").is_empty());
    assert!(collection.indexes().expect("lists").is_empty());
    assert_eq!(check_file(&path).expect("opens"), []);
}

// --- Reopening, inserting, other handles -------------------------------------------------------

#[test]
fn a_reopened_file_answers_identically_without_a_rebuild() {
    let (_dir, path) = temp_path("reopen.db");
    let vectors = clustered(2_000, 16, 10);
    let queries = clustered(40, 16, 11);
    let answers = |collection: &Collection| {
        graph_answers(collection, &queries, &SearchParams::k(10).with_ef(40))
    };
    let (before, generation, info) = {
        let mut collection = collection_at(&path, Layout::Chunks, Metric::Cosine, &vectors);
        collection
            .create_index("hnsw", &hnsw(8, 40))
            .expect("builds");
        (
            answers(&collection),
            collection.generation().expect("reads"),
            collection.index_info("hnsw").expect("reads"),
        )
    };
    let nodes = nodes_table(&path, "hnsw");
    let entry = entry_row(&path, "hnsw");
    assert_eq!(nodes.len(), 2_000);
    let collection = Collection::open_existing(&path).expect("reopens");
    assert_eq!(collection.index_info("hnsw").expect("reads"), info);
    assert_eq!(answers(&collection), before, "same ids, same scores");
    assert_eq!(collection.generation().expect("reads"), generation);
    drop(collection);
    assert_eq!(
        nodes_table(&path, "hnsw"),
        nodes,
        "the graph was not rebuilt"
    );
    assert_eq!(entry_row(&path, "hnsw"), entry);
}

#[test]
fn vectors_inserted_after_the_build_are_linked_in_also_after_reopening() {
    let (_dir, path) = temp_path("grow.db");
    let vectors = clustered(2_000, 16, 20);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    collection
        .create_index("hnsw", &hnsw(8, 40))
        .expect("builds");
    let built = nodes_table(&path, "hnsw");

    // Three batches of new vectors, and one alone, with ids of their own.
    let new_vectors = clustered(301, 16, 21);
    let new_ids: Vec<i64> = (100_000..100_301).collect();
    for (ids, batch) in new_ids.chunks(100).zip(new_vectors.chunks(100)) {
        collection.insert(batch, Some(ids)).expect("valid");
    }
    assert!(graph_up_to_date(&collection));
    assert_eq!(
        self_query_misses(&collection, "hnsw", &new_ids, &new_vectors),
        Vec::<i64>::new()
    );
    let grown = nodes_table(&path, "hnsw");
    assert_eq!(grown.len(), 2_301);
    assert_eq!(
        &grown[..2_000].iter().map(|r| r.1).collect::<Vec<_>>(),
        &built.iter().map(|r| r.1).collect::<Vec<_>>(),
        "the old nodes keep their numbers"
    );
    assert!(
        grown
            .iter()
            .skip(2_000)
            .map(|r| r.1)
            .eq(new_ids.iter().copied()),
        "new nodes in insertion order"
    );
    assert!(
        grown[..2_000].iter().zip(&built).any(|(a, b)| a.3 != b.3),
        "the new nodes were linked from old ones, in both directions"
    );
    drop(collection);
    assert_eq!(check_file(&path).expect("opens"), []);

    // Reopened: the new nodes are there, and an insert loads the graph before linking.
    let mut collection = Collection::open_existing(&path).expect("reopens");
    assert_eq!(
        self_query_misses(&collection, "hnsw", &new_ids, &new_vectors),
        Vec::<i64>::new()
    );
    let later = clustered(50, 16, 22);
    let later_ids = collection.insert(&later, None).expect("valid");
    assert_eq!(later_ids[0], 100_301, "ids go on from the largest");
    drop(collection);
    let collection = Collection::open_existing(&path).expect("reopens");
    assert_eq!(
        self_query_misses(&collection, "hnsw", &later_ids, &later),
        Vec::<i64>::new()
    );
    assert!(graph_up_to_date(&collection));
    let queries = base_and_queries(2_000, 40, 16, 20).1;
    let recall = recall_at_10(&collection, "hnsw", &queries, 64);
    assert!(recall > 0.95, "after the inserts: recall@10 {recall}");
    drop(collection);
    assert_eq!(nodes_table(&path, "hnsw").len(), 2_351);
    assert_eq!(check_file(&path).expect("opens"), []);
}

#[test]
fn a_second_handle_sees_through_the_graph_what_the_first_inserts() {
    let (_dir, path) = temp_path("shared.db");
    let vectors = clustered(1_500, 16, 30);
    let mut a = collection_at(&path, Layout::Chunks, Metric::Euclidean, &vectors);
    let mut b = Collection::open_existing(&path).expect("opens the same file");
    a.create_index("hnsw", &hnsw(8, 40)).expect("builds");
    // B loads the graph into memory first, then A inserts.
    let first_ids: Vec<i64> = (0..1_500).step_by(50).map(|i| i * 3).collect();
    let first: Vec<Vec<f32>> = (0..1_500).step_by(50).map(|i| vectors[i].clone()).collect();
    assert_eq!(
        self_query_misses(&b, "hnsw", &first_ids, &first),
        Vec::<i64>::new()
    );
    let from_a = clustered(200, 16, 31);
    let a_ids = a.insert(&from_a, None).expect("valid");
    assert_eq!(
        self_query_misses(&b, "hnsw", &a_ids, &from_a),
        Vec::<i64>::new(),
        "B reads the graph again after A's write"
    );
    // And the other way: B inserts into the graph A holds in memory.
    let from_b = clustered(200, 16, 32);
    let b_ids = b.insert(&from_b, None).expect("valid");
    assert_eq!(b_ids[0], a_ids[199] + 1);
    for handle in [&a, &b] {
        assert_eq!(
            self_query_misses(handle, "hnsw", &b_ids, &from_b),
            Vec::<i64>::new()
        );
        assert_eq!(
            self_query_misses(handle, "hnsw", &a_ids, &from_a),
            Vec::<i64>::new()
        );
        assert!(graph_up_to_date(handle));
    }
    drop((a, b));
    assert_eq!(nodes_table(&path, "hnsw").len(), 1_900);
    assert_eq!(check_file(&path).expect("opens"), []);
}

#[test]
fn a_metric_change_rebuilds_the_graph_and_cosine_answers_match_brute_force() {
    let (_dir, path) = temp_path("metric.db");
    // Clustered vectors scaled by very different factors: their directions and their
    // positions give different neighbours.
    let mut vectors = clustered(2_500, 16, 40);
    for (i, v) in vectors.iter_mut().enumerate() {
        let scale = 0.2 + (i % 7) as f32;
        v.iter_mut().for_each(|x| *x *= scale);
    }
    let queries: Vec<Vec<f32>> = clustered(50, 16, 41);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    collection
        .create_index("hnsw", &hnsw(12, 64))
        .expect("builds");
    let euclidean = nodes_table(&path, "hnsw");
    let exact_euclidean: Vec<Vec<i64>> = queries
        .iter()
        .map(|q| {
            let found = collection
                .search(None, q, &SearchParams::k(10))
                .expect("brute force");
            found.iter().map(|n| n.id).collect()
        })
        .collect();

    collection
        .set_metric(Metric::Cosine)
        .expect("the graph follows");
    let info = collection
        .index_info("hnsw")
        .expect("reads")
        .expect("listed");
    assert_eq!(info.metric, "cosine");
    assert!(info.up_to_date);
    let cosine = nodes_table(&path, "hnsw");
    assert_eq!(cosine.len(), euclidean.len());
    let relinked = cosine
        .iter()
        .zip(&euclidean)
        .filter(|(a, b)| a.3 != b.3)
        .count();
    assert!(relinked > 1_000, "only {relinked} nodes were relinked");
    // The change must matter: the cosine neighbours are not the euclidean ones.
    let differ = queries
        .iter()
        .zip(&exact_euclidean)
        .filter(|(q, e)| {
            let found = collection
                .search(None, q, &SearchParams::k(10))
                .expect("brute force");
            found.iter().map(|n| n.id).collect::<Vec<_>>() != **e
        })
        .count();
    assert!(differ > 40, "only {differ} of 50 queries change neighbours");
    let recall = recall_at_10(&collection, "hnsw", &queries, 64);
    eprintln!("after the switch to cosine: recall@10 {recall:.3}");
    assert!(recall > 0.95, "cosine: recall@10 {recall}");
    drop(collection);
    assert_eq!(check_file(&path).expect("opens"), []);

    // Back to euclidean, reopened: the graph is the first one again (same seed, same order).
    let mut collection = Collection::open_existing(&path).expect("reopens");
    collection.set_metric(Metric::Euclidean).expect("follows");
    assert_eq!(nodes_table(&path, "hnsw"), euclidean);
    let recall = recall_at_10(&collection, "hnsw", &queries, 64);
    assert!(recall > 0.95, "euclidean again: recall@10 {recall}");
}

#[test]
fn failed_writes_leave_the_graph_as_it_was() {
    let (_dir, path) = temp_path("failed.db");
    let vectors = uniform(800, 8, 45);
    let queries = uniform(20, 8, 46);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    collection
        .create_index("hnsw", &hnsw(6, 32))
        .expect("builds");
    // A PQ index cannot follow a change to cosine: the graph (first by name) rebuilt for it
    // must be rolled back with the rest.
    collection
        .create_index(
            "pq",
            &IndexSpec::Pq(simple_vector_db::engine::PqSettings::new(4, 16)),
        )
        .expect("builds");
    let answers = |collection: &Collection| {
        graph_answers(collection, &queries, &SearchParams::k(5).with_ef(20))
    };
    let (before, nodes) = (answers(&collection), nodes_table(&path, "hnsw"));
    let generation = collection.generation().expect("reads");
    let error = collection.set_metric(Metric::Cosine).unwrap_err();
    assert!(
        matches!(&error, Error::MetricNotSupported { index, .. } if index == "pq"),
        "{error}"
    );
    let mut nan = vec![0.5; 8];
    nan[2] = f32::NAN;
    let failed: Vec<(&str, Error)> = vec![
        (
            "a duplicate id",
            collection
                .insert(&[vec![0.5; 8], vec![0.25; 8]], Some(&[5_000, 3]))
                .unwrap_err(),
        ),
        (
            "a NaN",
            collection.insert(&[vec![0.5; 8], nan], None).unwrap_err(),
        ),
    ];
    assert!(
        matches!(failed[0].1, Error::DuplicateId(3)),
        "{}",
        failed[0].1
    );
    for (what, _) in &failed {
        assert_eq!(answers(&collection), before, "after {what}");
    }
    assert_eq!(collection.metric(), Metric::Euclidean);
    assert_eq!(collection.generation().expect("reads"), generation);
    assert_eq!(collection.len().expect("counts"), 800);
    assert_eq!(nodes_table(&path, "hnsw"), nodes, "nothing written");
    // The cache was read again: a good insert now links the new vector into the stored graph.
    let id = collection.insert(&[vec![0.5; 8]], None).expect("valid")[0];
    let found = collection
        .search(Some("hnsw"), &[0.5; 8], &SearchParams::k(1).with_ef(20))
        .expect("searches");
    assert_eq!(found, [Neighbour::new(id, 0.0)]);
    assert_eq!(nodes_table(&path, "hnsw").len(), 801);
    drop(collection);
    assert_eq!(check_file(&path).expect("opens"), []);
}

#[test]
fn the_same_seed_builds_byte_identical_node_tables() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let vectors = uniform(1_200, 8, 50);
    let build = |name: &str, layout: Layout, seed: u64| -> PathBuf {
        let path = dir.path().join(name);
        let mut collection = collection_at(&path, layout, Metric::Euclidean, &vectors);
        collection
            .create_index(
                "hnsw",
                &IndexSpec::Hnsw(HnswSettings::new(6, 24).with_seed(seed)),
            )
            .expect("builds");
        path
    };
    let a = build("a.db", Layout::Rows, 7);
    let b = build("b.db", Layout::Chunks, 7);
    let c = build("c.db", Layout::Rows, 8);
    assert_eq!(nodes_table(&a, "hnsw"), nodes_table(&b, "hnsw"));
    assert_eq!(entry_row(&a, "hnsw"), entry_row(&b, "hnsw"));
    let (levels_a, levels_c): (Vec<i64>, Vec<i64>) = (
        nodes_table(&a, "hnsw").iter().map(|r| r.2).collect(),
        nodes_table(&c, "hnsw").iter().map(|r| r.2).collect(),
    );
    assert_ne!(levels_a, levels_c, "another seed, other levels");
}

// --- Bad input -------------------------------------------------------------------------------

#[test]
fn bad_settings_and_bad_searches_return_their_typed_errors() {
    let (_dir, path) = temp_path("bad.db");
    // An empty collection: nothing to build on.
    let mut empty = Collection::open(&path).expect("creates");
    let error = empty.create_index("hnsw", &hnsw(8, 40)).unwrap_err();
    assert!(
        matches!(&error, Error::EmptyCollection { index } if index == "hnsw"),
        "{error}"
    );
    assert!(!empty.has_index("hnsw").expect("reads"));
    assert!(tables_named(&path, "hnsw").is_empty());
    drop(empty);

    let vectors = uniform(400, 16, 60);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    let name = |error: &Error| match error {
        Error::InvalidParameter { name, .. } => Some(*name),
        _ => None,
    };
    let cases = [
        (HnswSettings::new(1, 40), "m"),
        (HnswSettings::new(0, 40), "m"),
        (HnswSettings::new(2_000, 4_000), "m"),
        (HnswSettings::new(8, 7), "ef_construction"),
        (
            HnswSettings {
                ef_search: 0,
                ..HnswSettings::new(8, 40)
            },
            "ef_search",
        ),
    ];
    for (settings, expected) in cases {
        let error = collection
            .create_index("hnsw", &IndexSpec::Hnsw(settings))
            .unwrap_err();
        assert_eq!(name(&error), Some(expected), "{settings:?}: {error}");
        assert!(!collection.has_index("hnsw").expect("reads"));
    }
    assert!(
        tables_named(&path, "hnsw").is_empty(),
        "nothing was written"
    );

    // A good index, then a bad rebuild: the good one stays as it was.
    collection
        .create_index("hnsw", &hnsw(8, 40))
        .expect("builds");
    let nodes = nodes_table(&path, "hnsw");
    let query = &vectors[5];
    let before = collection
        .search(Some("hnsw"), query, &SearchParams::k(10))
        .expect("searches");
    assert_eq!(before[0], Neighbour::new(15, 0.0));
    let error = collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(1, 40)))
        .unwrap_err();
    assert_eq!(name(&error), Some("m"));
    assert_eq!(nodes_table(&path, "hnsw"), nodes);
    assert_eq!(
        collection
            .search(Some("hnsw"), query, &SearchParams::k(10))
            .expect("searches"),
        before
    );

    let search = |params: SearchParams, query: &[f32]| {
        collection.search(Some("hnsw"), query, &params).unwrap_err()
    };
    let error = search(SearchParams::k(10).with_ef(5), query);
    assert!(matches!(error, Error::EfBelowK { ef: 5, k: 10 }), "{error}");
    let error = search(SearchParams::k(10).with_ef(0), query);
    assert!(
        matches!(error, Error::InvalidParameter { name: "ef", .. }),
        "{error}"
    );
    let error = search(SearchParams::k(0), query);
    assert!(matches!(error, Error::ZeroK), "{error}");
    let error = search(SearchParams::k(3), &query[..15]);
    assert!(
        matches!(
            error,
            Error::DimensionMismatch {
                expected: 16,
                found: 15
            }
        ),
        "{error}"
    );
    let mut bad = query.clone();
    bad[3] = f32::NAN;
    assert!(search(SearchParams::k(3), &bad).to_string().contains("NaN"));
    // A beam wider than the graph is the whole graph, however wide: the exact answer, not an
    // allocation of `ef` slots (which aborted the process for ef = 10¹², and overflowed for
    // usize::MAX).
    let exact = collection
        .search(None, query, &SearchParams::k(10))
        .expect("brute force");
    for ef in [1_000, 1 << 40, usize::MAX] {
        let found = collection
            .search(Some("hnsw"), query, &SearchParams::k(10).with_ef(ef))
            .expect("searches");
        assert_eq!(
            found.iter().map(|n| n.id).collect::<Vec<_>>(),
            exact.iter().map(|n| n.id).collect::<Vec<_>>(),
            "ef = {ef}"
        );
    }
    // A graph needs no training.
    let error = collection.train_index("hnsw", &vectors[..10]).unwrap_err();
    assert!(
        matches!(error, Error::InvalidParameter { name: "sample", .. }),
        "{error}"
    );
    // An insert of the wrong dimension is refused before the graph sees it.
    let error = collection.insert(&[vec![0.5; 15]], None).unwrap_err();
    assert!(matches!(error, Error::DimensionMismatch { .. }), "{error}");
    assert_eq!(nodes_table(&path, "hnsw"), nodes);
    assert_eq!(check_file(&path).expect("opens"), []);
}

#[test]
fn huge_construction_and_search_beams_are_the_whole_graph() {
    let (_dir, path) = temp_path("huge.db");
    let vectors = uniform(300, 8, 65);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    // An insertion whose beam is the whole graph links each node to its true neighbours.
    let settings = HnswSettings {
        ef_search: usize::MAX,
        ..HnswSettings::new(6, usize::MAX)
    };
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(settings))
        .expect("builds");
    let info = collection
        .index_info("hnsw")
        .expect("reads")
        .expect("listed");
    assert!(info.settings.contains(&format!("ef_search={}", usize::MAX)));
    drop(collection);
    // Reopened, the stored ef_search is the default beam: every search is exhaustive.
    let mut collection = Collection::open_existing(&path).expect("reopens");
    let queries = uniform(20, 8, 66);
    for query in &queries {
        let exact = collection
            .search(None, query, &SearchParams::k(10))
            .expect("brute force");
        let found = collection
            .search(Some("hnsw"), query, &SearchParams::k(10))
            .expect("searches");
        let ids = |n: &[Neighbour]| n.iter().map(|n| n.id).collect::<Vec<_>>();
        assert_eq!(ids(&found), ids(&exact));
    }
    // Inserting through such a graph works too.
    let more = uniform(20, 8, 67);
    let ids = collection.insert(&more, None).expect("valid");
    assert_eq!(
        self_query_misses(&collection, "hnsw", &ids, &more),
        Vec::<i64>::new()
    );
}

// --- Damaged graph tables ------------------------------------------------------------------------

/// The bytes of a healthy file: 500 vectors of dimension 8 under ids 0, 3, 6, ..., a graph
/// of M = 4, checkpointed.
fn healthy_graph_file(dir: &Path) -> Vec<u8> {
    let path = dir.join("healthy.db");
    let vectors = uniform(500, 8, 70);
    let mut collection = collection_at(&path, Layout::Rows, Metric::Euclidean, &vectors);
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(4, 16)))
        .expect("builds");
    drop(collection);
    assert_eq!(check_file(&path).expect("opens"), []);
    std::fs::read(&path).expect("reads")
}

/// The byte offset of the first link of layer `layer` in a links BLOB.
fn first_link_offset(links: &[u8], layer: usize) -> usize {
    let mut at = 0;
    for _ in 0..layer {
        let count = u32::from_le_bytes(links[at..at + 4].try_into().expect("4 bytes"));
        at += 4 * (1 + count as usize);
    }
    at + 4
}

/// A node on layer `layer` (or above) with at least one link there, not the entry point.
fn node_with_links(path: &Path, layer: i64) -> i64 {
    let (entry, ..) = entry_row(path, "hnsw");
    nodes_table(path, "hnsw")
        .into_iter()
        .find(|(node, _, level, links)| {
            let at = first_link_offset(links, layer as usize) - 4;
            let count = || u32::from_le_bytes(links[at..at + 4].try_into().expect("4 bytes"));
            *node != entry && *level >= layer && count() > 0
        })
        .map(|r| r.0)
        .expect("such a node")
}

#[test]
fn damaged_graph_tables_are_refused_and_reported_never_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let healthy = healthy_graph_file(dir.path());
    type Damage = Box<dyn Fn(&Path)>;
    // Most damage is one SQL statement run behind the library's back.
    let sql = |statement: &'static str| -> Damage { Box::new(move |p| tamper(p, statement)) };
    let cases: Vec<(&str, Damage)> = vec![
        (
            "a links BLOB cut in the middle of a number",
            Box::new(|p| edit_links(p, 3, |links| links.truncate(links.len() - 2))),
        ),
        (
            "a links BLOB one link short",
            Box::new(|p| {
                let node = node_with_links(p, 0);
                edit_links(p, node, |links| links.truncate(links.len() - 4))
            }),
        ),
        (
            "a count far too large",
            Box::new(|p| edit_links(p, 3, |links| links[..4].copy_from_slice(&[0xff; 4]))),
        ),
        (
            "a count one above layer 0's capacity",
            Box::new(|p| {
                edit_links(p, 3, |links| {
                    links[..4].copy_from_slice(&9u32.to_le_bytes());
                    links.resize(4 * (1 + 9), 0);
                })
            }),
        ),
        (
            "a link to a node that does not exist",
            Box::new(|p| {
                edit_links(p, 3, |links| {
                    links[4..8].copy_from_slice(&1_000_000u32.to_le_bytes())
                })
            }),
        ),
        (
            "a link on layer 1 to a node only on layer 0",
            Box::new(|p| {
                let node = node_with_links(p, 1);
                let raw = Connection::open(p).expect("opens");
                let low: i64 = raw
                    .query_row(
                        "SELECT min(node) FROM hnsw_nodes WHERE level = 0",
                        [],
                        |r| r.get(0),
                    )
                    .expect("a node of level 0");
                drop(raw);
                edit_links(p, node, |links| {
                    let at = first_link_offset(links, 1);
                    links[at..at + 4].copy_from_slice(&(low as u32).to_le_bytes());
                })
            }),
        ),
        (
            "a node row deleted in the middle",
            sql("DELETE FROM hnsw_nodes WHERE node = 10"),
        ),
        (
            "the last node row deleted",
            sql("DELETE FROM hnsw_nodes WHERE node = 499"),
        ),
        (
            "a level above the largest",
            sql("UPDATE hnsw_nodes SET level = 40 WHERE node = 2"),
        ),
        (
            "a level that disagrees with the links",
            sql("UPDATE hnsw_nodes SET level = level + 1 \
                 WHERE node = (SELECT min(node) FROM hnsw_nodes WHERE level = 0)"),
        ),
        (
            "links that are not a BLOB",
            sql("UPDATE hnsw_nodes SET links = 'text' WHERE node = 4"),
        ),
        (
            "the entry row pointing at a node of layer 0",
            sql("UPDATE hnsw_entry SET node = \
                 (SELECT min(node) FROM hnsw_nodes WHERE level = 0)"),
        ),
        (
            "the entry row pointing past the last node",
            sql("UPDATE hnsw_entry SET node = 500"),
        ),
        (
            "the entry row at a level too high",
            sql("UPDATE hnsw_entry SET level = level + 1"),
        ),
        (
            "the entry row counting too many nodes",
            sql("UPDATE hnsw_entry SET nodes = 501"),
        ),
        (
            "the entry row counting an absurd number of nodes",
            sql("UPDATE hnsw_entry SET nodes = 9223372036854775807"),
        ),
        (
            "the entry row counting an absurd number of upper lists",
            sql("UPDATE hnsw_entry SET upper_lists = 9223372036854775807"),
        ),
        ("the entry row gone", sql("DELETE FROM hnsw_entry")),
        (
            "a node whose id is not in the collection",
            sql("UPDATE hnsw_nodes SET id = 99999 WHERE node = 4"),
        ),
        (
            "a vector deleted from under its node",
            sql("DELETE FROM vectors WHERE id = 30"),
        ),
        ("the nodes table gone", sql("DROP TABLE hnsw_nodes")),
    ];
    let query = uniform(500, 8, 70)[7].clone();
    for (i, (what, damage)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("damaged-{i}.db"));
        std::fs::write(&path, &healthy).expect("writes");
        damage(&path);
        let mut collection = Collection::open_existing(&path)
            .unwrap_or_else(|e| panic!("{what}: the collection still opens: {e}"));
        let exact = collection
            .search(None, &query, &SearchParams::k(3))
            .unwrap_or_else(|e| panic!("{what}: brute force still answers: {e}"));
        assert_eq!(exact[0].id, 21, "{what}");
        let error = collection
            .search(Some("hnsw"), &query, &SearchParams::k(3).with_ef(50))
            .expect_err(what);
        eprintln!("{what}: {error}");
        let typed = matches!(error, Error::BadData { .. } | Error::BadIndexRecord { .. })
            || (*what == "the nodes table gone" && matches!(error, Error::Sqlite(_)));
        assert!(typed, "{what}: {error:?}");
        if let Error::BadData { path, .. } = &error {
            assert_eq!(path, "table hnsw_nodes", "{what}");
        }
        // Listing the index, preloading it and inserting through it fail as typed, too.
        collection
            .indexes()
            .unwrap_or_else(|e| panic!("{what}: the index is listed: {e}"));
        let preloaded = collection
            .preload(Some("hnsw"))
            .and_then(|()| collection.search(Some("hnsw"), &query, &SearchParams::k(3)));
        assert!(preloaded.is_err(), "{what}");
        let len = collection.len().expect("counts");
        assert!(
            collection.insert(&[vec![0.25; 8]], None).is_err(),
            "{what}: an insert could not keep the graph up to date"
        );
        assert_eq!(collection.len().expect("counts"), len, "{what}");
        drop(collection);
        let problems = check_file(&path).expect("opens");
        assert!(
            problems.iter().any(|p| p.table.starts_with("hnsw_")),
            "{what}: {problems:?}"
        );
    }

    // Dropping an index that could not even be loaded (its entry row gone) drops its tables.
    let path = dir.path().join("no-entry.db");
    std::fs::write(&path, &healthy).expect("writes");
    tamper(&path, "DELETE FROM hnsw_entry");
    let mut collection = Collection::open_existing(&path).expect("opens");
    assert!(collection
        .indexes()
        .expect("lists")
        .iter()
        .any(|i| i.name == "hnsw" && i.label.contains("damaged")));
    collection.drop_index("hnsw").expect("drops");
    assert!(collection.indexes().expect("lists").is_empty());
    drop(collection);
    assert_eq!(
        tables_named(&path, "hnsw_"),
        Vec::<String>::new(),
        "no table of the dropped graph is left behind"
    );

    // Rebuilding replaces a damaged graph.
    let path = dir.path().join("damaged-0.db");
    let mut collection = Collection::open_existing(&path).expect("opens");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(4, 16)))
        .expect("rebuilds");
    let found = collection
        .search(Some("hnsw"), &query, &SearchParams::k(3).with_ef(50))
        .expect("answers");
    assert_eq!(found[0], Neighbour::new(21, 0.0));
    drop(collection);
    assert_eq!(check_file(&path).expect("opens"), []);
}

// --- Small and degenerate collections ---------------------------------------------------------

#[test]
fn small_and_degenerate_collections_answer_as_brute_force_does() {
    let graph = |vectors: &[Vec<f32>], metric: Metric| {
        let mut collection = Collection::open_in_memory().expect("opens");
        collection.set_metric(metric).expect("sets");
        collection.insert(vectors, None).expect("valid");
        collection
            .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 40)))
            .expect("builds");
        collection
    };
    let scores = |found: &[Neighbour]| found.iter().map(|n| n.score).collect::<Vec<_>>();
    // One vector, then three: a k above the count returns them all.
    for n in [1, 2, 3] {
        let vectors = uniform(n, 4, 80);
        let collection = graph(&vectors, Metric::Euclidean);
        for query in &vectors {
            let found = collection
                .search(Some("hnsw"), query, &SearchParams::k(10))
                .expect("searches");
            let exact = collection
                .search(None, query, &SearchParams::k(10))
                .expect("brute force");
            assert_eq!(found.len(), n);
            assert_eq!(found, exact, "{n} vectors");
        }
    }
    // Every vector stored twice: each query finds both copies, at distance 0. (Hundreds of
    // copies of one vector are another matter: they crowd each other's lists until the graph
    // falls apart, in hnswlib and FAISS as here.)
    let distinct = uniform(500, 8, 81);
    let twice: Vec<Vec<f32>> = distinct.iter().chain(&distinct).cloned().collect();
    let collection = graph(&twice, Metric::Euclidean);
    for (i, v) in distinct.iter().enumerate() {
        let found = collection
            .search(Some("hnsw"), v, &SearchParams::k(2).with_ef(32))
            .expect("searches");
        let mut ids: Vec<i64> = found.iter().map(|n| n.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, [i as i64, i as i64 + 500]);
        assert_eq!(scores(&found), [0.0, 0.0]);
    }
    // A zero vector under cosine: scored 0, never NaN, as a query or as a stored vector.
    let mut vectors = uniform(400, 8, 82);
    vectors[7] = vec![0.0; 8];
    let collection = graph(&vectors, Metric::Cosine);
    for query in [&vectors[7], &vectors[8]] {
        let found = collection
            .search(Some("hnsw"), query, &SearchParams::k(400).with_ef(400))
            .expect("searches");
        assert_eq!(
            found.len(),
            400,
            "every node reached with a beam of all of them"
        );
        assert!(found.iter().all(|n| n.score.is_finite()), "{found:?}");
        let zero = found.iter().find(|n| n.id == 7).expect("the zero vector");
        assert_eq!(zero.score, 0.0);
    }
    // Vectors whose squared distances come within a whisker of f32::MAX.
    let edge = (simple_vector_db::validation::MAX_SQUARED_NORM / 16.0).sqrt() as f32 * 0.999_99;
    let vectors: Vec<Vec<f32>> = uniform(300, 16, 83)
        .into_iter()
        .map(|v| {
            v.into_iter()
                .map(|x| x.signum() * edge * (0.5 + x.abs() / 2.0))
                .collect()
        })
        .collect();
    let collection = graph(&vectors, Metric::Euclidean);
    for (i, v) in vectors.iter().enumerate().step_by(7) {
        let found = collection
            .search(Some("hnsw"), v, &SearchParams::k(3).with_ef(32))
            .expect("searches");
        assert_eq!(found[0].id, i as i64);
        assert!(found.iter().all(|n| n.score.is_finite()), "{found:?}");
        let exact = collection
            .search(None, v, &SearchParams::k(3))
            .expect("brute force");
        let ids = |n: &[Neighbour]| n.iter().map(|n| n.id).collect::<Vec<_>>();
        assert_eq!(ids(&found), ids(&exact));
        for (a, b) in found.iter().zip(&exact) {
            assert!(
                (a.score - b.score).abs() <= 1e-5 * b.score,
                "{a:?} against {b:?}"
            );
        }
    }
}
