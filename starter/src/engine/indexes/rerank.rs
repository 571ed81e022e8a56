//! Re-ranking: the best candidates of a compressed index, scored again with the exact vectors.
//!
//! A product-quantization score is an estimate: two codes a hair apart in estimated distance
//! may be in the other order in truth, and the true k-th neighbour often sits just below the
//! k-th estimate. Asking the codes for more candidates than k (`rerank` of them) and scoring
//! those with the collection's raw vectors puts the true neighbours back in order, for the
//! price of reading `rerank` vectors per query. FAISS's `IndexRefineFlat` does the same.
//!
//! Where those vectors come from decides what re-ranking costs: a read from SQLite per
//! candidate (a few microseconds each), or, when the collection's vectors are preloaded, a
//! look-up in memory, as FAISS keeps its second copy of the vectors.

use rusqlite::Connection;

use crate::distances::Metric;
use crate::engine::neighbour::sort_best_first;
use crate::engine::scan::VectorMatrix;
use crate::engine::Neighbour;
use crate::error::Result;
use crate::sqlite_store::stored_vectors::read_vectors;
use crate::sqlite_store::Metadata;

// ANCHOR: rerank
/// The best `k` of `candidates`, scored exactly with their vectors read from the collection
/// under its metric. A candidate whose vector is gone is left out rather than guessed at.
///
/// # Errors
///
/// A damaged row or chunk of the collection ([`read_vectors`]).
pub fn rerank_exactly(
    connection: &Connection,
    collection: &Metadata,
    query: &[f32],
    candidates: Vec<Neighbour>,
    k: usize,
) -> Result<Vec<Neighbour>> {
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let mut exact: Vec<Neighbour> = read_vectors(connection, collection, &ids)?
        .into_iter()
        .map(|(id, vector)| Neighbour::new(id, collection.metric.score(query, &vector)))
        .collect();
    sort_best_first(&mut exact, collection.metric);
    exact.truncate(k);
    Ok(exact)
}
// ANCHOR_END: rerank

// ANCHOR: rerank_in_memory
/// As [`rerank_exactly`], the vectors looked up in `matrix` (the collection's vectors held in
/// memory) rather than read from SQLite.
pub fn rerank_in_memory(
    matrix: &VectorMatrix,
    metric: Metric,
    query: &[f32],
    candidates: Vec<Neighbour>,
    k: usize,
) -> Vec<Neighbour> {
    let mut exact: Vec<Neighbour> = candidates
        .into_iter()
        .filter_map(|c| {
            matrix
                .vector_of(c.id)
                .map(|v| Neighbour::new(c.id, metric.score(query, v)))
        })
        .collect();
    sort_best_first(&mut exact, metric);
    exact.truncate(k);
    exact
}
// ANCHOR_END: rerank_in_memory
