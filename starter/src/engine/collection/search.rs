//! Searching a collection: brute force over its rows, or through one of its indexes.

use super::indexes::find;
use super::{Collection, State};
use crate::engine::indexes::rerank::rerank_in_memory;
use crate::engine::scan::{BlockScorer, Lookup, ScanMode, VectorMatrix};
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::sqlite_store::stored_vectors::{for_each_vector, for_each_vector_chunk};
use crate::sqlite_store::{rows, Layout, StoreKind};
use crate::top_k::TopK;
use crate::validation::check_vector;
use crate::vector_blob::blob_as_vector;

// ANCHOR: rerank_from_memory
/// How many candidates to ask a compressed index for when this handle re-ranks them itself,
/// from the vectors it holds in memory: only when preloaded, with a re-ranking asked for, on an
/// index of codes, and with vectors found by id without a scan.
fn rerank_from_memory(
    mode: ScanMode,
    state: &State,
    index: &dyn StoredIndex,
    params: &SearchParams,
) -> Option<usize> {
    let compressed = matches!(index.record().kind, IndexKind::Pq | IndexKind::IvfPq);
    let findable = state
        .memory
        .get()
        .is_none_or(|matrix| matrix.lookup() != Lookup::Scan);
    let depth = params.rerank.filter(|&depth| depth > 0)?;
    (mode == ScanMode::Preloaded
        && state.metadata.kind == StoreKind::Vectors
        && compressed
        && findable)
        .then_some(depth.max(params.k))
}
// ANCHOR_END: rerank_from_memory

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
                let metric = state.metadata.metric;
                match (self.mode, state.metadata.layout) {
                    (ScanMode::Preloaded, _) => {
                        check_vector(query, dimension)?;
                        Ok(memory_of(connection, state)?.search(metric, query, params.k))
                    }
                    (ScanMode::Streamed, Layout::Rows) => {
                        search_every_row(connection, metric, dimension, query, params.k)
                    }
                    (ScanMode::Streamed, Layout::Chunks) => {
                        search_every_chunk(connection, metric, dimension, query, params.k)
                    }
                }
            }
            Some(name) => {
                let index = find(state, name)?;
                check_up_to_date(index, state, name)?;
                if let Some(depth) = rerank_from_memory(self.mode, state, index, params) {
                    let candidates = SearchParams {
                        k: depth,
                        rerank: None,
                        ..params.clone()
                    };
                    let candidates =
                        index.search(connection, &state.metadata, query, &candidates, self.mode)?;
                    let matrix = memory_of(connection, state)?;
                    let metric = state.metadata.metric;
                    return Ok(rerank_in_memory(
                        matrix, metric, query, candidates, params.k,
                    ));
                }
                index.search(connection, &state.metadata, query, params, self.mode)
            }
        })
    }
    // ANCHOR_END: search

    /// Loads into memory now what preloaded searches through `index` (`None`: brute force)
    /// read, so that the first query does not pay for it. Switches this handle to
    /// [`ScanMode::Preloaded`].
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; [`Error::NoRawVectors`] for brute force on a collection that
    /// keeps only codes; a storage error.
    pub fn preload(&mut self, index: Option<&str>) -> Result<()> {
        self.set_scan_mode(ScanMode::Preloaded)?;
        self.read(|connection, state| match index {
            None | Some("flat") => {
                if state.metadata.kind != StoreKind::Vectors {
                    return Err(Error::NoRawVectors {
                        path: self.path.clone(),
                    });
                }
                memory_of(connection, state).map(|_| ())
            }
            Some(name) => find(state, name)?.preload(connection),
        })?;
        // The copy in memory is what searches read now: SQLite's own cache of the pages it
        // was loaded from would only double the memory the collection costs.
        self.connection.execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

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

/// Refuses an index that no longer reflects the collection: another metric, or writes it
/// missed.
pub(super) fn check_up_to_date(
    index: &dyn crate::engine::stored_index::StoredIndex,
    state: &State,
    name: &str,
) -> Result<()> {
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
    Ok(())
}

// ANCHOR: memory_of
/// The collection's vectors in memory, read from the file the first time they are needed.
pub(super) fn memory_of<'s>(
    connection: &rusqlite::Connection,
    state: &'s State,
) -> Result<&'s VectorMatrix> {
    if let Some(matrix) = state.memory.get() {
        return Ok(matrix);
    }
    let mut matrix = VectorMatrix::new(state.metadata.dimension.unwrap_or(0));
    for_each_vector(connection, &state.metadata, |id, vector| {
        matrix.extend(&[id], vector);
        Ok(())
    })?;
    log::info!(
        "{} vectors loaded into memory ({} bytes)",
        matrix.len(),
        matrix.bytes()
    );
    Ok(state.memory.get_or_init(|| matrix))
}
// ANCHOR_END: memory_of

// ANCHOR: search_every_chunk
/// Brute force straight from SQLite, a chunk at a time: each chunk's vectors are one block
/// for the kernels, and only one chunk is in memory at a time.
fn search_every_chunk(
    connection: &rusqlite::Connection,
    metric: crate::distances::Metric,
    dimension: usize,
    query: &[f32],
    k: usize,
) -> Result<Vec<Neighbour>> {
    check_vector(query, dimension)?;
    let mut best = TopK::new(k, metric);
    let mut scorer = BlockScorer::new(metric, query);
    for_each_vector_chunk(connection, dimension, |ids, vectors| {
        scorer.offer(vectors, None, &mut best, |i| ids[i]);
        Ok(())
    })?;
    Ok(BlockScorer::finish(metric, best))
}
// ANCHOR_END: search_every_chunk

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
    // Task ch05_task1_streaming_search: write this body (chapter 5, "The search"),
    // then check it with `cargo xtask check 5`.
    todo!("ch05_task1_streaming_search: see chapter 5, section \"The search\"")
}
// ANCHOR_END: search_every_row
