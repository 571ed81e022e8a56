//! Checking an IVF-PQ index: its centroids and codebook, every list, and its ids against the
//! collection's.
//!
//! Reading the index back ([`IvfPqIndex::load`]) checks the centroids and the codebook; reading
//! every list ([`Lists::load`](crate::engine::indexes::ivfpq::lists::Lists::load)) checks that
//! each code has `m` bytes and is filed in a cell that exists, in either layout. What is left
//! is the ids: every vector of the collection listed exactly once, and no id it does not hold.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::{problem, Problem};
use crate::engine::catalog::IndexRecord;
use crate::engine::indexes::ivfpq::lists::Lists;
use crate::engine::indexes::IvfPqIndex;
use crate::error::Result;
use crate::sqlite_store::Metadata;

/// Every problem of the IVF-PQ index of `record`.
///
/// # Errors
///
/// An SQLite error while reading the collection's ids.
pub fn ivfpq_tables(
    connection: &Connection,
    record: IndexRecord,
    metadata: &Metadata,
) -> Result<Vec<Problem>> {
    let name = record.name.clone();
    let index = match IvfPqIndex::load(connection, record, metadata) {
        Ok(index) => index,
        Err(e) => return Ok(vec![problem(format!("{name}_*"), e.to_string())]),
    };
    let lists = Lists::new(&name, metadata.layout, index.m());
    let cells = match lists.load(connection, index.nlist()) {
        Ok(cells) => cells,
        Err(e) => return Ok(vec![problem(lists.table(), e.to_string())]),
    };
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for id in cells.iter().flat_map(|cell| &cell.ids) {
        *seen.entry(*id).or_default() += 1;
    }
    let mut statement = connection.prepare("SELECT id FROM vectors")?;
    let ids = statement
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<HashSet<i64>>>()?;
    let mut problems = Vec::new();
    let mut report = |count: usize, what: &str| {
        if count > 0 {
            problems.push(problem(lists.table(), format!("{count} {what}")));
        }
    };
    report(
        ids.iter().filter(|id| !seen.contains_key(id)).count(),
        "ids of the collection are missing",
    );
    report(
        seen.keys().filter(|id| !ids.contains(id)).count(),
        "ids are not in the collection",
    );
    report(
        seen.values().filter(|&&n| n > 1).count(),
        "ids are listed more than once",
    );
    Ok(problems)
}
