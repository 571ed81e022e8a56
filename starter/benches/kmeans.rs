//! Benchmark of k-means training: linfa's rounds against ours in matrix form, on one thread.
//!
//! Two jobs the engine gives k-means: the cells of an inverted file (316 centroids on 100,000
//! clustered vectors of dimension 128, 25 rounds on at most 256 vectors per centroid, FAISS's
//! IVF recipe) and one sub-space of product quantization (256 centroids on 30,000 vectors of
//! dimension 24, with the quantizer's defaults and with FAISS's 25 rounds). For each backend it
//! reports the training time and the inertia of the result: the mean squared distance of every
//! vector of the set to its nearest centroid. Run with `cargo bench --bench kmeans`.

use std::time::Instant;

use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::kmeans::{
    assign_flat, train_centroids, Initialisation, KMeansBackend, KMeansConfig,
};
use simple_vector_db::Result;

fn main() -> Result<()> {
    // linfa assigns on rayon's thread pool, which reads this before its first use. One thread
    // keeps the comparison fair, to each other and to single-threaded FAISS figures
    // (matrixmultiply is built without its `threading` feature, so our side is one thread).
    std::env::set_var("RAYON_NUM_THREADS", "1");
    simple_vector_db::utils::flex_logging::init();

    let ivf_set = clustered(100_000, 128)?;
    let ivf = KMeansConfig {
        max_iterations: 25,
        max_points_per_centroid: Some(256),
        ..KMeansConfig::new(316)
    };
    println!("IVF cells: 316 centroids on 100000 x 128, 25 rounds, at most 256 per centroid");
    compare(&ivf_set, &ivf)?;

    let pq_set = clustered(30_000, 24)?;
    println!("PQ sub-space: 256 centroids on 30000 x 24, the quantizer's defaults (<= 100 rounds, tolerance 1e-4)");
    compare(&pq_set, &KMeansConfig::new(256))?;
    println!("PQ sub-space: 256 centroids on 30000 x 24, 25 rounds (FAISS's)");
    let faiss_rounds = KMeansConfig {
        max_iterations: 25,
        // Small enough that neither backend stops before its 25th round.
        tolerance: f32::MIN_POSITIVE,
        ..KMeansConfig::new(256)
    };
    compare(&pq_set, &faiss_rounds)?;
    Ok(())
}

/// 100 seeded clusters with noise 0.8 around centres in [-1, 1]^dimension.
fn clustered(n_vectors: usize, dimension: usize) -> Result<Vec<Vec<f32>>> {
    generate(&ClusteredSpec {
        n_vectors,
        dimension,
        n_clusters: 100,
        noise: 0.8,
        seed: 7,
    })
}

/// Trains `config` with each backend (and ours from random starts, as FAISS starts) and prints
/// the time and the inertia of each.
fn compare(vectors: &[Vec<f32>], config: &KMeansConfig) -> Result<()> {
    println!("{:>28} {:>10} {:>12}", "backend", "seconds", "inertia");
    let runs = [
        ("linfa, k-means++", KMeansBackend::Linfa, config.init),
        ("matrix, k-means++", KMeansBackend::Matrix, config.init),
        (
            "matrix, random starts",
            KMeansBackend::Matrix,
            Initialisation::RandomPoints,
        ),
    ];
    for (label, backend, init) in runs {
        let config = KMeansConfig {
            backend,
            init,
            ..*config
        };
        let start = Instant::now();
        let centroids = train_centroids(vectors, &config)?;
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{label:>28} {seconds:>10.2} {:>12.4}",
            mean_inertia(vectors, &centroids)
        );
    }
    Ok(())
}

/// The mean squared distance of `vectors` to their nearest centroid.
fn mean_inertia(vectors: &[Vec<f32>], centroids: &[Vec<f32>]) -> f64 {
    let dimension = vectors.first().map_or(0, Vec::len);
    let (data, centroids) = (vectors.concat(), centroids.concat());
    let (mut labels, mut distances) = (vec![0; vectors.len()], vec![0.0; vectors.len()]);
    assign_flat(&data, dimension, &centroids, &mut labels, &mut distances);
    distances.iter().map(|&d| f64::from(d)).sum::<f64>() / vectors.len() as f64
}
