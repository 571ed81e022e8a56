//! Seeded synthetic vectors grouped around random centres.
//!
//! Real embeddings are not spread evenly: they bunch up by topic. Uniform random vectors would
//! make every index look useless (every cell is as good as any other), so benchmarks use points
//! drawn around `n_clusters` centres with gaussian noise. The same seed gives the same vectors.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::datasets::memory_budget;
use crate::error::{Error, Result};

// ANCHOR: clustered
/// How to generate a clustered data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusteredSpec {
    pub n_vectors: usize,
    pub dimension: usize,
    pub n_clusters: usize,
    /// Standard deviation of the noise around each centre (centres lie in [-1, 1]^dimension).
    pub noise: f32,
    pub seed: u64,
}

/// Draws `n_vectors` points, each a random centre plus gaussian noise.
///
/// # Errors
///
/// [`Error::OverMemoryBudget`] when the set would not fit in
/// [`memory_budget::MEMORY_BUDGET`], or [`Error::InvalidParameter`] for a dimension or a
/// number of clusters of 0, or a noise that is negative or not finite.
pub fn generate(spec: &ClusteredSpec) -> Result<Vec<Vec<f32>>> {
    check(spec)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(spec.seed);
    let centres: Vec<Vec<f32>> = (0..spec.n_clusters)
        .map(|_| {
            (0..spec.dimension)
                .map(|_| rng.gen_range(-1.0..=1.0))
                .collect()
        })
        .collect();
    let noise = Normal::new(0.0, spec.noise).map_err(|e| invalid("noise", e.to_string()))?;
    let vectors = (0..spec.n_vectors)
        .map(|_| {
            let centre = &centres[rng.gen_range(0..spec.n_clusters)];
            centre.iter().map(|c| c + noise.sample(&mut rng)).collect()
        })
        .collect();
    Ok(vectors)
}
// ANCHOR_END: clustered

impl ClusteredSpec {
    /// The memory the set takes once generated: the vectors and the centres they are drawn
    /// around (saturating, see [`memory_budget::vectors_bytes`]).
    pub fn bytes_needed(&self) -> u128 {
        memory_budget::vectors_bytes(self.n_vectors, self.dimension).saturating_add(
            memory_budget::vectors_bytes(self.n_clusters, self.dimension),
        )
    }
}

fn check(spec: &ClusteredSpec) -> Result<()> {
    // Before anything else: the sizes are what a user typed, and `generate` allocates them.
    memory_budget::check_budget(
        || {
            format!(
                "a clustered set of {} vectors of {} values around {} centres",
                spec.n_vectors, spec.dimension, spec.n_clusters
            )
        },
        spec.bytes_needed(),
    )?;
    if spec.dimension == 0 {
        return Err(invalid("dimension", "must be at least 1".into()));
    }
    if spec.n_clusters == 0 {
        return Err(invalid("n_clusters", "must be at least 1".into()));
    }
    if !(spec.noise.is_finite() && spec.noise >= 0.0) {
        return Err(invalid(
            "noise",
            format!("{} is not a finite non-negative number", spec.noise),
        ));
    }
    Ok(())
}

fn invalid(name: &'static str, reason: String) -> Error {
    Error::InvalidParameter { name, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> ClusteredSpec {
        ClusteredSpec {
            n_vectors: 500,
            dimension: 8,
            n_clusters: 5,
            noise: 0.05,
            seed,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_vectors() {
        let a = generate(&spec(7)).expect("valid spec");
        assert_eq!(a, generate(&spec(7)).expect("valid spec"));
        assert_ne!(a, generate(&spec(8)).expect("valid spec"));
        assert_eq!(a.len(), 500);
        assert!(a
            .iter()
            .all(|v| v.len() == 8 && v.iter().all(|x| x.is_finite())));
    }

    #[test]
    fn points_bunch_around_few_centres() {
        // With small noise, each point is far closer to some other point than the spread of
        // the centres: count distinct rounded points to see that there are about 5 groups.
        let vectors = generate(&spec(1)).expect("valid spec");
        let mut groups: Vec<Vec<i32>> = vectors
            .iter()
            .map(|v| v.iter().map(|x| (x * 2.0).round() as i32).collect())
            .collect();
        groups.sort();
        groups.dedup();
        assert!(groups.len() < 60, "{} groups", groups.len());
    }

    #[test]
    fn a_set_past_the_memory_budget_is_refused_before_any_allocation() {
        for (n_vectors, dimension, n_clusters) in [
            (1_000_000_000_000, 1, 1),
            (1, 1_000_000_000_000, 1),
            (10, 1_000_000, 1_000_000),
            (usize::MAX, usize::MAX, usize::MAX),
        ] {
            let spec = ClusteredSpec {
                n_vectors,
                dimension,
                n_clusters,
                ..spec(0)
            };
            assert!(
                matches!(generate(&spec), Err(Error::OverMemoryBudget { .. })),
                "{spec:?}"
            );
        }
    }

    #[test]
    fn bad_specs_are_typed_errors() {
        for bad in [
            ClusteredSpec {
                dimension: 0,
                ..spec(0)
            },
            ClusteredSpec {
                n_clusters: 0,
                ..spec(0)
            },
            ClusteredSpec {
                noise: f32::NAN,
                ..spec(0)
            },
            ClusteredSpec {
                noise: -1.0,
                ..spec(0)
            },
        ] {
            assert!(matches!(
                generate(&bad),
                Err(Error::InvalidParameter { .. })
            ));
        }
    }
}
