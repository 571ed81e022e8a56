//! What a load test found, as a table or a JSON document.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::serve_client::latency::Latencies;

/// One concurrency level's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelReport {
    /// Workers searching at once.
    pub concurrency: usize,
    /// Searches sent: answered and failed.
    pub requests: u64,
    /// Searches that failed: another status than 200, a body that is not a search answer, or
    /// no answer at all.
    pub errors: u64,
    /// Answered searches the server said came from its cache.
    pub cached: u64,
    /// How long the level ran, in seconds.
    pub elapsed_s: f64,
    /// Answered searches per second.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LevelReport {
    /// The figures of a level from its answered searches' latencies and its counts.
    pub fn new(
        concurrency: usize,
        latencies: &Latencies,
        errors: u64,
        cached: u64,
        elapsed: Duration,
    ) -> Self {
        let answered = latencies.count();
        let seconds = elapsed.as_secs_f64();
        LevelReport {
            concurrency,
            requests: answered + errors,
            errors,
            cached,
            elapsed_s: seconds,
            throughput: if seconds > 0.0 {
                answered as f64 / seconds
            } else {
                0.0
            },
            p50_ms: latencies.percentile_ms(50.0),
            p95_ms: latencies.percentile_ms(95.0),
            p99_ms: latencies.percentile_ms(99.0),
            max_ms: latencies.max_ms(),
        }
    }
}

/// The first search after the server said it was ready, against the typical one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstSearch {
    /// How long `GET /health` took to answer 200.
    pub ready_after_ms: f64,
    /// The first search's latency (0 when it failed).
    pub first_ms: f64,
    /// Whether the first search was answered.
    pub first_ok: bool,
    /// The median of the first level.
    pub median_ms: f64,
    /// `first_ms / median_ms`: how much colder the first search was.
    pub ratio: f64,
}

/// A whole run: every level, and the first search when the run waited for the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// The server's base URL.
    pub server: String,
    /// The collection's dimension and count, as `GET /info` said.
    pub dimension: usize,
    pub count: usize,
    pub levels: Vec<LevelReport>,
    pub first_search: Option<FirstSearch>,
    /// The same levels run in this process on preloaded handles, without HTTP (when asked).
    pub in_process: Option<Vec<LevelReport>>,
}

impl BenchReport {
    /// The report as a text table, one row per level, then the first search's line.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "server {} ({} vectors of dimension {})\n",
            self.server, self.count, self.dimension
        );
        let _ = writeln!(
            out,
            "{:>11} {:>9} {:>7} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}",
            "concurrency",
            "requests",
            "errors",
            "cached",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms"
        );
        write_rows(&mut out, &self.levels);
        if let Some(in_process) = &self.in_process {
            let _ = writeln!(out, "in process, the same searches without HTTP:");
            write_rows(&mut out, in_process);
            for (served, local) in self.levels.iter().zip(in_process) {
                let _ = writeln!(
                    out,
                    "concurrency {}: p99 served / in process {:.2}x, throughput {:.2}x",
                    served.concurrency,
                    served.p99_ms / local.p99_ms.max(f64::MIN_POSITIVE),
                    served.throughput / local.throughput.max(f64::MIN_POSITIVE)
                );
            }
        }
        if let Some(first) = &self.first_search {
            let _ = writeln!(
                out,
                "ready after {:.1} ms; first search {:.3} ms vs median {:.3} ms ({:.1}x){}",
                first.ready_after_ms,
                first.first_ms,
                first.median_ms,
                first.ratio,
                if first.first_ok {
                    ""
                } else {
                    " (the first search failed)"
                }
            );
        }
        out
    }
}

/// One row per level.
fn write_rows(out: &mut String, levels: &[LevelReport]) {
    for level in levels {
        let _ = writeln!(
            out,
            "{:>11} {:>9} {:>7} {:>7} {:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            level.concurrency,
            level.requests,
            level.errors,
            level.cached,
            level.throughput,
            level.p50_ms,
            level.p95_ms,
            level.p99_ms,
            level.max_ms
        );
    }
}
