//! The knobs of one search, in one struct.
//!
//! Each index reads the knobs it has and ignores the others: `k` for all, `n_probes` for an
//! inverted file, `ef` for a graph, `rerank` for codes that can be re-scored with the exact
//! vectors. A new knob is a new field with a default, so adding one changes no signature.

use crate::error::{Error, Result};

// ANCHOR: search_params
/// How many results a search returns, and how hard an approximate index works for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    /// How many neighbours to return (at least 1).
    pub k: usize,
    /// Inverted file: how many cells to read (`None`: the index's default, 1 as in FAISS).
    pub n_probes: Option<usize>,
    /// Graph indexes: the width of the beam (`None`: the index's default).
    pub ef: Option<usize>,
    /// Compressed indexes: re-score this many best candidates with the exact vectors
    /// (`None` or `Some(0)`: no re-ranking).
    pub rerank: Option<usize>,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            k: 10,
            n_probes: None,
            ef: None,
            rerank: None,
        }
    }
}

impl SearchParams {
    /// The `k` best, every other knob at its default.
    pub fn k(k: usize) -> Self {
        SearchParams {
            k,
            ..Self::default()
        }
    }

    /// The same search, reading `n_probes` cells of an inverted file.
    pub fn with_n_probes(self, n_probes: usize) -> Self {
        SearchParams {
            n_probes: Some(n_probes),
            ..self
        }
    }

    /// The same search, with a beam of width `ef` in a graph.
    pub fn with_ef(self, ef: usize) -> Self {
        SearchParams {
            ef: Some(ef),
            ..self
        }
    }

    /// The same search, re-scoring the best `rerank` candidates exactly.
    pub fn with_rerank(self, rerank: usize) -> Self {
        SearchParams {
            rerank: Some(rerank),
            ..self
        }
    }
    // ANCHOR_END: search_params

    /// Checks the knobs every index shares.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroK`] when `k` is 0; [`Error::InvalidParameter`] when `ef` is 0.
    pub fn check(&self) -> Result<()> {
        if self.k == 0 {
            return Err(Error::ZeroK);
        }
        if self.ef == Some(0) {
            return Err(Error::InvalidParameter {
                name: "ef",
                reason: "must be at least 1".to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_set_one_knob_and_keep_the_rest() {
        let params = SearchParams::k(5).with_n_probes(4).with_rerank(50);
        assert_eq!(params.k, 5);
        assert_eq!(params.n_probes, Some(4));
        assert_eq!(params.rerank, Some(50));
        assert_eq!(params.ef, None);
        assert_eq!(SearchParams::default().k, 10);
    }

    #[test]
    fn zero_k_and_zero_ef_are_refused() {
        assert!(matches!(SearchParams::k(0).check(), Err(Error::ZeroK)));
        assert!(SearchParams::k(1).with_ef(0).check().is_err());
        assert!(SearchParams::k(1).with_ef(16).check().is_ok());
    }
}
