//! Checking a graph index: its rows hold together, and it links every vector of the collection.
//!
//! Reading the graph back ([`GraphTables::load`]) checks its structure: nodes numbered
//! `0..n`, lists no longer than their layer allows, links only to nodes on that layer, an entry
//! point on the top layer, counts that agree with the entry row, and a vector in the collection
//! for every node but the deleted ones (whose vectors `<name>_deleted` keeps). What is left is
//! the other direction: a vector of the collection that no node stands for is one no search
//! through the graph can return.

use std::collections::HashSet;

use rusqlite::Connection;

use super::problem;
use super::Problem;
use crate::engine::catalog::IndexRecord;
use crate::engine::indexes::hnsw::tables::GraphTables;
use crate::engine::indexes::HnswIndex;
use crate::error::Result;
use crate::sqlite_store::stored_vectors::for_each_vector;
use crate::sqlite_store::Metadata;

/// Every problem of the graph index of `record`.
///
/// # Errors
///
/// A storage error while reading the collection's vectors.
pub fn graph_tables(
    connection: &Connection,
    record: IndexRecord,
    metadata: &Metadata,
) -> Result<Vec<Problem>> {
    let name = record.name.clone();
    let index = match HnswIndex::load(connection, record, metadata) {
        Ok(index) => index,
        Err(e) => return Ok(vec![problem(format!("{name}_*"), e.to_string())]),
    };
    let graph = match index.graph(connection) {
        Ok(graph) => graph,
        Err(e) => {
            return Ok(vec![problem(
                GraphTables::new(&name).nodes_table(),
                e.to_string(),
            )])
        }
    };
    let linked: HashSet<i64> = graph.ids().iter().copied().collect();
    let mut missing = 0usize;
    for_each_vector(connection, metadata, |id, _| {
        missing += usize::from(!linked.contains(&id));
        Ok(())
    })?;
    Ok(if missing > 0 {
        vec![problem(
            GraphTables::new(&name).nodes_table(),
            format!("{missing} ids of the collection are not in the graph"),
        )]
    } else {
        Vec::new()
    })
}
