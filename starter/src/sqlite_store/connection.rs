//! Opening SQLite with settings suited to a vector store.

use std::borrow::Cow;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Error, Result};

// ANCHOR: pragmas
/// Opens (or, with `create`, creates) a database file, tuned for full scans. Nothing is
/// written to it yet.
///
/// The path is a plain file path, never one of SQLite's special names (see
/// `as_plain_file_name`), so a path never silently means an in-memory or read-only database.
pub fn open_file(path: &Path, create: bool) -> Result<Connection> {
    check_path(path)?;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let connection = Connection::open_with_flags(as_plain_file_name(path), flags).map_err(|e| {
        if !create && !path.exists() {
            Error::NoSuchDatabase {
                path: path.display().to_string(),
            }
        } else {
            Error::CannotOpen {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        }
    })?;
    // Several processes may share the file: wait for another writer's lock instead of failing.
    connection
        .busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| explain_open_error(e, &path.display().to_string()))?;
    // Setting mmap_size already reads the file header: a file that is not SQLite fails here.
    tune_for_scans(&connection).map_err(|e| explain_open_error(e, &path.display().to_string()))?;
    Ok(connection)
}

/// Switches a file of ours to write-ahead logging, once we know the file is ours.
///
/// With WAL a commit appends to a log instead of rewriting pages twice, and readers never wait
/// for the writer. NORMAL sync is safe with WAL: a crash can lose the last commits, never
/// corrupt the file.
///
/// Switching a new file to WAL needs, for a moment, the file to itself: while another process
/// that has just created the same file still holds a lock on it, SQLite answers "database is
/// locked" at once, without waiting on the busy timeout. The switch is retried for as long as
/// that timeout.
pub fn enable_write_ahead_log(connection: &Connection) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        match connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Ok(_) => break,
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < std::time::Duration::from_secs(30) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
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
    connection.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(())
}

/// How much of the file a connection maps into memory for streamed scans.
const MMAP_BYTES: i64 = 268_435_456;

/// Maps the file for streamed scans, or not: a handle that preloads its vectors reads them once,
/// and mapped pages it touched would stay in its resident memory beside the copy.
///
/// # Errors
///
/// An SQLite error.
pub fn map_file(connection: &Connection, mapped: bool) -> Result<()> {
    connection.pragma_update(None, "mmap_size", if mapped { MMAP_BYTES } else { 0 })?;
    Ok(())
}
// ANCHOR_END: pragmas

/// `path` as SQLite must be given it to read it as the file of that name.
///
/// Leaving `SQLITE_OPEN_URI` out of the flags is not enough: the bundled SQLite is built with
/// `SQLITE_USE_URI`, so a name that starts with `file:` is parsed as a URI anyway
/// (`file:x?mode=memory` opened a database in memory, and its rows vanished on close), and
/// `:memory:` always means memory. `./` in front makes either an ordinary relative path.
fn as_plain_file_name(path: &Path) -> Cow<'_, Path> {
    let name = path.as_os_str().as_encoded_bytes();
    if name.starts_with(b"file:") || name == b":memory:" {
        Cow::Owned(Path::new(".").join(path))
    } else {
        Cow::Borrowed(path)
    }
}

/// An empty path would give SQLite's private temporary database, whose rows vanish on close.
fn check_path(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::CannotOpen {
            path: String::new(),
            reason: "the path is empty".to_string(),
        });
    }
    if path.is_dir() {
        return Err(Error::CannotOpen {
            path: path.display().to_string(),
            reason: "it is a directory".to_string(),
        });
    }
    Ok(())
}

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
