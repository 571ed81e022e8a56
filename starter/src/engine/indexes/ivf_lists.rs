//! The inverted lists of an inverted file, in chunks: each cell's vectors end to end.
//!
//! In the row layout (chapter 6) a probe reads its cell row by row through an SQL index on
//! `cell`: one B-tree seek and one small BLOB per vector. Here each cell is a list of chunks
//! of the `<name>_lists` chunk table, so a probe reads its cell's one or few BLOBs and scores
//! each as a block. Preloaded, each cell is a [`VectorMatrix`] in memory.

use rusqlite::Connection;

use crate::engine::scan::{BlockScorer, VectorMatrix};
use crate::error::{Error, Result};
use crate::sqlite_store::chunks::ChunkTable;
use crate::sqlite_store::stored_vectors::vectors_to_bytes;
use crate::top_k::TopK;
use crate::vector_blob::blob_as_vector;

/// The chunk table of an inverted file's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedLists {
    table: ChunkTable,
    dimension: usize,
}

impl ChunkedLists {
    /// The lists of the index `name`, of vectors of `dimension`.
    pub fn new(name: &str, dimension: usize) -> Self {
        ChunkedLists {
            table: ChunkTable::new(format!("{name}_lists"), dimension * 4),
            dimension,
        }
    }

    /// Creates the table.
    pub fn create(&self, connection: &Connection) -> Result<()> {
        self.table.create(connection)
    }

    /// Empties every list.
    pub fn clear(&self, connection: &Connection) -> Result<()> {
        self.table.clear(connection)
    }

    // ANCHOR: append_filed
    /// Appends `filed` vectors, given as `(cell, id, vector)` sorted by cell, to their lists:
    /// one append (so one or a few BLOB writes) per cell.
    pub fn append_filed(
        &self,
        connection: &Connection,
        filed: &[(i64, i64, &[f32])],
    ) -> Result<()> {
        for run in filed.chunk_by(|a, b| a.0 == b.0) {
            let ids: Vec<i64> = run.iter().map(|&(_, id, _)| id).collect();
            let vectors: Vec<&[f32]> = run.iter().map(|&(_, _, vector)| vector).collect();
            let bytes = vectors_to_bytes(&vectors);
            self.table.append(connection, run[0].0, &ids, &bytes)?;
        }
        Ok(())
    }
    // ANCHOR_END: append_filed

    // ANCHOR: ivf_remove_chunked
    /// Takes the vectors of `ids` out of their lists. Where a vector is filed is not kept (the
    /// cell its vector is nearest to could tie), so one pass over every list finds them.
    pub fn remove(&self, connection: &Connection, ids: &[i64]) -> Result<()> {
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        let located = self.table.locate(connection, None, &wanted)?;
        self.table.remove_located(connection, located)?;
        Ok(())
    }
    // ANCHOR_END: ivf_remove_chunked

    // ANCHOR: scan_cell
    /// Scores every vector of `cell` and offers it to `best`, a chunk per kernel call.
    pub fn scan_cell(
        &self,
        connection: &Connection,
        cell: i64,
        scorer: &mut BlockScorer<'_>,
        best: &mut TopK<i64>,
    ) -> Result<()> {
        let (mut ids, mut scratch) = (Vec::new(), Vec::new());
        self.table.for_each_chunk(connection, Some(cell), |chunk| {
            chunk.ids_into(&mut ids);
            let vectors = blob_as_vector(chunk.items, chunk.count * self.dimension, &mut scratch)?;
            scorer.offer(vectors, None, best, |i| ids[i]);
            Ok(())
        })
    }
    // ANCHOR_END: scan_cell

    /// Every `(id, vector)` of every list.
    pub fn read_all(&self, connection: &Connection) -> Result<Vec<(i64, Vec<f32>)>> {
        let mut rows = Vec::new();
        let mut scratch = Vec::new();
        self.table.for_each_chunk(connection, None, |chunk| {
            let vectors = blob_as_vector(chunk.items, chunk.count * self.dimension, &mut scratch)?;
            for (i, vector) in vectors.chunks_exact(self.dimension).enumerate() {
                rows.push((chunk.id(i), vector.to_vec()));
            }
            Ok(())
        })?;
        Ok(rows)
    }

    /// Every list in memory, one matrix per cell (`nlist` of them).
    pub fn load(&self, connection: &Connection, nlist: usize) -> Result<Vec<VectorMatrix>> {
        let mut cells = vec![VectorMatrix::new(self.dimension); nlist];
        let (mut ids, mut scratch) = (Vec::new(), Vec::new());
        self.table.for_each_chunk(connection, None, |chunk| {
            chunk.ids_into(&mut ids);
            let vectors = blob_as_vector(chunk.items, chunk.count * self.dimension, &mut scratch)?;
            // A list of a cell that does not exist is damage: its vectors would silently
            // drop out of every preloaded search.
            let cell = usize::try_from(chunk.list)
                .ok()
                .and_then(|c| cells.get_mut(c))
                .ok_or_else(|| Error::BadData {
                    path: format!("table {}", self.table.name()),
                    reason: format!("a list for cell {}, of {nlist} cells", chunk.list),
                })?;
            cell.extend(&ids, vectors);
            Ok(())
        })?;
        Ok(cells)
    }
}
