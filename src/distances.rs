//! Distances between vectors, and the metric a database ranks by.
//!
//! A vector database answers "which stored vectors are closest to this one?". *Closest* needs a
//! number: here either the **cosine similarity** (the angle between two vectors, ignoring their
//! length: 1 same direction, 0 orthogonal, -1 opposite; higher is better) or the **euclidean
//! distance** (the length of the straight line between two points; lower is better). The
//! [`Metric`] enum carries that choice, and the "which way is better" rule that goes with it.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

// ANCHOR: dot_and_norm
/// The dot product `a · b = Σ aᵢ bᵢ`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum_over_pairs(a, b, |x, y| x * y)
}

/// The euclidean norm (length) of a vector, `‖a‖ = √(a · a)`.
pub fn norm(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

/// `Σ term(aᵢ, bᵢ)` over the pairs `zip` makes, which stops at the shorter slice.
///
/// A single running total is one long chain of additions, each waiting for the previous one:
/// float addition is not associative, so the compiler may not reorder it. Eight totals (value
/// `i` goes to total `i mod 8`) are independent chains that the compiler runs side by side in
/// SIMD registers, several times faster. Only the rounding differs from the one-total sum.
#[inline]
fn sum_over_pairs(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 8;
    let len = a.len().min(b.len());
    let (a_blocks, a_rest) = a[..len].as_chunks::<LANES>();
    let (b_blocks, b_rest) = b[..len].as_chunks::<LANES>();
    let mut totals = [0.0f32; LANES];
    for (a_block, b_block) in a_blocks.iter().zip(b_blocks) {
        for ((total, &x), &y) in totals.iter_mut().zip(a_block).zip(b_block) {
            *total += term(x, y);
        }
    }
    let rest: f32 = a_rest.iter().zip(b_rest).map(|(&x, &y)| term(x, y)).sum();
    totals.iter().sum::<f32>() + rest
}
// ANCHOR_END: dot_and_norm

// ANCHOR: cosine_similarity
/// Cosine similarity `a · b / (‖a‖ ‖b‖)`, in `[-1, 1]` for any finite vectors.
///
/// A zero vector has no direction, so the formula would divide by zero and return NaN, and a NaN
/// score sorts unpredictably. We return `0.0` instead ("no similarity"), which ranks a zero vector
/// behind every vector that points even slightly the same way as the query.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    // ANCHOR: starter_ch01_task1_cosine_similarity
    let (a_a, b_b, a_b) = (dot(a, a), dot(b, b), dot(a, b));
    // The fast path, for ordinary values. A squared norm that is not a normal f32 (infinite for
    // values past ~1e19, zero or subnormal for values below ~1e-19, where squares underflow) has
    // lost the information the ratio needs: [f32::MAX; 3] would give inf / inf = NaN, and
    // [1e-30; 3] would look like a zero vector.
    if a_a.is_normal() && b_b.is_normal() && a_b.is_finite() {
        // Rounding can push the ratio a hair past ±1; clamp so callers can rely on the range.
        return (a_b / (a_a.sqrt() * b_b.sqrt())).clamp(-1.0, 1.0);
    }
    cosine_similarity_f64(a, b)
    // ANCHOR_END: starter_ch01_task1_cosine_similarity
}

/// The same formula in `f64`, whose range holds the square of any `f32` (and sums of billions of
/// them): slower, but exact enough for the vectors the fast path cannot score.
fn cosine_similarity_f64(a: &[f32], b: &[f32]) -> f32 {
    let squared_norm = |v: &[f32]| v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
    let norms = squared_norm(a).sqrt() * squared_norm(b).sqrt();
    if norms == 0.0 {
        return 0.0;
    }
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    ((dot / norms) as f32).clamp(-1.0, 1.0)
}
// ANCHOR_END: cosine_similarity

// ANCHOR: euclidean
/// Squared euclidean distance `Σ (aᵢ - bᵢ)²`.
///
/// It ranks vectors exactly like [`euclidean_distance`] (the square root is monotonic), but costs
/// no square root, and squared distances of sub-vectors *add up* to the squared distance of the
/// whole vector, which product quantization relies on (chapter 7).
pub fn squared_euclidean_distance(a: &[f32], b: &[f32]) -> f32 {
    // ANCHOR: starter_ch01_task2_squared_euclidean_distance
    sum_over_pairs(a, b, |x, y| {
        let d = x - y;
        d * d
    })
    // ANCHOR_END: starter_ch01_task2_squared_euclidean_distance
}

/// Euclidean distance `√Σ (aᵢ - bᵢ)²`.
pub fn euclidean_distance(a: &[f32], b: &[f32]) -> f32 {
    squared_euclidean_distance(a, b).sqrt()
}
// ANCHOR_END: euclidean

// ANCHOR: metric
/// How a database scores a stored vector against a query.
///
/// With the `cli` feature it is also a clap value enum, so a `--metric` option lists both
/// names (and their doc comments) in `--help` and refuses any other before the program starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Metric {
    /// Cosine similarity: higher is better.
    #[default]
    Cosine,
    /// Euclidean distance: lower is better.
    Euclidean,
}

impl Metric {
    /// The score of `vector` for `query` under this metric.
    pub fn score(self, query: &[f32], vector: &[f32]) -> f32 {
        match self {
            Metric::Cosine => cosine_similarity(query, vector),
            Metric::Euclidean => euclidean_distance(query, vector),
        }
    }

    /// `true` when a higher score means a closer vector.
    pub fn higher_is_better(self) -> bool {
        match self {
            Metric::Cosine => true,
            Metric::Euclidean => false,
        }
    }

    /// `true` when score `a` is strictly better than score `b`.
    pub fn is_better(self, a: f32, b: f32) -> bool {
        if self.higher_is_better() {
            a > b
        } else {
            a < b
        }
    }

    /// The score turned into a "rank key" where lower is always better, so one ordering serves
    /// both metrics (used by the top-k heap).
    pub fn rank_key(self, score: f32) -> f32 {
        if self.higher_is_better() {
            -score
        } else {
            score
        }
    }

    /// The name used on the command line and stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::Euclidean => "euclidean",
        }
    }
}
// ANCHOR_END: metric

// ANCHOR: metric_parse
impl FromStr for Metric {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cosine" => Ok(Metric::Cosine),
            "euclidean" => Ok(Metric::Euclidean),
            _ => Err(Error::UnknownMetric(name.to_string())),
        }
    }
}
// ANCHOR_END: metric_parse

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn cosine_matches_hand_computed_values() {
        // [1,0] and [1,1]: cos 45° = 1/√2.
        assert!(close(
            cosine_similarity(&[1.0, 0.0], &[1.0, 1.0]),
            std::f32::consts::FRAC_1_SQRT_2
        ));
        // [1,2,3]·[4,5,6] = 32; ‖·‖ = √14 · √77.
        let expected = 32.0 / (14.0f32.sqrt() * 77.0f32.sqrt());
        assert!(close(
            cosine_similarity(&[1., 2., 3.], &[4., 5., 6.]),
            expected
        ));
        assert!(close(cosine_similarity(&[1., 2.], &[-1., -2.]), -1.0));
        assert!(close(cosine_similarity(&[1., 0.], &[0., 3.]), 0.0));
    }

    #[test]
    fn cosine_ignores_length() {
        assert!(close(
            cosine_similarity(&[1., 2., 3.], &[10., 20., 30.]),
            1.0
        ));
    }

    #[test]
    fn cosine_with_a_zero_vector_is_zero_not_nan() {
        let s = cosine_similarity(&[0., 0., 0.], &[1., 2., 3.]);
        assert_eq!(s, 0.0);
        assert_eq!(cosine_similarity(&[0., 0.], &[0., 0.]), 0.0);
    }

    #[test]
    fn cosine_of_huge_vectors_is_in_range_not_nan() {
        let huge = [f32::MAX; 3];
        assert!(close(cosine_similarity(&huge, &huge), 1.0));
        assert!(close(cosine_similarity(&huge, &[-f32::MAX; 3]), -1.0));
        // 45 degrees, with one vector huge and the other ordinary.
        let s = cosine_similarity(&[f32::MAX, 0.0], &[1.0, 1.0]);
        assert!(close(s, std::f32::consts::FRAC_1_SQRT_2), "{s}");
        // Only the dot product overflows here.
        let s = cosine_similarity(&[1e19, 1e19, 0.0], &[1e20, 1e20, 1.0]);
        assert!(close(s, 1.0), "{s}");
    }

    #[test]
    fn cosine_of_tiny_vectors_is_their_angle_not_zero() {
        // Squares of 1e-30 underflow to 0 in f32: these are not zero vectors.
        let tiny = [1e-30f32, 1e-30, 0.0];
        assert!(close(cosine_similarity(&tiny, &tiny), 1.0));
        assert!(close(cosine_similarity(&tiny, &[0.0, 0.0, 1e-30]), 0.0));
        // Subnormal values, the smallest f32 there is.
        let smallest = f32::from_bits(1);
        assert!(smallest > 0.0 && !smallest.is_normal());
        assert!(close(
            cosine_similarity(&[smallest, smallest], &[smallest, 0.0]),
            std::f32::consts::FRAC_1_SQRT_2
        ));
        assert!(close(
            cosine_similarity(&[smallest, 0.0], &[-1.0, 0.0]),
            -1.0
        ));
        // A true zero vector still scores 0.
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[smallest, 0.0]), 0.0);
    }

    #[test]
    fn euclidean_matches_hand_computed_values() {
        // The 3-4-5 right triangle.
        assert!(close(euclidean_distance(&[0., 0.], &[3., 4.]), 5.0));
        assert!(close(
            squared_euclidean_distance(&[0., 0.], &[3., 4.]),
            25.0
        ));
        assert!(close(euclidean_distance(&[1., 2., 3.], &[1., 2., 3.]), 0.0));
        assert!(close(
            euclidean_distance(&[1., 1., 1.], &[2., 2., 2.]),
            3.0f32.sqrt()
        ));
    }

    #[test]
    fn metric_knows_which_way_is_better() {
        assert!(Metric::Cosine.is_better(0.9, 0.1));
        assert!(!Metric::Cosine.is_better(0.1, 0.9));
        assert!(Metric::Euclidean.is_better(0.1, 0.9));
        assert!(!Metric::Euclidean.is_better(0.9, 0.1));
        assert!(Metric::Cosine.rank_key(0.9) < Metric::Cosine.rank_key(0.1));
        assert!(Metric::Euclidean.rank_key(0.1) < Metric::Euclidean.rank_key(0.9));
    }

    #[test]
    fn metric_parses_its_names_and_rejects_others() {
        assert_eq!("cosine".parse::<Metric>().ok(), Some(Metric::Cosine));
        assert_eq!("Euclidean".parse::<Metric>().ok(), Some(Metric::Euclidean));
        let err = "manhattan".parse::<Metric>().unwrap_err();
        assert!(matches!(err, Error::UnknownMetric(ref n) if n == "manhattan"));
        let message = err.to_string();
        assert!(message.contains("cosine") && message.contains("euclidean"));
        for m in [Metric::Cosine, Metric::Euclidean] {
            assert_eq!(m.as_str().parse::<Metric>().ok(), Some(m));
        }
    }
}
