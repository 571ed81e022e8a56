//! An online backup: a consistent copy of a database file while other processes go on using it.
//!
//! Why not `cp`? A database file is not written in one piece. A commit changes several pages
//! (a table's leaf, its parent, the free list), and in WAL mode the newest pages are not even in
//! the file yet but in `F.db-wal`, moved into the file later by a checkpoint. `cp` reads the
//! file front to back while writers go on: its copy can hold page 3 from before a commit and
//! page 900 from after it, which is no state the database was ever in, and it misses whatever
//! sits in the WAL. Such a copy may pass for a database and answer wrongly, or fail SQLite's
//! integrity check on the day you need it.
//!
//! SQLite's online backup API copies pages *through SQLite*, which knows which version of each
//! page belongs to which commit and reads the WAL as any reader does. We copy within one read
//! transaction, so every page comes from the same snapshot: the copy is the database exactly
//! as it was at one commit. In WAL mode, which our files use, a reader never blocks a writer:
//! other processes go on inserting while the copy runs, their commits landing in the WAL after
//! our snapshot (they only keep a checkpoint from moving past our snapshot until we finish). In
//! the older rollback-journal mode a reader does block writers, so there we let go of the
//! snapshot between steps: writers get in, and SQLite restarts the copy when it sees that the
//! file changed; after a few restarts we copy the rest in one step, holding the lock once.
//!
//! Either way the copy goes in steps of [`PAGES_PER_STEP`] pages with a short pause between
//! them, so that a backup of a large file shares the disk with the processes serving queries
//! instead of saturating it.
//!
//! The copy is written to a temporary file beside the destination, flushed to the disk
//! (`fsync`), and only then renamed to its final name. A rename within one folder is atomic: a
//! crash, a full disk or a kill leaves either the previous file under that name or the complete
//! new backup, never half a backup that looks like a whole one.

use std::fs::File;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::sqlite_store::connection;

/// Pages copied per step: 1,024 pages of our 16 KiB, 16 MiB between two pauses.
pub const PAGES_PER_STEP: NonZeroU32 = NonZeroU32::new(1024).expect("1024 is not zero");

/// The pause between two steps.
pub const PAUSE_BETWEEN_STEPS: Duration = Duration::from_millis(2);

/// How many times a rollback-journal copy may restart because a writer changed the file,
/// before the rest is copied in one step.
const MAX_RESTARTS: u32 = 3;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The backup's file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// How many database pages were copied.
    pub pages: u64,
    /// How long the copy took, from opening the source to the rename.
    pub elapsed: Duration,
}

// ANCHOR: backup_file
/// Copies the database at `source` to `dest` with SQLite's online backup API, while other
/// connections and processes may go on reading and writing `source`. Replaces `dest` if it
/// exists, atomically: `dest` is either the previous file or the complete new copy.
///
/// # Errors
///
/// [`Error::NoSuchDatabase`] or [`Error::CannotOpen`] when `source` cannot be opened,
/// [`Error::NotOurDatabase`] when it is not an SQLite file, [`Error::BackupOntoItself`] when
/// `dest` is `source`, [`Error::BackupFailed`] when SQLite fails during the copy, and
/// [`Error::Io`] when the temporary file cannot be created, flushed or renamed.
pub fn backup_file(source: &Path, dest: &Path) -> Result<BackupReport> {
    backup_file_in_steps(source, dest, PAGES_PER_STEP)
}

/// [`backup_file`] in steps of `pages_per_step` pages (a small step shows, in a test, that
/// writers between steps do not break the copy's snapshot).
///
/// # Errors
///
/// Those of [`backup_file`].
pub fn backup_file_in_steps(
    source: &Path,
    dest: &Path,
    pages_per_step: NonZeroU32,
) -> Result<BackupReport> {
    let started = Instant::now();
    refuse_same_file(source, dest)?;
    let from = connection::open_file(source, false)?;
    let folder = folder_of(dest);
    let partial = tempfile::Builder::new()
        .prefix(".svdb-backup-")
        .suffix(".partial")
        .tempfile_in(folder)
        .map_err(|e| Error::io(folder, e))?;
    let pages = copy_pages(&from, source, partial.path(), dest, pages_per_step)?;
    drop(from);
    sync_file(partial.path())?;
    let bytes = partial
        .as_file()
        .metadata()
        .map_err(|e| Error::io(partial.path(), e))?
        .len();
    partial
        .persist(dest)
        .map_err(|e| Error::io(dest, e.error))?;
    sync_folder(folder)?;
    Ok(BackupReport {
        path: dest.to_path_buf(),
        bytes,
        pages,
        elapsed: started.elapsed(),
    })
}
// ANCHOR_END: backup_file

/// Copies every page of `from` into the (empty) file at `partial`, in steps; returns how many
/// pages the source has. `source` and `dest` only name the files in an error.
fn copy_pages(
    from: &Connection,
    source: &Path,
    partial: &Path,
    dest: &Path,
    pages_per_step: NonZeroU32,
) -> Result<u64> {
    let failed = |e: rusqlite::Error| Error::BackupFailed {
        db: source.to_path_buf(),
        dest: dest.to_path_buf(),
        source: e,
    };
    let mut to = Connection::open_with_flags(
        partial,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    let wal = uses_write_ahead_log(from).map_err(failed)?;
    if wal {
        // One snapshot for the whole copy: each step reads inside this transaction instead of
        // opening its own, so no commit of another process can slip in between two steps.
        from.execute_batch("BEGIN").map_err(failed)?;
        from.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(failed)?;
    }
    let step = i32::try_from(pages_per_step.get()).unwrap_or(i32::MAX);
    let copied = run_steps(from, &mut to, step, wal).map_err(failed);
    if wal {
        // A read transaction: nothing to undo, only the snapshot to let go of.
        from.execute_batch("ROLLBACK").map_err(failed)?;
    }
    let pages = copied?;
    to.close().map_err(|(_, e)| failed(e))?;
    Ok(pages)
}

/// Whether the source is in WAL mode, where a reader never blocks a writer.
fn uses_write_ahead_log(from: &Connection) -> rusqlite::Result<bool> {
    let mode: String = from.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    Ok(mode.eq_ignore_ascii_case("wal"))
}

/// The backup's steps, paused between; returns the source's page count.
///
/// `snapshot_held`: the source's read transaction lasts the whole copy, so the copy never
/// restarts. Without it (rollback-journal mode) a writer between two steps restarts the copy,
/// seen as pages remaining going up; after [`MAX_RESTARTS`] the rest is copied in one step.
fn run_steps(
    from: &Connection,
    to: &mut Connection,
    pages_per_step: i32,
    snapshot_held: bool,
) -> rusqlite::Result<u64> {
    let backup = Backup::new(from, to)?;
    let mut restarts = 0;
    let mut last_remaining = i32::MAX;
    loop {
        let pages = if snapshot_held || restarts < MAX_RESTARTS {
            pages_per_step
        } else {
            -1
        };
        // Busy and Locked (another connection holds a lock for a moment) are retried, as More.
        if backup.step(pages)? == StepResult::Done {
            break;
        }
        let remaining = backup.progress().remaining;
        if remaining > last_remaining {
            restarts += 1;
            log::debug!("the source changed during the backup: copy restarted ({restarts})");
        }
        last_remaining = remaining;
        std::thread::sleep(PAUSE_BETWEEN_STEPS);
    }
    Ok(u64::try_from(backup.progress().pagecount).unwrap_or(0))
}

/// Refuses a destination that is the source itself (the same path, or another name for the
/// same file): the copy would truncate what it reads.
fn refuse_same_file(source: &Path, dest: &Path) -> Result<()> {
    let same = match (source.canonicalize(), dest.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false, // dest does not exist yet (or source does not, reported when it is opened)
    };
    if same {
        return Err(Error::BackupOntoItself {
            db: source.to_path_buf(),
        });
    }
    Ok(())
}

/// The folder a file is in; `.` for a bare file name.
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Flushes a file's data to the disk: until then a crash can lose what was written.
pub(crate) fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// Flushes a folder's entries to the disk, so that a rename into it survives a crash.
pub(crate) fn sync_folder(folder: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(folder, e))?;
    }
    #[cfg(not(unix))]
    let _ = folder; // elsewhere a folder cannot be opened to be flushed; the rename stands
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::check::check_file;
    use crate::engine::Collection;

    fn collection_of(path: &Path, n: usize) {
        let mut collection = Collection::open(path).expect("creates");
        let vectors: Vec<Vec<f32>> = (0..n).map(|i| vec![i as f32, 1.0, 2.0]).collect();
        collection.insert(&vectors, None).expect("stores");
    }

    #[test]
    fn a_backup_is_a_healthy_copy_with_the_same_vectors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (source, dest) = (dir.path().join("f.db"), dir.path().join("copy.db"));
        collection_of(&source, 500);
        let report = backup_file(&source, &dest).expect("backs up");
        assert_eq!(report.path, dest);
        assert_eq!(
            report.bytes,
            std::fs::metadata(&dest).expect("exists").len()
        );
        assert!(report.pages >= 1);
        assert_eq!(report.bytes % report.pages, 0, "whole pages");
        assert_eq!(check_file(&dest).expect("opens"), []);
        let copy = Collection::open_existing(&dest).expect("opens");
        assert_eq!(copy.len().expect("counts"), 500);
        assert_eq!(copy.get(499).expect("reads"), Some(vec![499.0, 1.0, 2.0]));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("lists")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_backup_onto_its_source_or_from_nothing_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("f.db");
        collection_of(&source, 3);
        let alias = dir.path().join(".").join("f.db");
        assert!(matches!(
            backup_file(&source, &alias),
            Err(Error::BackupOntoItself { .. })
        ));
        assert_eq!(check_file(&source).expect("opens"), [], "source untouched");
        let missing = dir.path().join("missing.db");
        assert!(matches!(
            backup_file(&missing, &dir.path().join("b.db")),
            Err(Error::NoSuchDatabase { .. })
        ));
        assert!(!dir.path().join("b.db").exists());
    }
}
