//! `svdb serve`: the collection as an HTTP search service (see `simple_vector_db::serve`).
//!
//! The address is bound in `prepare`, so that a mistake (a missing file, an address in use)
//! exits with 2 before any work; `run` prints `listening on http://ADDR` once (the real port
//! with `--addr 127.0.0.1:0`), then loads the collection and serves until SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use simple_vector_db::backup::Rotation;
use simple_vector_db::evaluation::cli::{parse_duration, parse_positive};
use simple_vector_db::serve::backups::BackupSchedule;
use simple_vector_db::serve::{self, ServeConfig, ServeError, QUEUE_PER_READER};
use simple_vector_db::{Error, Result};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The collection's SQLite file (it must exist: `svdb load` creates one).
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The address to listen on (port 0: any free port, printed on the first line).
    #[arg(long, default_value = "127.0.0.1:7700")]
    addr: String,
    /// Reader threads, each with its own copy of the collection in memory (default: the
    /// number of CPUs).
    #[arg(long, value_parser = parse_positive)]
    readers: Option<usize>,
    /// How many recent answers the cache keeps (0: no cache).
    #[arg(long, default_value_t = 1024)]
    cache_entries: usize,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024, value_parser = parse_positive)]
    max_body_bytes: usize,
    /// Back the file up into this folder on a schedule; at start-up, a damaged file is
    /// replaced by the newest backup here that passes its check.
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// How often to back up (`24h`, `30m`, `10s`).
    #[arg(long, default_value = "24h", value_parser = parse_duration, requires = "backup_dir")]
    backup_every: Duration,
    /// How many backups to keep, the newest.
    #[arg(long, default_value_t = 7, value_parser = parse_positive, requires = "backup_dir")]
    keep: usize,
}

/// `svdb serve` with its file checked and its address bound.
pub struct PreparedServe {
    listener: TcpListener,
    config: ServeConfig,
}

impl ServeArgs {
    /// Checks that the file exists and binds the address.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchDatabase`]; [`Error::InvalidParameter`] for a zero `--backup-every`;
    /// [`Error::Io`] naming the address when it cannot be bound.
    pub fn prepare(self) -> Result<PreparedServe> {
        if !self.db.is_file() {
            return Err(Error::NoSuchDatabase {
                path: self.db.display().to_string(),
            });
        }
        if self.backup_every.is_zero() {
            // A zero period would back up in a loop, never resting.
            return Err(Error::InvalidParameter {
                name: "backup-every",
                reason: "must be longer than 0, such as 24h or 30m".to_string(),
            });
        }
        let listener = TcpListener::bind(&self.addr)
            .map_err(|e| Error::io(format!("--addr {}", self.addr), e))?;
        let backups = self
            .backup_dir
            .map(|dir| {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::io(dir.display().to_string(), e))?;
                Ok::<_, Error>(BackupSchedule {
                    rotation: Rotation::new(dir, self.keep)?,
                    every: self.backup_every,
                })
            })
            .transpose()?;
        let readers = self.readers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        Ok(PreparedServe {
            listener,
            config: ServeConfig {
                db: self.db,
                readers,
                cache_entries: self.cache_entries,
                max_body_bytes: self.max_body_bytes,
                queue_per_reader: QUEUE_PER_READER,
                backups,
            },
        })
    }
}

impl PreparedServe {
    /// Announces the address, then serves until stopped.
    ///
    /// # Errors
    ///
    /// The collection cannot be loaded, or the service fails.
    pub fn run(self) -> Result<()> {
        let addr = self
            .listener
            .local_addr()
            .map_err(|e| Error::io("the bound socket", e))?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{addr}")
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("stdout", e))?;
        drop(stdout);
        serve::run(self.listener, self.config).map_err(into_library_error)
    }
}

/// The service's failure as the error `svdb` prints: the library's own when it is one, else
/// the I/O error that stopped the service.
fn into_library_error(error: ServeError) -> Error {
    match error {
        ServeError::Load { source, .. } => *source,
        ServeError::Runtime(source) => Error::io("the async runtime", source),
        ServeError::Socket { addr, source } => Error::io(addr, source),
        ServeError::Thread { name, source } => Error::io(format!("thread {name}"), source),
        ServeError::WorkerPanicked(name) => Error::io(
            format!("thread {name}"),
            std::io::Error::other("the thread panicked"),
        ),
    }
}
