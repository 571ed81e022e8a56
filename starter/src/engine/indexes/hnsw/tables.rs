//! The graph in the file: one row per node, and the entry point.
//!
//! `<name>_nodes` holds, for each node, the collection's id it stands for, its level, and its
//! neighbour lists on every layer in one BLOB: for layer 0, then 1, up to its level, a count
//! followed by that many node numbers, each a little-endian `u32`. Only the links a node has
//! are stored, not the empty slots of the lists in memory. `<name>_entry` is one row: the entry
//! point, its level, and how many nodes and upper-layer lists there are, so that the size of the
//! graph is known without reading it, and a graph cut short is noticed when it is read.
//!
//! The vectors are not copied: a graph is loaded by reading its nodes, then the collection's
//! vectors, each put in the place of the node that stands for its id. Every write happens
//! inside the collection's transaction, so a process killed during a build or an insert leaves
//! the graph as it was before, or as it is after, with the vectors to match.
//!
//! `<name>_deleted` lists the nodes whose vectors were deleted from the collection, with a copy
//! of each vector: a deleted node stays in the graph as a road other nodes' lists lead through
//! (its row keeps its links, under a placeholder id), so loading the graph needs its vector
//! after the collection has let it go. The table is created by the first delete: a graph
//! never deleted from (and every file written before deletes existed) has none.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::graph::Graph;
use super::memory::Hnsw;
use super::space::Space;
use super::{HnswSettings, MAX_LEVEL};
use crate::error::{Error, Result};
use crate::sqlite_store::stored_vectors::for_each_vector;
use crate::sqlite_store::Metadata;
use crate::vector_blob::{blob_to_vector, vector_to_blob};

/// What the entry row says: where searches start, and how large the graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// `(node, level)` of the entry point, `None` for an empty graph.
    pub entry: Option<(u32, usize)>,
    /// How many nodes.
    pub nodes: usize,
    /// How many lists above layer 0 (the sum of the nodes' levels).
    pub upper_lists: usize,
}

impl Summary {
    /// The summary of a graph in memory.
    pub fn of(graph: &Graph) -> Self {
        Summary {
            entry: graph.entry(),
            nodes: graph.len(),
            upper_lists: graph.levels().iter().map(|&l| usize::from(l)).sum(),
        }
    }
}

/// The tables of the graph index `name`.
#[derive(Debug, Clone)]
pub struct GraphTables {
    nodes: String,
    entry: String,
    deleted: String,
}

impl GraphTables {
    pub fn new(name: &str) -> Self {
        GraphTables {
            nodes: format!("{name}_nodes"),
            entry: format!("{name}_entry"),
            deleted: format!("{name}_deleted"),
        }
    }

    /// The name of the nodes table.
    pub fn nodes_table(&self) -> &str {
        &self.nodes
    }

    // ANCHOR: graph_tables
    /// Creates the two tables.
    pub fn create(&self, connection: &Connection) -> Result<()> {
        connection.execute_batch(&format!(
            "CREATE TABLE {nodes} (
                 node  INTEGER PRIMARY KEY,     -- 0, 1, 2, ... in insertion order
                 id    INTEGER NOT NULL UNIQUE, -- the collection's id
                 level INTEGER NOT NULL,        -- the top layer the node is on
                 links BLOB NOT NULL            -- per layer 0..=level: count, then nodes (u32 LE)
             );
             CREATE TABLE {entry} (
                 one         INTEGER PRIMARY KEY CHECK (one = 1),
                 node        INTEGER NOT NULL,  -- where every search starts
                 level       INTEGER NOT NULL,  -- its level, the graph's top layer
                 nodes       INTEGER NOT NULL,  -- rows of the nodes table
                 upper_lists INTEGER NOT NULL   -- the sum of their levels
             );",
            nodes = self.nodes,
            entry = self.entry
        ))?;
        Ok(())
    }
    // ANCHOR_END: graph_tables

    /// Creates the table of deleted nodes, if it is not there yet.
    pub fn create_deleted(&self, connection: &Connection) -> Result<()> {
        connection.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                 node   INTEGER PRIMARY KEY,  -- a node whose vector the collection deleted
                 vector BLOB NOT NULL         -- that vector, to keep routing through the node
             );",
            self.deleted
        ))?;
        Ok(())
    }

    // ANCHOR: write_deleted
    /// Records `nodes` as deleted: their vectors kept here, their rows rewritten with the
    /// placeholder ids the graph gave them.
    pub fn write_deleted(&self, connection: &Connection, hnsw: &Hnsw, nodes: &[u32]) -> Result<()> {
        self.create_deleted(connection)?;
        let mut insert = connection.prepare_cached(&format!(
            "INSERT OR REPLACE INTO {} (node, vector) VALUES (?1, ?2)",
            self.deleted
        ))?;
        for &node in nodes {
            insert.execute(params![node, vector_to_blob(hnsw.space().vector(node))])?;
        }
        self.write(connection, hnsw, nodes.iter().copied())
    }
    // ANCHOR_END: write_deleted

    /// How many nodes the table of deleted nodes lists (0 when there is no such table), read
    /// without loading the graph.
    pub fn count_deleted(&self, connection: &Connection) -> Result<usize> {
        if !self.has_deleted_table(connection)? {
            return Ok(0);
        }
        let n: i64 = connection.query_row(
            &format!("SELECT count(*) FROM {}", self.deleted),
            [],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn has_deleted_table(&self, connection: &Connection) -> Result<bool> {
        Ok(connection.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [&self.deleted],
            |row| row.get(0),
        )?)
    }

    /// The deleted nodes and their vectors, checked against the graph's `n` nodes and the
    /// `dimension`; none when the table does not exist.
    fn read_deleted(
        &self,
        connection: &Connection,
        n: usize,
        dimension: usize,
    ) -> Result<Vec<(u32, Vec<f32>)>> {
        if !self.has_deleted_table(connection)? {
            return Ok(Vec::new());
        }
        let bad = |reason: String| Error::BadData {
            path: format!("table {}", self.deleted),
            reason,
        };
        let mut statement =
            connection.prepare(&format!("SELECT node, vector FROM {}", self.deleted))?;
        let mut rows = statement.query([])?;
        let mut deleted = Vec::new();
        while let Some(row) = rows.next()? {
            let node: i64 = row.get(0)?;
            let node = u32::try_from(node)
                .ok()
                .filter(|&node| (node as usize) < n)
                .ok_or_else(|| bad(format!("node {node} of a graph of {n}")))?;
            let blob = row
                .get_ref(1)?
                .as_blob()
                .map_err(|e| bad(format!("node {node}: {e}")))?;
            let vector =
                blob_to_vector(blob, dimension).map_err(|e| bad(format!("node {node}: {e}")))?;
            deleted.push((node, vector));
        }
        Ok(deleted)
    }

    /// Drops both tables, if they exist.
    pub fn drop(&self, connection: &Connection) -> Result<()> {
        connection.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
            self.nodes, self.entry, self.deleted
        ))?;
        Ok(())
    }

    /// Writes (or rewrites) the rows of `nodes`, then the entry row.
    pub fn write(
        &self,
        connection: &Connection,
        hnsw: &Hnsw,
        nodes: impl IntoIterator<Item = u32>,
    ) -> Result<()> {
        let mut upsert = connection.prepare_cached(&format!(
            "INSERT OR REPLACE INTO {} (node, id, level, links) VALUES (?1, ?2, ?3, ?4)",
            self.nodes
        ))?;
        let mut links = Vec::new();
        for node in nodes {
            encode_links(hnsw.graph(), node, &mut links);
            upsert
                .execute(params![
                    node,
                    hnsw.ids()[node as usize],
                    hnsw.graph().level(node) as i64,
                    links
                ])
                .map_err(|e| {
                    crate::sqlite_store::rows::duplicate_or_other(e, hnsw.ids()[node as usize])
                })?;
        }
        let summary = Summary::of(hnsw.graph());
        let (entry, level) = summary.entry.unwrap_or((0, 0));
        connection.execute(
            &format!(
                "INSERT OR REPLACE INTO {} (one, node, level, nodes, upper_lists)
                 VALUES (1, ?1, ?2, ?3, ?4)",
                self.entry
            ),
            params![
                entry,
                level as i64,
                summary.nodes as i64,
                summary.upper_lists as i64
            ],
        )?;
        Ok(())
    }

    /// Reads the entry row.
    ///
    /// # Errors
    ///
    /// An SQLite error when the table is missing; [`Error::BadIndexRecord`] when the row is
    /// missing or out of range.
    pub fn read_summary(&self, connection: &Connection, index: &str) -> Result<Summary> {
        let row: Option<(i64, i64, i64, i64)> = connection
            .query_row(
                &format!(
                    "SELECT node, level, nodes, upper_lists FROM {} WHERE one = 1",
                    self.entry
                ),
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        let bad = |reason: String| Error::BadIndexRecord {
            index: index.to_string(),
            reason,
        };
        let (node, level, nodes, upper_lists) =
            row.ok_or_else(|| bad(format!("table {} has no entry row", self.entry)))?;
        let nodes = usize::try_from(nodes).map_err(|_| bad(format!("{nodes} nodes")))?;
        let upper_lists =
            usize::try_from(upper_lists).map_err(|_| bad(format!("{upper_lists} upper lists")))?;
        let node = u32::try_from(node)
            .ok()
            .filter(|&n| (n as usize) < nodes || nodes == 0)
            .ok_or_else(|| bad(format!("entry node {node} of {nodes}")))?;
        let level = usize::try_from(level)
            .ok()
            .filter(|&l| l <= MAX_LEVEL)
            .ok_or_else(|| bad(format!("entry level {level}")))?;
        Ok(Summary {
            entry: (nodes > 0).then_some((node, level)),
            nodes,
            upper_lists,
        })
    }

    // ANCHOR: load_graph
    /// Reads the whole graph back, and the collection's vectors into its nodes.
    ///
    /// # Errors
    ///
    /// [`Error::BadData`] naming the table and node for anything that does not hold together:
    /// nodes not numbered `0..n`, a level or a list too large, a link to a node that is not on
    /// that layer, a node whose id the collection lacks, counts that disagree with the entry row.
    pub fn load(
        &self,
        connection: &Connection,
        settings: HnswSettings,
        collection: &Metadata,
        summary: Summary,
    ) -> Result<Hnsw> {
        let dimension = collection.dimension.unwrap_or(0);
        let (graph, ids) = self.read_graph(connection, settings.m, summary)?;
        let mut space = Space::zeroed(collection.metric, dimension, ids.len());
        let deleted = self.read_deleted(connection, ids.len(), dimension)?;
        let mut filled = vec![false; ids.len()];
        for (node, vector) in &deleted {
            space.set(*node, vector);
            filled[*node as usize] = true;
        }
        // A deleted node's id is a placeholder: it is not looked for in the collection.
        let node_of: HashMap<i64, u32> = (0u32..)
            .zip(ids.iter().copied())
            .filter(|(n, _)| !filled[*n as usize])
            .map(|(n, id)| (id, n))
            .collect();
        for_each_vector(connection, collection, |id, vector| {
            if let Some(&node) = node_of.get(&id) {
                space.set(node, vector);
                filled[node as usize] = true;
            }
            Ok(())
        })?;
        if let Some(node) = filled.iter().position(|&f| !f) {
            return Err(self.damaged(format!(
                "node {node} stands for id {}, which the collection does not hold",
                ids[node]
            )));
        }
        let mut hnsw = Hnsw::from_parts(settings, graph, space, ids);
        for (node, _) in deleted {
            let placeholder = hnsw.ids()[node as usize];
            hnsw.mark_deleted(node, placeholder);
        }
        Ok(hnsw)
    }
    // ANCHOR_END: load_graph

    /// The nodes table as a graph, checked against `summary`.
    fn read_graph(
        &self,
        connection: &Connection,
        m: usize,
        summary: Summary,
    ) -> Result<(Graph, Vec<i64>)> {
        let mut graph = Graph::new(m);
        // The entry row's count is the file's word, checked only once the rows are read: it
        // may reserve room for a few nodes, not for as many as a damaged row claims.
        let reserve = summary.nodes.min(1 << 16);
        let mut ids = Vec::with_capacity(reserve);
        let mut levels = Vec::with_capacity(reserve);
        let mut lists: Vec<Vec<Vec<u32>>> = Vec::with_capacity(reserve);
        let mut statement = connection.prepare(&format!(
            "SELECT node, id, level, links FROM {} ORDER BY node",
            self.nodes
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (node, id, level): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if usize::try_from(node).ok() != Some(ids.len()) {
                return Err(self.damaged(format!(
                    "nodes are not numbered 0, 1, 2, ...: {node} comes after {}",
                    ids.len() as i64 - 1
                )));
            }
            let level = usize::try_from(level)
                .ok()
                .filter(|&l| l <= MAX_LEVEL)
                .ok_or_else(|| self.damaged(format!("node {node} has level {level}")))?;
            let blob = row
                .get_ref(3)?
                .as_blob()
                .map_err(|e| self.damaged(format!("node {node}: {e}")))?;
            lists.push(
                decode_links(blob, level, m)
                    .map_err(|reason| self.damaged(format!("node {node}: {reason}")))?,
            );
            ids.push(id);
            levels.push(level);
        }
        if ids.len() != summary.nodes {
            return Err(self.damaged(format!(
                "{} nodes stored, the entry row says {}",
                ids.len(),
                summary.nodes
            )));
        }
        for &level in &levels {
            graph.add_node(level);
        }
        for (node, node_lists) in (0u32..).zip(&lists) {
            for (layer, list) in node_lists.iter().enumerate() {
                if let Some(&bad) = list
                    .iter()
                    .find(|&&n| levels.get(n as usize).is_none_or(|&l| l < layer))
                {
                    return Err(self.damaged(format!("node {node} links on layer {layer} to node {bad}, which is not on that layer")));
                }
                graph.set_neighbours(node, layer, list);
            }
        }
        if let Some((entry, level)) = summary.entry {
            if levels.get(entry as usize) != Some(&level) || levels.iter().any(|&l| l > level) {
                return Err(self.damaged(format!(
                    "the entry point {entry} at level {level} is not on the top layer"
                )));
            }
            graph.set_entry(entry, level);
        }
        if Summary::of(&graph) != summary {
            return Err(self.damaged("the entry row's counts disagree with the nodes".to_string()));
        }
        Ok((graph, ids))
    }

    fn damaged(&self, reason: String) -> Error {
        Error::BadData {
            path: format!("table {}", self.nodes),
            reason,
        }
    }
}

// ANCHOR: encode_links
/// The lists of `node`, layer 0 first, as stored: per layer a count, then the nodes.
pub fn encode_links(graph: &Graph, node: u32, out: &mut Vec<u8>) {
    out.clear();
    for layer in 0..=graph.level(node) {
        let list = graph.neighbours(node, layer);
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for &neighbour in list {
            out.extend_from_slice(&neighbour.to_le_bytes());
        }
    }
}
// ANCHOR_END: encode_links

/// The lists of a node of `level` from their stored form, each checked against its layer's
/// capacity (`2·m` on layer 0, `m` above) before anything is allocated for it.
///
/// # Errors
///
/// What is wrong with the BLOB, in words.
pub fn decode_links(
    blob: &[u8],
    level: usize,
    m: usize,
) -> std::result::Result<Vec<Vec<u32>>, String> {
    let mut words = blob
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    if !blob.len().is_multiple_of(4) {
        return Err(format!(
            "a links BLOB of {} bytes is not whole u32s",
            blob.len()
        ));
    }
    let mut lists = Vec::with_capacity(level + 1);
    for layer in 0..=level {
        let capacity = if layer == 0 { 2 * m } else { m };
        let count = words
            .next()
            .ok_or_else(|| format!("the links stop before layer {layer}"))?
            as usize;
        if count > capacity {
            return Err(format!(
                "{count} links on layer {layer}, where at most {capacity} fit"
            ));
        }
        let list: Vec<u32> = words.by_ref().take(count).collect();
        if list.len() != count {
            return Err(format!(
                "layer {layer} announces {count} links and holds {}",
                list.len()
            ));
        }
        lists.push(list);
    }
    if words.next().is_some() {
        return Err(format!("the links go on past layer {level}"));
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_and_damaged_blobs_are_refused() {
        let mut graph = Graph::new(2);
        for level in [0, 1, 0] {
            graph.add_node(level);
        }
        graph.set_neighbours(1, 0, &[0, 2]);
        graph.set_neighbours(1, 1, &[0]);
        let mut blob = Vec::new();
        encode_links(&graph, 1, &mut blob);
        assert_eq!(blob.len(), 4 * (1 + 2 + 1 + 1));
        assert_eq!(decode_links(&blob, 1, 2), Ok(vec![vec![0, 2], vec![0]]));
        assert!(decode_links(&blob, 0, 2).is_err(), "longer than its level");
        assert!(decode_links(&blob, 2, 2).is_err(), "shorter than its level");
        assert!(decode_links(&blob[..7], 1, 2).is_err(), "not whole words");
        let mut huge = blob.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            decode_links(&huge, 1, 2).is_err(),
            "a count past the capacity"
        );
    }
}
