//! Deletes and upserts: a deleted id is never returned, by any index, strategy, layout or scan
//! mode, before or after reopening or another handle's delete; an upsert is found at its new
//! place; a refused batch changes nothing; compaction gives space back and keeps the answers.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use common::{assert_healthy, temp_path, uniform};
use proptest::prelude::*;
use simple_vector_db::engine::collection::Strategy as Filtering;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::{
    Collection, HnswSettings, IndexSpec, IvfPqSettings, IvfSettings, PqSettings, SearchParams,
};
use simple_vector_db::filter::{parse, AttributeType, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Metric};

const D: usize = 8;
const INDEXES: [Option<&str>; 4] = [None, Some("ivf"), Some("pq"), Some("hnsw")];

/// A `bucket` attribute (i mod 10) for `n` vectors.
fn buckets(n: usize) -> Attributes {
    Attributes {
        columns: vec![("bucket".into(), AttributeType::Integer)],
        rows: (0..n)
            .map(|i| vec![Some(Value::Integer((i % 10) as i64))])
            .collect(),
    }
}

/// A collection of `n` uniform vectors under ids 0..n, with buckets and every kind of index.
fn filled(path: &Path, layout: Layout, n: usize) -> (Collection, Vec<Vec<f32>>) {
    let mut collection = Collection::open_with_layout(path, layout).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors = uniform(n, D, 11);
    collection
        .insert_with_attributes(&vectors, None, &buckets(n))
        .expect("stored");
    for (name, spec) in [
        ("ivf", IndexSpec::Ivf(IvfSettings::new(4).with_seed(1))),
        ("pq", IndexSpec::Pq(PqSettings::new(4, 16))),
        ("hnsw", IndexSpec::Hnsw(HnswSettings::new(8, 32))),
        (
            "ivfpq",
            IndexSpec::IvfPq(IvfPqSettings::new(4, 4, 4).with_seed(1)),
        ),
    ] {
        collection.create_index(name, &spec).expect("built");
    }
    (collection, vectors)
}

/// The exact `k` nearest of `live` to `query`, by id.
fn exact(live: &BTreeMap<i64, Vec<f32>>, query: &[f32], k: usize) -> Vec<i64> {
    let mut scored: Vec<(f32, i64)> = live
        .iter()
        .map(|(&id, v)| {
            let d: f32 = v.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum();
            (d, id)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

/// Asserts that no search of `collection` returns an id of `deleted`, through every index,
/// every filtered strategy and both scan modes; and that brute force is exact over `live`.
fn assert_never_returned(
    collection: &mut Collection,
    live: &BTreeMap<i64, Vec<f32>>,
    deleted: &HashSet<i64>,
    queries: &[Vec<f32>],
) {
    let filter = parse("bucket < 5").expect("parses");
    for mode in [ScanMode::Streamed, ScanMode::Preloaded] {
        collection.set_scan_mode(mode).expect("mode");
        for query in queries {
            for index in INDEXES {
                let found = collection
                    .search(index, query, &SearchParams::k(20))
                    .expect("searches");
                // Not a deleted id, nor anything else that is not live (such as what a graph
                // keeps a deleted node under).
                let bad: Vec<i64> = found
                    .iter()
                    .map(|n| n.id)
                    .filter(|id| deleted.contains(id) || !live.contains_key(id))
                    .collect();
                assert!(bad.is_empty(), "{index:?} {mode:?} returned {bad:?}");
                if index.is_none() {
                    let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
                    assert_eq!(ids, exact(live, query, 20), "brute force {mode:?}");
                }
                for strategy in [
                    Filtering::Auto,
                    Filtering::Pre,
                    Filtering::Post,
                    Filtering::Iterative,
                    Filtering::InIndex,
                ] {
                    if index == Some("pq") && strategy == Filtering::InIndex {
                        continue; // product quantization cannot filter inside
                    }
                    let found = collection
                        .search_filtered(index, query, &SearchParams::k(10), &filter, strategy)
                        .expect("filtered");
                    for n in &found.neighbours {
                        assert!(
                            live.contains_key(&n.id),
                            "{index:?} {strategy:?} {mode:?} returned deleted {}",
                            n.id
                        );
                    }
                }
            }
        }
    }
    collection.set_scan_mode(ScanMode::Streamed).expect("mode");
}

#[test]
fn deleted_ids_are_never_returned_by_any_index_layout_or_mode_nor_after_reopening() {
    for layout in [Layout::Rows, Layout::Chunks] {
        let (_dir, path) = temp_path("deletes.db");
        let (mut collection, vectors) = filled(&path, layout, 300);
        // 30 %, past the graph's rebuild share, in two batches: marked, then rebuilt.
        let first: Vec<i64> = (0..300).filter(|i| i % 10 == 3).collect();
        let second: Vec<i64> = (0..300).filter(|i| i % 10 == 6 || i % 10 == 8).collect();
        assert_eq!(collection.delete(&first).expect("deleted"), 30);
        let deleted_nodes = collection.deleted_entries().expect("counts");
        assert_eq!(
            deleted_nodes,
            vec![
                ("hnsw".into(), 30),
                ("ivf".into(), 0),
                ("ivfpq".into(), 0),
                ("pq".into(), 0)
            ]
        );
        let mut deleted: HashSet<i64> = first.iter().copied().collect();
        let mut live: BTreeMap<i64, Vec<f32>> = (0i64..).zip(vectors.clone()).collect();
        for id in &first {
            live.remove(id);
        }
        let queries: Vec<Vec<f32>> = first
            .iter()
            .take(5)
            .map(|&i| vectors[i as usize].clone())
            .collect();
        assert_never_returned(&mut collection, &live, &deleted, &queries);

        assert_eq!(collection.delete(&second).expect("deleted"), 60);
        deleted.extend(&second);
        for id in &second {
            live.remove(id);
        }
        assert_eq!(collection.len().expect("len"), 210, "{layout:?}");
        assert_eq!(collection.get(second[0]).expect("reads"), None);
        assert_eq!(collection.get(1).expect("reads"), Some(vectors[1].clone()));
        let queries: Vec<Vec<f32>> = second
            .iter()
            .take(5)
            .map(|&i| vectors[i as usize].clone())
            .collect();
        assert_never_returned(&mut collection, &live, &deleted, &queries);
        drop(collection);

        assert_healthy(&path);
        let mut reopened = Collection::open_existing(&path).expect("reopens");
        assert_eq!(reopened.len().expect("len"), 210);
        assert_never_returned(&mut reopened, &live, &deleted, &queries);
        assert_eq!(
            reopened
                .matching_ids(&parse("bucket = 3").expect("parses"))
                .expect("ids"),
            Vec::<i64>::new(),
            "the attributes of deleted vectors are gone"
        );
    }
}

#[test]
fn an_upsert_is_found_at_its_new_place_and_new_ids_are_inserted() {
    for layout in [Layout::Rows, Layout::Chunks] {
        let (_dir, path) = temp_path("upsert.db");
        let (mut collection, vectors) = filled(&path, layout, 200);
        let far = vec![vec![5.0f32; D], vec![-5.0f32; D]];
        let replaced = collection.upsert(&far, &[7, 1000], None).expect("upserted");
        assert_eq!(replaced, 1, "id 7 was replaced, id 1000 inserted");
        assert_eq!(collection.len().expect("len"), 201);
        assert_eq!(collection.get(7).expect("reads"), Some(far[0].clone()));
        for index in INDEXES {
            let found = collection
                .search(index, &far[0], &SearchParams::k(1))
                .expect("searches");
            assert_eq!(found[0].id, 7, "{index:?} {layout:?}");
            let found = collection
                .search(index, &vectors[7], &SearchParams::k(5))
                .expect("searches");
            // The old vector of 7 is gone: whatever comes back, 7 is not the nearest.
            assert!(
                found.iter().all(|n| n.id != 7 && n.id >= 0),
                "{index:?} {layout:?}: {found:?}"
            );
        }
        drop(collection);
        assert_healthy(&path);
    }
}

#[test]
fn unknown_ids_refuse_the_whole_batch_and_change_nothing() {
    let (_dir, path) = temp_path("unknown.db");
    let (mut collection, vectors) = filled(&path, Layout::Chunks, 100);
    let generation = collection.generation().expect("generation");
    let before = collection
        .search(Some("hnsw"), &vectors[3], &SearchParams::k(10))
        .expect("searches");
    let error = collection
        .delete(&[1, 2, 5000, 3, -4])
        .expect_err("refused");
    match error {
        Error::UnknownIds { count, first } => {
            assert_eq!(count, 2);
            assert_eq!(first, vec![5000, -4]);
        }
        other => panic!("{other}"),
    }
    assert_eq!(collection.len().expect("len"), 100);
    assert_eq!(collection.generation().expect("generation"), generation);
    assert_eq!(collection.get(1).expect("reads"), Some(vectors[1].clone()));
    let after = collection
        .search(Some("hnsw"), &vectors[3], &SearchParams::k(10))
        .expect("searches");
    assert_eq!(before, after);
    assert_eq!(
        collection.deleted_entries().expect("counts")[0],
        ("hnsw".into(), 0)
    );
}

#[test]
fn an_upsert_of_the_wrong_dimension_or_a_repeated_id_changes_nothing() {
    let (_dir, path) = temp_path("dimension.db");
    let (mut collection, vectors) = filled(&path, Layout::Rows, 100);
    let generation = collection.generation().expect("generation");
    let error = collection
        .upsert(&[vec![1.0f32; D + 1]], &[4], None)
        .expect_err("refused");
    assert!(matches!(error, Error::DimensionMismatch { .. }), "{error}");
    let error = collection
        .upsert(&[vec![1.0f32; D], vec![2.0; D]], &[4, 4], None)
        .expect_err("refused");
    assert!(matches!(error, Error::DuplicateId(4)), "{error}");
    assert_eq!(collection.get(4).expect("reads"), Some(vectors[4].clone()));
    assert_eq!(collection.generation().expect("generation"), generation);
    let found = collection
        .search(Some("hnsw"), &vectors[4], &SearchParams::k(1))
        .expect("searches");
    assert_eq!(found[0].id, 4);
}

#[test]
fn an_id_given_twice_in_a_delete_is_deleted_once() {
    let mut collection = Collection::open_in_memory_with_layout(Layout::Chunks).expect("memory");
    collection.insert(&uniform(10, D, 1), None).expect("stored");
    assert_eq!(collection.delete(&[3, 3, 4]).expect("deleted"), 2);
    assert_eq!(collection.len().expect("len"), 8);
}

#[test]
fn another_handles_delete_is_noticed_by_cached_and_preloaded_handles() {
    let (_dir, path) = temp_path("two.db");
    let (mut writer, vectors) = filled(&path, Layout::Chunks, 200);
    let mut reader = Collection::open_existing(&path).expect("opens");
    reader.set_scan_mode(ScanMode::Preloaded).expect("mode");
    let filter = parse("bucket = 2").expect("parses");
    let query = &vectors[12];
    for index in INDEXES {
        let found = reader
            .search(index, query, &SearchParams::k(1))
            .expect("searches");
        assert_eq!(found[0].id, 12, "{index:?}");
    }
    let passing = reader
        .search_filtered(None, query, &SearchParams::k(1), &filter, Filtering::Pre)
        .expect("filtered");
    assert_eq!(passing.neighbours[0].id, 12);

    writer.delete(&[12]).expect("deleted");
    for index in INDEXES {
        let found = reader
            .search(index, query, &SearchParams::k(5))
            .expect("searches");
        assert!(
            found.iter().all(|n| n.id != 12 && n.id >= 0),
            "{index:?}: {found:?}"
        );
    }
    for strategy in [Filtering::Pre, Filtering::Post, Filtering::InIndex] {
        let found = reader
            .search_filtered(Some("hnsw"), query, &SearchParams::k(5), &filter, strategy)
            .expect("filtered");
        assert!(
            found.neighbours.iter().all(|n| n.id != 12 && n.id >= 0),
            "{strategy:?}"
        );
    }
    assert_eq!(reader.len().expect("len"), 199);
}

/// Recall@10 of the graph over `live`, for `queries`.
fn graph_recall(
    collection: &Collection,
    live: &BTreeMap<i64, Vec<f32>>,
    queries: &[Vec<f32>],
) -> f64 {
    let mut hits = 0;
    for query in queries {
        let truth: HashSet<i64> = exact(live, query, 10).into_iter().collect();
        let found = collection
            .search(Some("hnsw"), query, &SearchParams::k(10).with_ef(64))
            .expect("searches");
        hits += found.iter().filter(|n| truth.contains(&n.id)).count();
    }
    hits as f64 / (10 * queries.len()) as f64
}

#[test]
fn graph_recall_on_the_live_vectors_holds_as_deletes_accumulate_and_after_the_rebuild() {
    let mut collection = Collection::open_in_memory_with_layout(Layout::Chunks).expect("memory");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors = uniform(2000, 16, 5);
    collection.insert(&vectors, None).expect("stored");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(12, 64)))
        .expect("built");
    let queries = uniform(50, 16, 6);
    let mut live: BTreeMap<i64, Vec<f32>> = (0i64..).zip(vectors).collect();
    // Every tenth id, then the next tenth: 10 % and 20 % deleted, marked, not yet rebuilt.
    for (step, expected_marked) in [(0i64, 200usize), (1, 400)] {
        let ids: Vec<i64> = (0..2000).filter(|i| i % 10 == step).collect();
        collection.delete(&ids).expect("deleted");
        for id in &ids {
            live.remove(id);
        }
        assert_eq!(
            collection.deleted_entries().expect("counts")[0].1,
            expected_marked
        );
        let recall = graph_recall(&collection, &live, &queries);
        assert!(recall >= 0.9, "{expected_marked} marked: recall {recall}");
    }
    // A third tenth goes past the share: the graph is built again without the dead.
    let ids: Vec<i64> = (0..2000).filter(|i| i % 10 == 2).collect();
    collection.delete(&ids).expect("deleted");
    for id in &ids {
        live.remove(id);
    }
    assert_eq!(collection.deleted_entries().expect("counts")[0].1, 0);
    let recall = graph_recall(&collection, &live, &queries);
    assert!(recall >= 0.9, "after the rebuild: recall {recall}");
}

#[test]
fn compaction_gives_space_back_and_keeps_the_answers_for_live_vectors() {
    let (_dir, path) = temp_path("compact.db");
    let mut collection = Collection::open_with_layout(&path, Layout::Chunks).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors = uniform(4000, 32, 8);
    collection.insert(&vectors, None).expect("stored");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(8).with_seed(2)))
        .expect("built");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("built");
    let ids: Vec<i64> = (0..4000).filter(|i| i % 2 == 0).collect();
    // Half, in batches below the rebuild share, so that deleted nodes are left to compact.
    for batch in ids.chunks(300).take(2) {
        collection.delete(batch).expect("deleted");
    }
    collection.delete(&ids[600..]).expect("deleted");
    let queries = uniform(10, 32, 9);
    let answers = |collection: &Collection, index: Option<&str>| -> Vec<Vec<i64>> {
        queries
            .iter()
            .map(|q| {
                collection
                    .search(index, q, &SearchParams::k(10))
                    .expect("searches")
                    .iter()
                    .map(|n| n.id)
                    .collect()
            })
            .collect()
    };
    let (flat, ivf) = (
        answers(&collection, None),
        answers(&collection, Some("ivf")),
    );
    let (before, after) = collection.compact().expect("compacted");
    assert!(after < before, "{after} bytes after, {before} before");
    assert!(
        (after as f64) < 0.75 * before as f64,
        "{after} bytes after, {before} before"
    );
    assert_eq!(answers(&collection, None), flat);
    assert_eq!(answers(&collection, Some("ivf")), ivf);
    assert_eq!(
        collection.deleted_entries().expect("counts")[0],
        ("hnsw".into(), 0)
    );
    let live: BTreeMap<i64, Vec<f32>> = (0i64..)
        .zip(vectors)
        .filter(|(id, _)| id % 2 == 1)
        .collect();
    assert!(graph_recall(&collection, &live, &queries) >= 0.9);
    drop(collection);
    assert_healthy(&path);
}

#[derive(Debug, Clone)]
enum Op {
    Delete(Vec<usize>),
    Upsert(Vec<(usize, u8)>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::collection::vec(0usize..60, 1..12).prop_map(Op::Delete),
        prop::collection::vec((0usize..80, any::<u8>()), 1..8).prop_map(Op::Upsert),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_deletes_and_upserts_agree_with_a_brute_force_model(
        ops in prop::collection::vec(op(), 1..8),
        chunks in any::<bool>(),
    ) {
        let layout = if chunks { Layout::Chunks } else { Layout::Rows };
        let mut collection = Collection::open_in_memory_with_layout(layout).expect("memory");
        collection.set_metric(Metric::Euclidean).expect("metric");
        let vectors = uniform(60, D, 3);
        collection.insert(&vectors, None).expect("stored");
        collection.create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(3))).expect("built");
        collection.create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(4, 16))).expect("built");
        let mut model: BTreeMap<i64, Vec<f32>> = (0i64..).zip(vectors).collect();
        for op in ops {
            match op {
                Op::Delete(ids) => {
                    let ids: Vec<i64> = ids.into_iter().map(|i| i as i64).collect();
                    let unknown = ids.iter().any(|id| !model.contains_key(id));
                    let result = collection.delete(&ids);
                    if unknown {
                        prop_assert!(matches!(result, Err(Error::UnknownIds { .. })), "{result:?}");
                    } else {
                        let distinct: HashSet<i64> = ids.iter().copied().collect();
                        prop_assert_eq!(result.expect("deleted"), distinct.len());
                        for id in distinct {
                            model.remove(&id);
                        }
                    }
                }
                Op::Upsert(pairs) => {
                    let mut seen = HashSet::new();
                    let pairs: Vec<(i64, Vec<f32>)> = pairs
                        .into_iter()
                        .filter(|(id, _)| seen.insert(*id))
                        .map(|(id, seed)| (id as i64, uniform(1, D, u64::from(seed) + 100).remove(0)))
                        .collect();
                    let ids: Vec<i64> = pairs.iter().map(|p| p.0).collect();
                    let vectors: Vec<Vec<f32>> = pairs.iter().map(|p| p.1.clone()).collect();
                    collection.upsert(&vectors, &ids, None).expect("upserted");
                    model.extend(pairs);
                }
            }
            prop_assert_eq!(collection.len().expect("len"), model.len());
            for (query_id, query) in model.iter().take(3) {
                let flat: Vec<i64> = collection
                    .search(None, query, &SearchParams::k(5))
                    .expect("searches")
                    .iter()
                    .map(|n| n.id)
                    .collect();
                prop_assert_eq!(&flat, &exact(&model, query, 5));
                for index in ["ivf", "hnsw"] {
                    let found = collection
                        .search(Some(index), query, &SearchParams::k(5).with_n_probes(3))
                        .expect("searches");
                    for n in &found {
                        prop_assert!(model.contains_key(&n.id), "{} returned gone {}", index, n.id);
                    }
                    // Its own vector comes first (or another id holding the same vector).
                    prop_assert_eq!(&model[&found[0].id], query, "{} misses {}", index, query_id);
                }
            }
        }
    }
}

#[test]
fn an_id_a_deleted_graph_node_was_kept_under_can_be_inserted_and_found() {
    let (_dir, path) = temp_path("placeholder.db");
    let mut collection = Collection::open_with_layout(&path, Layout::Rows).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors = uniform(100, D, 4);
    collection.insert(&vectors, None).expect("stored");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("built");
    // The graph keeps deleted nodes under ids below every id it holds: -1, -2, -3.
    collection.delete(&[0, 1, 2]).expect("deleted");
    let newcomers = vec![vec![3.0f32; D], vec![-3.0f32; D], vec![4.0f32; D]];
    collection
        .insert(&newcomers, Some(&[-1, -2, -3]))
        .expect("the ids are free in the collection, so in the graph too");
    drop(collection);
    assert_healthy(&path);
    let collection = Collection::open_existing(&path).expect("reopens");
    for (id, vector) in [-1i64, -2, -3].into_iter().zip(&newcomers) {
        let found = collection
            .search(Some("hnsw"), vector, &SearchParams::k(3))
            .expect("searches");
        assert_eq!(found[0].id, id);
        assert!(found.iter().all(|n| n.id > 2 || n.id < 0), "{found:?}");
    }
    assert_eq!(collection.deleted_entries().expect("counts")[0].1, 3);
}

#[test]
fn a_damaged_table_of_deleted_nodes_is_refused_naming_it() {
    let (_dir, path) = temp_path("damaged.db");
    let (mut collection, vectors) = filled(&path, Layout::Chunks, 100);
    collection.delete(&[5]).expect("deleted");
    drop(collection);
    common::tamper(&path, "UPDATE hnsw_deleted SET vector = x'0000'");
    let collection = Collection::open_existing(&path).expect("opens all the same");
    let error = collection
        .search(Some("hnsw"), &vectors[0], &SearchParams::k(1))
        .expect_err("refused");
    assert!(
        matches!(&error, Error::BadData { path, .. } if path == "table hnsw_deleted"),
        "{error}"
    );
    let found = collection
        .search(Some("ivf"), &vectors[0], &SearchParams::k(1))
        .expect("the other indexes still answer");
    assert_eq!(found[0].id, 0);
    let problems = simple_vector_db::engine::check::check_file(&path).expect("checks");
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("hnsw_deleted")),
        "{problems:?}"
    );
}
