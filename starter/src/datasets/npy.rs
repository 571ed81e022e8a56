//! Vectors and ids in NumPy `.npy` files, so embeddings made elsewhere can be evaluated here.
//!
//! A `.npy` file is a short text header (element type, C or Fortran order, shape) followed by the
//! raw values ([`super::npy_header`] explains the format). We read a 2-D array of `float32` or
//! `float64` as vectors, one per row, in either memory order and either byte order:
//! `np.save("base.npy", model.encode(sentences))` is all it takes on the Python side. A 1-D array
//! of `int64` or `int32` reads as ids. Anything else (integers where vectors belong, a 1-D or 3-D
//! array, an empty array, a NaN) is refused with a typed error that names the file, rather than
//! half-loaded.
//!
//! A file comes from outside, so it is read in an order that trusts none of it. Only a regular
//! file is opened ([`super::regular_file`]: not a FIFO that blocks, not `/dev/zero` that never
//! ends). Its header is read on its own, at most 10 kB of it. The number of values the header
//! claims is multiplied out without overflow and must match the bytes the file really holds
//! after the header, and fit the memory budget ([`super::memory_budget`]). Only then is a buffer
//! allocated, of exactly that size, and the values read into it. A 192-byte file whose header
//! claims 10^15 values costs an error message, not a crash.
//!
//! [`write_vectors`] and [`write_ids`] write files the same way `np.save` does, header byte for
//! byte, so NumPy (and this module) read them back.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::datasets::memory_budget::{check_budget, vectors_bytes};
use crate::datasets::npy_header::{self, NpyHeader};
use crate::datasets::regular_file;
use crate::error::{Error, Result};
use crate::validation::check_magnitude;

// ANCHOR: load_vectors
/// Loads the vectors of a 2-D `float32` or `float64` `.npy` file, one vector per row.
///
/// `float64` values are narrowed to `f32`, the precision every database here stores.
///
/// # Errors
///
/// [`Error::Io`] or [`Error::NotARegularFile`] when the file cannot be read,
/// [`Error::NpyHeader`] when it is not a `.npy` file, [`Error::NpyDataLength`] when it does not
/// hold the values its header claims, [`Error::OverMemoryBudget`] when they would not fit in
/// memory, and [`Error::BadData`] for another element type or number of dimensions, an empty
/// array, or a value no database accepts.
pub fn load_vectors(path: &Path) -> Result<Vec<Vec<f32>>> {
    let file = NpyFile::open(path)?;
    let element = file.element(
        &[("f4", 4), ("f8", 8)],
        "float32 ('<f4') or float64 ('<f8')",
    )?;
    let [rows, columns] = file.shape("a 2-D array, one vector per row")?;
    // The shape is only a claim. `read_values` checks it against the bytes the file holds and,
    // with the memory the values take once decoded and cut into rows, against the budget,
    // before it allocates anything.
    let n_values = rows as u128 * columns as u128;
    let decoded = n_values
        .saturating_mul(4)
        .saturating_add(vectors_bytes(rows, columns));
    let data = file.read_values(element, n_values, decoded)?;
    if n_values == 0 {
        return Err(file.bad(format!(
            "the array is empty ({rows} rows of {columns} values): need at least one vector of at least one value"
        )));
    }
    let values: Vec<f32> = match element.code {
        "f4" => element.decode(&data, f32::from_le_bytes, f32::from_be_bytes),
        _ /* "f8" */ => element.decode(
            &data,
            |b| f64::from_le_bytes(b) as f32,
            |b| f64::from_be_bytes(b) as f32,
        ),
    };
    drop(data);
    let vectors = into_rows(&values, rows, columns, file.header.fortran_order);
    check_rows(&vectors).map_err(|reason| file.bad(reason))?;
    Ok(vectors)
}
// ANCHOR_END: load_vectors

/// Loads the ids of a 1-D `int64` or `int32` `.npy` file (an empty array gives no ids).
///
/// # Errors
///
/// As [`load_vectors`]: the file cannot be read, is not a `.npy` file, does not hold what its
/// header claims, would not fit in memory, or holds another element type or a 2-D array
/// ([`Error::BadData`]).
pub fn load_ids(path: &Path) -> Result<Vec<i64>> {
    let file = NpyFile::open(path)?;
    let element = file.element(&[("i8", 8), ("i4", 4)], "int64 ('<i8') or int32 ('<i4')")?;
    let [n_ids] = file.shape("a 1-D array of ids")?;
    let n_ids = n_ids as u128;
    let data = file.read_values(element, n_ids, n_ids.saturating_mul(8))?;
    Ok(match element.code {
        "i8" => element.decode(&data, i64::from_le_bytes, i64::from_be_bytes),
        _ /* "i4" */ => element.decode(
            &data,
            |b| i64::from(i32::from_le_bytes(b)),
            |b| i64::from(i32::from_be_bytes(b)),
        ),
    })
}

/// Writes `vectors` as a 2-D `float32` (`<f4`) `.npy` file in C order, one vector per row.
///
/// # Errors
///
/// [`Error::DimensionMismatch`] when the vectors are not all as long as the first (then nothing
/// is written), [`Error::Io`] when the file cannot be written.
pub fn write_vectors(path: &Path, vectors: &[Vec<f32>]) -> Result<()> {
    let columns = vectors.first().map_or(0, Vec::len);
    if let Some(vector) = vectors.iter().find(|v| v.len() != columns) {
        return Err(Error::DimensionMismatch {
            expected: columns,
            found: vector.len(),
        });
    }
    write_npy(path, "<f4", &[vectors.len(), columns], |out| {
        vectors
            .iter()
            .flatten()
            .try_for_each(|value| out.write_all(&value.to_le_bytes()))
    })
}

/// Writes ids as a 2-D `int64` (`<i8`) `.npy` file in C order, of shape `(rows.len(), k)`: row `i`
/// holds the ids of `rows[i]`, padded with `-1` (FAISS's "no neighbour") when it has fewer
/// than `k`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] (`k`) when a row holds more than `k` ids (then nothing is
/// written), [`Error::Io`] when the file cannot be written.
pub fn write_ids(path: &Path, rows: &[Vec<i64>], k: usize) -> Result<()> {
    if let Some((index, row)) = rows.iter().enumerate().find(|(_, row)| row.len() > k) {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: format!("row {index} holds {} ids, more than k = {k}", row.len()),
        });
    }
    write_npy(path, "<i8", &[rows.len(), k], |out| {
        rows.iter()
            .flat_map(|row| {
                let padding = std::iter::repeat_n(&-1, k.saturating_sub(row.len()));
                row.iter().chain(padding)
            })
            .try_for_each(|id| out.write_all(&id.to_le_bytes()))
    })
}

/// Writes NumPy's header for `descr` values of `shape`, then the values.
fn write_npy(
    path: &Path,
    descr: &str,
    shape: &[usize],
    write_values: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let io = |e| Error::io(path, e);
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    out.write_all(&npy_header::encode(descr, shape))
        .map_err(io)?;
    write_values(&mut out).map_err(io)?;
    out.flush().map_err(io)
}

/// An element type this module reads: its type code (`f4`) and size, and its byte order.
#[derive(Debug, Clone, Copy)]
struct Element {
    code: &'static str,
    size: usize,
    big_endian: bool,
}

impl Element {
    /// The values of `data`, in file order, each made from its `N` bytes by `little` or `big`.
    fn decode<const N: usize, T>(
        self,
        data: &[u8],
        little: impl Fn([u8; N]) -> T,
        big: impl Fn([u8; N]) -> T,
    ) -> Vec<T> {
        let (values, _) = data.as_chunks::<N>();
        if self.big_endian {
            values.iter().map(|&bytes| big(bytes)).collect()
        } else {
            values.iter().map(|&bytes| little(bytes)).collect()
        }
    }
}

/// An opened `.npy` file whose header has been read, positioned at its first value.
struct NpyFile<'a> {
    path: &'a Path,
    file: File,
    header: NpyHeader,
    /// The bytes the file holds after its header.
    data_bytes: u64,
}

impl<'a> NpyFile<'a> {
    /// Opens a regular file and reads its header, and nothing more.
    fn open(path: &'a Path) -> Result<Self> {
        let io = |e| Error::io(path, e);
        let (file, len) = regular_file::open(path)?;
        let mut prefix = Vec::new();
        (&file)
            .take(npy_header::MAX_PREFIX_LEN as u64)
            .read_to_end(&mut prefix)
            .map_err(io)?;
        let header = npy_header::parse(&prefix).map_err(|reason| Error::NpyHeader {
            path: path.to_path_buf(),
            reason,
        })?;
        let data_offset = header.data_offset as u64;
        (&file).seek(SeekFrom::Start(data_offset)).map_err(io)?;
        Ok(NpyFile {
            path,
            file,
            header,
            // `parse` found the whole header, so the file is at least this long.
            data_bytes: len.saturating_sub(data_offset),
        })
    }

    /// A [`Error::BadData`] about this file.
    fn bad(&self, reason: String) -> Error {
        Error::BadData {
            path: self.path.display().to_string(),
            reason,
        }
    }

    /// The element type, if its code is one of `accepted` (with its size), in either byte order.
    fn element(&self, accepted: &[(&'static str, usize)], expected: &str) -> Result<Element> {
        let descr = self.header.descr.as_str();
        let big_endian = match descr.as_bytes().first() {
            Some(b'<') => Some(false),
            Some(b'>') => Some(true),
            _ => None,
        };
        let code = descr.get(1..).unwrap_or_default();
        match (big_endian, accepted.iter().find(|(c, _)| *c == code)) {
            (Some(big_endian), Some(&(code, size))) => Ok(Element {
                code,
                size,
                big_endian,
            }),
            _ => Err(self.bad(format!(
                "element type {descr} is not supported: expected {expected}, in either byte order"
            ))),
        }
    }

    /// The shape, if it has `N` dimensions.
    fn shape<const N: usize>(&self, expected: &str) -> Result<[usize; N]> {
        let shape = self.header.shape.as_slice();
        <[usize; N]>::try_from(shape).map_err(|_| {
            self.bad(format!(
                "the array has {} dimension(s): expected {expected}",
                shape.len()
            ))
        })
    }

    /// Reads the bytes of `n_values` values of `element`, once they are known to be exactly what
    /// the file holds, and to fit the memory budget with `decoded_bytes` more (what the caller
    /// needs to decode them).
    fn read_values(
        &self,
        element: Element,
        n_values: u128,
        decoded_bytes: u128,
    ) -> Result<Vec<u8>> {
        let claimed = n_values.checked_mul(element.size as u128);
        if claimed != Some(u128::from(self.data_bytes)) {
            return Err(Error::NpyDataLength {
                path: self.path.to_path_buf(),
                values: n_values,
                item_size: element.size,
                data_bytes: self.data_bytes,
            });
        }
        let needed = u128::from(self.data_bytes).saturating_add(decoded_bytes);
        check_budget(|| self.path.display().to_string(), needed)?;
        let len = usize::try_from(self.data_bytes).map_err(|_| Error::OverMemoryBudget {
            what: format!("{} on this platform", self.path.display()),
            bytes: needed,
            budget: usize::MAX as u64,
        })?;
        let mut data = vec![0; len];
        (&self.file)
            .read_exact(&mut data)
            .map_err(|e| Error::io(self.path, e))?;
        Ok(data)
    }
}

/// Cuts `values` into `rows` vectors of `columns` values. In C order a row's values are
/// consecutive; in Fortran order a *column's* are, so each row takes one value from each column.
fn into_rows(values: &[f32], rows: usize, columns: usize, fortran_order: bool) -> Vec<Vec<f32>> {
    if rows == 0 || columns == 0 {
        return Vec::new();
    }
    if !fortran_order {
        return values.chunks_exact(columns).map(<[f32]>::to_vec).collect();
    }
    let mut vectors: Vec<Vec<f32>> = (0..rows).map(|_| Vec::with_capacity(columns)).collect();
    for column in values.chunks_exact(rows) {
        for (vector, &value) in vectors.iter_mut().zip(column) {
            vector.push(value);
        }
    }
    vectors
}

/// Refuses non-finite values (which no distance can rank) and vectors so large that distances
/// to them would overflow (see [`crate::validation`]).
fn check_rows(rows: &[Vec<f32>]) -> std::result::Result<(), String> {
    for (row, vector) in rows.iter().enumerate() {
        if let Some(column) = vector.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "row {row}, column {column} holds {}: every value must be finite (and a float64 must fit in f32)",
                vector[column]
            ));
        }
        if let Err(too_large) = check_magnitude(vector) {
            return Err(format!("row {row}: {too_large}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1, Array2, Array3, ShapeBuilder};
    use ndarray_npy::{read_npy, write_npy};

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
    fn vectors_too_large_for_f32_distances_are_refused_with_their_row() {
        let dir = temp_dir();
        let path = dir.path().join("big.npy");
        write_npy(&path, &array![[1.0f32, 2.0], [2e19, 2e19]]).expect("write");
        let reason = bad_data_reason(&path);
        assert!(
            reason.contains("row 1") && reason.contains("too large"),
            "{reason}"
        );
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
        match load_vectors(&garbage) {
            Err(error @ Error::NpyHeader { .. }) => {
                let message = error.to_string();
                assert!(message.contains("garbage.npy") && message.contains("not a valid .npy"));
            }
            other => panic!("expected NpyHeader, got {other:?}"),
        }
    }

    /// A `.npy` file written by hand: NumPy's header for `descr` and `shape`, then `data`.
    fn hand_written(descr: &str, shape: &[usize], fortran_order: bool, data: &[u8]) -> Vec<u8> {
        let mut bytes = npy_header::encode(descr, shape);
        if fortran_order {
            // "True " is as long as "False": the header keeps its length.
            let at = bytes
                .windows(5)
                .position(|w| w == b"False")
                .expect("in the header");
            bytes[at..at + 5].copy_from_slice(b"True ");
        }
        bytes.extend_from_slice(data);
        bytes
    }

    fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }

    #[test]
    fn reads_big_endian_values_in_both_orders() {
        let dir = temp_dir();
        let values = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let be32: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let c_order = write_file(&dir, "be.npy", &hand_written(">f4", &[2, 3], false, &be32));
        let expected = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]];
        assert_eq!(load_vectors(&c_order).expect("valid"), expected);
        // The same values in Fortran order are the columns, one after the other.
        let columns = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0];
        let be64: Vec<u8> = columns.iter().flat_map(|v| v.to_be_bytes()).collect();
        let fortran = write_file(&dir, "be_f.npy", &hand_written(">f8", &[2, 3], true, &be64));
        assert_eq!(load_vectors(&fortran).expect("valid"), expected);
        let le64: Vec<u8> = columns.iter().flat_map(|v| v.to_le_bytes()).collect();
        let fortran = write_file(&dir, "le_f.npy", &hand_written("<f8", &[2, 3], true, &le64));
        assert_eq!(load_vectors(&fortran).expect("valid"), expected);
    }

    #[test]
    fn a_header_claiming_more_values_than_the_file_holds_is_refused_before_allocating() {
        // 192 bytes in all: a header claiming 10^15 float32 values (4 PB), then 64 bytes.
        let dir = temp_dir();
        let bytes = hand_written("<f4", &[1_000_000_000_000_000, 1], false, &[0; 64]);
        assert_eq!(bytes.len(), 192);
        let path = write_file(&dir, "liar.npy", &bytes);
        let error = load_vectors(&path).expect_err("refused");
        assert!(
            matches!(
                error,
                Error::NpyDataLength {
                    values: 1_000_000_000_000_000,
                    item_size: 4,
                    data_bytes: 64,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("liar.npy")
                && message.contains("claims 1000000000000000 values")
                && message.contains("3.6 PiB")
                && message.contains("64 bytes"),
            "{message}"
        );
        // The same lie about ids, and a shape whose byte count overflows even a u128.
        let ids = write_file(
            &dir,
            "ids.npy",
            &hand_written("<i8", &[1 << 62], false, &[0; 8]),
        );
        assert!(matches!(load_ids(&ids), Err(Error::NpyDataLength { .. })));
        let huge = hand_written("<f8", &[usize::MAX, usize::MAX], false, &[0; 8]);
        let huge = write_file(&dir, "huge.npy", &huge);
        assert!(matches!(
            load_vectors(&huge),
            Err(Error::NpyDataLength { .. })
        ));
    }

    #[test]
    fn cut_short_or_padded_data_is_refused() {
        let dir = temp_dir();
        let short = write_file(
            &dir,
            "short.npy",
            &hand_written("<f4", &[2, 3], false, &[0; 20]),
        );
        assert!(matches!(
            load_vectors(&short),
            Err(Error::NpyDataLength { data_bytes: 20, .. })
        ));
        let long = write_file(
            &dir,
            "long.npy",
            &hand_written("<f4", &[2, 3], false, &[0; 28]),
        );
        assert!(matches!(
            load_vectors(&long),
            Err(Error::NpyDataLength { data_bytes: 28, .. })
        ));
        // A file that ends inside its header.
        let bytes = hand_written("<f4", &[2, 3], false, &[]);
        let cut = write_file(&dir, "cut.npy", &bytes[..100]);
        assert!(matches!(load_vectors(&cut), Err(Error::NpyHeader { .. })));
    }

    #[test]
    fn a_file_past_the_memory_budget_is_refused_unread() {
        // A sparse file of 20 GiB of data: it takes no disk space, and is never read.
        let dir = temp_dir();
        let rows = 5 << 20;
        let header = npy_header::encode("<f4", &[rows, 1024]);
        let path = write_file(&dir, "big.npy", &header);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("opens");
        file.set_len(header.len() as u64 + (rows as u64) * 1024 * 4)
            .expect("a sparse file");
        assert!(matches!(
            load_vectors(&path),
            Err(Error::OverMemoryBudget { .. })
        ));
    }

    #[test]
    fn directories_devices_and_fifos_are_refused_without_reading() {
        let dir = temp_dir();
        assert!(matches!(
            load_vectors(dir.path()),
            Err(Error::NotARegularFile {
                kind: "directory",
                ..
            })
        ));
        #[cfg(unix)]
        {
            // /dev/zero never ends: reading "all of it" used to fill the memory.
            assert!(matches!(
                load_vectors(Path::new("/dev/zero")),
                Err(Error::NotARegularFile { .. })
            ));
            // Opening a FIFO blocks until a writer comes, which would be never: check from
            // another thread, so that a regression fails the test instead of hanging it.
            let fifo = dir.path().join("pipe.npy");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .expect("mkfifo runs");
            assert!(made.success());
            let (done, outcome) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = done.send(matches!(
                    load_ids(&fifo),
                    Err(Error::NotARegularFile {
                        kind: "FIFO (named pipe)",
                        ..
                    })
                ));
            });
            let refused = outcome.recv_timeout(std::time::Duration::from_secs(10));
            assert_eq!(refused, Ok(true), "a FIFO is refused at once");
        }
    }

    #[test]
    fn ids_read_as_int64_or_int32_in_either_byte_order() {
        let dir = temp_dir();
        let wide = dir.path().join("i8.npy");
        write_npy(&wide, &array![3i64, -1, 1 << 40]).expect("write");
        assert_eq!(load_ids(&wide).expect("valid"), vec![3, -1, 1 << 40]);
        let narrow = dir.path().join("i4.npy");
        write_npy(&narrow, &array![7i32, -2]).expect("write");
        assert_eq!(load_ids(&narrow).expect("valid"), vec![7, -2]);
        let be: Vec<u8> = [5i64, 6].iter().flat_map(|v| v.to_be_bytes()).collect();
        let big = write_file(&dir, "be.npy", &hand_written(">i8", &[2], false, &be));
        assert_eq!(load_ids(&big).expect("valid"), vec![5, 6]);
        let none = dir.path().join("none.npy");
        write_npy(&none, &Array1::<i64>::zeros(0)).expect("write");
        assert_eq!(load_ids(&none).expect("valid"), Vec::<i64>::new());
    }

    #[test]
    fn ids_of_another_type_or_shape_are_refused() {
        let dir = temp_dir();
        let floats = dir.path().join("floats.npy");
        write_npy(&floats, &array![1.0f32, 2.0]).expect("write");
        assert!(bad_ids_reason(&floats).contains("int64"));
        let matrix = dir.path().join("matrix.npy");
        write_npy(&matrix, &array![[1i64, 2], [3, 4]]).expect("write");
        assert!(bad_ids_reason(&matrix).contains("2 dimension"));
        // And vectors are not ids: load_vectors refuses an int64 file.
        assert!(bad_data_reason(&matrix).contains("i8"));
    }

    fn bad_ids_reason(path: &Path) -> String {
        match load_ids(path) {
            Err(Error::BadData { reason, .. }) => reason,
            other => panic!("expected BadData, got {other:?}"),
        }
    }

    #[test]
    fn write_ids_writes_numpys_header_and_pads_short_rows() {
        let dir = temp_dir();
        let path = dir.path().join("ids.npy");
        write_ids(&path, &[vec![4, 2, 9], vec![7]], 3).expect("writes");
        let bytes = std::fs::read(&path).expect("read back");
        let mut header = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        header.extend_from_slice(b"{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }");
        header.resize(127, b' ');
        header.push(b'\n');
        assert_eq!(&bytes[..128], header.as_slice());
        assert_eq!(bytes.len(), 128 + 6 * 8);
        let read: Array2<i64> = read_npy(&path).expect("NumPy's format");
        assert_eq!(read, array![[4, 2, 9], [7, -1, -1]]);
        assert!(matches!(
            write_ids(&path, &[vec![1, 2, 3, 4]], 3),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }

    #[test]
    fn write_vectors_round_trips_and_numpy_reads_it() {
        let dir = temp_dir();
        let path = dir.path().join("vectors.npy");
        let vectors = vec![vec![0.5f32, -1.0, 3.25], vec![1e-3, 7.0, -0.0]];
        write_vectors(&path, &vectors).expect("writes");
        assert_eq!(load_vectors(&path).expect("valid"), vectors);
        let read: Array2<f32> = read_npy(&path).expect("NumPy's format");
        assert_eq!(read, array![[0.5f32, -1.0, 3.25], [1e-3, 7.0, -0.0]]);
        assert!(matches!(
            write_vectors(&path, &[vec![1.0, 2.0], vec![3.0]]),
            Err(Error::DimensionMismatch {
                expected: 2,
                found: 1
            })
        ));
    }
}
