//! `svdb serve`: the collection as an HTTP search service.
//!
//! Until now every search was a process: open the file, load what it needs, answer, exit. A
//! service keeps the collection open and in memory, and answers many clients at once. Its
//! parts, one per file:
//!
//! - [`workers`]: a pool of reader threads, each owning a preloaded [`Collection`] handle on
//!   the file, and one writer thread owning another. A collection cannot be shared between
//!   threads, so each thread has its own; jobs reach them over bounded channels, and answers
//!   come back on one-shot channels. Searches run side by side; writes one at a time, each
//!   acknowledged only once committed.
//! - [`cache`]: recent answers, each stamped with the file's generation, so that an answer
//!   computed before a write (by this service or any other process) is never served after it.
//! - [`api`] and [`validate`]: the JSON of requests and answers, and every check a request
//!   meets; [`api_error`]: each failure as a status and a `kind`, in one place.
//! - [`routes`]: the axum handlers; [`metrics`]: what `GET /metrics` shows; [`page`]: the
//!   page at `GET /` that draws the digits.
//! - [`startup`] and [`shutdown`]: bind first, load while `/health` says `loading`; on SIGTERM
//!   or Ctrl-C, finish what is in flight, drain the writes, exit 0.
//! - [`backups`]: the file checked before anything opens it (a damaged one replaced by its
//!   newest good backup), and backups on a schedule while the service runs.
//!
//! [`Collection`]: crate::engine::Collection

pub mod api;
pub mod api_error;
pub mod backups;
pub mod cache;
pub mod error;
pub mod metrics;
pub mod page;
pub mod routes;
pub mod shutdown;
pub mod startup;
pub mod validate;
pub mod workers;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::watch;

pub use error::ServeError;

use api_error::ApiError;
use backups::{recover_at_startup, start_schedule, BackupSchedule};
use cache::AnswerCache;
use metrics::Metrics;
use shutdown::stop_signal;
use startup::{start_workers, StartupPlan};
use workers::Workers;

/// How the service is set up (`svdb serve`'s flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The collection's file; it must exist.
    pub db: PathBuf,
    /// How many reader threads (each with its own copy of the collection in memory).
    pub readers: usize,
    /// How many answers the cache keeps (0: none).
    pub cache_entries: usize,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How many jobs may wait per reader (and for the writer) before requests are refused as
    /// `overloaded`.
    pub queue_per_reader: usize,
    /// Backups on a schedule, and the folder recovery looks in (`None`: no backups).
    pub backups: Option<BackupSchedule>,
}

/// The default of [`ServeConfig::queue_per_reader`].
pub const QUEUE_PER_READER: usize = 64;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// `None` while loading, and again once shutting down.
    workers: Mutex<Option<Workers>>,
    ready: AtomicBool,
    /// Dropped at shutdown, which stops the backup thread.
    backup_stop: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    pub cache: Arc<AnswerCache>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// `true` once every worker has loaded the collection.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The queues to the workers.
    ///
    /// # Errors
    ///
    /// `loading` (503) before the workers are ready; `shutting_down` (503) after.
    pub fn workers(&self) -> Result<Workers, ApiError> {
        let workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        match (&*workers, self.is_ready()) {
            (Some(workers), _) => Ok(workers.clone()),
            (None, false) => Err(ApiError::loading()),
            (None, true) => Err(ApiError::shutting_down()),
        }
    }

    fn install(&self, workers: Workers) {
        *self.workers.lock().unwrap_or_else(|p| p.into_inner()) = Some(workers);
        self.ready.store(true, Ordering::Release);
    }

    /// Drops the handlers' side of the queues: the workers finish what is queued and stop;
    /// so does the backup thread.
    fn close_queues(&self) {
        self.workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.backup_stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}

// ANCHOR: run
/// Serves the collection `config.db` on `listener` (already bound) until SIGTERM or Ctrl-C,
/// then drains and returns.
///
/// # Errors
///
/// [`ServeError::Load`] when the collection cannot be loaded (the service stops);
/// [`ServeError::Runtime`], [`ServeError::Socket`], [`ServeError::Thread`].
pub fn run(listener: std::net::TcpListener, config: ServeConfig) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("svdb-http")
        .build()
        .map_err(ServeError::Runtime)?;
    let threads = runtime.block_on(serve(listener, config))?;
    for thread in threads {
        let name = thread.thread().name().unwrap_or("worker").to_string();
        thread
            .join()
            .map_err(|_| ServeError::WorkerPanicked(name))?;
    }
    log::info!("stopped");
    Ok(())
}

/// The service itself: HTTP at once, the workers as soon as they are loaded.
async fn serve(
    listener: std::net::TcpListener,
    config: ServeConfig,
) -> Result<Vec<JoinHandle<()>>, ServeError> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "the socket".to_string(), |a| a.to_string());
    let socket_error = |source| ServeError::Socket {
        addr: addr.clone(),
        source,
    };
    listener.set_nonblocking(true).map_err(socket_error)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(socket_error)?;
    let cache = AnswerCache::new(&config.db, config.cache_entries);
    let state = Arc::new(AppState {
        workers: Mutex::new(None),
        ready: AtomicBool::new(false),
        backup_stop: Mutex::new(None),
        cache: Arc::new(cache),
        metrics: Arc::new(Metrics::new()),
    });
    let (failed, failure) = watch::channel(false);
    let plan = StartupPlan {
        db: config.db.clone(),
        readers: config.readers,
        queue_per_reader: config.queue_per_reader,
        cache: Arc::clone(&state.cache),
        metrics: Arc::clone(&state.metrics),
    };
    let loading_state = Arc::clone(&state);
    let backups = config.backups.clone();
    let loading =
        tokio::task::spawn_blocking(move || match start_service(plan, backups, &loading_state) {
            Ok(threads) => Ok(threads),
            Err(error) => {
                log::error!("{error}");
                let _ = failed.send(true);
                Err(error)
            }
        });
    let app = routes::router(Arc::clone(&state), config.max_body_bytes);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop_signal(failure).await;
        })
        .await
        .map_err(socket_error)?;
    // A signal during loading: the workers are let finish loading, then stopped with the rest.
    let threads = loading
        .await
        .map_err(|_| ServeError::WorkerPanicked("loader".to_string()))??;
    log::info!("no request in flight: closing the job queues");
    state.close_queues();
    Ok(threads)
}
// ANCHOR_END: run

// ANCHOR: start_service
/// What the service does while `/health` says `loading`: check the file (recovering it from a
/// backup if it is damaged), start the workers, then the backup schedule.
fn start_service(
    plan: StartupPlan,
    backups: Option<BackupSchedule>,
    state: &AppState,
) -> Result<Vec<JoinHandle<()>>, ServeError> {
    recover_at_startup(&plan.db, backups.as_ref())?;
    // The cache's connection opens now, on the file as checked, not at the first search.
    if let Err(error) = plan.cache.file_generation() {
        log::warn!("the cache cannot read the file's generation yet: {error}");
    }
    let (db, metrics) = (plan.db.clone(), Arc::clone(&plan.metrics));
    let started = start_workers(plan)?;
    let mut threads = started.threads;
    if let Some(schedule) = backups {
        let scheduled = start_schedule(db, schedule, metrics)?;
        *state.backup_stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(scheduled.stop);
        threads.push(scheduled.thread);
    }
    state.install(started.workers);
    Ok(threads)
}
// ANCHOR_END: start_service
