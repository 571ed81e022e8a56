//! Opening SQLite with settings suited to a vector store.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use crate::error::{Error, Result};

// ANCHOR: pragmas
/// Opens (or creates) a database file, tuned for full scans. Nothing is written to it yet.
pub fn open_file(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path).map_err(|e| Error::CannotOpen {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    // Setting mmap_size already reads the file header: a file that is not SQLite fails here.
    tune_for_scans(&connection).map_err(|e| explain_open_error(e, &path.display().to_string()))?;
    Ok(connection)
}

/// Switches a file of ours to write-ahead logging, once we know the file is ours.
///
/// With WAL a commit appends to a log instead of rewriting pages twice, and readers never wait
/// for the writer. NORMAL sync is safe with WAL: a crash can lose the last commits, never
/// corrupt the file.
pub fn enable_write_ahead_log(connection: &Connection) -> Result<()> {
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Opens a private in-memory database.
pub fn open_memory() -> Result<Connection> {
    let connection = Connection::open_in_memory()?;
    tune_for_scans(&connection)?;
    Ok(connection)
}

/// A brute-force search reads every page of the table for every query: keep them in memory.
fn tune_for_scans(connection: &Connection) -> rusqlite::Result<()> {
    // 16 KiB pages rather than SQLite's 4 KiB: a 512-byte vector leaves less of each page
    // unused, and an insert or a scan handles a quarter as many pages. SQLite applies this only
    // to a database with no table yet (and before WAL); an existing file keeps its page size.
    connection.pragma_update(None, "page_size", 16_384)?;
    // A negative cache_size is in KiB: 256 MiB of page cache, and as much memory-mapped I/O,
    // so repeated scans are served from memory instead of read() calls. Neither touches the file.
    connection.pragma_update(None, "cache_size", -262_144)?;
    connection.pragma_update(None, "mmap_size", 268_435_456)?;
    Ok(())
}
// ANCHOR_END: pragmas

/// Turns SQLite's "file is not a database" into our own, clearer error.
pub fn explain_open_error(error: rusqlite::Error, path: &str) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Error::NotOurDatabase {
            path: path.to_string(),
            reason: "the file is not an SQLite database".to_string(),
        },
        _ => Error::CannotOpen {
            path: path.to_string(),
            reason: error.to_string(),
        },
    }
}
