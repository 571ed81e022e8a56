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
use std::time::{Duration, Instant};

use crate::serve_client::client::{SearchOptions, SearchOutcome, ServeClient};
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
}

// ANCHOR: run_level
/// Runs one level against the server at `base` and reports what its searches saw.
///
/// Latencies are those of the answered searches; a search answered with another status than
/// 200, with a body that is not a search answer, or not answered at all, counts as an error.
pub fn run_level(
    base: &str,
    source: &QuerySource,
    options: &SearchOptions,
    bounds: &LevelBounds,
) -> LevelReport {
    let claimed = AtomicU64::new(0);
    let started = Instant::now();
    let deadline = started + bounds.duration;
    let tallies: Vec<WorkerTally> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..bounds.concurrency.max(1))
            .map(|_| {
                scope.spawn(|| {
                    search_until_bounds(base, source, options, bounds, &claimed, deadline)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default()) // a worker that panicked counted nothing
            .collect()
    });
    let elapsed = started.elapsed();
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

/// One worker's loop: claim a number, search, record; until the deadline or the count.
fn search_until_bounds(
    base: &str,
    source: &QuerySource,
    options: &SearchOptions,
    bounds: &LevelBounds,
    claimed: &AtomicU64,
    deadline: Instant,
) -> WorkerTally {
    let client = ServeClient::new(base);
    let mut tally = WorkerTally::default();
    while Instant::now() < deadline {
        let number = claimed.fetch_add(1, Ordering::Relaxed);
        if number >= bounds.max_requests {
            break;
        }
        let query = source.query(bounds.first_sequence + number, bounds.repeat);
        let sent = Instant::now();
        match client.search(&query, options) {
            Ok(SearchOutcome::Answered { cached }) => {
                tally.latencies.record(sent.elapsed());
                tally.cached += u64::from(cached);
            }
            Ok(SearchOutcome::Failed) | Err(_) => tally.errors += 1,
        }
    }
    tally
}
