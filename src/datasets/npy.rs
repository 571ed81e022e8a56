//! Vectors from NumPy `.npy` files, so embeddings made elsewhere can be evaluated here.
//!
//! A `.npy` file is a short text header (element type, C or Fortran order, shape) followed by the
//! raw values. We accept a 2-D array of `float32` or `float64`, one vector per row, in either
//! order: `np.save("base.npy", model.encode(sentences))` is all it takes on the Python side.
//! Anything else (integers, a 1-D or 3-D array, an empty array, a NaN) is refused with an
//! [`Error::BadData`] that names the file, rather than half-loaded.

use std::io::Cursor;
use std::path::Path;

use ndarray::Array2;
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement};

use crate::error::{Error, Result};

// ANCHOR: load_vectors
/// Loads the vectors of a 2-D `float32` or `float64` `.npy` file, one vector per row.
///
/// `float64` values are narrowed to `f32`, the precision every database here stores.
pub fn load_vectors(path: &Path) -> Result<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |reason: String| Error::BadData {
        path: path.display().to_string(),
        reason,
    };
    let rows = match read_matrix::<f32>(&bytes) {
        Ok(matrix) => rows_of(&matrix, |x| x),
        // Not float32: give float64 a chance before reporting the element type we found.
        Err(ReadNpyError::WrongDescriptor(_)) => match read_matrix::<f64>(&bytes) {
            Ok(matrix) => rows_of(&matrix, |x| x as f32),
            Err(e) => return Err(bad(describe(e))),
        },
        Err(e) => return Err(bad(describe(e))),
    };
    check_rows(&rows).map_err(bad)?;
    Ok(rows)
}
// ANCHOR_END: load_vectors

/// Parses the bytes of a `.npy` file as a 2-D array of `T`.
fn read_matrix<T: ReadableElement>(bytes: &[u8]) -> std::result::Result<Array2<T>, ReadNpyError> {
    Array2::<T>::read_npy(Cursor::new(bytes))
}

/// The rows of `matrix` as vectors, whatever its memory order (`rows()` follows the logical
/// layout, so a Fortran-order file reads the same as a C-order one).
fn rows_of<T: Copy>(matrix: &Array2<T>, to_f32: impl Fn(T) -> f32) -> Vec<Vec<f32>> {
    matrix
        .rows()
        .into_iter()
        .map(|row| row.iter().map(|&x| to_f32(x)).collect())
        .collect()
}

/// Refuses an empty array and non-finite values (which no distance can rank).
fn check_rows(rows: &[Vec<f32>]) -> std::result::Result<(), String> {
    let dimension = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || dimension == 0 {
        return Err(format!(
            "the array is empty ({} rows of {dimension} values): need at least one vector of at least one value",
            rows.len()
        ));
    }
    for (row, vector) in rows.iter().enumerate() {
        if let Some(column) = vector.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "row {row}, column {column} holds {}: every value must be finite (and a float64 must fit in f32)",
                vector[column]
            ));
        }
    }
    Ok(())
}

/// Turns ndarray-npy's error into a sentence about the file.
fn describe(error: ReadNpyError) -> String {
    match error {
        ReadNpyError::WrongDescriptor(descriptor) => format!(
            "element type {descriptor} is not supported: expected float32 ('<f4') or float64 ('<f8')"
        ),
        ReadNpyError::WrongNdim(_, found) => format!(
            "the array has {found} dimension(s): expected a 2-D array, one vector per row"
        ),
        ReadNpyError::ParseHeader(e) => format!("not a valid .npy file: {e}"),
        ReadNpyError::MissingData => "the file is shorter than its header says".to_string(),
        ReadNpyError::ExtraBytes(n) => format!("{n} unexpected bytes after the data"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1, Array3, ShapeBuilder};
    use ndarray_npy::write_npy;

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }

    #[test]
    fn reads_float32_rows() {
        let dir = temp_dir();
        let path = dir.path().join("f32.npy");
        write_npy(&path, &array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]).expect("write");
        assert_eq!(
            load_vectors(&path).expect("valid file"),
            vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]
        );
    }

    #[test]
    fn reads_float64_rows_narrowed_to_f32() {
        let dir = temp_dir();
        let path = dir.path().join("f64.npy");
        write_npy(&path, &array![[0.5f64, -1.25], [1e-3, 7.0]]).expect("write");
        assert_eq!(
            load_vectors(&path).expect("valid file"),
            vec![vec![0.5, -1.25], vec![1e-3f32, 7.0]]
        );
    }

    #[test]
    fn a_fortran_order_file_reads_as_the_same_rows() {
        let dir = temp_dir();
        let path = dir.path().join("fortran.npy");
        let fortran = Array2::from_shape_vec((2, 3).f(), vec![1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0])
            .expect("shape matches");
        assert!(!fortran.is_standard_layout());
        write_npy(&path, &fortran).expect("write");
        let bytes = std::fs::read(&path).expect("read back");
        assert!(String::from_utf8_lossy(&bytes[..64]).contains("'fortran_order': True"));
        assert_eq!(
            load_vectors(&path).expect("valid file"),
            vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]
        );
    }

    fn bad_data_reason(path: &Path) -> String {
        match load_vectors(path) {
            Err(Error::BadData {
                path: named,
                reason,
            }) => {
                assert_eq!(
                    named,
                    path.display().to_string(),
                    "the error names the file"
                );
                reason
            }
            other => panic!("expected BadData, got {other:?}"),
        }
    }

    #[test]
    fn integers_are_refused_with_their_type() {
        let dir = temp_dir();
        let path = dir.path().join("ints.npy");
        write_npy(&path, &array![[1i32, 2], [3, 4]]).expect("write");
        let reason = bad_data_reason(&path);
        assert!(
            reason.contains("i4") && reason.contains("float32"),
            "{reason}"
        );
    }

    #[test]
    fn one_and_three_dimensional_arrays_are_refused() {
        let dir = temp_dir();
        let flat = dir.path().join("flat.npy");
        write_npy(&flat, &Array1::<f32>::zeros(4)).expect("write");
        assert!(bad_data_reason(&flat).contains("1 dimension"));
        let cube = dir.path().join("cube.npy");
        write_npy(&cube, &Array3::<f64>::zeros((2, 2, 2))).expect("write");
        assert!(bad_data_reason(&cube).contains("3 dimension"));
    }

    #[test]
    fn empty_arrays_are_refused() {
        let dir = temp_dir();
        let no_rows = dir.path().join("no_rows.npy");
        write_npy(&no_rows, &Array2::<f32>::zeros((0, 4))).expect("write");
        assert!(bad_data_reason(&no_rows).contains("empty"));
        let no_columns = dir.path().join("no_columns.npy");
        write_npy(&no_columns, &Array2::<f32>::zeros((3, 0))).expect("write");
        assert!(bad_data_reason(&no_columns).contains("empty"));
    }

    #[test]
    fn nan_and_overflowing_float64_are_refused_with_their_position() {
        let dir = temp_dir();
        let nan = dir.path().join("nan.npy");
        write_npy(&nan, &array![[1.0f32, 2.0], [3.0, f32::NAN]]).expect("write");
        assert!(bad_data_reason(&nan).contains("row 1, column 1"));
        let huge = dir.path().join("huge.npy");
        write_npy(&huge, &array![[1e300f64, 0.0]]).expect("write");
        assert!(bad_data_reason(&huge).contains("row 0, column 0"));
    }

    #[test]
    fn a_missing_file_or_garbage_is_a_typed_error() {
        let dir = temp_dir();
        assert!(matches!(
            load_vectors(&dir.path().join("missing.npy")),
            Err(Error::Io { .. })
        ));
        let garbage = dir.path().join("garbage.npy");
        std::fs::write(&garbage, b"this is not numpy").expect("write");
        assert!(bad_data_reason(&garbage).contains("not a valid .npy"));
    }
}
