//! Chapter 6's exercises: seeding k-means, and the cells a vector is filed in and probed.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 6`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use simple_vector_db::engine::indexes::ivf::best_cells;
use simple_vector_db::kmeans::initialisation::starting_centroids;
use simple_vector_db::kmeans::{Initialisation, KMeansConfig};
use simple_vector_db::Metric;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch06_task1_k_means_plus_plus",
        "Training the centroids: k-means",
        "first pick uniformly; then draw each next pick with probability proportional to its squared distance to the nearest pick so far (weight, draw_proportionally), updating those distances after each pick",
    ),
    (
        "ch06_task2_best_cells",
        "Filing and probing with the same metric",
        "score the vector against every centroid with the collection's metric (metric.score), keep the best n in a TopK, return the cell numbers best first",
    ),
];

/// Three tight groups of 20 points, far apart: around (0, 0), (100, 0) and (0, 100).
fn three_groups() -> Vec<Vec<f32>> {
    let centres = [[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]];
    let mut points = Vec::new();
    for centre in centres {
        for i in 0..20 {
            let offset = (i as f32 * 0.37).sin();
            points.push(vec![centre[0] + offset, centre[1] - offset]);
        }
    }
    points
}

fn group_of(point: &[f32]) -> usize {
    if point[0] > 50.0 {
        1
    } else if point[1] > 50.0 {
        2
    } else {
        0
    }
}

#[test]
fn ch06_task1_k_means_plus_plus() {
    let points = three_groups();
    let rows: Vec<&[f32]> = points.iter().map(Vec::as_slice).collect();
    let mut config = KMeansConfig::new(3);
    config.init = Initialisation::KMeansPlusPlus;
    // Drawn uniformly, three starts all land in different groups only 2 times in 9: k-means++
    // does it every time, because a point near a pick has almost no chance of being drawn.
    for seed in 0..20 {
        let starts = starting_centroids(&rows, &config, &mut Xoshiro256Plus::seed_from_u64(seed));
        assert_eq!(starts.len(), 3);
        for start in &starts {
            assert!(points.contains(start), "a start is one of the points");
        }
        let mut groups: Vec<usize> = starts.iter().map(|s| group_of(s)).collect();
        groups.sort_unstable();
        assert_eq!(groups, vec![0, 1, 2], "seed {seed}: one start per group");
    }
}

#[test]
fn ch06_task2_best_cells() {
    let centroids = vec![
        vec![1.0, 0.0],
        vec![0.0, 1.0],
        vec![10.0, 10.0],
        vec![-1.0, 0.0],
    ];
    let vector = [2.0, 2.1];
    assert_eq!(
        best_cells(Metric::Euclidean, &centroids, &vector, 1),
        vec![1]
    );
    assert_eq!(
        best_cells(Metric::Euclidean, &centroids, &vector, 3),
        vec![1, 0, 3]
    );
    // Under cosine the far centroid at 45° is the best direction.
    assert_eq!(
        best_cells(Metric::Cosine, &centroids, &vector, 2),
        vec![2, 1]
    );
    assert_eq!(
        best_cells(Metric::Cosine, &centroids, &vector, 10).len(),
        4,
        "n > cells: all"
    );
}
