//! Checking a file of the chunked layout: every chunk's shape, and its ids against the
//! collection's.
//!
//! The collection's chunks must hold exactly the ids of `vectors`, in position order; an
//! inverted file's lists every id once, in cells that exist, with the collection's vector; a
//! PQ index's codes every id once.

use std::collections::HashMap;

use rusqlite::Connection;

use super::{problem, Problem};
use crate::engine::catalog::IndexRecord;
use crate::engine::indexes::{IvfIndex, PqIndex};
use crate::engine::IndexKind;
use crate::error::Result;
use crate::sqlite_store::chunks::ChunkTable;
use crate::sqlite_store::metadata::VECTOR_CHUNKS;
use crate::sqlite_store::{Layout, Metadata, StoreKind};

/// The collection's ids, in position order.
fn collection_ids(connection: &Connection) -> Result<Vec<i64>> {
    let mut statement = connection.prepare("SELECT id FROM vectors ORDER BY position")?;
    let ids = statement
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Every `(list, id, item)` of a chunk table, or the problem that stopped the reading.
fn read_table(
    connection: &Connection,
    table: &ChunkTable,
) -> std::result::Result<Vec<(i64, i64, Vec<u8>)>, Problem> {
    let mut items = Vec::new();
    table
        .for_each_chunk(connection, None, |chunk| {
            let width = chunk.items.len() / chunk.count.max(1);
            for i in 0..chunk.count {
                items.push((
                    chunk.list,
                    chunk.id(i),
                    chunk.items[i * width..(i + 1) * width].to_vec(),
                ));
            }
            Ok(())
        })
        .map_err(|e| problem(table.name(), e.to_string()))?;
    Ok(items)
}

/// The collection's chunks against `vectors` and the dimension.
pub fn vector_chunks(connection: &Connection, metadata: &Metadata) -> Result<Vec<Problem>> {
    let ids = collection_ids(connection)?;
    if metadata.kind != StoreKind::Vectors {
        return Ok(Vec::new());
    }
    let Some(dimension) = metadata.dimension else {
        return Ok(if ids.is_empty() {
            Vec::new()
        } else {
            vec![problem(
                "meta",
                format!(
                    "{} vectors are stored but no dimension is recorded",
                    ids.len()
                ),
            )]
        });
    };
    let table = ChunkTable::new(VECTOR_CHUNKS, dimension * 4);
    let stored = match read_table(connection, &table) {
        Ok(stored) => stored,
        Err(p) => return Ok(vec![p]),
    };
    let chunk_ids: Vec<i64> = stored.iter().map(|&(_, id, _)| id).collect();
    if chunk_ids != ids {
        let differ = chunk_ids.iter().zip(&ids).filter(|(a, b)| a != b).count()
            + chunk_ids.len().abs_diff(ids.len());
        return Ok(vec![problem(
            VECTOR_CHUNKS,
            format!(
                "the chunks hold {} ids and the collection {}: {differ} differ in position order",
                chunk_ids.len(),
                ids.len()
            ),
        )]);
    }
    Ok(Vec::new())
}

/// An index's chunks against the collection.
pub fn index_chunks(
    connection: &Connection,
    record: IndexRecord,
    metadata: &Metadata,
) -> Result<Vec<Problem>> {
    let name = record.name.clone();
    let Some(dimension) = metadata.dimension else {
        return Ok(Vec::new());
    };
    let (table, cells) = match record.kind {
        IndexKind::Ivf => match IvfIndex::load(connection, record, dimension, Layout::Chunks) {
            Ok(index) => (
                ChunkTable::new(format!("{name}_lists"), dimension * 4),
                Some(index.nlist()),
            ),
            Err(e) => return Ok(vec![problem(format!("{name}_*"), e.to_string())]),
        },
        IndexKind::Pq => match PqIndex::load(connection, record, Some(dimension), Layout::Chunks) {
            Ok(index) => (
                ChunkTable::new(format!("{name}_codes"), index.m_chunks()),
                None,
            ),
            Err(e) => return Ok(vec![problem(format!("{name}_*"), e.to_string())]),
        },
        IndexKind::Flat | IndexKind::Hnsw | IndexKind::IvfPq => {
            return Ok(vec![problem(
                "indexes",
                format!("{name}: {} has no chunks to check here", record.kind),
            )])
        }
    };
    let stored = match read_table(connection, &table) {
        Ok(stored) => stored,
        Err(p) => return Ok(vec![p]),
    };
    let mut problems = Vec::new();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for &(_, id, _) in &stored {
        *seen.entry(id).or_default() += 1;
    }
    let ids = collection_ids(connection)?;
    let missing = ids.iter().filter(|id| !seen.contains_key(id)).count();
    if missing > 0 {
        problems.push(problem(
            table.name(),
            format!("{missing} ids of the collection are missing"),
        ));
    }
    let known: std::collections::HashSet<i64> = ids.into_iter().collect();
    let extra = seen.keys().filter(|id| !known.contains(id)).count();
    let repeated = seen.values().filter(|&&n| n > 1).count();
    if extra > 0 {
        problems.push(problem(
            table.name(),
            format!("{extra} ids are not in the collection"),
        ));
    }
    if repeated > 0 {
        problems.push(problem(
            table.name(),
            format!("{repeated} ids are listed more than once"),
        ));
    }
    if let Some(nlist) = cells {
        let out_of_range = stored
            .iter()
            .filter(|&&(cell, _, _)| usize::try_from(cell).map_or(true, |c| c >= nlist))
            .count();
        if out_of_range > 0 {
            problems.push(problem(
                table.name(),
                format!("{out_of_range} vectors are filed in a cell that does not exist"),
            ));
        }
        let collection = read_table(connection, &ChunkTable::new(VECTOR_CHUNKS, dimension * 4))
            .unwrap_or_default();
        let by_id: HashMap<i64, &Vec<u8>> = collection.iter().map(|(_, id, v)| (*id, v)).collect();
        let differ = stored
            .iter()
            .filter(|(_, id, v)| by_id.get(id).is_some_and(|c| *c != v))
            .count();
        if differ > 0 {
            problems.push(problem(
                table.name(),
                format!("{differ} vectors differ from the collection's"),
            ));
        }
    }
    Ok(problems)
}
