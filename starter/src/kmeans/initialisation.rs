//! Where k-means starts: the first guess of the centroids.
//!
//! k-means only ever improves its current centroids, so a bad start (two centroids inside one
//! group, none in another) can stay bad. **k-means++** spreads the start out: the first centroid
//! is a random vector, and each next one is drawn with a probability proportional to its squared
//! distance to the nearest centroid picked so far, so far-away groups are likely to get one.
//! Keeping each vector's distance to its nearest pick up to date costs one distance per vector
//! per pick: O(n·k·d) in all. (linfa's own k-means++ recomputes every distance to every pick at
//! each step, O(n·k²·d), which takes minutes for the 316 cells of a 100,000-vector index.)

use rand::seq::index::sample;
use rand::Rng;

use super::KMeansConfig;
use crate::distances::squared_euclidean_distance;

// ANCHOR: initialisation
/// How k-means picks its starting centroids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initialisation {
    /// k-means++: starts drawn far from one another. The default.
    #[default]
    KMeansPlusPlus,
    /// `k` distinct random vectors: cheaper, but two starts can land in the same group.
    RandomPoints,
}
// ANCHOR_END: initialisation

/// `config.n_clusters` starting centroids drawn from `vectors` (which has at least that many).
pub fn starting_centroids(
    vectors: &[&[f32]],
    config: &KMeansConfig,
    rng: &mut impl Rng,
) -> Vec<Vec<f32>> {
    match config.init {
        Initialisation::KMeansPlusPlus => k_means_plus_plus(vectors, config.n_clusters, rng),
        Initialisation::RandomPoints => sample(rng, vectors.len(), config.n_clusters)
            .into_iter()
            .map(|i| vectors[i].to_vec())
            .collect(),
    }
}

// ANCHOR: k_means_plus_plus
/// k-means++ seeding in O(n·k·d).
fn k_means_plus_plus(vectors: &[&[f32]], k: usize, rng: &mut impl Rng) -> Vec<Vec<f32>> {
    // Task ch06_task1_k_means_plus_plus: write this body (chapter 6, "Training the centroids: k-means"),
    // then check it with `cargo xtask check 6`.
    todo!("ch06_task1_k_means_plus_plus: see chapter 6, section \"Training the centroids: k-means\"")
}

/// The squared distance between `a` and `b`, as a weight of the draw.
///
/// The fast `f32` sum serves ordinary values. It overflows to infinity once two vectors differ by
/// more than about 1.8e19 (the square root of `f32::MAX`), and no draw is possible from an
/// infinite total, so then the distance is taken again in `f64`, where the square of any `f32`
/// difference is finite.
fn weight(a: &[f32], b: &[f32]) -> f64 {
    let fast = squared_euclidean_distance(a, b);
    if fast.is_finite() {
        return f64::from(fast);
    }
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum()
}

/// An index drawn with probability proportional to its weight (uniformly if all are zero).
fn draw_proportionally(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().sum();
    // A total of zero means every vector coincides with a pick: any of them will do. A total that
    // is not a finite number (NaN or infinite weights, which finite `f32` vectors cannot produce)
    // cannot be drawn from at all: `gen_range` would panic, so fall back to a uniform draw too.
    if !(total.is_finite() && total > 0.0) {
        return rng.gen_range(0..weights.len());
    }
    let mut target = rng.gen_range(0.0..total);
    for (index, weight) in weights.iter().enumerate() {
        if target < *weight {
            return index;
        }
        target -= weight;
    }
    weights.len() - 1 // rounding left a sliver past the last weight
}
// ANCHOR_END: k_means_plus_plus

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256Plus;

    /// Three tight, far-apart groups of ten points.
    fn three_groups() -> Vec<Vec<f32>> {
        (0..30)
            .map(|i| {
                let group = (i / 10) as f32 * 100.0;
                vec![group + (i % 10) as f32 * 0.01, -group]
            })
            .collect()
    }

    #[test]
    fn k_means_plus_plus_puts_one_start_in_each_far_group() {
        let data = three_groups();
        let rows: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        for seed in 0..20 {
            let mut rng = Xoshiro256Plus::seed_from_u64(seed);
            let starts = k_means_plus_plus(&rows, 3, &mut rng);
            let mut groups: Vec<i32> = starts
                .iter()
                .map(|s| (s[0] / 100.0).round() as i32)
                .collect();
            groups.sort();
            assert_eq!(groups, vec![0, 1, 2], "seed {seed}: {starts:?}");
        }
    }

    #[test]
    fn random_points_are_distinct_vectors_of_the_set() {
        let data = three_groups();
        let rows: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        let config = KMeansConfig {
            init: Initialisation::RandomPoints,
            ..KMeansConfig::new(30)
        };
        let mut starts = starting_centroids(&rows, &config, &mut Xoshiro256Plus::seed_from_u64(1));
        starts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let mut all = data.clone();
        all.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert_eq!(starts, all, "all 30 vectors, each once");
    }

    #[test]
    fn identical_vectors_do_not_break_the_draw() {
        let data = vec![vec![1.0, 1.0]; 5];
        let rows: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        let starts = k_means_plus_plus(&rows, 3, &mut Xoshiro256Plus::seed_from_u64(0));
        assert_eq!(starts, vec![vec![1.0, 1.0]; 3]);
    }

    #[test]
    fn vectors_too_far_apart_for_f32_distances_still_get_far_apart_starts() {
        // Two groups 2e19 apart, 64 values each: every squared distance between the groups is
        // infinite in f32, so the draw must weigh them in f64.
        let data: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                let side = if i % 2 == 0 { 1e19 } else { -1e19 };
                (0..64).map(|j| side + (i * j) as f32 * 1e12).collect()
            })
            .collect();
        let rows: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        for seed in 0..10 {
            let starts = k_means_plus_plus(&rows, 2, &mut Xoshiro256Plus::seed_from_u64(seed));
            assert!(starts.iter().flatten().all(|x| x.is_finite()));
            assert!(
                starts[0][0].signum() != starts[1][0].signum(),
                "seed {seed}: one start in each group"
            );
        }
    }

    #[test]
    fn weights_that_sum_past_f64_do_not_panic() {
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        for weights in [
            [f64::MAX, f64::MAX, 0.0],
            [f64::INFINITY, 1.0, 2.0],
            [f64::NAN, 1.0, 2.0],
        ] {
            assert!(draw_proportionally(&weights, &mut rng) < 3, "{weights:?}");
        }
    }

    #[test]
    fn draws_follow_the_weights() {
        let mut rng = Xoshiro256Plus::seed_from_u64(9);
        let weights = [0.0, 1.0, 0.0, 3.0];
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[draw_proportionally(&weights, &mut rng)] += 1;
        }
        assert_eq!((counts[0], counts[2]), (0, 0), "zero weight is never drawn");
        assert!((2700..3300).contains(&counts[3]), "{counts:?}");
    }
}
