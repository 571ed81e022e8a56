//! A load tester for `svdb serve`: many clients searching at once, and what they waited.
//!
//! It runs the server's searches from C client threads at a time, for each concurrency level C
//! it is given, and reports per level the searches answered per second and the latency at the
//! 50th, 95th and 99th percentiles and the worst.
//!
//! **Percentiles, not means.** Latencies are skewed: most searches take about the same time,
//! and a few (a garbage collection, a page not in the cache, a writer holding the lock) take
//! ten times as long. The mean mixes the two and describes neither; one search of a second
//! among a thousand of a millisecond doubles it. The median (P50) says what a typical search
//! waits, P99 what one search in a hundred waits, and a user who sends a hundred searches to
//! load a page waits for the slowest of them: the tail is what users feel.
//!
//! **A closed loop under-reports latency under overload (coordinated omission).** Each client
//! here sends its next search only when the last one was answered. When the server stalls for a
//! second, each client waits out the stall once, and records one slow search, while real users,
//! who do not wait for each other, would have sent a second's worth of searches into the stall,
//! each waiting part of it. The client "coordinates" with the server and omits the searches it
//! would have sent: the percentiles look better than a user would find them, and the worse the
//! overload, the bigger the lie. Read the figures of a level as "what C patient clients see";
//! the throughput at which latency starts to climb is the server's capacity, and beyond it an
//! open-loop test (requests sent on a schedule, latency counted from when each was due) is
//! needed to see what users would suffer.
//!
//! The pieces: [`address`] (loopback only), [`client`] (the server's HTTP contract),
//! [`queries`] (distinct queries, so that a cache answers none of them), [`ready`] (waiting
//! for `GET /health`), [`latency`] (a
//! histogram of bounded size), [`load`] (the workers of one level), [`report`] (the table).

pub mod address;
pub mod client;
pub mod in_process;
pub mod latency;
pub mod load;
pub mod queries;
pub mod ready;
pub mod report;

pub use address::loopback_base_url;
pub use client::{Query, SearchOptions, SearchOutcome, ServeClient, ServerInfo};
pub use in_process::InProcess;
pub use load::{run_level, run_level_with, LevelBounds, Searcher};
pub use queries::QuerySource;
pub use ready::wait_ready;
pub use report::{BenchReport, FirstSearch, LevelReport};
