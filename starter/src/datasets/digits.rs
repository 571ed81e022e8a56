//! The handwritten digits set: 1,797 images of 8x8 pixels, so 64-dimensional vectors.
//!
//! It is the set the original tutorial loads with scikit-learn's `load_digits()`. The file
//! (`data/digits.csv.gz`, see `data/README.md` for its origin and licence) is embedded in the
//! library, so every binary and test finds it whatever the working directory.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::datasets::memory_budget::{check_budget, MEMORY_BUDGET};
use crate::datasets::regular_file;
use crate::error::{Error, Result};

/// Pixels per image (8 x 8).
pub const DIMENSION: usize = 64;

/// The compressed CSV, embedded at compile time.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

// ANCHOR: digits
/// The digits set: one 64-value vector per image, and the digit each image shows.
#[derive(Debug, Clone)]
pub struct Digits {
    pub vectors: Vec<Vec<f32>>,
    pub labels: Vec<u8>,
}

/// Loads the embedded digits set.
pub fn load() -> Result<Digits> {
    parse_gzip_csv(DIGITS_CSV_GZ, "embedded data/digits.csv.gz")
}
// ANCHOR_END: digits

/// Loads a digits-style file from disk: gzip-compressed CSV, 64 pixels then a label per row.
///
/// # Errors
///
/// [`Error::Io`] or [`Error::NotARegularFile`] when the file cannot be read,
/// [`Error::OverMemoryBudget`] when it (or its decompressed text) is larger than the memory
/// budget, [`Error::BadData`] when it is not gzip-compressed CSV of the right shape.
pub fn load_from(path: &Path) -> Result<Digits> {
    let bytes = regular_file::read(path)?;
    parse_gzip_csv(&bytes, &path.display().to_string())
}

fn parse_gzip_csv(compressed: &[u8], origin: &str) -> Result<Digits> {
    let bad = |reason: String| Error::BadData {
        path: origin.to_string(),
        reason,
    };
    // A few kilobytes of gzip can expand to gigabytes: stop reading one byte past the budget.
    let mut text = String::new();
    GzDecoder::new(compressed)
        .take(MEMORY_BUDGET.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(|e| bad(format!("not gzip-compressed text: {e}")))?;
    check_budget(
        || format!("the decompressed text of {origin}"),
        text.len() as u128,
    )?;

    let mut digits = Digits {
        vectors: Vec::new(),
        labels: Vec::new(),
    };
    for (line_number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (pixels, label) =
            parse_row(line).map_err(|reason| bad(format!("line {}: {reason}", line_number + 1)))?;
        digits.vectors.push(pixels);
        digits.labels.push(label);
    }
    if digits.vectors.is_empty() {
        return Err(bad("no rows".to_string()));
    }
    Ok(digits)
}

/// One row: 64 pixel values, then the label.
fn parse_row(line: &str) -> std::result::Result<(Vec<f32>, u8), String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != DIMENSION + 1 {
        return Err(format!(
            "{} fields, expected {}",
            fields.len(),
            DIMENSION + 1
        ));
    }
    let pixels = fields[..DIMENSION]
        .iter()
        .map(|f| f.parse::<f32>().map_err(|e| format!("pixel {f:?}: {e}")))
        .collect::<std::result::Result<Vec<f32>, String>>()?;
    let label = fields[DIMENSION]
        .parse::<u8>()
        .map_err(|e| format!("label {:?}: {e}", fields[DIMENSION]))?;
    Ok((pixels, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_1797_images_of_64_pixels_with_labels() {
        let digits = load().expect("the embedded file is valid");
        assert_eq!(digits.vectors.len(), 1797);
        assert_eq!(digits.labels.len(), 1797);
        assert!(digits.vectors.iter().all(|v| v.len() == DIMENSION));
        assert!(digits
            .vectors
            .iter()
            .flatten()
            .all(|&p| (0.0..=16.0).contains(&p)));
        // scikit-learn's load_digits() starts 0, 1, 2, …
        assert_eq!(&digits.labels[..4], &[0, 1, 2, 3]);
    }

    #[test]
    fn a_corrupt_file_is_a_typed_error() {
        assert!(matches!(
            parse_gzip_csv(b"not gzip at all", "test"),
            Err(Error::BadData { .. })
        ));
        assert!(parse_row("1,2,3").is_err());
        assert!(load_from(Path::new("/no/such/digits.csv.gz")).is_err());
        let dir = tempfile::tempdir().expect("a temporary directory");
        assert!(matches!(
            load_from(dir.path()),
            Err(Error::NotARegularFile {
                kind: "directory",
                ..
            })
        ));
    }
}
