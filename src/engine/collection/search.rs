//! Searching a collection: brute force over its rows, or through one of its indexes.

use super::indexes::find;
use super::Collection;
use crate::engine::{Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::sqlite_store::{rows, StoreKind};
use crate::top_k::TopK;
use crate::validation::check_vector;
use crate::vector_blob::blob_as_vector;

impl Collection {
    // ANCHOR: search
    /// The best `params.k` vectors for `query`, best first: read through the index `index`,
    /// or by brute force over every row when `index` is `None` (or `"flat"`).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; [`Error::StaleIndex`] when the index does not reflect the
    /// collection (another metric, or writes it missed); a bad query or bad parameters.
    pub fn search(
        &self,
        index: Option<&str>,
        query: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Neighbour>> {
        params.check()?;
        self.read(|connection, state| match index {
            None | Some("flat") => {
                if state.metadata.kind != StoreKind::Vectors {
                    return Err(Error::NoRawVectors {
                        path: self.path.clone(),
                    });
                }
                let Some(dimension) = state.metadata.dimension else {
                    return Ok(Vec::new()); // nothing stored yet
                };
                search_every_row(connection, state.metadata.metric, dimension, query, params.k)
            }
            Some(name) => {
                let index = find(state, name)?;
                let record = index.record();
                if record.metric != state.metadata.metric || record.built_on != state.metadata.generation {
                    return Err(Error::StaleIndex {
                        name: name.to_string(),
                        reason: format!(
                            "built for the {} metric at generation {}, the collection is {} at generation {}: rebuild it",
                            record.metric, record.built_on, state.metadata.metric, state.metadata.generation
                        ),
                    });
                }
                index.search(connection, &state.metadata, query, params)
            }
        })
    }
    // ANCHOR_END: search

    /// The cells an inverted-file search of `query` reads, best first.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; [`Error::InvalidParameter`] when `index` is not an inverted file.
    pub fn probed_cells(
        &self,
        index: &str,
        query: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<i64>> {
        self.read(|_, state| {
            find(state, index)?
                .probed_cells(query, params)?
                .ok_or_else(|| Error::InvalidParameter {
                    name: "index",
                    reason: format!("{index} is not an inverted file: it has no cells"),
                })
        })
    }
}

// ANCHOR: search_every_row
/// Brute force straight from SQLite: every row streamed through a bounded heap of the k best,
/// O(N log k) time and memory for k results whatever the size of the table.
fn search_every_row(
    connection: &rusqlite::Connection,
    metric: crate::distances::Metric,
    dimension: usize,
    query: &[f32],
    k: usize,
) -> Result<Vec<Neighbour>> {
    check_vector(query, dimension)?;
    let mut best = TopK::new(k, metric);
    let mut scratch = Vec::with_capacity(dimension);
    rows::for_each_row(connection, |id, blob| {
        let vector = blob_as_vector(blob, dimension, &mut scratch)?;
        best.push(id, metric.score(query, vector));
        Ok(())
    })?;
    Ok(best.into_neighbours())
}
// ANCHOR_END: search_every_row
