//! Filtered search: attributes stored with the vectors, filters checked against them, and the
//! strategies' promises: no result fails its filter; every strategy but the one-shot
//! post-filter returns k results whenever k vectors match; the pre-filter returns exactly the
//! best k among them; the planner scans exactly when few pass.

use proptest::prelude::*;
use simple_vector_db::engine::collection::Strategy;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, IvfSettings, SearchParams};
use simple_vector_db::filter::{parse, AttributeType, Filter, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Metric};

/// `n` vectors on a 2-D grid-ish spiral, with a `bucket` (i mod 10), a `color` and a `price`.
fn collection(n: usize, layout: Layout) -> Collection {
    let mut collection = Collection::open_in_memory_with_layout(layout).expect("memory");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            let t = i as f32 * 0.37;
            vec![
                t.cos() * (1.0 + t / 10.0),
                t.sin() * (1.0 + t / 10.0),
                (i % 7) as f32,
            ]
        })
        .collect();
    let colors = ["red", "green", "blue"];
    let attributes = Attributes {
        columns: vec![
            ("bucket".into(), AttributeType::Integer),
            ("color".into(), AttributeType::Text),
            ("price".into(), AttributeType::Real),
        ],
        rows: (0..n)
            .map(|i| {
                vec![
                    Some(Value::Integer((i % 10) as i64)),
                    Some(Value::from(colors[i % 3])),
                    (i % 13 != 0).then_some(Value::Real((i * 7 % 200) as f64)),
                ]
            })
            .collect(),
    };
    collection
        .insert_with_attributes(&vectors, None, &attributes)
        .expect("stored");
    collection
}

/// The exact best `k` among the ids `passing`, by brute force over everything.
fn exact_among(collection: &Collection, query: &[f32], k: usize, passing: &[i64]) -> Vec<i64> {
    let all = collection
        .search(
            None,
            query,
            &SearchParams::k(collection.len().expect("count")),
        )
        .expect("brute force");
    all.into_iter()
        .filter(|n| passing.contains(&n.id))
        .take(k)
        .map(|n| n.id)
        .collect()
}

const FILTERS: [&str; 6] = [
    "bucket < 3",
    "bucket = 4 AND color = 'red'",
    "color IN ('green', 'blue') OR price > 150",
    "NOT (bucket >= 1) AND price <= 100",
    "bucket NOT IN (0, 1, 2, 3, 4, 5, 6, 7, 8)",
    "price > 1000",
];

#[test]
fn a_pre_filter_returns_the_exact_best_k_among_the_matching_in_every_layout_and_mode() {
    for layout in [Layout::Rows, Layout::Chunks] {
        let mut collection = collection(600, layout);
        for mode in [ScanMode::Streamed, ScanMode::Preloaded] {
            collection.set_scan_mode(mode).expect("mode");
            for text in FILTERS {
                let filter = parse(text).expect("valid");
                let passing = collection.matching_ids(&filter).expect("checked");
                for query in [[0.5f32, 0.5, 1.0], [-3.0, 2.0, 6.0]] {
                    let found = collection
                        .search_filtered(None, &query, &SearchParams::k(10), &filter, Strategy::Pre)
                        .expect("searched");
                    let ids: Vec<i64> = found.neighbours.iter().map(|n| n.id).collect();
                    assert_eq!(
                        ids,
                        exact_among(&collection, &query, 10, &passing),
                        "{layout:?} {mode:?} {text}"
                    );
                    assert!(found.complete);
                    assert_eq!(
                        ids.len(),
                        passing.len().min(10),
                        "{text}: k results whenever k match"
                    );
                }
            }
        }
    }
}

#[test]
fn no_strategy_through_an_index_returns_a_failing_vector_and_all_but_post_return_k() {
    let mut collection = collection(800, Layout::Chunks);
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("graph");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(8)))
        .expect("ivf");
    let rare = "bucket = 3 AND price > 190";
    for (index, params) in [
        ("hnsw", SearchParams::k(10).with_ef(64)),
        ("ivf", SearchParams::k(10).with_n_probes(2)),
    ] {
        for text in FILTERS.iter().chain([&rare]) {
            let filter = parse(text).expect("valid");
            let passing = collection.matching_ids(&filter).expect("checked");
            for strategy in [
                Strategy::Auto,
                Strategy::Pre,
                Strategy::Post,
                Strategy::Iterative,
                Strategy::InIndex,
            ] {
                let found = collection
                    .search_filtered(Some(index), &[0.5, 0.5, 1.0], &params, &filter, strategy)
                    .expect("searched");
                let label = format!("{index} {text} {strategy:?}");
                assert!(
                    found.neighbours.iter().all(|n| passing.contains(&n.id)),
                    "{label}"
                );
                assert_eq!(
                    found.complete,
                    found.neighbours.len() >= passing.len().min(10),
                    "{label}"
                );
                if strategy != Strategy::Post {
                    assert!(found.complete, "{label}: k results whenever k match");
                }
                assert_ne!(found.plan.strategy, Strategy::Auto, "{label}");
                assert_eq!(
                    (found.plan.matching, found.plan.total),
                    (passing.len(), 800),
                    "{label}"
                );
            }
        }
        // One vector in a hundred passes: ten times k candidates hold about one of them.
        let filter = parse(rare).expect("valid");
        let found = collection
            .search_filtered(
                Some(index),
                &[0.5, 0.5, 1.0],
                &params,
                &filter,
                Strategy::Post,
            )
            .expect("searched");
        let matching = collection.matching_ids(&filter).expect("checked").len();
        assert!(
            matching >= 1 && !found.complete && found.neighbours.len() < matching.min(10),
            "{index}: {matching} match"
        );
    }
}

#[test]
fn the_planner_scans_exactly_when_few_pass_and_searches_the_index_otherwise() {
    let mut collection = collection(2000, Layout::Chunks);
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("graph");
    let plan = |index: Option<&str>, text: &str| {
        collection
            .explain_filter(index, 10, &parse(text).expect("valid"), Strategy::Auto)
            .expect("planned")
    };
    let half = plan(Some("hnsw"), "bucket < 5");
    assert_eq!(
        (half.strategy, half.matching, half.expansion),
        (Strategy::Post, 1000, 6)
    );
    assert!((half.selectivity() - 0.5).abs() < 1e-9);
    let tenth = plan(Some("hnsw"), "bucket = 4");
    assert_eq!((tenth.strategy, tenth.expansion), (Strategy::Post, 30));
    let few = plan(Some("hnsw"), "bucket = 4 AND color = 'red'");
    assert_eq!(
        (few.strategy, few.matching),
        (Strategy::Iterative, 66),
        "a graph: iterative"
    );
    // 0.5 % pass, under the 1 % threshold.
    assert_eq!(
        plan(Some("hnsw"), "bucket = 3 AND price > 190").strategy,
        Strategy::Pre
    );
    // In memory, a graph scans exactly up to where its post-filter takes over.
    let mut preloaded = crate::collection(2000, Layout::Chunks);
    preloaded
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(8, 32)))
        .expect("graph");
    preloaded
        .set_scan_mode(ScanMode::Preloaded)
        .expect("preloaded");
    let few_in_memory = preloaded
        .explain_filter(
            Some("hnsw"),
            10,
            &parse("bucket = 4 AND color = 'red'").expect("valid"),
            Strategy::Auto,
        )
        .expect("planned");
    assert_eq!(few_in_memory.strategy, Strategy::Pre);
    assert_eq!(
        plan(None, "bucket < 5").strategy,
        Strategy::Pre,
        "no index: the exact scan"
    );
    let asked = collection
        .explain_filter(
            Some("hnsw"),
            10,
            &parse("bucket < 5").expect("valid"),
            Strategy::Post,
        )
        .expect("planned");
    assert_eq!(
        asked.strategy,
        Strategy::Post,
        "a strategy asked for is kept"
    );
}

#[test]
fn attributes_persist_and_later_batches_must_bring_the_same_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.db");
    {
        let mut collection = Collection::open(&path).expect("created");
        let attributes = Attributes {
            columns: vec![("digit".into(), AttributeType::Integer)],
            rows: vec![vec![Some(Value::Integer(3))], vec![Some(Value::Integer(7))]],
        };
        collection
            .insert_with_attributes(&[[1.0f32, 0.0], [0.0, 1.0]], None, &attributes)
            .expect("stored");
        collection
            .insert(&[[1.0f32, 1.0]], None)
            .expect("no attributes is fine");
        let other = Attributes {
            columns: vec![("label".into(), AttributeType::Text)],
            rows: vec![vec![None]],
        };
        let before = collection.len().expect("count");
        assert!(matches!(
            collection.insert_with_attributes(&[[2.0f32, 2.0]], None, &other),
            Err(Error::AttributeSchemaMismatch { .. })
        ));
        assert_eq!(collection.len().expect("count"), before, "nothing stored");
    }
    let collection = Collection::open_existing(&path).expect("reopened");
    assert_eq!(
        collection.attribute_schema().expect("schema"),
        [("digit".to_string(), AttributeType::Integer)]
    );
    let seven = parse("digit = 7").expect("valid");
    assert_eq!(collection.matching_ids(&seven).expect("checked"), [1]);
    let none = parse("digit != 7").expect("valid");
    assert_eq!(
        collection.matching_ids(&none).expect("checked"),
        [0],
        "no attributes: no filter selects it"
    );
    assert!(matches!(
        collection.matching_ids(&parse("label = 'x'").expect("valid")),
        Err(Error::UnknownAttribute { .. })
    ));
    assert!(simple_vector_db::engine::check::check_file(&path)
        .expect("checked")
        .is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random conjunctions of bounds: never a failing result, and the pre-filter's k whenever
    /// k match.
    #[test]
    fn no_strategy_returns_a_vector_that_fails_its_filter(
        low in 0i64..10, span in 0i64..10, price in 0.0f64..220.0, color in 0usize..3,
        x in -5.0f32..5.0, y in -5.0f32..5.0, k in 1usize..20,
    ) {
        let mut collection = collection(300, Layout::Chunks);
        collection.create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(6, 24))).expect("graph");
        let colors = ["red", "green", "blue"];
        let filter = Filter::column("bucket").ge(low)
            .and(Filter::column("bucket").le(low + span))
            .and(Filter::column("price").lt(price).or(Filter::column("color").eq(colors[color])));
        let passing = collection.matching_ids(&filter).expect("checked");
        let query = [x, y, 3.0];
        for strategy in [Strategy::Auto, Strategy::Pre, Strategy::Post, Strategy::Iterative, Strategy::InIndex] {
            let found = collection
                .search_filtered(Some("hnsw"), &query, &SearchParams::k(k), &filter, strategy)
                .expect("searched");
            prop_assert!(found.neighbours.iter().all(|n| passing.contains(&n.id)));
            if strategy != Strategy::Post {
                prop_assert_eq!(found.neighbours.len(), passing.len().min(k));
            }
        }
    }
}

// ANCHOR: digits_example
/// The digits set's label as an attribute: the images nearest to a 3 that are 8s.
#[test]
fn the_nearest_eights_to_a_three_are_eights_and_the_nearest_there_are() {
    let digits = simple_vector_db::datasets::digits::load().expect("embedded digits");
    let mut collection = Collection::open_in_memory().expect("memory");
    let attributes = Attributes {
        columns: vec![("digit".into(), AttributeType::Integer)],
        rows: digits
            .labels
            .iter()
            .map(|&label| vec![Some(Value::Integer(i64::from(label)))])
            .collect(),
    };
    collection
        .insert_with_attributes(&digits.vectors, None, &attributes)
        .expect("stored");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(16, 64)))
        .expect("built");

    let three = digits.labels.iter().position(|&l| l == 3).expect("a 3");
    let eights = Filter::column("digit").eq(8);
    let found = collection
        .search_filtered(
            Some("hnsw"),
            &digits.vectors[three],
            &SearchParams::k(5),
            &eights,
            Strategy::Auto,
        )
        .expect("searched");

    // About a tenth of the images are 8s: the planner post-filters the graph's nearest.
    assert_eq!(found.plan.strategy, Strategy::Post, "{:?}", found.plan);
    let ids: Vec<i64> = found.neighbours.iter().map(|n| n.id).collect();
    assert!(ids.iter().all(|&id| digits.labels[id as usize] == 8));
    let eight_ids = collection.matching_ids(&eights).expect("ids");
    let exact = exact_among(&collection, &digits.vectors[three], 5, &eight_ids);
    assert_eq!(ids, exact);
}
// ANCHOR_END: digits_example
