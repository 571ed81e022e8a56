//! Recovery: check a file before using it, and put the newest good backup in its place if it is
//! damaged.
//!
//! A program that opens a damaged file may answer wrongly for a long time before anything
//! fails loudly. So a service checks its file once, at start, before it opens it for work:
//! [`check_or_recover`] runs the whole check of [`check_file`] (SQLite's own, then every table
//! against the others), and counts a file that cannot even be opened as SQLite (garbage, cut
//! short to nothing) as damaged too.
//!
//! A damaged file is replaced by the newest backup that passes the same check. A backup is not
//! trusted because it is a backup: a disk can damage it as well, and a backup taken after the
//! damage holds the damage. Each one is checked, newest first, and the first good one wins.
//!
//! Nothing is deleted. The damaged file is renamed to `F.db.damaged-<timestamp>` (and its
//! `-wal` and `-shm` files with it, as `F.db.damaged-<timestamp>-wal`, the names SQLite gives
//! the log of a file of that name, so the damaged file can still be opened with its log and
//! studied). Leaving the old log beside the restored file would be worse than losing it:
//! SQLite would replay the damaged file's commits onto the backup. (Often there is none left by
//! then: SQLite, opening the damaged file for the check, replays a log it can read into the
//! file and drops one it cannot.) The restore is logged at
//! error level: the commits made since the backup are lost, and someone must know.
//!
//! Run it while no other process has the file open: a process that keeps the damaged file open
//! goes on reading the renamed file, not the restored one.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::backup::online::{folder_of, sync_file, sync_folder};
use crate::backup::rotation::Rotation;
use crate::backup::timestamp::format_utc;
use crate::engine::check::check_file;
use crate::error::{Error, Result};

/// What [`check_or_recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The file passed its check; nothing was done.
    Healthy,
    /// The file was damaged and a backup now stands in its place.
    Restored {
        /// The backup copied into place.
        from: PathBuf,
        /// Where the damaged file now is.
        damaged_kept_at: PathBuf,
        /// What the check found wrong with the damaged file.
        problems: Vec<String>,
    },
}

// ANCHOR: check_or_recover
/// Checks the database at `db` and, if it is damaged, replaces it with the newest backup of
/// `rotation` that passes its own check, keeping the damaged file beside it.
///
/// Without a rotation a damaged file cannot be restored: the answer is then
/// [`Error::NoGoodBackup`] with no backup tried.
///
/// # Errors
///
/// [`Error::NoSuchDatabase`] when there is no file at `db` (a missing file is more often a
/// wrong path than a damage, and restoring it would hide the mistake); [`Error::NoGoodBackup`]
/// when the file is damaged and no backup passes its check (nothing was moved); the errors of
/// [`Rotation::backups`]; [`Error::Io`] when the backup cannot be copied into place or the
/// damaged file cannot be moved.
pub fn check_or_recover(db: &Path, rotation: Option<&Rotation>) -> Result<Recovery> {
    if !db.exists() {
        return Err(Error::NoSuchDatabase {
            path: db.display().to_string(),
        });
    }
    let problems = problems_of(db);
    if problems.is_empty() {
        return Ok(Recovery::Healthy);
    }
    log::error!(
        "{} is damaged ({} problem(s); first: {})",
        db.display(),
        problems.len(),
        problems[0]
    );
    let backups = match rotation {
        Some(rotation) => rotation.backups(db)?,
        None => Vec::new(),
    };
    let Some(good) = first_good_backup(&backups) else {
        log::error!(
            "{}: no good backup among {} tried; the damaged file is left as it is",
            db.display(),
            backups.len()
        );
        return Err(Error::NoGoodBackup {
            db: db.to_path_buf(),
            tried: backups,
        });
    };
    let damaged_kept_at = restore(db, good)?;
    log::error!(
        "{} restored from the backup {}; the damaged file is kept at {}; commits made after the backup are lost",
        db.display(),
        good.display(),
        damaged_kept_at.display()
    );
    Ok(Recovery::Restored {
        from: good.to_path_buf(),
        damaged_kept_at,
        problems,
    })
}
// ANCHOR_END: check_or_recover

/// What is wrong with the file at `path`, as text; empty when nothing is. A file that cannot
/// be opened or checked at all is damaged, and the reason is its one problem.
fn problems_of(path: &Path) -> Vec<String> {
    match check_file(path) {
        Ok(problems) => problems.iter().map(ToString::to_string).collect(),
        Err(error) => vec![error.to_string()],
    }
}

/// The first of `backups` (newest first) that passes its check, logging why each one before
/// it was skipped.
fn first_good_backup(backups: &[PathBuf]) -> Option<&Path> {
    backups.iter().map(PathBuf::as_path).find(|backup| {
        let problems = problems_of(backup);
        if let Some(first) = problems.first() {
            log::warn!(
                "skipping the backup {}: {} problem(s); first: {first}",
                backup.display(),
                problems.len()
            );
        }
        problems.is_empty()
    })
}

/// Puts a copy of `backup` at `db`, after moving the damaged file (and its log) aside; returns
/// where the damaged file went.
///
/// The copy is made under a temporary name and flushed first, so that a crash during the copy
/// leaves the damaged file in place, not half a backup. A plain file copy is right here, unlike
/// for a live database (see [`super::online`]): a backup of the rotation is complete and closed,
/// and nothing writes to it.
fn restore(db: &Path, backup: &Path) -> Result<PathBuf> {
    let folder = folder_of(db);
    let staged = tempfile::Builder::new()
        .prefix(".svdb-restore-")
        .suffix(".partial")
        .tempfile_in(folder)
        .map_err(|e| Error::io(folder, e))?;
    std::fs::copy(backup, staged.path()).map_err(|e| Error::io(backup, e))?;
    sync_file(staged.path())?;
    let damaged_kept_at = PathBuf::from(format!(
        "{}.damaged-{}",
        db.display(),
        format_utc(SystemTime::now())
    ));
    move_aside(db, &damaged_kept_at)?;
    staged.persist(db).map_err(|e| Error::io(db, e.error))?;
    sync_folder(folder)?;
    Ok(damaged_kept_at)
}

/// Renames `db` to `aside`, and its `-wal` and `-shm` files, when there are any, to `aside`'s.
fn move_aside(db: &Path, aside: &Path) -> Result<()> {
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
        }
    }
    std::fs::rename(db, aside).map_err(|e| Error::io(db, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_moved_aside_with_its_log_and_shared_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("f.db");
        for (suffix, bytes) in [("", "db"), ("-wal", "wal"), ("-shm", "shm")] {
            std::fs::write(format!("{}{suffix}", db.display()), bytes).expect("writes");
        }
        let aside = dir.path().join("f.db.damaged-x");
        move_aside(&db, &aside).expect("moves");
        for (suffix, bytes) in [("", "db"), ("-wal", "wal"), ("-shm", "shm")] {
            assert!(!Path::new(&format!("{}{suffix}", db.display())).exists());
            let moved = std::fs::read_to_string(format!("{}{suffix}", aside.display()));
            assert_eq!(moved.expect("moved"), bytes);
        }
    }
}
