//! One concurrency level: C workers searching at once, each as fast as it is answered, until the
//! time or the count runs out.
//!
//! Each worker is an OS thread with its own connection, in a closed loop: it sends a search,
//! waits for the answer, records the latency, and sends the next (see the module doc of
//! [`super`] for what a closed loop hides). The workers share two bounds: a deadline, and a
//! counter from which each search claims its number before it is sent, so that the run stops
//! at whichever comes first and never sends more than the count, however many workers there
//! are. The same number chooses the search's query, so no two searches of a run send the same
//! one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::serve_client::client::{Query, SearchOptions, SearchOutcome, ServeClient};
use crate::serve_client::latency::Latencies;
use crate::serve_client::queries::QuerySource;
use crate::serve_client::report::LevelReport;

/// How long, and how many searches, one level may run; and how its queries are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelBounds {
    /// Workers searching at once (at least 1).
    pub concurrency: usize,
    /// No search is started after this much time.
    pub duration: Duration,
    /// No more searches than this are sent.
    pub max_requests: u64,
    /// The sequence number of the level's first search: levels after the first go on from
    /// where the one before stopped, so that they send new queries too.
    pub first_sequence: u64,
    /// Send query 0 every time (to measure a cache) instead of distinct queries.
    pub repeat: bool,
}

/// What one worker counted.
#[derive(Default)]
struct WorkerTally {
    latencies: Latencies,
    errors: u64,
    cached: u64,
    /// How long the worker searched.
    ran: Duration,
}

/// What answers a worker's searches: the server over HTTP, or a collection in this process.
pub trait Searcher {
    /// Sends (or runs) one search and says how it was answered.
    ///
    /// # Errors
    ///
    /// A failure of the transport or of the search, counted as an error.
    fn search(&mut self, query: &Query) -> crate::Result<SearchOutcome>;
}

/// A searcher that could not be opened: every search it is given counts as an error.
impl<S: Searcher> Searcher for crate::Result<S> {
    fn search(&mut self, query: &Query) -> crate::Result<SearchOutcome> {
        match self {
            Ok(searcher) => searcher.search(query),
            Err(_) => Ok(SearchOutcome::Failed),
        }
    }
}

/// The server, over one kept-alive HTTP connection.
struct OverHttp<'a> {
    client: ServeClient,
    options: &'a SearchOptions,
}

impl Searcher for OverHttp<'_> {
    fn search(&mut self, query: &Query) -> crate::Result<SearchOutcome> {
        self.client.search(query, self.options)
    }
}

// ANCHOR: run_level
/// Runs one level against the server at `base`: `bounds.concurrency` workers, each with its
/// own connection, searching until the deadline or the count.
pub fn run_level(
    base: &str,
    source: &QuerySource,
    options: &SearchOptions,
    bounds: &LevelBounds,
) -> LevelReport {
    run_level_with(source, bounds, &|| OverHttp {
        client: ServeClient::new(base),
        options,
    })
}

/// Runs one level with searchers made by `open`, one per worker and in its thread (a
/// collection cannot move between threads). The clock starts once every worker has its
/// searcher, so opening one (preloading a collection) is not counted.
pub fn run_level_with<S: Searcher>(
    source: &QuerySource,
    bounds: &LevelBounds,
    open: &(dyn Fn() -> S + Sync),
) -> LevelReport {
    let workers = bounds.concurrency.max(1);
    let claimed = AtomicU64::new(0);
    let all_open = Barrier::new(workers);
    let tallies: Vec<WorkerTally> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut searcher = open();
                    all_open.wait();
                    search_until_bounds(&mut searcher, source, bounds, &claimed)
                })
            })
            .collect();
        running
            .into_iter()
            .map(|w| w.join().unwrap_or_default()) // a worker that panicked counted nothing
            .collect()
    });
    let elapsed = tallies.iter().map(|t| t.ran).max().unwrap_or_default();
    let mut latencies = Latencies::new();
    let (mut errors, mut cached) = (0, 0);
    for tally in &tallies {
        latencies.merge(&tally.latencies);
        errors += tally.errors;
        cached += tally.cached;
    }
    LevelReport::new(bounds.concurrency, &latencies, errors, cached, elapsed)
}
// ANCHOR_END: run_level

/// One worker's closed loop: claim a number, search, record, until a bound is reached.
fn search_until_bounds(
    searcher: &mut impl Searcher,
    source: &QuerySource,
    bounds: &LevelBounds,
    claimed: &AtomicU64,
) -> WorkerTally {
    let started = Instant::now();
    let deadline = started + bounds.duration;
    let mut tally = WorkerTally::default();
    while Instant::now() < deadline {
        let number = claimed.fetch_add(1, Ordering::Relaxed);
        if number >= bounds.max_requests {
            break;
        }
        let query = source.query(bounds.first_sequence + number, bounds.repeat);
        let sent = Instant::now();
        match searcher.search(&query) {
            Ok(SearchOutcome::Answered { cached }) => {
                tally.latencies.record(sent.elapsed());
                tally.cached += u64::from(cached);
            }
            Ok(SearchOutcome::Failed) | Err(_) => tally.errors += 1,
        }
    }
    tally.ran = started.elapsed();
    tally
}
