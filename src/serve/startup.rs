//! Getting ready: the socket first, then the collection, and a health check that tells which.
//!
//! Loading a large collection into memory takes a while, and a client (or an orchestrator
//! waiting to send traffic) wants to know whether the service is up *and* ready. So the address
//! is bound and served at once, and `GET /health` answers 503 `{"status":"loading"}` while each
//! worker opens its own handle on the file and preloads the vectors and every index, logging
//! each step with its size and time; then 200 `{"status":"ok"}`. Searches asked before then
//! are refused with 503 `loading` rather than left waiting.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use super::cache::AnswerCache;
use super::error::ServeError;
use super::metrics::Metrics;
use super::workers::{queues, run_reader, run_writer, spawn, Workers};
use crate::engine::{Collection, IndexInfo, SearchParams};

/// The running workers: the handlers' side, and the threads to wait for at shutdown.
pub struct Started {
    pub workers: Workers,
    pub threads: Vec<JoinHandle<()>>,
}

/// What the workers need to start.
pub struct StartupPlan {
    pub db: PathBuf,
    pub readers: usize,
    pub queue_per_reader: usize,
    pub cache: Arc<AnswerCache>,
    pub metrics: Arc<Metrics>,
}

// ANCHOR: start_workers
/// Starts the reader threads and the writer, each opening (and a reader preloading) its own
/// handle on the file, and returns once every one of them is ready.
///
/// # Errors
///
/// [`ServeError::Load`] when a worker cannot open the file; [`ServeError::Thread`].
pub fn start_workers(plan: StartupPlan) -> Result<Started, ServeError> {
    let started = Instant::now();
    let queues = queues(plan.readers, plan.queue_per_reader);
    let (ready, reports) = channel::<Result<(), crate::Error>>();
    let mut threads = Vec::with_capacity(plan.readers + 1);
    for number in 0..plan.readers {
        let name = format!("reader-{number}");
        let (db, jobs, ready) = (plan.db.clone(), Arc::clone(&queues.reads), ready.clone());
        threads.push(spawn(name.clone(), move || {
            let Some(collection) = report(&ready, open_reader(&name, &db)) else {
                return;
            };
            run_reader(&name, &collection, &jobs);
        })?);
    }
    let (db, jobs, cache, metrics) = (plan.db.clone(), queues.writes, plan.cache, plan.metrics);
    threads.push(spawn("writer".to_string(), move || {
        let Some(mut collection) = report(&ready, Collection::open_existing(&db)) else {
            return;
        };
        run_writer(&mut collection, &jobs, &cache, &metrics);
    })?);
    for _ in 0..threads.len() {
        let outcome = reports.recv().unwrap_or_else(|_| {
            Err(crate::Error::CannotOpen {
                path: plan.db.display().to_string(),
                reason: "a worker stopped before it was ready".to_string(),
            })
        });
        outcome.map_err(|source| ServeError::Load {
            path: plan.db.clone(),
            source: Box::new(source),
        })?;
    }
    log::info!(
        "ready: {} readers and a writer on {} in {:.0} ms",
        plan.readers,
        plan.db.display(),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(Started {
        workers: queues.workers,
        threads,
    })
}
// ANCHOR_END: start_workers

/// Sends how opening went to the thread waiting for the workers; the value on success.
fn report<T>(ready: &Sender<Result<(), crate::Error>>, opened: crate::Result<T>) -> Option<T> {
    match opened {
        Ok(value) => {
            let _ = ready.send(Ok(()));
            Some(value)
        }
        Err(error) => {
            let _ = ready.send(Err(error));
            None
        }
    }
}

// ANCHOR: open_reader
/// A reader's handle, with the raw vectors and every index in memory, warmed up.
fn open_reader(name: &str, db: &Path) -> crate::Result<Collection> {
    let mut collection = Collection::open_existing(db)?;
    let count = collection.len()?;
    let bytes = count * collection.dimension().unwrap_or(0) * std::mem::size_of::<f32>();
    timed(
        name,
        "raw vectors",
        || collection.preload(None),
        || format!("{count} vectors, {bytes} bytes"),
    );
    let indexes = collection.indexes()?;
    for index in &indexes {
        let what = format!("index {} ({})", index.name, index.label);
        timed(
            name,
            &what,
            || collection.preload(Some(&index.name)),
            || format!("about {} bytes", index.bytes_per_vector * count),
        );
    }
    warm_up(name, &collection, &indexes);
    Ok(collection)
}
// ANCHOR_END: open_reader

// ANCHOR: warm_up
/// One search through brute force and through each index, before the reader is counted ready:
/// what the first search of a handle sets up once (a graph's visited marks, the kernels' choice,
/// pages touched for the first time) is paid here, not by the first client.
fn warm_up(name: &str, collection: &Collection, indexes: &[IndexInfo]) {
    let Some(dimension) = collection.dimension() else {
        return; // nothing stored: nothing to warm
    };
    let query = vec![1.0; dimension];
    let started = Instant::now();
    let names = std::iter::once(None).chain(indexes.iter().map(|i| Some(i.name.as_str())));
    for index in names {
        if let Err(error) = collection.search(index, &query, &SearchParams::k(1)) {
            log::debug!("{name}: warm-up search through {index:?} failed: {error}");
        }
    }
    log::info!(
        "{name}: warmed up in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
}
// ANCHOR_END: warm_up

/// Runs one preloading step and logs it with its size and time. A step that fails is logged
/// and skipped: a collection of codes has no raw vectors to load, a damaged index refuses
/// searches anyway, and neither should keep the rest of the collection from being served.
fn timed(
    name: &str,
    what: &str,
    step: impl FnOnce() -> crate::Result<()>,
    size: impl FnOnce() -> String,
) {
    let started = Instant::now();
    match step() {
        Ok(()) => log::info!(
            "{name}: {what} preloaded ({}) in {:.1} ms",
            size(),
            started.elapsed().as_secs_f64() * 1e3
        ),
        Err(error) => log::warn!("{name}: {what} not preloaded: {error}"),
    }
}
