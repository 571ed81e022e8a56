//! Threads that own the collection: a pool of readers, and one writer.
//!
//! A [`Collection`] is one SQLite handle with caches in `RefCell`s: it cannot be shared
//! between threads, nor even sent to another. So the service does not share one; each worker
//! thread opens its own on the same file, and keeps it for its whole life, vectors and indexes
//! preloaded in memory. The async handlers never touch a collection: they put a job on a
//! queue and wait for its answer on a one-shot channel.
//!
//! - **Readers** (`--readers N`) take search, get and info jobs from one shared queue, so N
//!   searches run at once, one per thread. SQLite's write-ahead log gives each read
//!   transaction a snapshot: a search sees the file before a write or after it, never half of
//!   it, and never waits for the writer.
//! - **The writer** takes inserts and deletes from a queue of its own, one at a time, in
//!   order: SQLite allows one writer per file anyway, and one thread makes the order of writes
//!   the order of arrival. It answers only once the transaction has committed, so an
//!   acknowledged write is in the file, whatever happens to the process next.
//!
//! Both queues are bounded: when one is full the request is refused at once (503,
//! `overloaded`) rather than queued without bound, so a burst makes clients retry instead of
//! making every answer late and the memory grow.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::api::{
    attributes_to_json, Hit, IndexSummary, InfoResponse, StoreResponse, VectorResponse,
};
use super::api_error::ApiError;
use super::cache::AnswerCache;
use super::error::ServeError;
use super::metrics::Metrics;
use super::validate::{
    attributes_from_json, check_against_collection, CheckedSearch, CheckedStore, Target,
};
use crate::engine::neighbour::ids_of;
use crate::engine::Collection;

/// Where a job sends its answer.
pub type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// The answer to a search, before the handler times and caches it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub results: Vec<Hit>,
    pub index: String,
}

/// What a reader can be asked.
#[derive(Debug)]
pub enum ReadJob {
    Search(Box<CheckedSearch>, Reply<Answer>),
    Get(i64, Reply<VectorResponse>),
    Info(Reply<InfoResponse>),
}

/// What the writer can be asked.
#[derive(Debug)]
pub enum WriteJob {
    Store(Box<CheckedStore>, Reply<StoreResponse>),
    Delete(Vec<i64>, Reply<usize>),
}

/// The handlers' side of the queues.
#[derive(Debug, Clone)]
pub struct Workers {
    reads: SyncSender<ReadJob>,
    writes: SyncSender<WriteJob>,
    /// How many reader threads take from the read queue.
    pub readers: usize,
}

impl Workers {
    /// Queues a read job, or refuses it at once when the queue is full.
    ///
    /// # Errors
    ///
    /// `overloaded` (queue full) or `shutting_down` (the readers are gone), both 503.
    pub fn submit_read(&self, job: ReadJob) -> Result<(), ApiError> {
        self.reads.try_send(job).map_err(|e| refused("read", &e))
    }

    /// Queues a write job, or refuses it at once when the queue is full.
    ///
    /// # Errors
    ///
    /// As [`submit_read`](Self::submit_read).
    pub fn submit_write(&self, job: WriteJob) -> Result<(), ApiError> {
        self.writes.try_send(job).map_err(|e| refused("write", &e))
    }
}

fn refused<T>(queue: &str, error: &TrySendError<T>) -> ApiError {
    match error {
        TrySendError::Full(_) => ApiError::overloaded(queue),
        TrySendError::Disconnected(_) => ApiError::shutting_down(),
    }
}

/// Waits for a job's answer.
///
/// # Errors
///
/// The job's own error; `internal` when the worker dropped the job (it panicked).
pub async fn answer_of<T>(answer: oneshot::Receiver<Result<T, ApiError>>) -> Result<T, ApiError> {
    answer
        .await
        .unwrap_or_else(|_| Err(ApiError::internal("the worker stopped before answering")))
}

/// The queues, before the threads that take from them are started.
pub struct Queues {
    pub workers: Workers,
    pub reads: Arc<Mutex<Receiver<ReadJob>>>,
    pub writes: Receiver<WriteJob>,
}

/// Bounded queues: `per_reader` jobs for each reader, as many for the writer.
pub fn queues(readers: usize, per_reader: usize) -> Queues {
    let bound = readers.saturating_mul(per_reader).max(1);
    let (read_sender, read_receiver) = sync_channel(bound);
    let (write_sender, write_receiver) = sync_channel(per_reader.max(1));
    Queues {
        workers: Workers {
            reads: read_sender,
            writes: write_sender,
            readers,
        },
        reads: Arc::new(Mutex::new(read_receiver)),
        writes: write_receiver,
    }
}

/// Starts a thread named `name` running `work`.
///
/// # Errors
///
/// [`ServeError::Thread`] when the system refuses a thread.
pub fn spawn(
    name: String,
    work: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, ServeError> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(work)
        .map_err(|source| ServeError::Thread { name, source })
}

// ANCHOR: reader_loop
/// A reader's life: take the next job, answer it, until the queue is closed and empty.
pub fn run_reader(name: &str, collection: &Collection, jobs: &Mutex<Receiver<ReadJob>>) {
    loop {
        // One reader waits on the queue at a time; the others wait for the lock, and the
        // first job that arrives goes to whichever holds it.
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else {
            log::debug!("{name}: the read queue is closed, stopping");
            return;
        };
        // A panic is a bug; it costs the one request (whose reply is dropped), not the thread.
        let answered = catch_unwind(AssertUnwindSafe(|| answer_read(collection, job)));
        if answered.is_err() {
            log::error!("{name}: a read job panicked");
        }
    }
}
// ANCHOR_END: reader_loop

fn answer_read(collection: &Collection, job: ReadJob) {
    // A client that gave up no longer listens: its answer is dropped, which is fine.
    match job {
        ReadJob::Search(search, reply) => {
            let _ = reply.send(search_collection(collection, &search));
        }
        ReadJob::Get(id, reply) => {
            let _ = reply.send(get_vector(collection, id));
        }
        ReadJob::Info(reply) => {
            let _ = reply.send(describe(collection, 0));
        }
    }
}

// ANCHOR: search_collection
/// One search: the query (given, or read by id), the checks against the collection, the
/// search, then the neighbours' attributes, all in one snapshot of the file: a write that
/// commits meanwhile is seen by none of them or, by the next request, by all.
fn search_collection(collection: &Collection, search: &CheckedSearch) -> Result<Answer, ApiError> {
    collection.snapshot(|collection| search_in_snapshot(collection, search))
}

fn search_in_snapshot(collection: &Collection, search: &CheckedSearch) -> Result<Answer, ApiError> {
    let query: Cow<'_, [f32]> = match &search.target {
        Target::Vector(vector) => Cow::Borrowed(vector),
        Target::Id(id) => Cow::Owned(
            collection
                .get(*id)?
                .ok_or_else(|| ApiError::not_found(format!("field id: no vector has id {id}")))?,
        ),
    };
    let index = check_against_collection(collection, search, &query)?;
    let neighbours = match &search.filter {
        None => collection.search(index.as_deref(), &query, &search.params)?,
        Some(filter) => {
            collection
                .search_filtered(
                    index.as_deref(),
                    &query,
                    &search.params,
                    filter,
                    search.strategy,
                )?
                .neighbours
        }
    };
    let attributes = collection.attributes_of(&ids_of(&neighbours))?;
    let results = neighbours
        .iter()
        .enumerate()
        .map(|(row, n)| Hit {
            id: n.id,
            score: n.score,
            attributes: attributes.as_ref().and_then(|a| attributes_to_json(a, row)),
        })
        .collect();
    Ok(Answer {
        results,
        index: index.unwrap_or_else(|| "flat".to_string()),
    })
}
// ANCHOR_END: search_collection

fn get_vector(collection: &Collection, id: i64) -> Result<VectorResponse, ApiError> {
    collection.snapshot(|collection| vector_in_snapshot(collection, id))
}

fn vector_in_snapshot(collection: &Collection, id: i64) -> Result<VectorResponse, ApiError> {
    let vector = collection
        .get(id)?
        .ok_or_else(|| ApiError::not_found(format!("no vector has id {id}")))?;
    let attributes = collection.attributes_of(&[id])?;
    Ok(VectorResponse {
        id,
        vector,
        attributes: attributes.as_ref().and_then(|a| attributes_to_json(a, 0)),
    })
}

/// What `GET /info` shows (`readers` is filled in by the handler).
fn describe(collection: &Collection, readers: usize) -> Result<InfoResponse, ApiError> {
    let generation = collection.generation()?;
    let indexes = collection
        .indexes()?
        .into_iter()
        .map(|info| IndexSummary {
            name: info.name,
            kind: info.kind,
            label: info.label,
            up_to_date: info.up_to_date,
            bytes_per_vector: info.bytes_per_vector,
        })
        .collect();
    let default_index = match collection.default_index() {
        Ok(name) => Some(name.unwrap_or_else(|| "flat".to_string())),
        Err(crate::Error::AmbiguousIndex { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    Ok(InfoResponse {
        dimension: collection.dimension(),
        metric: collection.metric().as_str().to_string(),
        count: collection.len()?,
        generation,
        indexes,
        default_index,
        readers,
    })
}

// ANCHOR: writer_loop
/// The writer's life: each write in order of arrival, answered once committed, until the
/// queue is closed and empty (so every write queued before a shutdown is still done).
pub fn run_writer(
    collection: &mut Collection,
    jobs: &Receiver<WriteJob>,
    cache: &AnswerCache,
    metrics: &Metrics,
) {
    let mut done = 0usize;
    while let Ok(job) = jobs.recv() {
        let answered = catch_unwind(AssertUnwindSafe(|| {
            answer_write(collection, job, cache, metrics)
        }));
        if answered.is_err() {
            log::error!("writer: a write job panicked");
        }
        done += 1;
    }
    log::info!("writer: the write queue is drained ({done} writes), stopping");
}
// ANCHOR_END: writer_loop

fn answer_write(
    collection: &mut Collection,
    job: WriteJob,
    cache: &AnswerCache,
    metrics: &Metrics,
) {
    match job {
        WriteJob::Store(store, reply) => {
            let kind = if store.upsert { "upsert" } else { "insert" };
            let stored = store_vectors(collection, &store);
            if let Ok(answer) = &stored {
                forget_answers(cache);
                metrics.observe_write(kind, answer.stored);
            }
            let _ = reply.send(stored);
        }
        WriteJob::Delete(ids, reply) => {
            let deleted = collection.delete(&ids).map_err(ApiError::from);
            if let Ok(count) = &deleted {
                forget_answers(cache);
                metrics.observe_write("delete", *count);
            }
            let _ = reply.send(deleted);
        }
    }
}

/// Empties the cache after a committed write: every answer in it may have changed.
fn forget_answers(cache: &AnswerCache) {
    cache.clear();
}

/// An insert or an upsert, in one transaction.
fn store_vectors(
    collection: &mut Collection,
    store: &CheckedStore,
) -> Result<StoreResponse, ApiError> {
    let attributes = store
        .attributes
        .as_deref()
        .map(|objects| attributes_from_json(objects, &collection.attribute_schema()?))
        .transpose()?;
    let ids = match (&store.ids, store.upsert) {
        (Some(ids), true) => {
            collection.upsert(&store.vectors, ids, attributes.as_ref())?;
            ids.clone()
        }
        (ids, _) => match &attributes {
            Some(attributes) => {
                collection.insert_with_attributes(&store.vectors, ids.as_deref(), attributes)?
            }
            None => collection.insert(&store.vectors, ids.as_deref())?,
        },
    };
    Ok(StoreResponse {
        stored: ids.len(),
        ids,
        generation: collection.generation()?,
    })
}
