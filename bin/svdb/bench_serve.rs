//! `svdb bench-serve`: a load test of a running `svdb serve`, concurrency level by level.
//!
//! The measuring is in the library's `serve_client`; this file reads the command line, checks
//! it (a server address not on this machine is refused before any traffic), and prints.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use simple_vector_db::datasets::npy;
use simple_vector_db::evaluation::cli::{parse_duration, parse_positive};
use simple_vector_db::serve_client::{
    loopback_base_url, run_level, run_level_with, wait_ready, BenchReport, FirstSearch, InProcess,
    LevelBounds, LevelReport, QuerySource, SearchOptions, SearchOutcome, ServeClient, ServerInfo,
};
use simple_vector_db::utils::output::print_json;
use simple_vector_db::{Error, Result};

/// The most workers a level may have: each is an OS thread with its own connection.
const MAX_CONCURRENCY: usize = 1024;

#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// The server, HOST:PORT; loopback addresses only (127.0.0.0/8, ::1, localhost).
    #[arg(long, default_value = "127.0.0.1:7700")]
    addr: String,
    /// The concurrency levels to run, one after the other: clients searching at once.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32", value_parser = parse_positive)]
    concurrency: Vec<usize>,
    /// How long each level runs, such as 10s, 500ms or 2m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// The most searches each level sends, whatever the time left.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: u64,
    /// The queries: a 2-D float .npy file, sent in turn. Default: random vectors of the
    /// dimension GET /info gives.
    #[arg(long, value_name = "Q.npy", conflicts_with = "by_id")]
    queries: Option<PathBuf>,
    /// Search by stored ids drawn among 0..count (the ids `svdb load` gives) instead of vectors.
    #[arg(long)]
    by_id: bool,
    /// Neighbours per search.
    #[arg(long, default_value_t = 10, value_parser = parse_positive)]
    k: usize,
    /// The index to search (default: the server's choice).
    #[arg(long)]
    index: Option<String>,
    /// Inverted file and IVF-PQ: cells probed per search.
    #[arg(long, value_parser = parse_positive)]
    nprobe: Option<usize>,
    /// Graph: the beam width of a search.
    #[arg(long, value_parser = parse_positive)]
    ef: Option<usize>,
    /// Poll GET /health for up to this long until it answers 200, then time the first search
    /// on its own, such as 60s.
    #[arg(long, value_parser = parse_duration)]
    wait_ready: Option<Duration>,
    /// Send the same query every time (to measure the server's cache) instead of distinct ones.
    #[arg(long)]
    repeat: bool,
    /// Then run the same levels in this process on preloaded handles of this file (the one the
    /// server serves), without HTTP, and compare: the service's overhead.
    #[arg(long, value_name = "F.db")]
    in_process: Option<PathBuf>,
    /// Print a JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

/// `svdb bench-serve` with its arguments checked and its query file read.
pub struct PreparedBenchServe {
    args: BenchServeArgs,
    base: String,
    query_rows: Option<Vec<Vec<f32>>>,
}

impl BenchServeArgs {
    /// Checks the address (loopback only) and the bounds, and reads the query file.
    ///
    /// # Errors
    ///
    /// [`Error::NotLoopback`] for an address not on this machine, [`Error::InvalidParameter`]
    /// for a concurrency above [`MAX_CONCURRENCY`] or a zero duration, and the errors of
    /// reading a `.npy` file.
    pub fn prepare(self) -> Result<PreparedBenchServe> {
        let base = loopback_base_url(&self.addr)?;
        if let Some(&too_many) = self.concurrency.iter().find(|&&c| c > MAX_CONCURRENCY) {
            return Err(Error::InvalidParameter {
                name: "concurrency",
                reason: format!("{too_many} is above {MAX_CONCURRENCY} clients"),
            });
        }
        if self.duration.is_zero() {
            return Err(Error::InvalidParameter {
                name: "duration",
                reason: "must be longer than 0".to_string(),
            });
        }
        if let Some(db) = &self.in_process {
            if !db.is_file() {
                return Err(Error::NoSuchDatabase {
                    path: db.display().to_string(),
                });
            }
        }
        let query_rows = self.queries.as_deref().map(npy::load_vectors).transpose()?;
        Ok(PreparedBenchServe {
            args: self,
            base,
            query_rows,
        })
    }
}

impl PreparedBenchServe {
    /// Runs the levels and prints the report.
    ///
    /// # Errors
    ///
    /// [`Error::ServerNotReady`], [`Error::Http`] or [`Error::BadResponse`] when the server
    /// cannot be reached or does not follow its contract; [`Error::DimensionMismatch`] when the
    /// query file's vectors are not of the server's dimension.
    pub fn run(self) -> Result<()> {
        let client = ServeClient::new(&self.base);
        let ready_after = self
            .args
            .wait_ready
            .map(|timeout| wait_ready(&client, timeout))
            .transpose()?;
        let info = client.info()?;
        let source = query_source(self.query_rows, self.args.by_id, info)?;
        let options = SearchOptions {
            k: self.args.k,
            index: self.args.index.clone(),
            nprobe: self.args.nprobe,
            ef: self.args.ef,
        };
        // Search number 0 is the first search when it is timed alone; the levels go on from 1.
        let first =
            ready_after.map(|_| time_one_search(&client, &source, &options, self.args.repeat));
        let levels = run_levels(&self.args, &|bounds| {
            run_level(&self.base, &source, &options, bounds)
        });
        let in_process = match &self.args.in_process {
            None => None,
            Some(db) => {
                // Opened once here first, so that a wrong file is an error, not a row of errors.
                InProcess::open(db, &options)?;
                Some(run_levels(&self.args, &|bounds| {
                    run_level_with(&source, bounds, &|| InProcess::open(db, &options))
                }))
            }
        };
        let first_search = ready_after
            .zip(first)
            .map(|(ready, (first_ms, ok))| compare_first(ready, first_ms, ok, &levels));
        let report = BenchReport {
            server: self.base.clone(),
            dimension: info.dimension,
            count: info.count,
            levels,
            first_search,
            in_process,
        };
        if self.args.json {
            return print_json(&report);
        }
        for line in report.to_table().lines() {
            say!("{line}");
        }
        Ok(())
    }
}

/// Every level in turn, each going on with the query numbers where the one before stopped.
fn run_levels(
    args: &BenchServeArgs,
    run: &dyn Fn(&LevelBounds) -> LevelReport,
) -> Vec<LevelReport> {
    let mut levels = Vec::new();
    let mut sequence = 1; // number 0 is the first search, timed on its own
    for &concurrency in &args.concurrency {
        let bounds = LevelBounds {
            concurrency,
            duration: args.duration,
            max_requests: args.max_requests,
            first_sequence: sequence,
            repeat: args.repeat,
        };
        let level = run(&bounds);
        sequence += level.requests;
        levels.push(level);
    }
    levels
}

/// The first search against the median of the first level.
fn compare_first(ready: Duration, first_ms: f64, ok: bool, levels: &[LevelReport]) -> FirstSearch {
    let median_ms = levels.first().map_or(0.0, |l| l.p50_ms);
    FirstSearch {
        ready_after_ms: ready.as_secs_f64() * 1000.0,
        first_ms,
        first_ok: ok,
        median_ms,
        ratio: if median_ms > 0.0 {
            first_ms / median_ms
        } else {
            0.0
        },
    }
}

/// The queries: the file's rows, stored ids, or random vectors of the server's dimension.
fn query_source(rows: Option<Vec<Vec<f32>>>, by_id: bool, info: ServerInfo) -> Result<QuerySource> {
    if let Some(rows) = rows {
        let found = rows.first().map_or(0, Vec::len);
        if found != info.dimension {
            return Err(Error::DimensionMismatch {
                expected: info.dimension,
                found,
            });
        }
        return Ok(QuerySource::Vectors(rows));
    }
    if by_id {
        return Ok(QuerySource::Ids { count: info.count });
    }
    Ok(QuerySource::Random {
        dimension: info.dimension,
    })
}

/// The latency of search number 0 in milliseconds, and whether it was answered.
fn time_one_search(
    client: &ServeClient,
    source: &QuerySource,
    options: &SearchOptions,
    repeat: bool,
) -> (f64, bool) {
    let query = source.query(0, repeat);
    let sent = Instant::now();
    let outcome = client.search(&query, options);
    let ms = sent.elapsed().as_secs_f64() * 1000.0;
    (ms, matches!(outcome, Ok(SearchOutcome::Answered { .. })))
}
