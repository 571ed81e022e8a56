//! Vectors as BLOBs: how an `f32` vector is stored in an SQLite column.
//!
//! SQLite has no array type, but it stores any bytes as a BLOB. A vector of `d` values becomes
//! its `4 × d` bytes in little-endian order (the original's `NumpyArrayAdapter` did the same with
//! NumPy's `tobytes`). Reading back checks the length first: a BLOB whose size is not `4 × d` is
//! a corrupt row, reported as [`Error::BlobLength`], never a panic or a silently short vector.

use crate::error::{Error, Result};

// ANCHOR: vector_to_blob
/// The little-endian bytes of `vector`, ready to bind as an SQLite BLOB.
pub fn vector_to_blob(vector: &[f32]) -> Vec<u8> {
    // ANCHOR: starter_ch04_task1_vector_to_blob
    if cfg!(target_endian = "little") {
        // f32 → bytes is always allowed (bytes have no alignment), so this cast cannot fail.
        bytemuck::cast_slice(vector).to_vec()
    } else {
        vector.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    // ANCHOR_END: starter_ch04_task1_vector_to_blob
}
// ANCHOR_END: vector_to_blob

// ANCHOR: blob_to_vector
/// Decodes a BLOB written by [`vector_to_blob`] into a new vector of `dimension` values.
pub fn blob_to_vector(blob: &[u8], dimension: usize) -> Result<Vec<f32>> {
    check_blob_length(blob, dimension)?;
    // ANCHOR: starter_ch04_task2_blob_to_vector
    if cfg!(target_endian = "little") {
        // Copies into a fresh, properly aligned Vec<f32>: safe whatever the BLOB's alignment.
        Ok(bytemuck::pod_collect_to_vec(blob))
    } else {
        Ok(decode_little_endian(blob))
    }
    // ANCHOR_END: starter_ch04_task2_blob_to_vector
}

// ANCHOR: blob_as_vector
/// Views a BLOB as `dimension` floats, without copying when the bytes happen to be aligned.
///
/// SQLite makes no promise that a BLOB starts on a 4-byte boundary, and reinterpreting
/// misaligned bytes as `f32` is undefined behaviour, so `try_cast_slice` checks; when it refuses,
/// the bytes are copied into `scratch` (reused across rows, so a scan allocates once).
pub fn blob_as_vector<'a>(
    blob: &'a [u8],
    dimension: usize,
    scratch: &'a mut Vec<f32>,
) -> Result<&'a [f32]> {
    check_blob_length(blob, dimension)?;
    // ANCHOR: starter_ch05_task2_blob_as_vector
    if cfg!(target_endian = "little") {
        if let Ok(floats) = bytemuck::try_cast_slice::<u8, f32>(blob) {
            return Ok(floats);
        }
    }
    scratch.clear();
    scratch.extend(little_endian_floats(blob));
    Ok(scratch)
    // ANCHOR_END: starter_ch05_task2_blob_as_vector
}
// ANCHOR_END: blob_as_vector

/// Decodes little-endian bytes one float at a time (the portable, copying path).
fn decode_little_endian(blob: &[u8]) -> Vec<f32> {
    little_endian_floats(blob).collect()
}

/// The floats of little-endian bytes, four bytes each.
fn little_endian_floats(blob: &[u8]) -> impl Iterator<Item = f32> + '_ {
    blob.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
// ANCHOR_END: blob_to_vector

// ANCHOR: check_blob_length
/// A BLOB must hold exactly `4 × dimension` bytes.
fn check_blob_length(blob: &[u8], dimension: usize) -> Result<()> {
    let expected = dimension * std::mem::size_of::<f32>();
    if blob.len() != expected {
        return Err(Error::BlobLength {
            len: blob.len(),
            expected,
        });
    }
    Ok(())
}
// ANCHOR_END: check_blob_length

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_vector_becomes_four_little_endian_bytes_per_value() {
        let blob = vector_to_blob(&[1.0, -2.5]);
        assert_eq!(blob.len(), 8);
        assert_eq!(&blob[..4], &1.0f32.to_le_bytes());
        assert_eq!(&blob[4..], &(-2.5f32).to_le_bytes());
    }

    #[test]
    fn a_blob_of_the_wrong_length_is_a_typed_error() {
        let blob = vector_to_blob(&[1.0, 2.0, 3.0]);
        assert!(matches!(
            blob_to_vector(&blob, 4),
            Err(Error::BlobLength {
                len: 12,
                expected: 16
            })
        ));
        assert!(matches!(
            blob_to_vector(&blob[..11], 3),
            Err(Error::BlobLength { len: 11, .. })
        ));
    }

    #[test]
    fn misaligned_bytes_are_copied_not_reinterpreted() {
        let blob = vector_to_blob(&[1.5, 2.5, 3.5]);
        // Shift the bytes by one so they cannot be 4-byte aligned.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&blob);
        let mut scratch = Vec::new();
        let view = blob_as_vector(&shifted[1..], 3, &mut scratch).expect("right length");
        assert_eq!(view, &[1.5, 2.5, 3.5]);
    }

    proptest! {
        #[test]
        fn round_trip_is_bit_exact(vector in proptest::collection::vec(any::<f32>(), 0..64)) {
            let back = blob_to_vector(&vector_to_blob(&vector), vector.len()).expect("right length");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
            prop_assert_eq!(bits(&back), bits(&vector));
        }
    }
}
