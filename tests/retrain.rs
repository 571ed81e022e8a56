//! Staleness and retraining in place: counts that follow every write, a retrain that other
//! handles never see half done, a kill that leaves the old index or the new one, and the drift
//! that retraining cures.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{
    assert_healthy, assert_refused_before_any_work, kill_at_spread_moments, remove_with_log, s,
    stderr, stdout, svdb, svdb_command, temp_path, uniform,
};
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::staleness::Staleness;
use simple_vector_db::engine::{
    Collection, HnswSettings, IndexSpec, IvfPqSettings, IvfSettings, SearchParams,
};
use simple_vector_db::evaluation::recall::recall_at_k;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::Metric;

fn staleness_of(collection: &Collection, name: &str) -> Staleness {
    collection
        .index_info(name)
        .expect("reads")
        .expect("index exists")
        .staleness
        .expect("recorded")
}

fn euclidean_collection(path: &Path) -> Collection {
    let mut collection = Collection::open_with_layout(path, Layout::Chunks).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    collection
}

#[test]
fn staleness_counts_every_write_since_training_and_retraining_resets_it() {
    let (_dir, db) = temp_path("stale.db");
    let mut collection = euclidean_collection(&db);
    collection
        .insert(&uniform(1_000, 8, 1), None)
        .expect("stored");
    let ivf = IndexSpec::Ivf(IvfSettings::new(8).with_seed(3));
    collection.create_index("ivf", &ivf).expect("built");
    assert_eq!(
        staleness_of(&collection, "ivf"),
        Staleness {
            trained_on: 1_000,
            added: 0,
            removed: 0
        }
    );
    collection
        .insert(&uniform(200, 8, 2), None)
        .expect("stored");
    collection.delete(&[1, 2, 3, 4, 5]).expect("deleted");
    // Ten upserts: five replace stored vectors (removed and added), five are new ids.
    let ids: Vec<i64> = (10..15).chain(5_000..5_005).collect();
    let replaced = collection
        .upsert(&uniform(10, 8, 4), &ids, None)
        .expect("upserted");
    assert_eq!(replaced, 5);
    let expected = Staleness {
        trained_on: 1_000,
        added: 210,
        removed: 10,
    };
    assert_eq!(staleness_of(&collection, "ivf"), expected);
    drop(collection);

    let mut collection = Collection::open_existing(&db).expect("reopens");
    assert_eq!(
        staleness_of(&collection, "ivf"),
        expected,
        "kept in the file"
    );
    let retrained = collection.retrain_index("ivf", None).expect("retrained");
    assert_eq!(retrained.vectors, 1_200);
    assert_eq!(retrained.before, Some(expected));
    assert_eq!(
        staleness_of(&collection, "ivf"),
        Staleness {
            trained_on: 1_200,
            added: 0,
            removed: 0
        }
    );
    collection.drop_index("ivf").expect("dropped");
    collection.create_index("ivf", &ivf).expect("built again");
    assert_eq!(staleness_of(&collection, "ivf").trained_on, 1_200);
}

#[test]
fn a_graph_rebuilt_by_its_deletes_counts_from_zero_again() {
    let (_dir, db) = temp_path("graph.db");
    let mut collection = euclidean_collection(&db);
    collection
        .insert(&uniform(500, 8, 1), None)
        .expect("stored");
    let hnsw = IndexSpec::Hnsw(HnswSettings::new(8, 32));
    collection.create_index("hnsw", &hnsw).expect("built");
    collection.delete(&[0, 1, 2]).expect("deleted");
    assert_eq!(staleness_of(&collection, "hnsw").removed, 3);
    // A quarter deleted: over the rebuild share, so the graph is built again on the rest.
    let doomed: Vec<i64> = (3..130).collect();
    collection.delete(&doomed).expect("deleted");
    assert_eq!(
        staleness_of(&collection, "hnsw"),
        Staleness {
            trained_on: 370,
            added: 0,
            removed: 0
        }
    );
}

#[test]
fn retraining_keeps_the_settings_and_takes_another_seed_when_asked() {
    let (_dir, db) = temp_path("settings.db");
    let mut collection = euclidean_collection(&db);
    collection
        .insert(&uniform(2_000, 16, 1), None)
        .expect("stored");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(12).with_seed(5)))
        .expect("built");
    collection
        .create_index(
            "ivfpq",
            &IndexSpec::IvfPq(IvfPqSettings::new(8, 4, 6).with_seed(5)),
        )
        .expect("built");
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(6, 20)))
        .expect("built");
    for name in ["ivf", "ivfpq", "hnsw"] {
        let before = collection.index_info(name).expect("reads").expect("exists");
        let centroids = collection.centroids(name).expect("reads");
        collection.retrain_index(name, None).expect("retrained");
        let after = collection.index_info(name).expect("reads").expect("exists");
        assert_eq!(before.settings, after.settings, "{name}");
        assert_eq!(before.label, after.label, "{name}");
        assert!(after.up_to_date, "{name}");
        assert_eq!(
            centroids,
            collection.centroids(name).expect("reads"),
            "{name}: the same vectors and seed train the same cells"
        );
    }
    collection.retrain_index("ivf", Some(6)).expect("retrained");
    let settings = collection
        .index_info("ivf")
        .expect("reads")
        .expect("exists");
    assert!(
        settings.settings.contains("seed=6"),
        "{}",
        settings.settings
    );
    assert!(
        settings.settings.contains("nlist=12"),
        "{}",
        settings.settings
    );
    assert!(collection.retrain_index("nope", None).is_err());
}

/// Two groups of clusters in different places: the second arrives after the index was trained.
fn drifting_groups(n: usize, d: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let group = |seed: u64, shift: f32| -> Vec<Vec<f32>> {
        let spec = ClusteredSpec {
            n_vectors: n,
            dimension: d,
            n_clusters: 20,
            noise: 0.15,
            seed,
        };
        generate(&spec)
            .expect("generated")
            .into_iter()
            .map(|v| v.into_iter().map(|x| x + shift).collect())
            .collect()
    };
    (group(1, 0.0), group(2, 0.6))
}

/// A collection holding `n` vectors under ids `0..n`, an inverted file of `nlist` cells trained
/// on them, then `n` more from elsewhere under ids `n..2n`: the old group and the new.
fn drifted_collection(
    db: &Path,
    (n, d): (usize, usize),
    nlist: usize,
) -> (Collection, Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let (old, new) = drifting_groups(n, d);
    let mut collection = euclidean_collection(db);
    collection.insert(&old, None).expect("stored");
    let ivf = IndexSpec::Ivf(IvfSettings::new(nlist).with_seed(1));
    collection.create_index("ivf", &ivf).expect("built");
    collection.insert(&new, None).expect("stored");
    (collection, old, new)
}

/// The exact top 10 of each query, by brute force over the collection.
fn exact_top_10(collection: &Collection, queries: &[Vec<f32>]) -> Vec<Vec<i64>> {
    queries
        .iter()
        .map(|q| {
            let exact = collection.search(None, q, &SearchParams::k(10));
            exact.expect("searches").iter().map(|n| n.id).collect()
        })
        .collect()
}

fn recall_through(
    collection: &Collection,
    index: &str,
    queries: &[Vec<f32>],
    truth: &[Vec<i64>],
    nprobe: usize,
) -> f64 {
    let params = SearchParams::k(10).with_n_probes(nprobe);
    let total: f64 = queries
        .iter()
        .zip(truth)
        .map(|(query, truth)| {
            let found: Vec<i64> = collection
                .search(Some(index), query, &params)
                .expect("searches")
                .iter()
                .map(|n| n.id)
                .collect();
            recall_at_k(&found, truth, 10)
        })
        .sum();
    total / queries.len() as f64
}

#[test]
fn retraining_after_drift_brings_recall_back() {
    let (_dir, db) = temp_path("drift.db");
    let (mut collection, _, new) = drifted_collection(&db, (4_000, 16), 40);
    let queries: Vec<Vec<f32>> = new.iter().step_by(40).cloned().collect();
    let truth = exact_top_10(&collection, &queries);
    let stale = recall_through(&collection, "ivf", &queries, &truth, 2);
    assert!((staleness_of(&collection, "ivf").changed_share() - 1.0).abs() < 1e-9);
    collection.retrain_index("ivf", None).expect("retrained");
    let fresh = recall_through(&collection, "ivf", &queries, &truth, 2);
    eprintln!("recall@10 of the new vectors at nprobe 2: stale {stale:.3}, retrained {fresh:.3}");
    assert!(
        fresh > stale + 0.05,
        "stale {stale:.3}, retrained {fresh:.3}"
    );
}

#[test]
fn searches_of_another_handle_go_on_through_the_old_index_until_the_new_one_commits() {
    let (_dir, db) = temp_path("online.db");
    let (mut collection, _, new) = drifted_collection(&db, (6_000, 16), 40);
    let before = collection.generation().expect("reads");

    let retraining = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, queries) = (db.clone(), new.clone());
        let (retraining, done) = (Arc::clone(&retraining), Arc::clone(&done));
        std::thread::spawn(move || {
            // A handle of its own, as another process would have.
            let reader = Collection::open_existing(&db).expect("opens");
            let params = SearchParams::k(10).with_n_probes(8);
            let (mut during, mut generations) = (0, Vec::new());
            for (i, query) in queries.iter().enumerate().cycle() {
                let was_retraining = retraining.load(Ordering::SeqCst);
                let found = reader.search(Some("ivf"), query, &params);
                let found = found.unwrap_or_else(|e| panic!("search {i} failed: {e}"));
                assert_eq!(found.len(), 10, "search {i}");
                assert_eq!(
                    found[0].score, 0.0,
                    "search {i}: a stored vector finds itself"
                );
                during += usize::from(was_retraining && retraining.load(Ordering::SeqCst));
                generations.push(reader.generation().expect("reads"));
                if done.load(Ordering::SeqCst) {
                    break;
                }
            }
            (during, generations)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    retraining.store(true, Ordering::SeqCst);
    collection.retrain_index("ivf", None).expect("retrained");
    retraining.store(false, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(50));
    done.store(true, Ordering::SeqCst);
    let (during, generations) = reader.join().expect("the reader never failed");
    let after = collection.generation().expect("reads");
    assert!(
        during > 0,
        "no search ran while the index was being trained"
    );
    assert_eq!(generations.first(), Some(&before));
    assert_eq!(
        generations.last(),
        Some(&after),
        "the reader moved on to the new index"
    );
    assert!(generations.iter().all(|g| *g == before || *g == after));
}

#[test]
fn a_killed_retrain_leaves_the_old_index_or_the_new_one() {
    let (dir, template) = temp_path("template.db");
    let (collection, _, new) = drifted_collection(&template, (10_000, 16), 64);
    let stale_cells = collection.centroids("ivf").expect("reads");
    drop(collection);
    let db = dir.path().join("killed.db");
    let reset = || {
        remove_with_log(&db);
        std::fs::copy(&template, &db).expect("copies");
    };
    let make = || svdb_command(&["retrain", "--db", s(&db), "--index", "ivf"]);
    let verify = |trial: usize| {
        assert_healthy(&db);
        let collection = Collection::open_existing(&db).expect("opens");
        let staleness = staleness_of(&collection, "ivf");
        let cells = collection.centroids("ivf").expect("reads");
        if staleness.added == 0 {
            assert_eq!(staleness.trained_on, 20_000, "trial {trial}");
            assert_ne!(cells, stale_cells, "trial {trial}: retrained, new cells");
        } else {
            assert_eq!(staleness.added, 10_000, "trial {trial}");
            assert_eq!(cells, stale_cells, "trial {trial}: the old index, whole");
        }
        let found = collection
            .search(Some("ivf"), &new[7], &SearchParams::k(1).with_n_probes(8))
            .expect("searches");
        assert_eq!(found[0].id, 10_007, "trial {trial}");
    };
    let killed = kill_at_spread_moments(&make, &reset, &verify, 6);
    assert!(killed > 0, "no run was killed before it finished");
}

#[test]
fn svdb_retrain_and_info_report_what_changed_since_training() {
    let (dir, db) = temp_path("cli.db");
    let mut collection = euclidean_collection(&db);
    collection
        .insert(&uniform(600, 8, 1), None)
        .expect("stored");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(6)))
        .expect("built");
    collection
        .insert(&uniform(150, 8, 2), None)
        .expect("stored");
    collection.delete(&[0, 1, 2]).expect("deleted");
    drop(collection);

    let info = svdb(&["info", "--db", s(&db)]);
    assert!(info.status.success(), "{}", stderr(&info));
    assert!(
        stdout(&info).contains(
            "index ivf: trained on 600 vectors; since then +150 added, -3 removed (25.5 % changed)"
        ),
        "{}",
        stdout(&info)
    );
    let json = svdb(&["info", "--db", s(&db), "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(parsed["indexes"][0]["staleness"]["added"], 150);

    let output = svdb(&["retrain", "--db", s(&db), "--index", "ivf"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("retrained ivf on 747 vectors in ")
            && text.contains("(was trained on 600 vectors, +150 -3 since)"),
        "{text}"
    );
    let info = stdout(&svdb(&["info", "--db", s(&db)]));
    assert!(
        info.contains("trained on 747 vectors; since then +0 added, -0 removed (0.0 % changed)"),
        "{info}"
    );
    assert_refused_before_any_work(&["retrain", "--db", s(&db), "--index", "nope"], "nope");
    let missing = dir.path().join("missing.db");
    assert_refused_before_any_work(
        &["retrain", "--db", s(&missing), "--index", "ivf"],
        "missing.db",
    );
}

/// The chapter's measurement (`cargo test --release --test retrain -- --ignored --nocapture`):
/// 50,000 vectors of 128 dimensions trained on, 50,000 from elsewhere added, then retrained.
#[test]
#[ignore = "a measurement for the book, about a minute"]
fn measure_drift_and_retraining() {
    let (_dir, db) = temp_path("measure.db");
    let group = |seed: u64, shift: f32| -> Vec<Vec<f32>> {
        let spec = ClusteredSpec {
            n_vectors: 50_000,
            dimension: 128,
            n_clusters: 50,
            noise: 0.15,
            seed,
        };
        let vectors = generate(&spec).expect("generated");
        vectors
            .into_iter()
            .map(|v| v.into_iter().map(|x| x + shift).collect())
            .collect()
    };
    let (old, new) = (group(1, 0.0), group(2, 0.6));
    let mut collection = euclidean_collection(&db);
    collection.insert(&old, None).expect("stored");
    let ivf = IndexSpec::Ivf(IvfSettings::new(316).with_seed(1));
    collection.create_index("ivf", &ivf).expect("built");
    collection.insert(&new, None).expect("stored");
    let queries: Vec<Vec<f32>> = new.iter().step_by(100).cloned().collect();
    let truth = exact_top_10(&collection, &queries);
    collection.preload(Some("ivf")).expect("preloads");
    let measure = |collection: &Collection, label: &str| {
        for nprobe in [1, 4, 8] {
            let start = std::time::Instant::now();
            let recall = recall_through(collection, "ivf", &queries, &truth, nprobe);
            let qps = queries.len() as f64 / start.elapsed().as_secs_f64();
            println!("{label}: nprobe {nprobe}: recall@10 {recall:.3}, {qps:.0} queries/s");
        }
    };
    println!("staleness: {:?}", staleness_of(&collection, "ivf"));
    measure(&collection, "stale");
    let retrained = collection.retrain_index("ivf", None).expect("retrained");
    println!(
        "retrained on {} in {:.2} s",
        retrained.vectors, retrained.seconds
    );
    collection.preload(Some("ivf")).expect("preloads");
    measure(&collection, "retrained");
}
