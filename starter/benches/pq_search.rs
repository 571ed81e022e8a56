//! Product quantization against exact search, on 100,000 clustered vectors of dimension 128.
//!
//! For m = 16 and m = 32 chunks of 256 centroids: how long training takes, how many vectors per
//! second are encoded, how many queries per second the asymmetric search answers compared with
//! an exact brute-force scan of the raw vectors in memory (measured in the same run, since the
//! machine is shared and noisy), and the recall@10 of the quantized search, alone and when its
//! top 100 candidates are re-ranked by their exact distance.
//!
//! Run with `cargo bench --bench pq_search`.

use std::time::Duration;

use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::distances::euclidean_distance;
use simple_vector_db::engine::neighbour::ids_of;
use simple_vector_db::evaluation::recall::recall_at_k;
use simple_vector_db::kmeans::KMeansConfig;
use simple_vector_db::quantization::VectorQuantizer;
use simple_vector_db::top_k::TopK;
use simple_vector_db::utils::timing::measure;
use simple_vector_db::{Metric, Result, VectorDbInMemory};

const N_VECTORS: usize = 100_000;
const N_QUERIES: usize = 200;
const DIMENSION: usize = 128;
const NB_SUBSPACE_CENTROIDS: usize = 256;
const K: usize = 10;
/// How many ADC candidates the re-ranking variant scores exactly.
const RERANK: usize = 100;

fn main() {
    if let Err(error) = run() {
        eprintln!("pq_search failed: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    // One draw, split: the queries come from the same clusters but are not in the database.
    let mut vectors = generate(&ClusteredSpec {
        n_vectors: N_VECTORS + N_QUERIES,
        dimension: DIMENSION,
        n_clusters: 100,
        noise: 0.2,
        seed: 7,
    })?;
    let queries = vectors.split_off(N_VECTORS);

    let mut exact_db = VectorDbInMemory::with_metric(Metric::Euclidean);
    exact_db.insert(&vectors)?;
    let (truth, exact_time) = measure(|| {
        queries
            .iter()
            .map(|q| exact_db.search(q, K))
            .collect::<Result<Vec<_>>>()
    });
    let truth: Vec<Vec<i64>> = truth?.iter().map(Vec::as_slice).map(ids_of).collect();
    let exact_qps = per_second(N_QUERIES, exact_time);

    println!(
        "{N_VECTORS} vectors x {DIMENSION} dims ({} MB as f32), {N_QUERIES} queries, k = {K}",
        N_VECTORS * DIMENSION * 4 / 1_000_000
    );
    println!("exact brute force (VectorDbInMemory, euclidean): {exact_qps:>8.1} queries/s");
    println!();
    println!(
        "{:>3} | {:>10} | {:>9} | {:>14} | {:>13} | {:>7} | {:>9} | {:>21}",
        "m",
        "code bytes",
        "train (s)",
        "encode (vec/s)",
        "ADC queries/s",
        "speedup",
        "recall@10",
        "recall@10, re-ranked"
    );
    for m_chunks in [16, 32] {
        let row = measure_quantizer(m_chunks, &vectors, &queries, &truth)?;
        println!(
            "{m_chunks:>3} | {:>10} | {:>9.1} | {:>14.0} | {:>13.1} | {:>6.1}x | {:>9.3} | {:>6.3} ({:>6.1} q/s)",
            m_chunks,
            row.train.as_secs_f64(),
            per_second(N_VECTORS, row.encode),
            per_second(N_QUERIES, row.search),
            per_second(N_QUERIES, row.search) / exact_qps,
            row.recall,
            row.reranked_recall,
            per_second(N_QUERIES, row.reranked_search)
        );
    }
    Ok(())
}

struct Row {
    train: Duration,
    encode: Duration,
    search: Duration,
    recall: f64,
    reranked_search: Duration,
    reranked_recall: f64,
}

fn measure_quantizer(
    m_chunks: usize,
    vectors: &[Vec<f32>],
    queries: &[Vec<f32>],
    truth: &[Vec<i64>],
) -> Result<Row> {
    // Train on 16 points per centroid (4,096 vectors) for at most 10 rounds, so that the whole
    // benchmark stays within a couple of minutes on a busy machine.
    let config = KMeansConfig {
        max_iterations: 10,
        max_points_per_centroid: Some(16),
        ..KMeansConfig::new(NB_SUBSPACE_CENTROIDS)
    };
    let mut quantizer =
        VectorQuantizer::new(m_chunks, NB_SUBSPACE_CENTROIDS)?.with_kmeans_config(config);
    let (trained, train) = measure(|| quantizer.fit(vectors));
    trained?;
    let (codes, encode) = measure(|| quantizer.quantize_vectors(vectors));
    let codes = codes?;
    let (found, search) = measure(|| {
        queries
            .iter()
            .map(|q| quantizer.find_knn_with_quantization(q, &codes, K))
            .collect::<Result<Vec<_>>>()
    });
    let (reranked, reranked_search) = measure(|| {
        queries
            .iter()
            .map(|q| search_and_rerank(&quantizer, q, &codes, vectors))
            .collect::<Result<Vec<_>>>()
    });
    Ok(Row {
        train,
        encode,
        search,
        recall: recall(&found?, truth),
        reranked_search,
        reranked_recall: recall(&reranked?, truth),
    })
}

/// ADC picks `RERANK` candidates from the codes; their exact distances pick the best `K`.
fn search_and_rerank(
    quantizer: &VectorQuantizer,
    query: &[f32],
    codes: &[Vec<u8>],
    vectors: &[Vec<f32>],
) -> Result<Vec<(usize, f32)>> {
    let mut best = TopK::new(K, Metric::Euclidean);
    for (id, _) in quantizer.find_knn_with_quantization(query, codes, RERANK)? {
        best.push(id, euclidean_distance(query, &vectors[id]));
    }
    Ok(best.into_sorted_vec())
}

/// The share of the exact top-k that the quantized search also returned, averaged over queries.
///
/// The quantized search returns positions in `codes`, which are the ids the vectors were
/// stored under in the exact database (0, 1, 2, … in insertion order).
fn recall(found: &[Vec<(usize, f32)>], truth: &[Vec<i64>]) -> f64 {
    let ids = |list: &[(usize, f32)]| list.iter().map(|&(id, _)| id as i64).collect::<Vec<_>>();
    let total: f64 = found
        .iter()
        .zip(truth)
        .map(|(f, t)| recall_at_k(&ids(f), t, K))
        .sum();
    total / truth.len().max(1) as f64
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}
