//! Checks every vector and query must pass before it reaches a database.
//!
//! Distances silently turn NaN into NaN and compare it as neither better nor worse, and a vector
//! of the wrong length would be zipped short without a word. So each store checks its input once,
//! at the door, and turns a bad vector into a typed [`Error`].
//!
//! Finite is not enough. Distances are computed in `f32`, whose largest value is about 3.4e38, and
//! a squared distance squares the values: two 1-D vectors `[2e19]` and `[-2e19]` are 4e19 apart,
//! and 4e19 squared is 1.6e39, which `f32` rounds to infinity. So a vector is also refused when its
//! squared norm `‖a‖²` is above [`MAX_SQUARED_NORM`], `f32::MAX / 4` (computed in `f64`, where it
//! cannot overflow). The bound is chosen so that nothing computed from accepted vectors overflows:
//!
//! - a squared distance: `‖a − b‖² ≤ 2‖a‖² + 2‖b‖² ≤ f32::MAX` (the parallelogram law);
//! - a dot product: `|a · b| ≤ ‖a‖ ‖b‖ ≤ f32::MAX / 4` (Cauchy–Schwarz), so cosines are finite;
//! - a k-means centroid is a mean of accepted vectors, and a mean is never longer than the
//!   longest of them, so distances to centroids obey the same bound.
//!
//! (This is exact arithmetic; `f32` rounding adds a relative error of about `d · 2⁻²⁴` to a sum
//! of `d` terms, which only matters for vectors sitting right at the limit.)

use crate::error::{Error, Result};

// ANCHOR: check_vector
/// The largest squared norm a vector may have, `f32::MAX / 4`: up to it, every squared distance
/// between two accepted vectors is at most `f32::MAX` (see the module documentation).
pub const MAX_SQUARED_NORM: f64 = f32::MAX as f64 / 4.0;

/// Checks that `vector` has `dimension` values, all finite, and is not too large.
///
/// # Errors
///
/// [`Error::DimensionMismatch`], [`Error::NonFiniteValue`] or [`Error::VectorTooLarge`].
pub fn check_vector(vector: &[f32], dimension: usize) -> Result<()> {
    if vector.len() != dimension {
        return Err(Error::DimensionMismatch {
            expected: dimension,
            found: vector.len(),
        });
    }
    check_finite(vector)?;
    check_magnitude(vector)
}

/// Checks that no value is NaN or infinite.
///
/// # Errors
///
/// [`Error::NonFiniteValue`], with the position of the first such value.
pub fn check_finite(vector: &[f32]) -> Result<()> {
    match vector.iter().position(|x| !x.is_finite()) {
        Some(position) => Err(Error::NonFiniteValue {
            position,
            value: vector[position],
        }),
        None => Ok(()),
    }
}

/// Checks that the squared norm of `vector` is at most [`MAX_SQUARED_NORM`].
///
/// The sum is taken in `f64`: the squares of `f32` values cannot overflow there, while in `f32`
/// the norm of exactly the vectors this refuses would itself be infinite.
///
/// # Errors
///
/// [`Error::VectorTooLarge`], with the squared norm found.
pub fn check_magnitude(vector: &[f32]) -> Result<()> {
    let squared_norm: f64 = vector.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    // A NaN (from a NaN value, if `check_finite` was not called first) is refused too.
    if squared_norm.is_nan() || squared_norm > MAX_SQUARED_NORM {
        return Err(Error::VectorTooLarge {
            squared_norm,
            limit: MAX_SQUARED_NORM,
        });
    }
    Ok(())
}

/// Checks a whole batch against a dimension; the first vector fixes it when `dimension` is `None`.
///
/// Returns the batch's dimension (`None` for an empty batch with no known dimension).
///
/// # Errors
///
/// [`Error::EmptyVector`] for a dimension of 0, or the first error [`check_vector`] finds.
pub fn check_batch<V: AsRef<[f32]>>(
    vectors: &[V],
    dimension: Option<usize>,
) -> Result<Option<usize>> {
    let Some(dimension) = dimension.or_else(|| vectors.first().map(|v| v.as_ref().len())) else {
        return Ok(None);
    };
    if dimension == 0 {
        return Err(Error::EmptyVector);
    }
    for vector in vectors {
        check_vector(vector.as_ref(), dimension)?;
    }
    Ok(Some(dimension))
}

/// Checks that `k` asks for at least one result.
///
/// # Errors
///
/// [`Error::ZeroK`] when `k` is 0.
pub fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::ZeroK);
    }
    Ok(())
}
// ANCHOR_END: check_vector

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_is_a_dimension_mismatch() {
        let err = check_vector(&[1.0, 2.0], 3).unwrap_err();
        assert!(matches!(
            err,
            Error::DimensionMismatch {
                expected: 3,
                found: 2
            }
        ));
    }

    #[test]
    fn nan_and_infinity_are_rejected_with_their_position() {
        let err = check_vector(&[1.0, f32::NAN, 3.0], 3).unwrap_err();
        assert!(matches!(err, Error::NonFiniteValue { position: 1, .. }));
        let err = check_vector(&[1.0, 2.0, f32::NEG_INFINITY], 3).unwrap_err();
        assert!(matches!(err, Error::NonFiniteValue { position: 2, .. }));
    }

    #[test]
    fn vectors_past_the_squared_norm_limit_are_refused() {
        // 2e19 squared is 4e38, above f32::MAX: in f32 the norm itself would be infinite.
        let err = check_vector(&[2e19, 0.0], 2).unwrap_err();
        match err {
            Error::VectorTooLarge {
                squared_norm,
                limit,
            } => {
                assert!((squared_norm - 4e38).abs() < 1e32, "{squared_norm:e}");
                assert_eq!(limit, MAX_SQUARED_NORM);
            }
            other => panic!("expected VectorTooLarge, got {other:?}"),
        }
        // Many values, each harmless, add up past the limit too.
        assert!(matches!(
            check_batch(&[vec![1e18f32; 100]], None),
            Err(Error::VectorTooLarge { .. })
        ));
        // Just under the limit is accepted, and squared distances between such vectors stay
        // finite in f32, which is what the limit is for.
        let edge = (MAX_SQUARED_NORM / 64.0).sqrt() as f32 * 0.999_999;
        let (a, b) = (vec![edge; 64], vec![-edge; 64]);
        assert!(check_batch(&[&a, &b], None).is_ok());
        assert!(crate::distances::squared_euclidean_distance(&a, &b).is_finite());
    }

    #[test]
    fn the_first_vector_fixes_the_dimension_of_a_batch() {
        assert_eq!(
            check_batch(&[vec![1.0, 2.0], vec![3.0, 4.0]], None).ok(),
            Some(Some(2))
        );
        assert!(check_batch(&[vec![1.0, 2.0], vec![3.0]], None).is_err());
        assert!(matches!(
            check_batch(&[Vec::<f32>::new()], None),
            Err(Error::EmptyVector)
        ));
        assert_eq!(check_batch::<Vec<f32>>(&[], None).ok(), Some(None));
    }

    #[test]
    fn k_zero_is_an_error() {
        assert!(matches!(check_k(0), Err(Error::ZeroK)));
        assert!(check_k(1).is_ok());
    }
}
