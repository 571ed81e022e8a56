//! What the service counts, for Prometheus to scrape at `GET /metrics`.
//!
//! Counters only go up (requests, writes, cache hits), and a scraper turns them into rates;
//! gauges say how much there is now (vectors stored, bytes of each index, memory); the
//! latency histogram counts requests into buckets of duration, from which a scraper reads
//! percentiles. The text is the OpenMetrics format that `prometheus-client` writes.
//!
//! The process's own figures are read from `/proc/self` at each scrape: its resident memory
//! (`VmRSS` in `/proc/self/status`) and its CPU time (user plus system clock ticks in
//! `/proc/self/stat`), which show what preloading and concurrency cost.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The labels of a request counter: which endpoint, which answer.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Such as `POST /search`.
    pub endpoint: String,
    pub status: String,
}

/// The label of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabel {
    pub endpoint: String,
}

/// The label of a write counter: `insert`, `upsert` or `delete`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriteLabel {
    pub kind: String,
}

/// The label of an index gauge.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IndexLabel {
    pub index: String,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 3 s, doubling.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// Every metric of the service.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<EndpointLabel, Histogram, fn() -> Histogram>,
    pub writes: Family<WriteLabel, Counter>,
    pub vectors_written: Counter,
    pub vectors: Gauge,
    pub index_bytes: Family<IndexLabel, Gauge>,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub cache_entries: Gauge,
    pub backups: Counter,
    pub backup_failures: Counter,
    /// When the last backup was written, in seconds since 1970 (0: none yet).
    pub last_backup_time: Gauge,
    resident_memory: Gauge,
    cpu_seconds: Counter<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let metrics = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            writes: Family::default(),
            vectors_written: Counter::default(),
            vectors: Gauge::default(),
            index_bytes: Family::default(),
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            cache_entries: Gauge::default(),
            backups: Counter::default(),
            backup_failures: Counter::default(),
            last_backup_time: Gauge::default(),
            resident_memory: Gauge::default(),
            cpu_seconds: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "svdb_http_requests",
            "HTTP requests answered, by endpoint and status",
            metrics.requests.clone(),
        );
        registry.register(
            "svdb_http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint",
            metrics.latency.clone(),
        );
        registry.register(
            "svdb_writes",
            "Write batches committed, by kind",
            metrics.writes.clone(),
        );
        registry.register(
            "svdb_vectors_written",
            "Vectors stored or deleted by committed writes",
            metrics.vectors_written.clone(),
        );
        registry.register(
            "svdb_vectors",
            "Vectors stored in the collection",
            metrics.vectors.clone(),
        );
        registry.register(
            "svdb_index_bytes",
            "Estimated size of each index: bytes per vector times vectors",
            metrics.index_bytes.clone(),
        );
        registry.register(
            "svdb_cache_hits",
            "Searches answered from the cache",
            metrics.cache_hits.clone(),
        );
        registry.register(
            "svdb_cache_misses",
            "Searches the cache could not answer",
            metrics.cache_misses.clone(),
        );
        registry.register(
            "svdb_cache_entries",
            "Answers kept in the cache",
            metrics.cache_entries.clone(),
        );
        registry.register(
            "svdb_backups",
            "Scheduled backups written",
            metrics.backups.clone(),
        );
        registry.register(
            "svdb_backup_failures",
            "Scheduled backups that failed",
            metrics.backup_failures.clone(),
        );
        registry.register(
            "svdb_last_backup_time_seconds",
            "When the last scheduled backup was written (Unix time)",
            metrics.last_backup_time.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the process",
            metrics.resident_memory.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time of the process",
            metrics.cpu_seconds.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts one answered request.
    pub fn observe_request(&self, endpoint: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                endpoint: endpoint.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&EndpointLabel {
                endpoint: endpoint.to_string(),
            })
            .observe(seconds);
    }

    /// Counts one committed write of `vectors` vectors.
    pub fn observe_write(&self, kind: &str, vectors: usize) {
        self.writes
            .get_or_create(&WriteLabel {
                kind: kind.to_string(),
            })
            .inc();
        self.vectors_written.inc_by(vectors as u64);
    }

    /// The text of a scrape, the process's figures read now.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        self.read_process_figures();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Resident memory and CPU time, from `/proc/self` (left as they were where it is missing).
    fn read_process_figures(&self) {
        if let Some(bytes) = resident_memory_bytes() {
            self.resident_memory
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        if let Some(seconds) = cpu_seconds() {
            // A counter only moves forward: it is moved by what the process used since.
            let delta = seconds - self.cpu_seconds.get();
            if delta > 0.0 {
                self.cpu_seconds.inc_by(delta);
            }
        }
    }
}

/// `VmRSS` of `/proc/self/status`, in bytes.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// User plus system time of `/proc/self/stat`, in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, field 2, is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / clock_ticks_per_second())
}

/// How many clock ticks make a second, for `/proc`'s times.
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a configuration value; it has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}
