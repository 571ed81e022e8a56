//! The inverted lists of IVF-PQ in the collection's file: per cell, the ids and codes filed
//! in it.
//!
//! In a collection of the chunked layout, `<name>_lists` is a chunk table ([`ChunkTable`])
//! whose items are codes of `m` bytes and whose lists are the cells: a probe reads its cell's
//! one or few BLOBs, 1,024 codes each, the layout of the inverted file's lists
//! ([`super::super::ivf_lists`]) with codes in place of vectors. In the row layout of chapters
//! 4 to 8 it is one row per vector, `(cell, id, code)`, read cell by cell through an SQL index
//! on `cell`. Preloaded, each cell is a [`CellCodes`] in memory: its ids, and its codes end to
//! end.
//!
//! Everything read back is checked before it is used: a list for a cell that does not exist,
//! a code of the wrong length or a chunk that does not add up is [`Error::BadData`] naming the
//! table, never a panic or a code silently dropped.

use rusqlite::{params, Connection};

use crate::error::{Error, Result};
use crate::sqlite_store::chunks::ChunkTable;
use crate::sqlite_store::Layout;

/// The ids and codes of one cell, in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellCodes {
    /// The ids, in storage order.
    pub ids: Vec<i64>,
    /// `ids.len()` codes of `m` bytes, end to end.
    pub codes: Vec<u8>,
}

/// The lists table of an IVF-PQ index, in the collection's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lists {
    table: String,
    layout: Layout,
    m: usize,
}

impl Lists {
    /// The lists of the index `name`, of codes of `m` bytes, in `layout`.
    pub fn new(name: &str, layout: Layout, m: usize) -> Self {
        Lists {
            table: format!("{name}_lists"),
            layout,
            m,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn chunks(&self) -> ChunkTable {
        ChunkTable::new(self.table.clone(), self.m)
    }

    fn bad(&self, reason: String) -> Error {
        Error::BadData {
            path: format!("table {}", self.table),
            reason,
        }
    }

    // ANCHOR: lists_schema
    /// Creates the table (inside the caller's transaction).
    ///
    /// # Errors
    ///
    /// An SQLite error, such as the table existing already.
    pub fn create(&self, connection: &Connection) -> Result<()> {
        if self.layout == Layout::Chunks {
            return self.chunks().create(connection);
        }
        connection.execute_batch(&format!(
            "CREATE TABLE {table} (
                 position INTEGER PRIMARY KEY,      -- storage order: cell by cell at build time
                 cell     INTEGER NOT NULL,
                 id       INTEGER NOT NULL UNIQUE,  -- the collection's id
                 code     BLOB NOT NULL             -- m bytes: the residual's code
             );
             CREATE INDEX {table}_by_cell ON {table} (cell);",
            table = self.table
        ))?;
        Ok(())
    }
    // ANCHOR_END: lists_schema

    /// Removes the table if it exists.
    ///
    /// # Errors
    ///
    /// An SQLite error.
    pub fn drop_table(&self, connection: &Connection) -> Result<()> {
        connection.execute_batch(&format!("DROP TABLE IF EXISTS {}", self.table))?;
        Ok(())
    }

    /// Appends `filed` codes, given as `(cell, id, code)` sorted by cell, to their lists: one
    /// append per cell in the chunked layout.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateId`] in the row layout; a damaged chunk; an SQLite error.
    pub fn append(&self, connection: &Connection, filed: &[(usize, i64, &[u8])]) -> Result<()> {
        if self.layout == Layout::Chunks {
            let table = self.chunks();
            for run in filed.chunk_by(|a, b| a.0 == b.0) {
                let ids: Vec<i64> = run.iter().map(|&(_, id, _)| id).collect();
                let codes: Vec<u8> = run.iter().flat_map(|&(_, _, code)| code).copied().collect();
                table.append(connection, run[0].0 as i64, &ids, &codes)?;
            }
            return Ok(());
        }
        let mut insert = connection.prepare_cached(&format!(
            "INSERT INTO {} (cell, id, code) VALUES (?1, ?2, ?3)",
            self.table
        ))?;
        for &(cell, id, code) in filed {
            insert
                .execute(params![cell as i64, id, code])
                .map_err(|e| crate::sqlite_store::rows::duplicate_or_other(e, id))?;
        }
        Ok(())
    }

    // ANCHOR: ivfpq_remove
    /// Takes the codes of `ids` out of their lists: a row delete each in the row layout; in
    /// the chunked one, one pass over every list finds them (a vector's cell is not kept), and
    /// each hole is filled with its list's last code, as the inverted file's lists do.
    ///
    /// # Errors
    ///
    /// A damaged chunk; an SQLite error.
    pub fn remove(&self, connection: &Connection, ids: &[i64]) -> Result<()> {
        if self.layout == Layout::Chunks {
            let table = self.chunks();
            let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
            let located = table.locate(connection, None, &wanted)?;
            table.remove_located(connection, located)?;
            return Ok(());
        }
        let mut delete =
            connection.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", self.table))?;
        for &id in ids {
            delete.execute([id])?;
        }
        Ok(())
    }
    // ANCHOR_END: ivfpq_remove

    // ANCHOR: visit_cell
    /// Calls `visit(ids, codes)` with the contents of `cell`, read from the file: a chunk at a
    /// time in the chunked layout, the whole cell at once in the row layout.
    ///
    /// # Errors
    ///
    /// [`Error::BadData`] for a damaged chunk or a code of the wrong length; an SQLite error;
    /// the first error of `visit`.
    pub fn visit_cell(
        &self,
        connection: &Connection,
        cell: usize,
        mut visit: impl FnMut(&[i64], &[u8]) -> Result<()>,
    ) -> Result<()> {
        let cell = i64::try_from(cell).unwrap_or(i64::MAX);
        if self.layout == Layout::Chunks {
            let mut ids = Vec::new();
            return self
                .chunks()
                .for_each_chunk(connection, Some(cell), |chunk| {
                    chunk.ids_into(&mut ids);
                    visit(&ids, chunk.items)
                });
        }
        let mut statement = connection.prepare_cached(&format!(
            "SELECT id, code FROM {} WHERE cell = ?1 ORDER BY position",
            self.table
        ))?;
        let mut rows = statement.query([cell])?;
        let mut list = CellCodes::default();
        while let Some(row) = rows.next()? {
            self.push_row(&mut list, row.get(0)?, row.get_ref(1)?)?;
        }
        visit(&list.ids, &list.codes)
    }
    // ANCHOR_END: visit_cell

    /// Every list in memory, one per cell (`nlist` of them), checked.
    ///
    /// # Errors
    ///
    /// [`Error::BadData`] for a list of a cell that does not exist, a code of the wrong length
    /// or a damaged chunk; an SQLite error.
    pub fn load(&self, connection: &Connection, nlist: usize) -> Result<Vec<CellCodes>> {
        let mut cells = vec![CellCodes::default(); nlist];
        if self.layout == Layout::Chunks {
            self.chunks().for_each_chunk(connection, None, |chunk| {
                let list = usize::try_from(chunk.list)
                    .ok()
                    .and_then(|c| cells.get_mut(c))
                    .ok_or_else(|| {
                        self.bad(format!("a list for cell {}, of {nlist} cells", chunk.list))
                    })?;
                list.ids.extend((0..chunk.count).map(|i| chunk.id(i)));
                list.codes.extend_from_slice(chunk.items);
                Ok(())
            })?;
            return Ok(cells);
        }
        let mut statement = connection.prepare(&format!(
            "SELECT cell, id, code FROM {} ORDER BY position",
            self.table
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (cell, id): (i64, i64) = (row.get(0)?, row.get(1)?);
            let list = usize::try_from(cell)
                .ok()
                .and_then(|c| cells.get_mut(c))
                .ok_or_else(|| {
                    self.bad(format!(
                        "row {id} is filed in cell {cell}, of {nlist} cells"
                    ))
                })?;
            self.push_row(list, id, row.get_ref(2)?)?;
        }
        Ok(cells)
    }

    /// Appends one row's code to `list`, checked to be a BLOB of `m` bytes.
    fn push_row(
        &self,
        list: &mut CellCodes,
        id: i64,
        code: rusqlite::types::ValueRef<'_>,
    ) -> Result<()> {
        let code = code
            .as_blob()
            .map_err(|e| self.bad(format!("row {id}: {e}")))?;
        if code.len() != self.m {
            return Err(self.bad(format!(
                "row {id}: a code of {} bytes, expected m = {}",
                code.len(),
                self.m
            )));
        }
        list.ids.push(id);
        list.codes.extend_from_slice(code);
        Ok(())
    }
}
