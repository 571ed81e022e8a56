//! Checks every vector and query must pass before it reaches a database.
//!
//! Distances silently turn NaN into NaN and compare it as neither better nor worse, and a vector
//! of the wrong length would be zipped short without a word. So each store checks its input once,
//! at the door, and turns a bad vector into a typed [`Error`].

use crate::error::{Error, Result};

// ANCHOR: check_vector
/// Checks that `vector` has `dimension` values, all finite.
pub fn check_vector(vector: &[f32], dimension: usize) -> Result<()> {
    if vector.len() != dimension {
        return Err(Error::DimensionMismatch {
            expected: dimension,
            found: vector.len(),
        });
    }
    check_finite(vector)
}

/// Checks that no value is NaN or infinite.
pub fn check_finite(vector: &[f32]) -> Result<()> {
    match vector.iter().position(|x| !x.is_finite()) {
        Some(position) => Err(Error::NonFiniteValue {
            position,
            value: vector[position],
        }),
        None => Ok(()),
    }
}

/// Checks a whole batch against a dimension; the first vector fixes it when `dimension` is `None`.
///
/// Returns the batch's dimension (`None` for an empty batch with no known dimension).
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
