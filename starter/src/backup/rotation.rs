//! A rotation: the last few backups of a file in one folder, the oldest deleted as new ones come.
//!
//! One backup is not enough. The damage you recover from may be days old when you notice it (a
//! bad batch of vectors, an index built with the wrong settings), and the newest backup then
//! holds the damage too; and a backup itself can be damaged, by a disk or by a copy. Keeping the
//! last `keep` backups lets a restore walk back in time until it finds a good one, for a bounded
//! amount of disk: `keep` copies of the file.
//!
//! Each backup of `F.db` is named `F-<UTC timestamp>.db`, such as `F-20261201T192512.123Z.db`,
//! so that sorting the names sorts them by age (see [`super::timestamp`]). The rotation deletes
//! only files of exactly that shape, for that stem: a folder shared with other files, or with
//! the backups of another collection, loses none of them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::backup::online::{backup_file, BackupReport};
use crate::backup::timestamp::{format_utc, is_timestamp, TIMESTAMP_LEN};
use crate::error::{Error, Result};

/// The backups of a file, kept in one folder, the newest `keep` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    dir: PathBuf,
    keep: usize,
}

/// How many times `take` looks for a free name before giving up: two backups in the same
/// millisecond take the next millisecond's name.
const NAME_ATTEMPTS: u32 = 1000;

impl Rotation {
    /// A rotation keeping the newest `keep` backups in `dir` (created on the first backup).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `keep` when it is 0: a rotation that keeps nothing
    /// would delete every backup it takes.
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> Result<Self> {
        if keep == 0 {
            return Err(Error::InvalidParameter {
                name: "keep",
                reason: "a rotation must keep at least 1 backup".to_string(),
            });
        }
        Ok(Rotation {
            dir: dir.into(),
            keep,
        })
    }

    /// The folder the backups are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many backups it keeps.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Backs `source` up as `<stem>-<timestamp>.db` in the rotation's folder, then deletes the
    /// oldest backups of that stem beyond `keep`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when `source` has no file name to name backups after; the
    /// errors of [`backup_file`]; [`Error::Io`] when the folder cannot be created or listed or an
    /// old backup cannot be deleted (the new backup is complete by then).
    pub fn take(&self, source: &Path) -> Result<BackupReport> {
        let stem = stem_of(source)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let dest = self.free_name(&stem)?;
        let report = backup_file(source, &dest)?;
        self.delete_beyond_keep(source)?;
        Ok(report)
    }

    /// The backups of `db` in the folder, newest first: the files named
    /// `<stem of db>-<timestamp>.db`, and no other.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when `db` has no file name; [`Error::Io`] when the folder
    /// cannot be listed. A folder that does not exist holds no backup: an empty list.
    pub fn backups(&self, db: &Path) -> Result<Vec<PathBuf>> {
        let stem = stem_of(db)?;
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue; // not UTF-8: not a name we wrote
            };
            if is_backup_name(name, &stem) && entry.path().is_file() {
                names.push(name.to_string());
            }
        }
        // Same stem, same length: alphabetical order is chronological; newest first.
        names.sort_unstable_by(|a, b| b.cmp(a));
        Ok(names.into_iter().map(|n| self.dir.join(n)).collect())
    }

    /// A name for a new backup of `stem` that no file has yet.
    fn free_name(&self, stem: &str) -> Result<PathBuf> {
        let now = SystemTime::now();
        for attempt in 0..NAME_ATTEMPTS {
            let at = now + Duration::from_millis(u64::from(attempt));
            let path = self.dir.join(backup_name(stem, &format_utc(at)));
            if !path.exists() {
                return Ok(path);
            }
        }
        Err(Error::io(
            &self.dir,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "no free backup name in the next second",
            ),
        ))
    }

    /// Deletes the backups of `db` older than the newest `keep`.
    fn delete_beyond_keep(&self, db: &Path) -> Result<()> {
        for old in self.backups(db)?.iter().skip(self.keep) {
            log::info!("rotation: deleting the old backup {}", old.display());
            std::fs::remove_file(old).map_err(|e| Error::io(old, e))?;
        }
        Ok(())
    }
}

/// `<stem>-<timestamp>.db`.
fn backup_name(stem: &str, timestamp: &str) -> String {
    format!("{stem}-{timestamp}.db")
}

/// Whether `name` is a backup of `stem` by the rotation's naming, exactly.
fn is_backup_name(name: &str, stem: &str) -> bool {
    name.strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".db"))
        .is_some_and(|middle| middle.len() == TIMESTAMP_LEN && is_timestamp(middle))
}

/// The name backups of `db` are named after: its file name without the extension.
fn stem_of(db: &Path) -> Result<String> {
    db.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidParameter {
            name: "db",
            reason: format!(
                "{} has no UTF-8 file name to name its backups after",
                db.display()
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_zero_is_refused_by_name() {
        let error = Rotation::new("/tmp/x", 0).expect_err("refused");
        assert!(matches!(
            error,
            Error::InvalidParameter { name: "keep", .. }
        ));
        assert!(error.to_string().contains("keep"), "{error}");
    }

    #[test]
    fn only_our_exact_names_for_the_stem_are_backups() {
        let ts = "20261201T192512.123Z";
        assert!(is_backup_name(&format!("F-{ts}.db"), "F"));
        for not in [
            format!("G-{ts}.db"),
            format!("F-{ts}.db.partial"),
            format!("F-{ts}.sqlite"),
            format!("F-x-{ts}.db"),
            format!("FF-{ts}.db"),
            format!("F{ts}.db"),
            "F.db".to_string(),
            "F-20261201T192512.123.db".to_string(),
        ] {
            assert!(!is_backup_name(&not, "F"), "{not}");
        }
        // A stem that itself ends in a dash and a timestamp is its own stem.
        assert!(!is_backup_name(&format!("F-{ts}-{ts}.db"), "F"));
        assert!(is_backup_name(
            &format!("F-{ts}-{ts}.db"),
            &format!("F-{ts}")
        ));
    }

    #[test]
    fn the_stem_drops_the_extension_only() {
        assert_eq!(
            stem_of(Path::new("/a/b/vectors.db")).expect("named"),
            "vectors"
        );
        assert_eq!(stem_of(Path::new("v.2.db")).expect("named"), "v.2");
        assert!(stem_of(Path::new("/")).is_err());
    }
}
