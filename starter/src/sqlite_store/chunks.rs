//! Chunked storage: many vectors (or codes) end to end in one BLOB.
//!
//! One row per vector (chapter 4) is the layout to learn with, and a slow one to scan: every
//! vector costs a step of the B-tree, the decoding of a row, and a copy of a small BLOB. A
//! **chunk** keeps up to [`CHUNK_CAPACITY`] items in one contiguous BLOB, with their ids in a
//! second one, so a scan reads a few large BLOBs and scores each one as a block with the
//! vector kernels. sqlite-vec stores 1,024 vectors per BLOB for the same reason.
//!
//! A chunk table holds several **lists** of chunks: a collection has one (list 0); an inverted
//! file has one per cell, so a probe reads its cell's few chunks and nothing else. A list is
//! appended to, never rewritten: the last chunk is filled in place through SQLite's incremental
//! BLOB I/O, and when it is full a new chunk starts. A chunk written in bulk is sized exactly; one
//! that grows doubles its capacity (up to [`CHUNK_CAPACITY`]), so adding vectors one at a time
//! costs an amortised constant number of copies per vector, as a `Vec` does.
//!
//! Deleting an item moves the last item of its list into the hole (FAISS's inverted lists
//! remove the same way): every chunk but a list's last stays full, a scan never meets a dead
//! slot, and the space a delete frees is the end of the list, which SQLite reuses or `VACUUM`
//! gives back. The price is that items move: whoever knows where an item sits (the collection's
//! `position`) is told where each moved one went.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, MAIN_DB};

use crate::error::{Error, Result};

// ANCHOR: chunk_capacity
/// The most items a chunk holds: 1,024 vectors of 128 floats make a 512 KiB BLOB.
pub const CHUNK_CAPACITY: usize = 1024;
// ANCHOR_END: chunk_capacity

const ID_BYTES: usize = std::mem::size_of::<i64>();

/// A table of chunks whose items are `item_bytes` bytes each (`4 × d` for vectors, `m` for
/// product-quantization codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkTable {
    name: String,
    item_bytes: usize,
}

/// One chunk as a scan sees it: borrowed from SQLite, valid until the next chunk is read.
#[derive(Debug, Clone, Copy)]
pub struct ChunkView<'a> {
    /// The list the chunk belongs to (a cell of an inverted file, 0 for a collection).
    pub list: i64,
    /// Its rank in the list.
    pub chunk: i64,
    /// How many items it holds.
    pub count: usize,
    /// `count` ids, 8 little-endian bytes each.
    pub ids: &'a [u8],
    /// `count` items end to end.
    pub items: &'a [u8],
}

impl ChunkView<'_> {
    /// The id of item `i`.
    pub fn id(&self, i: usize) -> i64 {
        let bytes = &self.ids[i * ID_BYTES..(i + 1) * ID_BYTES];
        i64::from_le_bytes(bytes.try_into().unwrap_or([0; ID_BYTES]))
    }

    /// Every id, decoded into `out` (cleared first).
    pub fn ids_into(&self, out: &mut Vec<i64>) {
        out.clear();
        out.extend(
            self.ids
                .chunks_exact(ID_BYTES)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; ID_BYTES]))),
        );
    }
}

/// Where an item sits: slot `slot` of chunk `chunk` of list `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    /// The list (a cell of an inverted file, 0 for a collection).
    pub list: i64,
    /// The chunk's rank in its list.
    pub chunk: i64,
    /// The item's rank in its chunk.
    pub slot: usize,
}

impl Slot {
    /// The slot of storage position `position` in list 0, whose chunks are all full but the last.
    pub fn of_position(position: usize) -> Self {
        Slot {
            list: 0,
            chunk: (position / CHUNK_CAPACITY) as i64,
            slot: position % CHUNK_CAPACITY,
        }
    }

    /// The storage position of a slot of list 0.
    pub fn position(&self) -> i64 {
        self.chunk * CHUNK_CAPACITY as i64 + self.slot as i64
    }
}

/// Where a list ends: its last chunk.
struct LastChunk {
    rowid: i64,
    chunk: i64,
    count: usize,
    capacity: usize,
}

impl ChunkTable {
    /// The chunk table `name`, of items of `item_bytes` bytes.
    pub fn new(name: impl Into<String>, item_bytes: usize) -> Self {
        ChunkTable {
            name: name.into(),
            item_bytes: item_bytes.max(1),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    // ANCHOR: chunk_schema
    /// Creates the table (inside the caller's transaction).
    ///
    /// # Errors
    ///
    /// An SQLite error, such as the table existing already.
    pub fn create(&self, connection: &Connection) -> Result<()> {
        connection.execute_batch(&format!(
            "CREATE TABLE {} (
                 list  INTEGER NOT NULL,  -- 0 for a collection, the cell for an inverted list
                 chunk INTEGER NOT NULL,  -- the chunk's rank in its list, from 0
                 count INTEGER NOT NULL,  -- items held, at most the capacity
                 ids   BLOB NOT NULL,     -- capacity x 8 bytes: the ids, little-endian i64
                 items BLOB NOT NULL,     -- capacity x item bytes: the items end to end
                 PRIMARY KEY (list, chunk)
             );",
            self.name
        ))?;
        Ok(())
    }
    // ANCHOR_END: chunk_schema

    /// Removes the table if it exists.
    ///
    /// # Errors
    ///
    /// An SQLite error.
    pub fn drop_table(&self, connection: &Connection) -> Result<()> {
        connection.execute_batch(&format!("DROP TABLE IF EXISTS {}", self.name))?;
        Ok(())
    }

    /// Empties the table.
    ///
    /// # Errors
    ///
    /// An SQLite error.
    pub fn clear(&self, connection: &Connection) -> Result<()> {
        connection.execute(&format!("DELETE FROM {}", self.name), [])?;
        Ok(())
    }

    // ANCHOR: append
    /// Appends `ids.len()` items (`items` holds them end to end) to the end of `list`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when `items` does not hold one item per id; a damaged chunk
    /// ([`Error::BadData`]); an SQLite error.
    pub fn append(
        &self,
        connection: &Connection,
        list: i64,
        ids: &[i64],
        items: &[u8],
    ) -> Result<()> {
        if items.len() != ids.len() * self.item_bytes {
            return Err(Error::InvalidParameter {
                name: "items",
                reason: format!(
                    "{} bytes for {} items of {} bytes",
                    items.len(),
                    ids.len(),
                    self.item_bytes
                ),
            });
        }
        let mut done = 0;
        let mut next_chunk = 0;
        if let Some(last) = self.last_chunk(connection, list)? {
            next_chunk = last.chunk + 1;
            if last.count < CHUNK_CAPACITY {
                done = (CHUNK_CAPACITY - last.count).min(ids.len());
                let bytes = &items[..done * self.item_bytes];
                self.fill_last_chunk(connection, &last, &ids[..done], bytes)?;
            }
        }
        // Whatever is left starts new chunks, each sized exactly to what it holds.
        while done < ids.len() {
            let take = CHUNK_CAPACITY.min(ids.len() - done);
            let chunk_ids = id_bytes(&ids[done..done + take]);
            let chunk_items = &items[done * self.item_bytes..(done + take) * self.item_bytes];
            connection
                .prepare_cached(&format!(
                    "INSERT INTO {} (list, chunk, count, ids, items) VALUES (?1, ?2, ?3, ?4, ?5)",
                    self.name
                ))?
                .execute(params![
                    list,
                    next_chunk,
                    take as i64,
                    chunk_ids,
                    chunk_items
                ])?;
            next_chunk += 1;
            done += take;
        }
        Ok(())
    }
    // ANCHOR_END: append

    /// Writes items into the free slots of a list's last chunk, growing it first if needed.
    fn fill_last_chunk(
        &self,
        connection: &Connection,
        last: &LastChunk,
        ids: &[i64],
        items: &[u8],
    ) -> Result<()> {
        let needed = last.count + ids.len();
        if needed > last.capacity {
            let capacity = needed.max(last.capacity * 2).min(CHUNK_CAPACITY);
            self.grow(connection, last, capacity)?;
        }
        // SQLite's incremental BLOB I/O writes the new bytes in place: the chunk's other
        // items are neither read nor rewritten.
        let mut blob =
            connection.blob_open(MAIN_DB, self.name.as_str(), "ids", last.rowid, false)?;
        blob.write_at(&id_bytes(ids), last.count * ID_BYTES)?;
        drop(blob);
        let mut blob =
            connection.blob_open(MAIN_DB, self.name.as_str(), "items", last.rowid, false)?;
        blob.write_at(items, last.count * self.item_bytes)?;
        drop(blob);
        connection
            .prepare_cached(&format!(
                "UPDATE {} SET count = ?1 WHERE rowid = ?2",
                self.name
            ))?
            .execute(params![needed as i64, last.rowid])?;
        Ok(())
    }

    /// Rewrites a chunk with room for `capacity` items, its items kept.
    fn grow(&self, connection: &Connection, last: &LastChunk, capacity: usize) -> Result<()> {
        let (mut ids, mut items): (Vec<u8>, Vec<u8>) = connection.query_row(
            &format!("SELECT ids, items FROM {} WHERE rowid = ?1", self.name),
            [last.rowid],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        ids.resize(capacity * ID_BYTES, 0);
        items.resize(capacity * self.item_bytes, 0);
        connection.execute(
            &format!(
                "UPDATE {} SET ids = ?1, items = ?2 WHERE rowid = ?3",
                self.name
            ),
            params![ids, items, last.rowid],
        )?;
        Ok(())
    }

    /// The last chunk of `list`, checked, if the list has any.
    fn last_chunk(&self, connection: &Connection, list: i64) -> Result<Option<LastChunk>> {
        let found: Option<(i64, i64, i64, i64, i64)> = connection
            .prepare_cached(&format!(
                "SELECT rowid, chunk, count, length(ids), length(items) FROM {}
                 WHERE list = ?1 ORDER BY chunk DESC LIMIT 1",
                self.name
            ))?
            .query_row([list], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })
            .optional()?;
        let Some((rowid, chunk, count, id_length, item_length)) = found else {
            return Ok(None);
        };
        let capacity = self.check_shape(list, chunk, count, id_length, item_length)?;
        Ok(Some(LastChunk {
            rowid,
            chunk,
            count: usize::try_from(count).unwrap_or(0),
            capacity,
        }))
    }

    /// Checks a chunk's count against the lengths of its BLOBs; returns its capacity.
    fn check_shape(
        &self,
        list: i64,
        chunk: i64,
        count: i64,
        id_length: i64,
        item_length: i64,
    ) -> Result<usize> {
        let bad = |reason: String| Error::BadData {
            path: format!("table {}", self.name),
            reason: format!("list {list}, chunk {chunk}: {reason}"),
        };
        let id_length = usize::try_from(id_length).map_err(|_| bad("no ids".into()))?;
        let item_length = usize::try_from(item_length).map_err(|_| bad("no items".into()))?;
        if id_length % ID_BYTES != 0 || id_length / ID_BYTES > CHUNK_CAPACITY {
            return Err(bad(format!("an ids BLOB of {id_length} bytes")));
        }
        let capacity = id_length / ID_BYTES;
        if item_length != capacity * self.item_bytes {
            return Err(bad(format!(
                "{item_length} bytes of items for {capacity} slots of {} bytes",
                self.item_bytes
            )));
        }
        match usize::try_from(count) {
            Ok(count) if count <= capacity => Ok(capacity),
            _ => Err(bad(format!("count {count} in a chunk of {capacity} slots"))),
        }
    }

    // ANCHOR: for_each_chunk
    /// Calls `visit` on every chunk of `list` (of every list when `None`), in order, streaming:
    /// one chunk in memory at a time.
    ///
    /// # Errors
    ///
    /// A damaged chunk ([`Error::BadData`]), an SQLite error, or the first error of `visit`.
    pub fn for_each_chunk(
        &self,
        connection: &Connection,
        list: Option<i64>,
        mut visit: impl FnMut(ChunkView<'_>) -> Result<()>,
    ) -> Result<()> {
        let (filter, parameter) = match list {
            Some(list) => ("WHERE list = ?1", list),
            None => ("WHERE ?1 = ?1", 0),
        };
        let mut statement = connection.prepare_cached(&format!(
            "SELECT list, chunk, count, ids, items FROM {} {filter} ORDER BY list, chunk",
            self.name
        ))?;
        let mut rows = statement.query([parameter])?;
        while let Some(row) = rows.next()? {
            let (list, chunk, count): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let ids = row.get_ref(3)?.as_blob().map_err(|e| self.not_a_blob(e))?;
            let items = row.get_ref(4)?.as_blob().map_err(|e| self.not_a_blob(e))?;
            self.check_shape(list, chunk, count, ids.len() as i64, items.len() as i64)?;
            let count = usize::try_from(count).unwrap_or(0);
            visit(ChunkView {
                list,
                chunk,
                count,
                ids: &ids[..count * ID_BYTES],
                items: &items[..count * self.item_bytes],
            })?;
        }
        Ok(())
    }
    // ANCHOR_END: for_each_chunk

    /// The id and bytes of item `slot` of chunk `chunk` of `list`, if there is one.
    ///
    /// # Errors
    ///
    /// A damaged chunk ([`Error::BadData`]) or an SQLite error.
    pub fn item_at(
        &self,
        connection: &Connection,
        list: i64,
        chunk: i64,
        slot: usize,
    ) -> Result<Option<(i64, Vec<u8>)>> {
        let row: Option<(i64, Vec<u8>, Vec<u8>)> = connection
            .prepare_cached(&format!(
                "SELECT count, substr(ids, ?3 * 8 + 1, 8), substr(items, ?3 * ?4 + 1, ?4)
                 FROM {} WHERE list = ?1 AND chunk = ?2",
                self.name
            ))?
            .query_row(
                params![list, chunk, slot as i64, self.item_bytes as i64],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((count, id, item)) = row else {
            return Ok(None);
        };
        if usize::try_from(count).map_or(true, |count| slot >= count) {
            return Ok(None);
        }
        if id.len() != ID_BYTES || item.len() != self.item_bytes {
            return Err(Error::BadData {
                path: format!("table {}", self.name),
                reason: format!("list {list}, chunk {chunk}: slot {slot} is cut short"),
            });
        }
        let id = i64::from_le_bytes(id.as_slice().try_into().unwrap_or([0; ID_BYTES]));
        Ok(Some((id, item)))
    }

    // ANCHOR: read_slots
    /// Calls `visit(i, id, item)` for each `wanted[i] = (chunk, slot)` of `list` that holds an
    /// item, reading only those bytes through SQLite's incremental BLOB I/O: one handle per
    /// column, moved from chunk to chunk, so that taking a few items out of a chunk neither
    /// copies the whole chunk nor compiles a statement per item. Slots are visited chunk by
    /// chunk, not in the order given.
    ///
    /// # Errors
    ///
    /// A damaged chunk ([`Error::BadData`]), an SQLite error, or the first error of `visit`.
    pub fn read_slots(
        &self,
        connection: &Connection,
        list: i64,
        wanted: &[(i64, usize)],
        mut visit: impl FnMut(usize, i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut order: Vec<usize> = (0..wanted.len()).collect();
        order.sort_unstable_by_key(|&i| wanted[i]);
        let mut shape = connection.prepare_cached(&format!(
            "SELECT rowid, count, length(ids), length(items) FROM {} WHERE list = ?1 AND chunk = ?2",
            self.name
        ))?;
        let mut handles: Option<(rusqlite::blob::Blob<'_>, rusqlite::blob::Blob<'_>)> = None;
        // The chunk the handles are on, and how many items it holds (0 when it does not exist).
        let mut current: Option<(i64, usize)> = None;
        let (mut id, mut item) = ([0u8; ID_BYTES], vec![0u8; self.item_bytes]);
        for i in order {
            let (chunk, slot) = wanted[i];
            if current.map(|(c, _)| c) != Some(chunk) {
                let found: Option<(i64, i64, i64, i64)> = shape
                    .query_row(params![list, chunk], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })
                    .optional()?;
                let count = match found {
                    None => 0,
                    Some((rowid, count, id_length, item_length)) => {
                        self.check_shape(list, chunk, count, id_length, item_length)?;
                        match &mut handles {
                            Some((ids, items)) => {
                                ids.reopen(rowid)?;
                                items.reopen(rowid)?;
                            }
                            None => {
                                let open = |column| {
                                    connection.blob_open(
                                        MAIN_DB,
                                        self.name.as_str(),
                                        column,
                                        rowid,
                                        true,
                                    )
                                };
                                handles = Some((open("ids")?, open("items")?));
                            }
                        }
                        usize::try_from(count).unwrap_or(0)
                    }
                };
                current = Some((chunk, count));
            }
            let (Some((_, count)), Some((ids, items))) = (current, &handles) else {
                continue;
            };
            if slot >= count {
                continue;
            }
            ids.read_at_exact(&mut id, slot * ID_BYTES)?;
            items.read_at_exact(&mut item, slot * self.item_bytes)?;
            visit(i, i64::from_le_bytes(id), &item)?;
        }
        Ok(())
    }
    // ANCHOR_END: read_slots

    // ANCHOR: locate
    /// The slot of each of `ids` found in `list` (in every list when `None`), in one pass.
    ///
    /// # Errors
    ///
    /// A damaged chunk ([`Error::BadData`]) or an SQLite error.
    pub fn locate(
        &self,
        connection: &Connection,
        list: Option<i64>,
        ids: &std::collections::HashSet<i64>,
    ) -> Result<HashMap<i64, Slot>> {
        let mut found = HashMap::with_capacity(ids.len());
        self.for_each_chunk(connection, list, |chunk| {
            for slot in 0..chunk.count {
                let id = chunk.id(slot);
                if ids.contains(&id) {
                    found.insert(
                        id,
                        Slot {
                            list: chunk.list,
                            chunk: chunk.chunk,
                            slot,
                        },
                    );
                }
            }
            Ok(())
        })?;
        Ok(found)
    }
    // ANCHOR_END: locate

    // ANCHOR: remove_located
    /// Removes the items `located` (id → slot), each by moving its list's last item into its
    /// slot. Returns where each item that moved and stays now sits.
    ///
    /// # Errors
    ///
    /// A damaged chunk ([`Error::BadData`]) or an SQLite error.
    pub fn remove_located(
        &self,
        connection: &Connection,
        mut located: HashMap<i64, Slot>,
    ) -> Result<HashMap<i64, Slot>> {
        let mut order: Vec<i64> = located.keys().copied().collect();
        order.sort_unstable();
        let mut moved = HashMap::new();
        for id in order {
            let Some(hole) = located.remove(&id) else {
                continue;
            };
            if let Some(moved_id) = self.swap_remove(connection, hole)? {
                // The moved item may be one still to remove: it is found at its new place.
                match located.get_mut(&moved_id) {
                    Some(slot) => *slot = hole,
                    None => {
                        moved.insert(moved_id, hole);
                    }
                }
            }
        }
        Ok(moved)
    }
    // ANCHOR_END: remove_located

    // ANCHOR: swap_remove
    /// Empties `hole` by moving the last item of its list into it, and shortens the list by
    /// one. Returns the id of the item moved, `None` when the hole was the list's last item.
    ///
    /// # Errors
    ///
    /// [`Error::BadData`] when the list has no such slot; an SQLite error.
    pub fn swap_remove(&self, connection: &Connection, hole: Slot) -> Result<Option<i64>> {
        let bad = |reason: String| Error::BadData {
            path: format!("table {}", self.name),
            reason: format!("list {}, chunk {}: {reason}", hole.list, hole.chunk),
        };
        let last = self
            .last_chunk(connection, hole.list)?
            .filter(|last| last.count > 0)
            .ok_or_else(|| bad("the list is empty".to_string()))?;
        let last_slot = last.count - 1;
        let mut moved = None;
        if (hole.chunk, hole.slot) != (last.chunk, last_slot) {
            let (moved_id, item) = self
                .item_at(connection, hole.list, last.chunk, last_slot)?
                .ok_or_else(|| bad(format!("no item in slot {last_slot}")))?;
            let rowid = self.rowid_holding(connection, hole)?;
            let mut blob =
                connection.blob_open(MAIN_DB, self.name.as_str(), "ids", rowid, false)?;
            blob.write_at(&moved_id.to_le_bytes(), hole.slot * ID_BYTES)?;
            drop(blob);
            let mut blob =
                connection.blob_open(MAIN_DB, self.name.as_str(), "items", rowid, false)?;
            blob.write_at(&item, hole.slot * self.item_bytes)?;
            drop(blob);
            moved = Some(moved_id);
        }
        if last_slot == 0 {
            connection.execute(
                &format!("DELETE FROM {} WHERE rowid = ?1", self.name),
                [last.rowid],
            )?;
        } else {
            connection
                .prepare_cached(&format!(
                    "UPDATE {} SET count = ?1 WHERE rowid = ?2",
                    self.name
                ))?
                .execute(params![last_slot as i64, last.rowid])?;
        }
        Ok(moved)
    }
    // ANCHOR_END: swap_remove

    /// The rowid of the chunk holding `at`, checked to hold that slot.
    fn rowid_holding(&self, connection: &Connection, at: Slot) -> Result<i64> {
        let row: Option<(i64, i64)> = connection
            .prepare_cached(&format!(
                "SELECT rowid, count FROM {} WHERE list = ?1 AND chunk = ?2",
                self.name
            ))?
            .query_row(params![at.list, at.chunk], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        match row {
            Some((rowid, count)) if usize::try_from(count).is_ok_and(|c| at.slot < c) => Ok(rowid),
            _ => Err(Error::BadData {
                path: format!("table {}", self.name),
                reason: format!(
                    "list {}, chunk {} has no slot {}",
                    at.list, at.chunk, at.slot
                ),
            }),
        }
    }

    fn not_a_blob(&self, error: rusqlite::types::FromSqlError) -> Error {
        Error::BadData {
            path: format!("table {}", self.name),
            reason: format!("a chunk without its BLOB: {error}"),
        }
    }

    /// How many items the table holds, over every list.
    ///
    /// # Errors
    ///
    /// An SQLite error.
    pub fn len(&self, connection: &Connection) -> Result<usize> {
        let n: i64 = connection.query_row(
            &format!("SELECT coalesce(sum(count), 0) FROM {}", self.name),
            [],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// Ids as the little-endian bytes a chunk stores.
fn id_bytes(ids: &[i64]) -> Vec<u8> {
    ids.iter().flat_map(|id| id.to_le_bytes()).collect()
}
