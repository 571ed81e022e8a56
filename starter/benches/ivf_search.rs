//! Benchmark of chapter 6: the k-means inverted file index on 100,000 vectors of dimension 128.
//!
//! Reports the index build time, then for each n_probes the recall@10 against brute force, the
//! queries per second and the speed-up over `search_without_index`, all measured in one run.
//! Run with `cargo bench --bench ivf_search`.

use std::time::Instant;

use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::evaluation::recall::recall_at_k;
use simple_vector_db::{Error, Metric, Result, VectorDbSqlite};

const N_VECTORS: usize = 100_000;
const N_QUERIES: usize = 200;
const N_CELLS: usize = 316; // ≈ √N, the usual starting point
const K: usize = 10;

fn main() -> Result<()> {
    simple_vector_db::utils::flex_logging::init();
    // Queries come from the same clusters as the data, but are not stored.
    let mut vectors = generate(&ClusteredSpec {
        n_vectors: N_VECTORS + N_QUERIES,
        dimension: 128,
        n_clusters: 100,
        noise: 0.3,
        seed: 7,
    })?;
    let queries = vectors.split_off(N_VECTORS);

    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut db = VectorDbSqlite::open(dir.path().join("ivf_bench.db"))?;
    db.set_metric(Metric::Euclidean)?;
    db.insert(&vectors, None)?;

    // Brute force before and after the build (which writes its own copy of the vectors, cell
    // by cell, into the index's `ivf_lists` table and leaves the collection's table as it was).
    let (truth, brute_qps) = brute_force(&db, &queries)?;

    let start = Instant::now();
    db.create_kmeans_index(N_CELLS)?;
    let build_s = start.elapsed().as_secs_f64();
    let (_, brute_qps_after_build) = brute_force(&db, &queries)?;
    // Speed-ups are over the faster of the two brute-force runs, so they are never flattered.
    let baseline = brute_qps.max(brute_qps_after_build);

    println!(
        "IVF on {N_VECTORS} x 128 clustered vectors, {N_CELLS} cells, k = {K}, {N_QUERIES} queries"
    );
    println!("index build: {build_s:.2} s");
    println!("brute force: {brute_qps:.1} QPS before the build, {brute_qps_after_build:.1} after");
    println!(
        "{:>10} {:>10} {:>10} {:>10}",
        "mode", "recall@10", "QPS", "speed-up"
    );
    println!(
        "{:>10} {:>10.4} {:>10.1} {:>10.1}",
        "brute", 1.0, baseline, 1.0
    );
    for n_probes in [1, 2, 4, 8, 16, 32] {
        let start = Instant::now();
        let mut recall_sum = 0.0;
        for (query, exact) in queries.iter().zip(&truth) {
            let found = db.search_in_kmeans_index(query, K, n_probes)?;
            let ids: Vec<i64> = found.neighbours.iter().map(|n| n.id).collect();
            recall_sum += recall_at_k(&ids, exact, K);
        }
        let qps = N_QUERIES as f64 / start.elapsed().as_secs_f64();
        let recall = recall_sum / N_QUERIES as f64;
        let label = format!("ivf p={n_probes}");
        println!(
            "{label:>10} {recall:>10.4} {qps:>10.1} {:>10.1}",
            qps / baseline
        );
    }
    Ok(())
}

/// The exact top-k of every query by `search_without_index`, and the queries per second.
fn brute_force(db: &VectorDbSqlite, queries: &[Vec<f32>]) -> Result<(Vec<Vec<i64>>, f64)> {
    let start = Instant::now();
    let truth = queries
        .iter()
        .map(|q| {
            Ok(db
                .search_without_index(q, K)?
                .into_iter()
                .map(|n| n.id)
                .collect())
        })
        .collect::<Result<Vec<Vec<i64>>>>()?;
    Ok((truth, queries.len() as f64 / start.elapsed().as_secs_f64()))
}
