//! Merging collections: `Collection::merge_from` and `svdb merge --into A.db B.db`. The added
//! vectors are found through every index of the receiving collection, with their attributes;
//! a merge that would mix dimensions, metrics or ids changes nothing.

mod common;

use std::path::Path;

use common::{
    assert_healthy, assert_refused_before_any_work, s, stderr, stdout, svdb, temp_path, uniform,
};
use simple_vector_db::engine::collection::Strategy;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, IvfSettings, SearchParams};
use simple_vector_db::filter::{parse, AttributeType, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use simple_vector_db::{Error, Metric};

/// A `shard` column: which file a vector came from.
fn shard(n: usize, value: i64) -> Attributes {
    Attributes {
        columns: vec![("shard".into(), AttributeType::Integer)],
        rows: vec![vec![Some(Value::Integer(value))]; n],
    }
}

/// `vectors` under `ids` in a new file at `path`, each with the attribute `shard = value`.
fn collection(path: &Path, vectors: &[Vec<f32>], ids: &[i64], value: i64) -> Collection {
    let mut collection = Collection::open(path).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    collection
        .insert_with_attributes(vectors, Some(ids), &shard(vectors.len(), value))
        .expect("stored");
    collection
}

#[test]
fn merged_vectors_are_found_through_every_index_with_their_attributes() {
    let (_dir, a_path) = temp_path("a.db");
    let (_other, b_path) = temp_path("b.db");
    let (a_vectors, b_vectors) = (uniform(300, 8, 1), uniform(200, 8, 2));
    let mut a = collection(&a_path, &a_vectors, &(0..300).collect::<Vec<_>>(), 0);
    a.create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(4).with_seed(1)))
        .expect("built");
    a.create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("built");
    let b = collection(&b_path, &b_vectors, &(1000..1200).collect::<Vec<_>>(), 1);

    let merged = a.merge_from(&b, false).expect("merged");
    assert_eq!((merged.added, merged.renumbered), (200, false));
    assert_eq!(merged.ids, (1000..1200).collect::<Vec<_>>());
    assert_eq!(a.len().expect("count"), 500);
    for (id, vector) in (1000i64..).zip(&b_vectors).step_by(17) {
        for index in [None, Some("ivf"), Some("hnsw")] {
            let found = a
                .search(index, vector, &SearchParams::k(1).with_n_probes(4))
                .expect("searched");
            assert_eq!(found[0].id, id, "{index:?}");
        }
    }
    let from_b = parse("shard = 1").expect("valid");
    let found = a
        .search_filtered(
            Some("hnsw"),
            &a_vectors[0],
            &SearchParams::k(5),
            &from_b,
            Strategy::Auto,
        )
        .expect("filtered");
    assert!(found.neighbours.iter().all(|n| n.id >= 1000), "{found:?}");
    assert_eq!(a.matching_ids(&from_b).expect("ids").len(), 200);
    assert_eq!(
        b.len().expect("count"),
        200,
        "the other file is left as it was"
    );
    drop(a);
    assert_healthy(&a_path);
}

#[test]
fn ids_both_hold_are_refused_unless_renumbered() {
    let (_dir, a_path) = temp_path("a.db");
    let (_other, b_path) = temp_path("b.db");
    let mut a = collection(&a_path, &uniform(50, 4, 1), &(0..50).collect::<Vec<_>>(), 0);
    let b = collection(
        &b_path,
        &uniform(10, 4, 2),
        &(45..55).collect::<Vec<_>>(),
        1,
    );
    assert!(matches!(
        a.merge_from(&b, false),
        Err(Error::DuplicateId(_))
    ));
    assert_eq!(a.len().expect("count"), 50, "nothing was added");
    let merged = a.merge_from(&b, true).expect("renumbered");
    assert_eq!(merged.ids, (50..60).collect::<Vec<_>>());
    assert_eq!(a.len().expect("count"), 60);
}

#[test]
fn another_dimension_or_metric_changes_nothing() {
    let (_dir, a_path) = temp_path("a.db");
    let (_wide, wide_path) = temp_path("wide.db");
    let (_cos, cosine_path) = temp_path("cosine.db");
    let mut a = collection(&a_path, &uniform(20, 4, 1), &(0..20).collect::<Vec<_>>(), 0);
    let wide = collection(&wide_path, &uniform(5, 6, 2), &[100, 101, 102, 103, 104], 1);
    let mut cosine = Collection::open(&cosine_path).expect("opens");
    cosine.set_metric(Metric::Cosine).expect("metric");
    cosine
        .insert(&uniform(5, 4, 3), Some(&[200, 201, 202, 203, 204]))
        .expect("stored");
    assert!(matches!(
        a.merge_from(&wide, true),
        Err(Error::DimensionMismatch {
            expected: 4,
            found: 6
        })
    ));
    assert!(matches!(
        a.merge_from(&cosine, true),
        Err(Error::MetricMismatch { .. })
    ));
    assert_eq!(a.len().expect("count"), 20);
}

#[test]
fn svdb_merge_adds_the_vectors_and_refuses_mistakes_before_any_work() {
    let (_dir, a_path) = temp_path("a.db");
    let (_other, b_path) = temp_path("b.db");
    let (_wide, wide_path) = temp_path("wide.db");
    drop(collection(
        &a_path,
        &uniform(40, 4, 1),
        &(0..40).collect::<Vec<_>>(),
        0,
    ));
    drop(collection(
        &b_path,
        &uniform(10, 4, 2),
        &(35..45).collect::<Vec<_>>(),
        1,
    ));
    drop(collection(&wide_path, &uniform(3, 5, 3), &[90, 91, 92], 2));

    assert_refused_before_any_work(
        &["merge", "--into", s(&a_path), s(&b_path)],
        "duplicate id 35",
    );
    assert_refused_before_any_work(&["merge", "--into", s(&a_path), s(&wide_path)], "dimension");
    let output = svdb(&["merge", "--into", s(&a_path), s(&b_path), "--renumber"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("merged 10 vectors from")
            && stdout(&output).contains("renumbered (50 stored)"),
        "{}",
        stdout(&output)
    );
    let a = Collection::open_existing(&a_path).expect("opens");
    assert_eq!(a.len().expect("count"), 50);
}
