//! A collection's raw vectors, whichever layout keeps them: one row each, or in chunks.
//!
//! The row layout keeps each vector in its row of `vectors`. The chunked layout keeps only the
//! id and the storage position there (so ids stay unique and a vector can be found by id), and
//! the vectors themselves in `vector_chunks`, list 0, in position order: position `p` is slot
//! `p mod 1024` of chunk `p / 1024`.
//!
//! A delete in the chunked layout moves the list's last vector into the hole and gives it the
//! hole's position, so positions stay `0..n` and the arithmetic above stays true.

use rusqlite::{params, Connection, OptionalExtension};

use super::chunks::{ChunkTable, Slot, CHUNK_CAPACITY};
use super::metadata::{Layout, Metadata, VECTOR_CHUNKS};
use super::rows;
use crate::error::{Error, Result};
use crate::vector_blob::{blob_as_vector, blob_to_vector, vector_to_blob};

/// The chunk table of a collection of `dimension`.
pub fn vector_chunks(dimension: usize) -> ChunkTable {
    ChunkTable::new(VECTOR_CHUNKS, dimension * std::mem::size_of::<f32>())
}

// ANCHOR: store_vectors
/// Stores `vectors` (of `dimension` values each) under `ids`, in the collection's layout.
///
/// # Errors
///
/// [`Error::DuplicateId`] for an id already stored; an SQLite error.
pub fn store_vectors<V: AsRef<[f32]>>(
    connection: &Connection,
    layout: Layout,
    dimension: usize,
    ids: &[i64],
    vectors: &[V],
) -> Result<()> {
    match layout {
        Layout::Rows => {
            let blobs: Vec<Vec<u8>> = vectors.iter().map(|v| vector_to_blob(v.as_ref())).collect();
            rows::insert_all(connection, ids, blobs.iter().map(|b| Some(b.as_slice())))
        }
        Layout::Chunks => {
            let first: i64 = connection.query_row(
                "SELECT coalesce(max(position) + 1, 0) FROM vectors",
                [],
                |row| row.get(0),
            )?;
            let mut insert = connection.prepare_cached(
                "INSERT INTO vectors (position, id, vector) VALUES (?1, ?2, NULL)",
            )?;
            for (position, &id) in (first..).zip(ids) {
                insert
                    .execute(params![position, id])
                    .map_err(|e| rows::duplicate_or_other(e, id))?;
            }
            vector_chunks(dimension).append(connection, 0, ids, &vectors_to_bytes(vectors))
        }
    }
}
// ANCHOR_END: store_vectors

// ANCHOR: delete_vectors
/// Deletes the vectors stored under `ids` (each one the collection holds, each once), in the
/// collection's layout: rows are deleted; a chunk slot is filled with the list's last vector,
/// whose position follows it.
///
/// # Errors
///
/// A damaged chunk or position ([`Error::BadData`]); an SQLite error.
pub fn delete_vectors(connection: &Connection, metadata: &Metadata, ids: &[i64]) -> Result<()> {
    let chunked = metadata.layout == Layout::Chunks && metadata.dimension.is_some();
    if !chunked {
        return rows::delete_all(connection, ids);
    }
    let dimension = metadata.dimension.unwrap_or(0);
    let mut located = std::collections::HashMap::with_capacity(ids.len());
    for &id in ids {
        located.insert(id, Slot::of_position(position_of(connection, id)?));
    }
    let moved = vector_chunks(dimension).remove_located(connection, located)?;
    rows::delete_all(connection, ids)?;
    // Two steps, so that no moved row takes a position another still holds: each position
    // is unique in the table.
    let mut set_position =
        connection.prepare_cached("UPDATE vectors SET position = ?1 WHERE id = ?2")?;
    for (&id, slot) in &moved {
        set_position.execute(params![-1 - slot.position(), id])?;
    }
    for (&id, slot) in &moved {
        set_position.execute(params![slot.position(), id])?;
    }
    Ok(())
}
// ANCHOR_END: delete_vectors

/// The storage position of `id` in the chunked layout.
fn position_of(connection: &Connection, id: i64) -> Result<usize> {
    let position: Option<i64> = connection
        .prepare_cached("SELECT position FROM vectors WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    position
        .and_then(|p| usize::try_from(p).ok())
        .ok_or_else(|| Error::BadData {
            path: "table vectors".to_string(),
            reason: format!("id {id} has no position"),
        })
}

/// The vectors end to end, as the little-endian bytes a chunk stores.
pub fn vectors_to_bytes<V: AsRef<[f32]>>(vectors: &[V]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(vectors.iter().map(|v| v.as_ref().len() * 4).sum());
    for vector in vectors {
        bytes.extend_from_slice(&vector_to_blob(vector.as_ref()));
    }
    bytes
}

/// The raw vector stored under `id`, bit for bit; `None` when there is no such id or the
/// collection keeps no raw vectors.
///
/// # Errors
///
/// A row or chunk that does not hold what it should ([`Error::BadData`], [`Error::BlobLength`]).
pub fn read_vector(
    connection: &Connection,
    metadata: &Metadata,
    id: i64,
) -> Result<Option<Vec<f32>>> {
    let Some(dimension) = metadata.dimension else {
        return Ok(None);
    };
    match metadata.layout {
        Layout::Rows => match rows::read_row(connection, id)? {
            Some(Some(blob)) => Ok(Some(blob_to_vector(&blob, dimension)?)),
            _ => Ok(None),
        },
        Layout::Chunks => {
            let position: Option<i64> = connection
                .query_row("SELECT position FROM vectors WHERE id = ?1", [id], |row| {
                    row.get(0)
                })
                .optional()?;
            let Some(position) = position.and_then(|p| usize::try_from(p).ok()) else {
                return Ok(None);
            };
            let chunk = (position / CHUNK_CAPACITY) as i64;
            let table = vector_chunks(dimension);
            match table.item_at(connection, 0, chunk, position % CHUNK_CAPACITY)? {
                Some((stored, bytes)) if stored == id => {
                    Ok(Some(blob_to_vector(&bytes, dimension)?))
                }
                _ => Err(Error::BadData {
                    path: format!("table {VECTOR_CHUNKS}"),
                    reason: format!("id {id} is not at its position {position}"),
                }),
            }
        }
    }
}

// ANCHOR: read_vectors
/// The raw vectors stored under `ids`, as `(id, vector)` in the order of `ids`, leaving out the
/// ids that are not stored: what a re-ranking reads. In the chunked layout each vector is read
/// out of its chunk alone ([`ChunkTable::read_slots`]), not with the chunk around it.
///
/// # Errors
///
/// A row or chunk that does not hold what it should ([`Error::BadData`], [`Error::BlobLength`]).
pub fn read_vectors(
    connection: &Connection,
    metadata: &Metadata,
    ids: &[i64],
) -> Result<Vec<(i64, Vec<f32>)>> {
    let Some(dimension) = metadata.dimension else {
        return Ok(Vec::new());
    };
    if metadata.layout == Layout::Rows {
        let mut found = Vec::with_capacity(ids.len());
        let mut statement =
            connection.prepare_cached("SELECT vector FROM vectors WHERE id = ?1")?;
        for &id in ids {
            let blob: Option<Option<Vec<u8>>> =
                statement.query_row([id], |row| row.get(0)).optional()?;
            if let Some(Some(blob)) = blob {
                found.push((id, blob_to_vector(&blob, dimension)?));
            }
        }
        return Ok(found);
    }
    let mut position_of =
        connection.prepare_cached("SELECT position FROM vectors WHERE id = ?1")?;
    let mut wanted = Vec::with_capacity(ids.len());
    let mut wanted_ids = Vec::with_capacity(ids.len());
    for &id in ids {
        let position: Option<i64> = position_of.query_row([id], |row| row.get(0)).optional()?;
        if let Some(position) = position.and_then(|p| usize::try_from(p).ok()) {
            wanted.push((
                (position / CHUNK_CAPACITY) as i64,
                position % CHUNK_CAPACITY,
            ));
            wanted_ids.push(id);
        }
    }
    let mut found: Vec<Option<Vec<f32>>> = vec![None; wanted.len()];
    vector_chunks(dimension).read_slots(connection, 0, &wanted, |i, stored, bytes| {
        if stored != wanted_ids[i] {
            return Err(Error::BadData {
                path: format!("table {VECTOR_CHUNKS}"),
                reason: format!("id {} is not at its position", wanted_ids[i]),
            });
        }
        found[i] = Some(blob_to_vector(bytes, dimension)?);
        Ok(())
    })?;
    Ok(wanted_ids
        .into_iter()
        .zip(found)
        .filter_map(|(id, vector)| vector.map(|v| (id, v)))
        .collect())
}
// ANCHOR_END: read_vectors

/// Calls `visit(id, vector)` for every stored vector, streaming, in either layout.
///
/// # Errors
///
/// A damaged row or chunk; the first error of `visit`.
pub fn for_each_vector(
    connection: &Connection,
    metadata: &Metadata,
    mut visit: impl FnMut(i64, &[f32]) -> Result<()>,
) -> Result<()> {
    let Some(dimension) = metadata.dimension else {
        return Ok(());
    };
    let mut scratch = Vec::new();
    match metadata.layout {
        Layout::Rows => rows::for_each_row(connection, |id, blob| {
            visit(id, blob_as_vector(blob, dimension, &mut scratch)?)
        }),
        Layout::Chunks => for_each_vector_chunk(connection, dimension, |ids, vectors| {
            for (&id, vector) in ids.iter().zip(vectors.chunks_exact(dimension)) {
                visit(id, vector)?;
            }
            Ok(())
        }),
    }
}

// ANCHOR: for_each_vector_chunk
/// Calls `visit(ids, vectors)` for every chunk of the collection, its vectors end to end.
///
/// # Errors
///
/// A damaged chunk; the first error of `visit`.
pub fn for_each_vector_chunk(
    connection: &Connection,
    dimension: usize,
    mut visit: impl FnMut(&[i64], &[f32]) -> Result<()>,
) -> Result<()> {
    let (mut ids, mut scratch) = (Vec::new(), Vec::new());
    vector_chunks(dimension).for_each_chunk(connection, Some(0), |chunk| {
        chunk.ids_into(&mut ids);
        // Zero-copy when SQLite's buffer is 4-byte aligned, one copy otherwise.
        let vectors = blob_as_vector(chunk.items, chunk.count * dimension, &mut scratch)?;
        visit(&ids, vectors)
    })
}
// ANCHOR_END: for_each_vector_chunk

/// Every stored vector with its id, by decreasing id: a fixed order, so that an index built on
/// them (a training sample drawn by position, a graph's insertion order) does not depend on the
/// order of storage.
///
/// # Errors
///
/// A damaged row or chunk.
pub fn read_all_vectors(
    connection: &Connection,
    metadata: &Metadata,
) -> Result<(Vec<i64>, Vec<Vec<f32>>)> {
    let mut pairs = Vec::new();
    for_each_vector(connection, metadata, |id, vector| {
        pairs.push((id, vector.to_vec()));
        Ok(())
    })?;
    pairs.sort_unstable_by_key(|(id, _)| std::cmp::Reverse(*id));
    Ok(pairs.into_iter().unzip())
}
