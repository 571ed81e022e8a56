//! Lloyd's k-means in matrix form: the assignment step as one matrix product per block of vectors.
//!
//! Lloyd's rounds alternate two steps: assign every vector to its nearest centroid, then move
//! every centroid to the mean of its vectors. Assigning is nearly all the work, n × k squared
//! distances of d values each. Taken one pair at a time (as linfa does), every value loaded
//! serves one subtraction and one multiplication before the next must be loaded, and the
//! processor spends its time loading. Expanding the square changes that:
//!
//! ```text
//! ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖²
//! ```
//!
//! The dot products of a block of vectors X with all the centroids C are the entries of one
//! matrix product X·Cᵀ. A matrix product reuses every value it loads many times: ndarray's
//! `general_mat_mul` hands it to the `matrixmultiply` crate, which cuts it into tiles that fit
//! the caches and picks an AVX/FMA kernel when the processor has one, so it runs near the
//! processor's peak. FAISS assigns the same way, through BLAS.
//!
//! Two more savings. ‖x‖² is the same for every centroid, so it cannot change which one is
//! nearest: ranking the centroids needs only the score ‖c‖² − 2·x·c, which the product itself
//! computes when it adds −2·X·Cᵀ to a matrix holding ‖c‖² in every row, and ‖x‖² is added to
//! the winner alone, for its distance. And the vectors go through in blocks of [`BLOCK_ROWS`],
//! so the block × k matrix of scores stays about a megabyte whatever n is, still in the cache
//! when it is read back. The expanded form rounds differently from the direct sum, with an
//! error relative to ‖x‖² rather than to the distance: for a vector almost on its centroid it
//! can come out a hair below zero, so distances are clamped at 0.
//!
//! The rest follows FAISS's `Clustering`, in our own code:
//!
//! - a centroid left without vectors is re-seeded by splitting the largest cluster in two
//!   (`split_empty_clusters`);
//! - FAISS runs a fixed number of rounds. Here `max_iterations` is that number, and a run stops
//!   earlier once a round lowers the inertia (the sum of squared distances of the vectors to
//!   their centroids) by less than `tolerance` times itself;
//! - the start is `config.init`, drawn by [`initialisation::starting_centroids`] from the same
//!   seeded generator as the linfa backend, so both start from the same centroids.
//!   [`KMeansConfig::new`] picks k-means++; FAISS starts from random vectors, which is
//!   [`Initialisation::RandomPoints`](super::Initialisation::RandomPoints) here.

use std::borrow::Cow;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use super::{check_config, initialisation, sample_for_training, KMeansConfig};
use crate::distances::dot;
use crate::error::{Error, Result};
use crate::validation::{check_finite, check_magnitude};

/// Vectors per matrix product: the block × k products (1.3 MB for 316 centroids) are read back
/// while still in the processor's cache, and the product is large enough to run at full speed.
pub const BLOCK_ROWS: usize = 1024;

/// How far a split moves the two halves apart, relative to each value (FAISS's `EPS`).
const SPLIT_NUDGE: f32 = 1.0 / 1024.0;

/// Trains k-means on the n × dimension rows of `data` (flat, row-major); returns k × dimension
/// centroids, flat.
///
/// Honours every field of `config` but `backend`: this is the [`Matrix`] backend.
///
/// [`Matrix`]: super::KMeansBackend::Matrix
///
/// # Errors
///
/// [`Error::EmptyVector`] for a `dimension` of 0, [`Error::InvalidParameter`] when `data` is not
/// a whole number of rows, and the errors of [`train_centroids`](super::train_centroids): a bad
/// `config` ([`Error::InvalidClusterCount`], [`Error::InvalidParameter`]) or a row a database
/// would refuse ([`Error::NonFiniteValue`], [`Error::VectorTooLarge`]).
pub fn train_flat(data: &[f32], dimension: usize, config: &KMeansConfig) -> Result<Vec<f32>> {
    let n_rows = count_rows(data, dimension)?;
    check_config(config, n_rows)?;
    for row in data.chunks_exact(dimension) {
        check_finite(row)?;
        check_magnitude(row)?;
    }
    let sample = training_sample(data, dimension, config);
    train_on_sample(&sample, dimension, config)
}

/// For every row, the index of its nearest centroid (squared L2) and that squared distance, via
/// the matrix form, in blocks.
///
/// `data` holds rows of `dimension` values, `centroids` k rows of the same length. As `zip`
/// does, the shortest of the rows of `data`, `labels` and `distances` decides how many rows are
/// assigned; nothing is written when `dimension` is 0 or there is no centroid.
pub fn assign_flat(
    data: &[f32],
    dimension: usize,
    centroids: &[f32],
    labels: &mut [usize],
    distances: &mut [f32],
) {
    if dimension == 0 {
        return;
    }
    let n_rows = (data.len() / dimension)
        .min(labels.len())
        .min(distances.len());
    let data = &data[..n_rows * dimension];
    let norms = squared_norms(data, dimension);
    assign_with_norms(
        data,
        &norms,
        dimension,
        centroids,
        &mut labels[..n_rows],
        &mut distances[..n_rows],
    );
}

/// Trains on rows already checked and sampled: `config.n_runs` runs, the one of lowest inertia.
///
/// # Errors
///
/// [`Error::EmptyVector`] for a `dimension` of 0, [`Error::InvalidParameter`] when `sample` is
/// not a whole number of rows.
pub(super) fn train_on_sample(
    sample: &[f32],
    dimension: usize,
    config: &KMeansConfig,
) -> Result<Vec<f32>> {
    count_rows(sample, dimension)?;
    let norms = squared_norms(sample, dimension);
    let rows: Vec<&[f32]> = sample.chunks_exact(dimension).collect();
    let mut best: Option<Fit> = None;
    for run in 0..config.n_runs {
        let mut rng = Xoshiro256Plus::seed_from_u64(config.seed.wrapping_add(run as u64));
        let start = initialisation::starting_centroids(&rows, config, &mut rng).concat();
        let fit = lloyd(sample, &norms, dimension, start, config);
        if best.as_ref().is_none_or(|b| fit.inertia < b.inertia) {
            best = Some(fit);
        }
    }
    Ok(best.map(|fit| fit.centroids).unwrap_or_default())
}

/// Trained centroids (flat) and their inertia on the training rows.
#[derive(Debug)]
struct Fit {
    centroids: Vec<f32>,
    inertia: f64,
}

/// One run of Lloyd's rounds from `centroids`; `norms` are the rows' squared norms.
///
/// The rows are assigned once more after the last move, so the inertia returned is that of the
/// centroids returned (the best of several runs is picked by it).
fn lloyd(
    data: &[f32],
    norms: &[f32],
    dimension: usize,
    mut centroids: Vec<f32>,
    config: &KMeansConfig,
) -> Fit {
    let mut labels = vec![0; norms.len()];
    let mut distances = vec![0.0; norms.len()];
    assign_with_norms(
        data,
        norms,
        dimension,
        &centroids,
        &mut labels,
        &mut distances,
    );
    let mut inertia = sum_of(&distances);
    for _ in 0..config.max_iterations {
        let mut sizes = update_centroids(data, dimension, &labels, &mut centroids);
        let split = split_empty_clusters(&mut centroids, &mut sizes, dimension) > 0;
        assign_with_norms(
            data,
            norms,
            dimension,
            &centroids,
            &mut labels,
            &mut distances,
        );
        let previous = std::mem::replace(&mut inertia, sum_of(&distances));
        // A split nudges two centroids off their means, so that round is not a plain Lloyd
        // step and its change says nothing about convergence.
        if !split && barely_improved(previous, inertia, config.tolerance) {
            break;
        }
    }
    Fit { centroids, inertia }
}

// ANCHOR: assign_blocks
/// Labels and squared distances of the rows of `data` to their nearest centroid.
///
/// Per block of rows, one matrix product turns a matrix holding ‖c‖² in every row into
/// ‖c‖² − 2·x·c, for every row x of the block and every centroid c: the scores that rank the
/// centroids for x. Adding ‖x‖² to the lowest score gives x's distance.
fn assign_with_norms(
    data: &[f32],
    norms: &[f32],
    dimension: usize,
    centroids: &[f32],
    labels: &mut [usize],
    distances: &mut [f32],
) {
    let n_centroids = centroids.len() / dimension;
    let centroid_norms = squared_norms(centroids, dimension);
    // Cannot fail: the slice is cut to whole rows.
    let Ok(centroids) = ArrayView2::from_shape(
        (n_centroids, dimension),
        &centroids[..n_centroids * dimension],
    ) else {
        return;
    };
    if n_centroids == 0 {
        return;
    }
    let mut scores = vec![0.0f32; BLOCK_ROWS.min(norms.len()) * n_centroids];
    for (((block, block_norms), block_labels), block_distances) in data
        .chunks(BLOCK_ROWS * dimension)
        .zip(norms.chunks(BLOCK_ROWS))
        .zip(labels.chunks_mut(BLOCK_ROWS))
        .zip(distances.chunks_mut(BLOCK_ROWS))
    {
        let rows = block_norms.len();
        let scores = &mut scores[..rows * n_centroids];
        for row in scores.chunks_exact_mut(n_centroids) {
            row.copy_from_slice(&centroid_norms);
        }
        // Cannot fail either: both slices hold exactly rows × columns values.
        let (Ok(block), Ok(mut score_matrix)) = (
            ArrayView2::from_shape((rows, dimension), block),
            ArrayViewMut2::from_shape((rows, n_centroids), &mut *scores),
        ) else {
            return;
        };
        // scores = −2 · X · Cᵀ + scores: the whole block against every centroid at once.
        general_mat_mul(-2.0, &block, &centroids.t(), 1.0, &mut score_matrix);
        for (((row_scores, &norm), label), distance) in scores
            .chunks_exact(n_centroids)
            .zip(block_norms)
            .zip(block_labels.iter_mut())
            .zip(block_distances.iter_mut())
        {
            let (best, score) = lowest_score(row_scores);
            *label = best;
            // Rounding can leave a near-zero distance slightly negative.
            *distance = (norm + score).max(0.0);
        }
    }
}

/// The position of the lowest score, and that score; the first such position on a tie.
///
/// Two passes, each of which compiles to SIMD instructions: the lowest score, kept in eight
/// running minima (score `i` goes to minimum `i mod 8`), then the first group of eight that
/// holds it. One pass tracking the position of one running minimum would be a long chain of
/// dependent compares and branches, nearly as slow as the matrix product itself.
fn lowest_score(scores: &[f32]) -> (usize, f32) {
    const LANES: usize = 8;
    let lower = |a: f32, b: f32| if a < b { a } else { b };
    let (groups, rest) = scores.as_chunks::<LANES>();
    let mut lowest = [f32::INFINITY; LANES];
    for group in groups {
        for lane in 0..LANES {
            lowest[lane] = lower(group[lane], lowest[lane]);
        }
    }
    let lowest = lowest
        .iter()
        .chain(rest)
        .fold(f32::INFINITY, |a, &b| lower(b, a));
    let holds_lowest =
        |group: &[f32; LANES]| group.iter().fold(false, |hit, &s| hit | (s == lowest));
    let group = groups.iter().position(holds_lowest).unwrap_or(groups.len());
    let first = scores[group * LANES..]
        .iter()
        .position(|&s| s == lowest)
        .map_or(0, |offset| group * LANES + offset);
    (first, lowest)
}
// ANCHOR_END: assign_blocks

// ANCHOR: update_step
/// Moves every centroid to the mean of the rows labelled with it; returns the clusters' sizes.
///
/// A centroid with no row keeps its place, for [`split_empty_clusters`] to re-seed.
fn update_centroids(
    data: &[f32],
    dimension: usize,
    labels: &[usize],
    centroids: &mut [f32],
) -> Vec<usize> {
    let n_centroids = centroids.len() / dimension;
    // Sums in f64: tens of thousands of f32 additions into one total would lose digits.
    let mut sums = vec![0.0f64; n_centroids * dimension];
    let mut sizes = vec![0usize; n_centroids];
    for (row, &label) in data.chunks_exact(dimension).zip(labels) {
        sizes[label] += 1;
        let sum = &mut sums[label * dimension..(label + 1) * dimension];
        for (total, &value) in sum.iter_mut().zip(row) {
            *total += f64::from(value);
        }
    }
    for ((centroid, sum), &size) in centroids
        .chunks_exact_mut(dimension)
        .zip(sums.chunks_exact(dimension))
        .zip(&sizes)
    {
        if size > 0 {
            for (value, total) in centroid.iter_mut().zip(sum) {
                *value = (total / size as f64) as f32;
            }
        }
    }
    sizes
}
// ANCHOR_END: update_step

// ANCHOR: split_empty_clusters
/// Re-seeds every centroid that got no row by splitting the largest cluster; returns how many.
///
/// The empty centroid becomes a copy of the largest one, then the two are nudged apart in
/// opposite directions (each value × (1 ± 1/1024), the sign alternating along the vector), so
/// the next assignment shares the cluster between them. FAISS's `split_clusters` does the same,
/// but draws the cluster to split with a probability that grows with its size; the largest is
/// the one a second centroid helps most, and needs no random draw. The sizes are updated as if
/// the split halved the cluster, so that several empty centroids split several clusters.
fn split_empty_clusters(centroids: &mut [f32], sizes: &mut [usize], dimension: usize) -> usize {
    let mut splits = 0;
    for empty in 0..sizes.len() {
        if sizes[empty] > 0 {
            continue;
        }
        // There are at least as many rows as centroids (`check_config`), so while one centroid
        // has none, another has two or more: the split leaves both halves non-empty.
        let Some(largest) = (0..sizes.len()).max_by_key(|&c| (sizes[c], std::cmp::Reverse(c)))
        else {
            return splits;
        };
        centroids.copy_within(
            largest * dimension..(largest + 1) * dimension,
            empty * dimension,
        );
        for j in 0..dimension {
            let nudge = if j % 2 == 0 {
                SPLIT_NUDGE
            } else {
                -SPLIT_NUDGE
            };
            centroids[empty * dimension + j] *= 1.0 + nudge;
            centroids[largest * dimension + j] *= 1.0 - nudge;
        }
        sizes[empty] = sizes[largest] / 2;
        sizes[largest] -= sizes[empty];
        splits += 1;
    }
    splits
}
// ANCHOR_END: split_empty_clusters

/// Whether the inertia fell from `previous` to `current` by less than `tolerance` × `previous`.
///
/// A rise counts as no improvement: in exact arithmetic a Lloyd round never raises it, so a rise
/// is rounding noise around a converged state.
fn barely_improved(previous: f64, current: f64, tolerance: f32) -> bool {
    previous - current <= f64::from(tolerance) * previous
}

/// The number of rows of `dimension` values in `data`.
fn count_rows(data: &[f32], dimension: usize) -> Result<usize> {
    if dimension == 0 {
        return Err(Error::EmptyVector);
    }
    if !data.len().is_multiple_of(dimension) {
        return Err(Error::InvalidParameter {
            name: "data",
            reason: format!(
                "{} values are not a whole number of rows of {dimension}",
                data.len()
            ),
        });
    }
    Ok(data.len() / dimension)
}

/// The rows to train on, flat: all of `data`, or the seeded sample `sample_for_training` picks.
fn training_sample<'a>(data: &'a [f32], dimension: usize, config: &KMeansConfig) -> Cow<'a, [f32]> {
    let rows: Vec<&[f32]> = data.chunks_exact(dimension).collect();
    let sample = sample_for_training(&rows, config);
    if sample.len() == rows.len() {
        Cow::Borrowed(data)
    } else {
        Cow::Owned(sample.concat())
    }
}

/// ‖x‖² of every row.
fn squared_norms(data: &[f32], dimension: usize) -> Vec<f32> {
    data.chunks_exact(dimension)
        .map(|row| dot(row, row))
        .collect()
}

/// The sum of `values`, in f64: it is compared across rounds to a relative 1e-4 or finer.
fn sum_of(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum()
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::datasets::clustered::{generate, ClusteredSpec};
    use crate::distances::squared_euclidean_distance;
    use crate::kmeans::{nearest_centroid, train_centroids, KMeansBackend};

    fn random_rows(n_rows: usize, dimension: usize, seed: u64) -> Vec<f32> {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        (0..n_rows * dimension)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect()
    }

    fn clustered(n_vectors: usize, dimension: usize, n_clusters: usize, seed: u64) -> Vec<f32> {
        generate(&ClusteredSpec {
            n_vectors,
            dimension,
            n_clusters,
            noise: 0.3,
            seed,
        })
        .expect("valid spec")
        .concat()
    }

    /// The mean squared distance of the rows of `data` to their nearest centroid.
    fn mean_inertia(data: &[f32], dimension: usize, centroids: &[f32]) -> f64 {
        let n_rows = data.len() / dimension;
        let (mut labels, mut distances) = (vec![0; n_rows], vec![0.0; n_rows]);
        assign_flat(data, dimension, centroids, &mut labels, &mut distances);
        sum_of(&distances) / n_rows as f64
    }

    fn cluster_sizes(data: &[f32], dimension: usize, centroids: &[f32]) -> Vec<usize> {
        let n_rows = data.len() / dimension;
        let (mut labels, mut distances) = (vec![0; n_rows], vec![0.0; n_rows]);
        assign_flat(data, dimension, centroids, &mut labels, &mut distances);
        let mut sizes = vec![0; centroids.len() / dimension];
        for label in labels {
            sizes[label] += 1;
        }
        sizes
    }

    fn as_rows(flat: &[f32], dimension: usize) -> Vec<Vec<f32>> {
        flat.chunks_exact(dimension).map(<[f32]>::to_vec).collect()
    }

    #[test]
    fn assign_flat_agrees_with_the_brute_force_nearest_centroid() {
        // Over two block boundaries, so that every block and the short last one are checked.
        let (dimension, n_rows) = (24, 2 * BLOCK_ROWS + 17);
        let data = random_rows(n_rows, dimension, 1);
        let centroids = random_rows(37, dimension, 2);
        let (mut labels, mut distances) = (vec![usize::MAX; n_rows], vec![f32::NAN; n_rows]);
        assign_flat(&data, dimension, &centroids, &mut labels, &mut distances);

        let centroid_rows = as_rows(&centroids, dimension);
        let mut disagreements = 0;
        for ((row, &label), &distance) in data.chunks_exact(dimension).zip(&labels).zip(&distances)
        {
            let expected = nearest_centroid(&centroid_rows, row).expect("centroids");
            let exact = |c: usize| squared_euclidean_distance(row, &centroid_rows[c]);
            // Labels may differ only on a near tie, where either centroid is as near.
            if label != expected {
                disagreements += 1;
                assert!(
                    (exact(label) - exact(expected)).abs() <= 1e-4 * exact(expected),
                    "{label} vs {expected}"
                );
            }
            assert!(
                (distance - exact(label)).abs() <= 1e-4 * exact(label).max(1.0),
                "{distance} vs {}",
                exact(label)
            );
        }
        assert!(disagreements <= 2, "{disagreements} labels differ");
    }

    #[test]
    fn assign_flat_stops_at_the_shortest_input_and_needs_a_dimension() {
        let data = [0.0, 0.0, 10.0, 10.0, 9.0, 9.0];
        let centroids = [10.0, 10.0, 0.0, 0.0];
        let (mut labels, mut distances) = (vec![7; 2], vec![-1.0; 3]);
        assign_flat(&data, 2, &centroids, &mut labels, &mut distances);
        assert_eq!(labels, [1, 0]);
        assert_eq!(distances, [0.0, 0.0, -1.0]);
        assign_flat(&data, 0, &centroids, &mut labels, &mut distances);
        assign_flat(&data, 2, &[], &mut labels, &mut distances);
        assert_eq!((labels, distances), (vec![1, 0], vec![0.0, 0.0, -1.0]));
    }

    #[test]
    fn a_row_on_its_centroid_is_at_distance_zero_never_below() {
        // Large values make ‖x‖² − 2·x·c + ‖c‖² a difference of large, rounded terms: the
        // result is off by a few units in the last place of ‖x‖², either way.
        let data: Vec<f32> = random_rows(500, 64, 3).iter().map(|x| x * 1e4).collect();
        let (mut labels, mut distances) = (vec![0; 500], vec![0.0; 500]);
        assign_flat(&data, 64, &data, &mut labels, &mut distances);
        let norms = squared_norms(&data, 64);
        for (&distance, &norm) in distances.iter().zip(&norms) {
            assert!(
                (0.0..=1e-5 * norm).contains(&distance),
                "{distance} for ‖x‖² {norm}"
            );
        }
        assert!(distances.contains(&0.0));
    }

    #[test]
    fn vectors_up_to_the_door_limit_train_to_finite_centroids() {
        // Squared norms just under the limit: ‖c‖² − 2·x·c reaches 3/4 of f32::MAX, and the
        // distances up to f32::MAX, without overflowing.
        let edge = (crate::validation::MAX_SQUARED_NORM / 64.0).sqrt() as f32 * 0.999_99;
        let data: Vec<f32> = (0..200)
            .flat_map(|i| {
                (0..64).map(move |j| {
                    let sign = if (i * 7 + j * 3) % 2 == 0 { 1.0 } else { -1.0 };
                    sign * edge * (1.0 - ((i * 13 + j * 5) % 10) as f32 / 20.0)
                })
            })
            .collect();
        let centroids = train_flat(&data, 64, &KMeansConfig::new(8)).expect("accepted");
        assert_eq!(centroids.len(), 8 * 64);
        assert!(centroids.iter().all(|x| x.is_finite()));
        let (mut labels, mut distances) = (vec![0; 200], vec![0.0; 200]);
        assign_flat(&data, 64, &centroids, &mut labels, &mut distances);
        assert!(distances.iter().all(|d| d.is_finite()), "{distances:?}");
    }

    #[test]
    fn two_separated_blobs_give_their_two_centres() {
        // Tight groups around (0, 0, 0) and (10, 10, 10).
        let mut rng = Xoshiro256Plus::seed_from_u64(4);
        let data: Vec<f32> = (0..400)
            .flat_map(|i| {
                let centre = if i % 2 == 0 { 0.0 } else { 10.0 };
                [(); 3].map(|()| centre + rng.gen_range(-0.5..0.5))
            })
            .collect();
        let mut centroids = as_rows(
            &train_flat(&data, 3, &KMeansConfig::new(2)).expect("trains"),
            3,
        );
        centroids.sort_by(|a, b| a[0].total_cmp(&b[0]));
        for (centroid, centre) in centroids.iter().zip([0.0, 10.0]) {
            assert!(
                centroid.iter().all(|x| (x - centre).abs() < 0.1),
                "{centroids:?}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_identical_centroids() {
        let data = clustered(2000, 8, 10, 5);
        let config = KMeansConfig::new(16);
        let first = train_flat(&data, 8, &config).expect("trains");
        assert_eq!(first, train_flat(&data, 8, &config).expect("trains"));
        let other_seed = KMeansConfig { seed: 43, ..config };
        assert_ne!(first, train_flat(&data, 8, &other_seed).expect("trains"));
    }

    #[test]
    fn the_training_sample_honours_max_points_per_centroid() {
        let data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let config = KMeansConfig {
            max_points_per_centroid: Some(10),
            ..KMeansConfig::new(4)
        };
        let sample = training_sample(&data, 1, &config);
        assert_eq!(sample.len(), 40);
        // Distinct rows of the data, the same ones the linfa path trains on.
        let rows = as_rows(&data, 1);
        let picked: Vec<f32> = sample_for_training(&rows, &config).concat();
        assert_eq!(*sample, *picked);
        assert!(sample.windows(2).all(|w| w[0] < w[1]));
        assert!(matches!(
            training_sample(&data, 1, &KMeansConfig::new(4)),
            Cow::Borrowed(_)
        ));
        assert_eq!(train_flat(&data, 1, &config).map(|c| c.len()).ok(), Some(4));
    }

    #[test]
    fn an_empty_cluster_is_reseeded_by_splitting_the_largest() {
        let dimension = 4;
        let data = clustered(600, dimension, 2, 6);
        // Two starts inside the data, and a third so far away that no row ever picks it.
        let rows = as_rows(&data, dimension);
        let start = [rows[0].clone(), rows[1].clone(), vec![1e6; dimension]].concat();
        assert_eq!(cluster_sizes(&data, dimension, &start)[2], 0);

        let norms = squared_norms(&data, dimension);
        let fit = lloyd(&data, &norms, dimension, start, &KMeansConfig::new(3));
        assert!(
            fit.centroids.iter().all(|x| x.abs() < 10.0),
            "{:?}",
            fit.centroids
        );
        let sizes = cluster_sizes(&data, dimension, &fit.centroids);
        assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
        assert!(
            (fit.inertia - mean_inertia(&data, dimension, &fit.centroids) * 600.0).abs()
                < 1e-2 * fit.inertia
        );
    }

    #[test]
    fn a_split_copies_the_largest_cluster_and_nudges_both_halves_apart() {
        let mut centroids = vec![1.0, 1.0, 8.0, -4.0, 0.0, 0.0, 0.0, 0.0];
        let mut sizes = vec![3, 10, 0, 0];
        assert_eq!(split_empty_clusters(&mut centroids, &mut sizes, 2), 2);
        // The first empty one takes half of the 10, the second half of the 5 left.
        assert_eq!(sizes, [3, 3, 5, 2]);
        let (up, down) = (1.0 + SPLIT_NUDGE, 1.0 - SPLIT_NUDGE);
        assert_eq!(centroids[4..6], [8.0 * up, -4.0 * down]);
        assert_eq!(centroids[6..8], [8.0 * down * up, -4.0 * up * down]);
        assert_eq!(centroids[2..4], [8.0 * down * down, -4.0 * up * up]);
        assert_eq!(centroids[0..2], [1.0, 1.0]);
    }

    #[test]
    fn a_round_that_barely_lowers_the_inertia_ends_the_run() {
        assert!(!barely_improved(100.0, 99.0, 1e-3));
        assert!(barely_improved(100.0, 99.95, 1e-3));
        assert!(
            barely_improved(100.0, 100.5, 1e-3),
            "a rise is no improvement"
        );
        assert!(
            barely_improved(0.0, 0.0, 1e-3),
            "a perfect fit cannot improve"
        );
    }

    #[test]
    fn the_matrix_inertia_is_within_two_percent_of_linfas_from_the_same_start() {
        let dimension = 16;
        let data = clustered(4000, dimension, 12, 7);
        let rows = as_rows(&data, dimension);
        for init in [
            crate::kmeans::Initialisation::KMeansPlusPlus,
            crate::kmeans::Initialisation::RandomPoints,
        ] {
            let config = KMeansConfig {
                max_iterations: 25,
                init,
                ..KMeansConfig::new(24)
            };
            let linfa = train_centroids(&rows, &config).expect("trains").concat();
            let matrix = train_flat(&data, dimension, &config).expect("trains");
            let (linfa, matrix) = (
                mean_inertia(&data, dimension, &linfa),
                mean_inertia(&data, dimension, &matrix),
            );
            assert!(
                matrix <= 1.02 * linfa,
                "{init:?}: matrix {matrix}, linfa {linfa}"
            );
        }
    }

    #[test]
    fn train_centroids_with_the_matrix_backend_is_train_flat() {
        let data = clustered(1500, 6, 5, 8);
        let config = KMeansConfig {
            backend: KMeansBackend::Matrix,
            n_runs: 3,
            max_points_per_centroid: Some(100),
            ..KMeansConfig::new(8)
        };
        let through_rows = train_centroids(&as_rows(&data, 6), &config).expect("trains");
        let flat = train_flat(&data, 6, &config).expect("trains");
        assert_eq!(through_rows, as_rows(&flat, 6));
    }

    #[test]
    fn bad_configs_and_vectors_give_the_same_errors_as_linfas_path() {
        let good = clustered(40, 3, 2, 9);
        let mut with_nan = good.clone();
        with_nan[3 * 5 + 1] = f32::NAN;
        let mut too_large = good.clone();
        too_large[3 * 7..3 * 8].copy_from_slice(&[1.5e19; 3]);
        let cases = [
            (good.clone(), KMeansConfig::new(0)),
            (good.clone(), KMeansConfig::new(41)),
            (
                good.clone(),
                KMeansConfig {
                    n_runs: 0,
                    ..KMeansConfig::new(2)
                },
            ),
            (
                good.clone(),
                KMeansConfig {
                    max_iterations: 0,
                    ..KMeansConfig::new(2)
                },
            ),
            (
                good.clone(),
                KMeansConfig {
                    max_points_per_centroid: Some(0),
                    ..KMeansConfig::new(2)
                },
            ),
            (
                good.clone(),
                KMeansConfig {
                    tolerance: 0.0,
                    ..KMeansConfig::new(2)
                },
            ),
            (
                good.clone(),
                KMeansConfig {
                    tolerance: f32::NAN,
                    ..KMeansConfig::new(2)
                },
            ),
            (with_nan, KMeansConfig::new(2)),
            (too_large, KMeansConfig::new(2)),
        ];
        for (data, config) in cases {
            let linfa = train_centroids(&as_rows(&data, 3), &config).map(|c| c.concat());
            let matrix_config = KMeansConfig {
                backend: KMeansBackend::Matrix,
                ..config
            };
            let matrix = train_centroids(&as_rows(&data, 3), &matrix_config).map(|c| c.concat());
            let flat = train_flat(&data, 3, &config);
            let describe = |r: &Result<Vec<f32>>| format!("{:?}", r.as_ref().err());
            assert!(linfa.is_err(), "{config:?}");
            assert_eq!(describe(&matrix), describe(&linfa), "{config:?}");
            assert_eq!(describe(&flat), describe(&linfa), "{config:?}");
        }
        assert!(matches!(
            train_flat(&[], 0, &KMeansConfig::new(1)),
            Err(Error::EmptyVector)
        ));
        assert!(matches!(
            train_flat(&good[..10], 3, &KMeansConfig::new(1)),
            Err(Error::InvalidParameter { name: "data", .. })
        ));
    }
}
