//! Backups on a schedule, and the check at start-up that falls back on them.
//!
//! A service that runs for months needs copies of its file it can go back to: a disk that
//! fails, a bug that writes garbage, an operator's mistake. Every `--backup-every`, a thread of
//! its own copies the file with SQLite's online backup ([`crate::backup`]): the copy is one
//! consistent snapshot taken while searches and writes go on, and the rotation keeps the newest
//! `--keep`. At start-up, before any worker opens the file, the whole file is checked; a damaged
//! file is set aside and the newest backup that passes its own check takes its place, loudly:
//! what was committed after that backup is lost, and the log says so. Without a good backup the
//! service refuses to start rather than serve a damaged file.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::ServeError;
use super::metrics::Metrics;
use crate::backup::{check_or_recover, Recovery, Rotation};

/// Where and how often the service backs its file up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSchedule {
    pub rotation: Rotation,
    pub every: Duration,
}

// ANCHOR: recover_at_startup
/// Checks the file at `db` before anything opens it and, when it is damaged, puts the newest
/// good backup of `schedule` in its place.
///
/// # Errors
///
/// [`ServeError::Load`] with [`Error::NoGoodBackup`](crate::Error::NoGoodBackup) when the file
/// is damaged and no backup passes (or there is no backup folder), or the recovery's own
/// errors: the service does not start on a damaged file.
pub fn recover_at_startup(db: &Path, schedule: Option<&BackupSchedule>) -> Result<(), ServeError> {
    let load_error = |source| ServeError::Load {
        path: db.to_path_buf(),
        source: Box::new(source),
    };
    match check_or_recover(db, schedule.map(|s| &s.rotation)).map_err(load_error)? {
        Recovery::Healthy => log::info!("{}: integrity check passed", db.display()),
        Recovery::Restored {
            from,
            damaged_kept_at,
            problems,
        } => log::error!(
            "STARTING FROM A BACKUP: {} failed its check ({} problem(s)); restored from {}, \
             the damaged file kept at {}",
            db.display(),
            problems.len(),
            from.display(),
            damaged_kept_at.display()
        ),
    }
    Ok(())
}
// ANCHOR_END: recover_at_startup

/// The backup thread, and the sender whose drop stops it.
pub struct Scheduled {
    pub thread: JoinHandle<()>,
    pub stop: Sender<()>,
}

// ANCHOR: backup_schedule
/// Starts the thread that backs `db` up every `schedule.every`, until `stop` is dropped.
///
/// # Errors
///
/// [`ServeError::Thread`] when the thread cannot be started.
pub fn start_schedule(
    db: PathBuf,
    schedule: BackupSchedule,
    metrics: Arc<Metrics>,
) -> Result<Scheduled, ServeError> {
    let (stop, stopped) = channel::<()>();
    let name = "backups".to_string();
    let thread = std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            // Waiting on the channel is the sleep: a shutdown ends it at once.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(schedule.every) {
                take_backup(&db, &schedule.rotation, &metrics);
            }
            log::debug!("backups: stopping");
        })
        .map_err(|source| ServeError::Thread { name, source })?;
    Ok(Scheduled { thread, stop })
}
// ANCHOR_END: backup_schedule

/// One scheduled backup; a failure is logged and counted, and the next one tried on time.
fn take_backup(db: &Path, rotation: &Rotation, metrics: &Metrics) {
    match rotation.take(db) {
        Ok(report) => {
            metrics.backups.inc();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            metrics
                .last_backup_time
                .set(i64::try_from(now.as_secs()).unwrap_or(i64::MAX));
            log::info!(
                "backup of {} written to {} ({} bytes in {:.0} ms)",
                db.display(),
                report.path.display(),
                report.bytes,
                report.elapsed.as_secs_f64() * 1e3
            );
        }
        Err(error) => {
            metrics.backup_failures.inc();
            log::error!("backup of {} failed: {error}", db.display());
        }
    }
}
