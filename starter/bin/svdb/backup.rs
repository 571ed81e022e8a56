//! `svdb backup`: a consistent copy of a collection's file while it is in use, to one file
//! (`--to`) or into a rotation that keeps the newest few (`--dir`, `--keep`).

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use simple_vector_db::backup::{backup_file, BackupReport, Rotation};
use simple_vector_db::engine::Collection;
use simple_vector_db::utils::output::print_json;
use simple_vector_db::{Error, Result};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["to", "dir"])))]
pub struct BackupArgs {
    /// The collection's SQLite file (it may be in use by other processes meanwhile).
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// Write the backup to this file (replaced atomically if it exists).
    #[arg(long, value_name = "FILE")]
    to: Option<PathBuf>,
    /// Write the backup into this folder as <stem>-<UTC timestamp>.db, keeping the newest
    /// --keep backups of the file there and deleting older ones (no other file).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// With --dir: how many backups to keep, at least 1.
    #[arg(long, default_value_t = 7, requires = "dir")]
    keep: usize,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Where the backup goes, checked.
enum Destination {
    File(PathBuf),
    Rotation(Rotation),
}

/// `svdb backup` with its arguments checked and its source opened once.
pub struct PreparedBackup {
    args: BackupArgs,
    destination: Destination,
}

impl BackupArgs {
    /// Checks the source (a collection of ours) and the destination, before any copy.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchDatabase`] or another open error for the source,
    /// [`Error::BackupOntoItself`], [`Error::Io`] for a `--to` whose folder does not exist,
    /// [`Error::InvalidParameter`] for `--keep 0`.
    pub fn prepare(self) -> Result<PreparedBackup> {
        drop(Collection::open_existing(&self.db)?);
        let destination = match (&self.to, &self.dir) {
            (Some(to), _) => {
                refuse_onto_itself(&self.db, to)?;
                check_folder_exists(to)?;
                Destination::File(to.clone())
            }
            (None, Some(dir)) => Destination::Rotation(Rotation::new(dir, self.keep)?),
            // clap's group makes one of them required; said again here rather than unwrapped.
            (None, None) => {
                return Err(Error::InvalidParameter {
                    name: "to",
                    reason: "give --to FILE or --dir DIR".to_string(),
                })
            }
        };
        Ok(PreparedBackup {
            args: self,
            destination,
        })
    }
}

#[derive(Serialize)]
struct Report<'a> {
    db: &'a Path,
    backup: &'a Path,
    bytes: u64,
    pages: u64,
    elapsed_ms: f64,
    /// With --dir: the backups of the file now in the folder, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    kept: Option<Vec<PathBuf>>,
}

impl PreparedBackup {
    /// Takes the backup and says where it went.
    ///
    /// # Errors
    ///
    /// The errors of [`backup_file`] and [`Rotation::take`].
    pub fn run(self) -> Result<()> {
        let (report, kept): (BackupReport, Option<Vec<PathBuf>>) = match &self.destination {
            Destination::File(to) => (backup_file(&self.args.db, to)?, None),
            Destination::Rotation(rotation) => {
                let report = rotation.take(&self.args.db)?;
                (report, Some(rotation.backups(&self.args.db)?))
            }
        };
        let shown = Report {
            db: &self.args.db,
            backup: &report.path,
            bytes: report.bytes,
            pages: report.pages,
            elapsed_ms: report.elapsed.as_secs_f64() * 1000.0,
            kept,
        };
        if self.args.json {
            return print_json(&shown);
        }
        say!("backup: {}", shown.backup.display());
        say!("bytes: {}", shown.bytes);
        say!("pages: {}", shown.pages);
        say!("time: {:.1} ms", shown.elapsed_ms);
        if let Some(kept) = &shown.kept {
            say!("backups kept: {}", kept.len());
        }
        Ok(())
    }
}

/// The library refuses it too, but only once the copy starts; here it is a mistake (exit 2).
fn refuse_onto_itself(db: &Path, to: &Path) -> Result<()> {
    let same = matches!((db.canonicalize(), to.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if same {
        return Err(Error::BackupOntoItself {
            db: db.to_path_buf(),
        });
    }
    Ok(())
}

/// A backup file can only be created in a folder that exists.
fn check_folder_exists(file: &Path) -> Result<()> {
    let folder = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => return Ok(()),
    };
    if folder.is_dir() {
        return Ok(());
    }
    Err(Error::io(
        folder,
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
    ))
}
