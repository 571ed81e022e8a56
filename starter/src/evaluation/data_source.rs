//! Where the vectors of an evaluation come from.
//!
//! Three sources: the digits set shipped with the crate (what the original evaluates on), a
//! seeded clustered set of any size (to see how an index scales), and `.npy` files (to evaluate
//! embeddings made elsewhere, such as sentence-transformers output saved with `np.save`).

use std::path::PathBuf;

use crate::datasets::clustered::{self, ClusteredSpec};
use crate::datasets::{digits, npy};
use crate::error::Result;

// ANCHOR: data_source
/// A set of vectors to load.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// The 1,797 handwritten digits, 64 values each.
    Digits,
    /// A 2-D float32 or float64 `.npy` file, one vector per row.
    Npy(PathBuf),
    /// A seeded clustered set.
    Clustered(ClusteredSpec),
}

impl DataSource {
    /// Loads the vectors, one per row.
    pub fn load(&self) -> Result<Vec<Vec<f32>>> {
        match self {
            DataSource::Digits => Ok(digits::load()?.vectors),
            DataSource::Npy(path) => npy::load_vectors(path),
            DataSource::Clustered(spec) => clustered::generate(spec),
        }
    }
    // ANCHOR_END: data_source

    /// A short description for logs and plot titles.
    pub fn describe(&self) -> String {
        match self {
            DataSource::Digits => "digits".to_string(),
            DataSource::Npy(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
            DataSource::Clustered(spec) => format!(
                "clustered {}x{}, {} centres",
                spec.n_vectors, spec.dimension, spec.n_clusters
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_generated_sets_load() {
        let digits = DataSource::Digits.load().expect("embedded set");
        assert_eq!((digits.len(), digits[0].len()), (1797, 64));
        let spec = ClusteredSpec {
            n_vectors: 30,
            dimension: 4,
            n_clusters: 3,
            noise: 0.1,
            seed: 1,
        };
        let generated = DataSource::Clustered(spec).load().expect("valid spec");
        assert_eq!((generated.len(), generated[0].len()), (30, 4));
        assert_eq!(
            DataSource::Clustered(spec).describe(),
            "clustered 30x4, 3 centres"
        );
    }

    #[test]
    fn a_missing_file_is_an_error() {
        assert!(DataSource::Npy("/no/such/base.npy".into()).load().is_err());
        assert_eq!(
            DataSource::Npy("/data/base.npy".into()).describe(),
            "base.npy"
        );
    }
}
