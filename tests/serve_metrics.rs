//! `GET /metrics` read by an independent Prometheus text parser: every metric is there, and
//! each moves as the requests sent should move it.

mod serve_common;

use prometheus_parse::{Scrape, Value as Metric};
use serde_json::json;
use serve_common::{labelled_collection, Server};
use tempfile::TempDir;

/// The scrape, parsed.
fn scrape(server: &Server) -> (Scrape, String) {
    let (status, text) = server.get_text("/metrics");
    assert_eq!(status, 200, "{text}");
    let lines = text.lines().map(|line| Ok(line.to_string()));
    (Scrape::parse(lines).expect("Prometheus text"), text)
}

/// The value of the sample `name` whose labels include `labels` (0 when absent).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => *v,
            // A histogram's count: its +Inf bucket.
            Metric::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Metric::Summary(_) => 0.0,
        })
        .sum()
}

#[test]
fn metrics_parse_and_move_with_the_requests() {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 200, 8);
    let server = Server::start_ready(&db, &[]);
    let (before, text) = scrape(&server);
    for name in [
        "svdb_vectors",
        "svdb_cache_entries",
        "process_resident_memory_bytes",
    ] {
        assert!(
            before.samples.iter().any(|s| s.metric == name),
            "{name} in:\n{text}"
        );
    }
    assert_eq!(value(&before, "svdb_vectors", &[]), 200.0, "{text}");
    assert!(
        value(&before, "process_resident_memory_bytes", &[]) > 1e6,
        "{text}"
    );
    assert!(text.contains("process_cpu_seconds_total"), "{text}");
    let search = [("endpoint", "POST /search"), ("status", "200")];
    assert_eq!(value(&before, "svdb_http_requests_total", &search), 0.0);

    // Three identical searches: one miss, then two hits.
    for _ in 0..3 {
        assert_eq!(server.post("/search", &json!({"id": 4, "k": 5})).0, 200);
    }
    let (_, cached) = server.post("/search", &json!({"id": 4, "k": 5}));
    assert_eq!(cached["cached"], true);
    assert_eq!(server.post("/search", &json!({"vector": [1.0]})).0, 400);
    let (after, text) = scrape(&server);
    assert_eq!(
        value(&after, "svdb_http_requests_total", &search),
        4.0,
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "svdb_http_requests_total",
            &[("endpoint", "POST /search"), ("status", "400")]
        ),
        1.0,
        "{text}"
    );
    // The first search, and the one of the wrong dimension (refused by its reader).
    assert_eq!(value(&after, "svdb_cache_misses_total", &[]), 2.0, "{text}");
    assert_eq!(value(&after, "svdb_cache_hits_total", &[]), 3.0, "{text}");
    assert_eq!(value(&after, "svdb_cache_entries", &[]), 1.0, "{text}");
    let latency = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "svdb_http_request_duration_seconds"
                && s.labels.get("endpoint") == Some("POST /search")
        })
        .unwrap_or_else(|| panic!("no latency histogram for POST /search:\n{text}"));
    let Metric::Histogram(buckets) = &latency.value else {
        panic!("the latency is a histogram:\n{text}");
    };
    assert!(buckets.len() > 5);
    assert_eq!(buckets.last().map(|b| b.count), Some(5.0), "{text}");
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].count <= w[1].count && w[0].less_than < w[1].less_than),
        "buckets are cumulative"
    );
    // The scrapes themselves are counted too.
    assert_eq!(
        value(
            &after,
            "svdb_http_requests_total",
            &[("endpoint", "GET /metrics")]
        ),
        1.0,
        "{text}"
    );

    // A write: counted, the vectors gauge follows, the cache is emptied.
    let (status, stored) = server.post(
        "/vectors",
        &json!({"vectors": [vec![0.5f32; 8], vec![0.25f32; 8]]}),
    );
    assert_eq!(status, 200, "{stored}");
    let (written, text) = scrape(&server);
    assert_eq!(
        value(&written, "svdb_writes_total", &[("kind", "insert")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&written, "svdb_vectors_written_total", &[]),
        2.0,
        "{text}"
    );
    assert_eq!(value(&written, "svdb_vectors", &[]), 202.0, "{text}");
    assert_eq!(value(&written, "svdb_cache_entries", &[]), 0.0, "{text}");
    let (_, fresh) = server.post("/search", &json!({"id": 4, "k": 5}));
    assert_eq!(fresh["cached"], false, "a write empties the cache");

    // The CPU time is the one /proc shows for the process, read before and after the scrape.
    let before = cpu_seconds_of(server.pid());
    let (timed, text) = scrape(&server);
    let after = cpu_seconds_of(server.pid());
    let reported = value(&timed, "process_cpu_seconds_total", &[]);
    assert!(
        before <= reported && reported <= after,
        "{before} <= {reported} <= {after}:\n{text}"
    );
    let resident = value(&timed, "process_resident_memory_bytes", &[]);
    assert!((resident - resident_bytes_of(server.pid())).abs() < 64.0 * 1024.0 * 1024.0);
}

/// User plus system time of process `pid`, in seconds (Linux's 100 ticks a second).
fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let after_name = &stat[stat.rfind(')').expect("a command name") + 1..];
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse().expect("a number of ticks"))
        .collect();
    fields.iter().sum::<f64>() / 100.0
}

/// `VmRSS` of process `pid`, in bytes.
fn resident_bytes_of(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kilobytes: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|k| k.parse().ok())
        .expect("a size");
    kilobytes * 1024.0
}

#[test]
fn an_index_s_size_is_a_gauge() {
    use simple_vector_db::engine::{Collection, IndexSpec, PqSettings};
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 300, 8);
    let mut collection = Collection::open_existing(&db).expect("the file opens");
    collection
        .set_metric(simple_vector_db::Metric::Euclidean)
        .expect("product quantization ranks by euclidean distances");
    collection
        .create_index("pq", &IndexSpec::Pq(PqSettings::new(4, 16)))
        .expect("a pq index");
    drop(collection);
    let server = Server::start_ready(&db, &[]);
    let (metrics, text) = scrape(&server);
    // Four one-byte codes per vector.
    assert_eq!(
        value(&metrics, "svdb_index_bytes", &[("index", "pq")]),
        1200.0,
        "{text}"
    );
}
