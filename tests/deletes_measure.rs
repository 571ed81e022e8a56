//! The measurement of deletes on a large clustered set, run by hand (it takes minutes):
//!
//! ```text
//! SVDB_DELETES_DATA=/tmp/peers-data/clustered-100k \
//!     cargo test --release --test deletes_measure -- --ignored --nocapture
//! ```
//!
//! `base.npy` and `queries.npy` in that folder (as `svdb eval --generate` writes them). It
//! stores the base in a chunked file with an inverted file (nlist 316) and a graph (M 32),
//! deletes a seeded random 30 % in three batches of 10 %, printing the graph's recall on the
//! live vectors after each, compacts, and compares recall@10 with indexes built afresh on the
//! live vectors alone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::datasets::npy;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, IvfSettings, SearchParams};
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::Metric;

fn indexed(path: &Path, ids: &[i64], vectors: &[Vec<f32>]) -> Collection {
    let mut collection = Collection::open_with_layout(path, Layout::Chunks).expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    collection.insert(vectors, Some(ids)).expect("stored");
    let start = Instant::now();
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(316).with_seed(1)))
        .expect("ivf");
    println!("ivf built in {:.1} s", start.elapsed().as_secs_f64());
    let start = Instant::now();
    collection
        .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(32, 40)))
        .expect("hnsw");
    println!("hnsw built in {:.1} s", start.elapsed().as_secs_f64());
    collection
}

/// The exact top 10 of each query (brute force over what the collection holds).
fn truth(collection: &Collection, queries: &[Vec<f32>]) -> Vec<HashSet<i64>> {
    queries
        .iter()
        .map(|q| {
            let found = collection
                .search(None, q, &SearchParams::k(10))
                .expect("flat");
            found.iter().map(|n| n.id).collect()
        })
        .collect()
}

/// Recall@10 of `index` against `truth`, and how many returned ids are in `deleted`.
fn recall(
    collection: &Collection,
    index: &str,
    params: &SearchParams,
    queries: &[Vec<f32>],
    truth: &[HashSet<i64>],
    deleted: &HashSet<i64>,
) -> (f64, usize) {
    let (mut hits, mut returned_deleted) = (0, 0);
    for (query, truth) in queries.iter().zip(truth) {
        for n in collection
            .search(Some(index), query, params)
            .expect("searches")
        {
            hits += usize::from(truth.contains(&n.id));
            returned_deleted += usize::from(deleted.contains(&n.id) || n.id < 0);
        }
    }
    (hits as f64 / (10 * queries.len()) as f64, returned_deleted)
}

fn file_bytes(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

#[test]
#[ignore = "minutes on 100,000 vectors: run by hand with SVDB_DELETES_DATA"]
fn measure_deletes_on_clustered_data() {
    let Some(data) = std::env::var_os("SVDB_DELETES_DATA").map(PathBuf::from) else {
        println!("SVDB_DELETES_DATA is not set: nothing measured");
        return;
    };
    let base = npy::load_vectors(&data.join("base.npy")).expect("base");
    let queries = npy::load_vectors(&data.join("queries.npy")).expect("queries");
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("deletes.db");
    let ids: Vec<i64> = (0..base.len() as i64).collect();
    let mut collection = indexed(&path, &ids, &base);
    println!("file before any delete: {} bytes", file_bytes(&path));
    let ivf = SearchParams::k(10).with_n_probes(4);
    let hnsw = SearchParams::k(10).with_ef(64);

    let mut order = ids.clone();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(30));
    let tenth = base.len() / 10;
    let mut deleted = HashSet::new();
    for step in 0..=3 {
        if step > 0 {
            let batch = &order[(step - 1) * tenth..step * tenth];
            let start = Instant::now();
            collection.delete(batch).expect("deleted");
            deleted.extend(batch.iter().copied());
            println!(
                "deleted {} more in {:.1} s; graph keeps {} deleted nodes",
                batch.len(),
                start.elapsed().as_secs_f64(),
                collection.deleted_entries().expect("counts")[0].1
            );
        }
        let truth = truth(&collection, &queries);
        let (r, bad) = recall(&collection, "hnsw", &hnsw, &queries, &truth, &deleted);
        let (ri, badi) = recall(&collection, "ivf", &ivf, &queries, &truth, &deleted);
        println!(
            "{:>2} % deleted: hnsw recall@10 {r:.4} ({bad} deleted returned), ivf {ri:.4} ({badi})",
            step * 10
        );
    }
    let before = file_bytes(&path);
    let start = Instant::now();
    let (b, a) = collection.compact().expect("compacted");
    println!(
        "compact in {:.1} s: {b} -> {a} bytes ({:.3}x); measured {before} -> {}",
        start.elapsed().as_secs_f64(),
        a as f64 / b as f64,
        file_bytes(&path)
    );
    let truth = truth(&collection, &queries);
    let compacted_ivf = recall(&collection, "ivf", &ivf, &queries, &truth, &deleted);
    let compacted_hnsw = recall(&collection, "hnsw", &hnsw, &queries, &truth, &deleted);

    let live: Vec<(i64, Vec<f32>)> = ids
        .iter()
        .zip(&base)
        .filter(|(id, _)| !deleted.contains(id))
        .map(|(&id, v)| (id, v.clone()))
        .collect();
    let (live_ids, live_vectors): (Vec<i64>, Vec<Vec<f32>>) = live.into_iter().unzip();
    let fresh_path = dir.path().join("fresh.db");
    let fresh = indexed(&fresh_path, &live_ids, &live_vectors);
    let fresh_ivf = recall(&fresh, "ivf", &ivf, &queries, &truth, &deleted);
    let fresh_hnsw = recall(&fresh, "hnsw", &hnsw, &queries, &truth, &deleted);
    println!(
        "after compact: ivf {:.4} ({} deleted returned) vs fresh {:.4}; hnsw {:.4} ({}) vs fresh {:.4}",
        compacted_ivf.0, compacted_ivf.1, fresh_ivf.0, compacted_hnsw.0, compacted_hnsw.1, fresh_hnsw.0
    );
    println!(
        "fresh file: {} bytes; compacted: {} bytes",
        file_bytes(&fresh_path),
        file_bytes(&path)
    );
}
