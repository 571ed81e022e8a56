//! Seeded k-means clustering, shared by the inverted file index and product quantization.
//!
//! k-means places `n_clusters` points (the *centroids*) so that every vector is as close as
//! possible to its nearest centroid: assign each vector to its nearest centroid, move each
//! centroid to the mean of its vectors, repeat until nothing moves. Chapter 6 uses the centroids
//! to cut the space into cells; chapter 7 uses them as a codebook. Both train through
//! [`train_centroids`]: linfa's `KMeans` does the rounds, from starting centroids we pick
//! ourselves ([`initialisation`]) with a seeded random generator, so the same data always gives
//! the same centroids. The engine's indexes need k-means to be fast as well, so they train with
//! [`KMeansBackend::Matrix`] instead: our own rounds in matrix form ([`lloyd`]), where the
//! distances of a block of vectors to every centroid come out of one matrix product.

pub mod initialisation;
pub mod lloyd;

use linfa::prelude::*;
use linfa::DatasetBase;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::Array2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

pub use initialisation::Initialisation;
pub use lloyd::{assign_flat, train_flat};

use crate::distances::squared_euclidean_distance;
use crate::error::{Error, Result};
use crate::validation::{check_finite, check_magnitude};

// ANCHOR: config
/// How to train k-means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KMeansConfig {
    pub n_clusters: usize,
    /// Stop after this many assign-and-move rounds even if centroids still move.
    pub max_iterations: u64,
    /// Train this many times from different starts (seeds `seed`, `seed + 1`, …) and keep the
    /// tightest result (the smallest sum of squared distances to the nearest centroid).
    pub n_runs: usize,
    /// Stop early when a round changed little. Each backend measures the change its own way:
    /// [`KMeansBackend::Linfa`] stops when the centroids moved less than this (the euclidean
    /// norm of the change of all of them together), [`KMeansBackend::Matrix`] when the sum of
    /// squared distances fell by less than this fraction of itself.
    pub tolerance: f32,
    /// Seed of the random generator that picks the starting centroids.
    pub seed: u64,
    /// Train on a random sample of at most this many vectors per centroid (FAISS uses 256):
    /// the centroids barely change, and training gets much faster on large sets.
    pub max_points_per_centroid: Option<usize>,
    /// How the first centroids are chosen.
    pub init: Initialisation,
    /// Who runs the rounds.
    pub backend: KMeansBackend,
}

/// Who runs the assign-and-move rounds of k-means. Both start from the same centroids
/// ([`initialisation`]) and reach centroids of the same quality; they differ in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KMeansBackend {
    /// linfa's `KMeans`, one distance computation per vector and centroid, as chapter 6 teaches
    /// it. The default of [`KMeansConfig::new`].
    #[default]
    Linfa,
    /// Our own rounds in matrix form ([`lloyd`]): the distances of a block of vectors to every
    /// centroid in one matrix product. Ten to twenty times faster on one thread; the engine's
    /// indexes use it.
    Matrix,
}

impl KMeansConfig {
    /// Sensible defaults for `n_clusters` centroids.
    pub fn new(n_clusters: usize) -> Self {
        KMeansConfig {
            n_clusters,
            max_iterations: 100,
            n_runs: 1,
            tolerance: 1e-4,
            seed: 42,
            max_points_per_centroid: Some(256),
            init: Initialisation::KMeansPlusPlus,
            backend: KMeansBackend::Linfa,
        }
    }
}
// ANCHOR_END: config

// ANCHOR: train_centroids
/// Trains k-means on `vectors` and returns the centroids, one per row.
///
/// # Errors
///
/// A bad `config` ([`Error::InvalidClusterCount`], [`Error::InvalidParameter`]), a vector a
/// database would refuse ([`Error::NonFiniteValue`], [`Error::VectorTooLarge`]), rows of unequal
/// length ([`Error::InvalidParameter`]), or a failure of linfa's k-means ([`Error::KMeans`]).
pub fn train_centroids<V: AsRef<[f32]>>(
    vectors: &[V],
    config: &KMeansConfig,
) -> Result<Vec<Vec<f32>>> {
    check_config(config, vectors.len())?;
    // The same checks as at a database's door: this is also called on vectors that never went
    // through one, and k-means on a NaN or on overflowing distances has no meaningful answer.
    for vector in vectors {
        check_finite(vector.as_ref())?;
        check_magnitude(vector.as_ref())?;
    }
    let training_set = sample_for_training(vectors, config);
    match config.backend {
        KMeansBackend::Linfa => train_with_linfa(&training_set, config),
        KMeansBackend::Matrix => {
            let (flat, dimension) = to_flat(&training_set)?;
            let centroids = lloyd::train_on_sample(&flat, dimension, config)?;
            Ok(centroids
                .chunks_exact(dimension)
                .map(<[f32]>::to_vec)
                .collect())
        }
    }
}

/// linfa's rounds on `training_set`, from our own starting centroids, keeping the best run.
fn train_with_linfa(training_set: &[&[f32]], config: &KMeansConfig) -> Result<Vec<Vec<f32>>> {
    let observations = DatasetBase::from(to_array(training_set)?);
    let mut best: Option<(f32, Array2<f32>)> = None;
    for run in 0..config.n_runs {
        let mut rng = Xoshiro256Plus::seed_from_u64(config.seed.wrapping_add(run as u64));
        let start = initialisation::starting_centroids(training_set, config, &mut rng);
        let model = KMeans::params_with_rng(config.n_clusters, rng)
            .init_method(KMeansInit::Precomputed(to_array(&start)?))
            .n_runs(1)
            .max_n_iterations(config.max_iterations)
            .tolerance(config.tolerance)
            .fit(&observations)
            .map_err(|e| Error::KMeans(e.to_string()))?;
        if best
            .as_ref()
            .is_none_or(|(inertia, _)| model.inertia() < *inertia)
        {
            best = Some((model.inertia(), model.centroids().clone()));
        }
    }
    let centroids = best.map(|(_, c)| c).unwrap_or_default();
    Ok(centroids
        .rows()
        .into_iter()
        .map(|row| row.to_vec())
        .collect())
}
// ANCHOR_END: train_centroids

// ANCHOR: nearest_centroid
/// The index of the centroid nearest to `vector` (squared euclidean distance, as k-means uses).
///
/// Returns `None` only when there are no centroids.
pub fn nearest_centroid(centroids: &[Vec<f32>], vector: &[f32]) -> Option<usize> {
    centroids
        .iter()
        .map(|c| squared_euclidean_distance(c, vector))
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(index, _)| index)
}
// ANCHOR_END: nearest_centroid

fn check_config(config: &KMeansConfig, n_vectors: usize) -> Result<()> {
    if config.n_clusters == 0 || config.n_clusters > n_vectors {
        return Err(Error::InvalidClusterCount {
            n_clusters: config.n_clusters,
            n_vectors,
        });
    }
    let positive = |name: &'static str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name,
                reason: "must be at least 1".to_string(),
            })
        }
    };
    positive("max_iterations", config.max_iterations >= 1)?;
    positive("n_runs", config.n_runs >= 1)?;
    positive(
        "max_points_per_centroid",
        config.max_points_per_centroid != Some(0),
    )?;
    if !(config.tolerance.is_finite() && config.tolerance > 0.0) {
        return Err(Error::InvalidParameter {
            name: "tolerance",
            reason: format!("{} is not a positive number", config.tolerance),
        });
    }
    Ok(())
}

/// The vectors to train on: all of them, or a seeded random sample when there are many.
fn sample_for_training<'a, V: AsRef<[f32]>>(
    vectors: &'a [V],
    config: &KMeansConfig,
) -> Vec<&'a [f32]> {
    let limit = config
        .max_points_per_centroid
        .map_or(usize::MAX, |per| per.saturating_mul(config.n_clusters));
    if vectors.len() <= limit {
        return vectors.iter().map(AsRef::as_ref).collect();
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(config.seed);
    let mut picked = rand::seq::index::sample(&mut rng, vectors.len(), limit).into_vec();
    picked.sort_unstable(); // keep the original order: reproducible and cache-friendly
    picked.into_iter().map(|i| vectors[i].as_ref()).collect()
}

/// Packs rows into the `n × d` matrix linfa expects.
fn to_array<V: AsRef<[f32]>>(rows: &[V]) -> Result<Array2<f32>> {
    let (flat, dimension) = to_flat(rows)?;
    Array2::from_shape_vec((rows.len(), dimension), flat).map_err(|e| Error::InvalidParameter {
        name: "vectors",
        reason: e.to_string(),
    })
}

/// Packs rows one after another into one flat row-major buffer; returns it and the row length.
fn to_flat<V: AsRef<[f32]>>(rows: &[V]) -> Result<(Vec<f32>, usize)> {
    let dimension = rows.first().map_or(0, |r| r.as_ref().len());
    if let Some(row) = rows.iter().find(|r| r.as_ref().len() != dimension) {
        return Err(Error::InvalidParameter {
            name: "vectors",
            reason: format!(
                "rows of unequal length: {} values, then {dimension}",
                row.as_ref().len()
            ),
        });
    }
    let mut flat = Vec::with_capacity(rows.len().saturating_mul(dimension));
    for row in rows {
        flat.extend_from_slice(row.as_ref());
    }
    Ok((flat, dimension))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tight groups, around (0, 0) and (10, 10).
    fn two_blobs() -> Vec<Vec<f32>> {
        let mut v = Vec::new();
        for i in 0..20 {
            let jitter = (i % 5) as f32 * 0.1;
            v.push(vec![jitter, -jitter]);
            v.push(vec![10.0 + jitter, 10.0 - jitter]);
        }
        v
    }

    #[test]
    fn finds_the_centres_of_two_blobs() {
        let mut centroids = train_centroids(&two_blobs(), &KMeansConfig::new(2)).expect("trains");
        centroids.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert!((centroids[0][0] - 0.2).abs() < 1e-4 && (centroids[0][1] + 0.2).abs() < 1e-4);
        assert!((centroids[1][0] - 10.2).abs() < 1e-4 && (centroids[1][1] - 9.8).abs() < 1e-4);
    }

    #[test]
    fn the_same_seed_gives_the_same_centroids() {
        let data: Vec<Vec<f32>> = (0..200)
            .map(|i| vec![(i * 37 % 101) as f32, (i * 53 % 97) as f32])
            .collect();
        let config = KMeansConfig::new(7);
        assert_eq!(
            train_centroids(&data, &config).ok(),
            train_centroids(&data, &config).ok()
        );
    }

    #[test]
    fn sampling_trains_on_at_most_points_per_centroid_times_k() {
        let data: Vec<Vec<f32>> = (0..1000).map(|i| vec![i as f32]).collect();
        let config = KMeansConfig {
            max_points_per_centroid: Some(10),
            ..KMeansConfig::new(4)
        };
        assert_eq!(sample_for_training(&data, &config).len(), 40);
        assert_eq!(
            train_centroids(&data, &config).map(|c| c.len()).ok(),
            Some(4)
        );
    }

    #[test]
    fn nearest_centroid_picks_the_closest() {
        let centroids = vec![vec![0.0, 0.0], vec![10.0, 10.0]];
        assert_eq!(nearest_centroid(&centroids, &[9.0, 8.0]), Some(1));
        assert_eq!(nearest_centroid(&centroids, &[1.0, -1.0]), Some(0));
        assert_eq!(nearest_centroid(&[], &[1.0]), None);
    }

    #[test]
    fn vectors_up_to_the_door_limit_train_and_larger_ones_are_refused() {
        // Values up to ~1.15e18 in 64 dimensions: squared norms just under the limit, squared
        // distances up to ~3.4e38, right under f32::MAX. They train to finite centroids.
        let edge = (crate::validation::MAX_SQUARED_NORM / 64.0).sqrt() as f32 * 0.999_99;
        let largest: Vec<Vec<f32>> = (0..200)
            .map(|i| {
                (0..64)
                    .map(|j| {
                        let sign = if (i * 7 + j * 3) % 2 == 0 { 1.0 } else { -1.0 };
                        sign * edge * (1.0 - ((i * 13 + j * 5) % 10) as f32 / 20.0)
                    })
                    .collect()
            })
            .collect();
        let centroids = train_centroids(&largest, &KMeansConfig::new(8)).expect("accepted");
        assert_eq!(centroids.len(), 8);
        assert!(centroids.iter().flatten().all(|x| x.is_finite()));

        // Values of 1e18 in 512 dimensions: finite, but squared distances between them reach
        // 2e39, past f32::MAX. They are refused, as a database refuses them, not a panic.
        let too_large: Vec<Vec<f32>> = (0..40)
            .map(|i| vec![if i % 2 == 0 { 1e18 } else { -1e18 }; 512])
            .collect();
        assert!(matches!(
            train_centroids(&too_large, &KMeansConfig::new(4)),
            Err(Error::VectorTooLarge { .. })
        ));
        let mut with_nan = two_blobs();
        with_nan[3][1] = f32::NAN;
        assert!(matches!(
            train_centroids(&with_nan, &KMeansConfig::new(2)),
            Err(Error::NonFiniteValue { position: 1, .. })
        ));
    }

    #[test]
    fn rows_of_unequal_length_are_refused_by_both_backends() {
        // 2 + 1 + 3 values: as many as three rows of 2, which must not pass for them.
        let ragged = vec![vec![0.0, 1.0], vec![2.0], vec![3.0, 4.0, 5.0]];
        for backend in [KMeansBackend::Linfa, KMeansBackend::Matrix] {
            let config = KMeansConfig {
                backend,
                ..KMeansConfig::new(2)
            };
            assert!(
                matches!(
                    train_centroids(&ragged, &config),
                    Err(Error::InvalidParameter {
                        name: "vectors",
                        ..
                    })
                ),
                "{backend:?}"
            );
        }
    }

    #[test]
    fn bad_cluster_counts_are_typed_errors() {
        let data = two_blobs();
        assert!(matches!(
            train_centroids(&data, &KMeansConfig::new(0)),
            Err(Error::InvalidClusterCount { n_clusters: 0, .. })
        ));
        assert!(matches!(
            train_centroids(&data, &KMeansConfig::new(41)),
            Err(Error::InvalidClusterCount {
                n_clusters: 41,
                n_vectors: 40
            })
        ));
        let no_runs = KMeansConfig {
            n_runs: 0,
            ..KMeansConfig::new(2)
        };
        assert!(matches!(
            train_centroids(&data, &no_runs),
            Err(Error::InvalidParameter { name: "n_runs", .. })
        ));
    }
}
