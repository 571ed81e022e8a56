//! `svdb bench-serve` against a stand-in server started here: a few lines of HTTP over a std
//! `TcpListener` that answer `/health`, `/info` and `/search` as the real server's contract
//! says, count what they receive, and fail or stall on request. The load tester's counts are
//! checked against the stand-in's own, so the test does not depend on the real server.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{assert_refused_before_any_work, stderr, stdout, svdb};
use serde_json::Value;

/// How the stand-in behaves.
#[derive(Clone, Copy, Default)]
struct Behaviour {
    /// Answer 500 to every n-th search.
    fail_every: Option<u64>,
    /// Wait this long before answering a search.
    delay: Duration,
    /// Answer 503 to /health for this long after starting.
    loading_for: Duration,
}

/// What the stand-in received.
#[derive(Default)]
struct Seen {
    searches: AtomicU64,
    failed: AtomicU64,
    bodies: Mutex<HashSet<String>>,
}

/// Starts a stand-in on a free loopback port; returns its address and what it will see. Its
/// threads end with the test binary.
fn stand_in(behaviour: Behaviour) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("has an address").to_string();
    let seen = Arc::new(Seen::default());
    let started = Instant::now();
    let shared = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = Arc::clone(&shared);
            std::thread::spawn(move || serve_connection(stream, behaviour, started, &seen));
        }
    });
    (addr, seen)
}

/// Answers the requests of one kept-alive connection until the client closes it.
fn serve_connection(stream: TcpStream, behaviour: Behaviour, started: Instant, seen: &Seen) {
    let mut reader = BufReader::new(stream.try_clone().expect("clones"));
    let mut writer = stream;
    while let Some((request_line, body)) = read_request(&mut reader) {
        let (status, answer) = if request_line.starts_with("GET /health") {
            if started.elapsed() < behaviour.loading_for {
                (503, r#"{"status":"loading"}"#.to_string())
            } else {
                (200, r#"{"status":"ready"}"#.to_string())
            }
        } else if request_line.starts_with("GET /info") {
            (200, r#"{"dimension":4,"count":50}"#.to_string())
        } else if request_line.starts_with("POST /search") {
            answer_search(&body, behaviour, seen)
        } else {
            (404, "{}".to_string())
        };
        let reason = match status {
            200 => "OK",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Not Found",
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer_search(body: &str, behaviour: Behaviour, seen: &Seen) -> (u16, String) {
    let number = seen.searches.fetch_add(1, Ordering::SeqCst) + 1;
    seen.bodies.lock().expect("lock").insert(body.to_string());
    std::thread::sleep(behaviour.delay);
    if behaviour
        .fail_every
        .is_some_and(|n| number.is_multiple_of(n))
    {
        seen.failed.fetch_add(1, Ordering::SeqCst);
        return (500, r#"{"error":"boom"}"#.to_string());
    }
    (
        200,
        r#"{"results":[{"id":1,"score":0.5,"attributes":null}],"index":"flat","took_ms":0.1,"cached":false}"#
            .to_string(),
    )
}

/// The request line and body of the next request, or `None` when the client closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((request_line, String::from_utf8_lossy(&body).into_owned()))
}

/// Runs `svdb bench-serve --addr ADDR ARGS --json` and returns its report.
fn bench(addr: &str, args: &[&str]) -> Value {
    let mut all = vec!["bench-serve", "--addr", addr, "--json"];
    all.extend_from_slice(args);
    let output = svdb(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("a JSON report")
}

fn u(value: &Value) -> u64 {
    value.as_u64().expect("a count")
}

fn f(value: &Value) -> f64 {
    value.as_f64().expect("a number")
}

#[test]
fn each_level_sends_the_count_asked_distinct_queries_and_counts_them() {
    let (addr, seen) = stand_in(Behaviour::default());
    let report = bench(
        &addr,
        &[
            "--concurrency",
            "1,4",
            "--duration",
            "20s",
            "--max-requests",
            "150",
        ],
    );
    assert_eq!((u(&report["dimension"]), u(&report["count"])), (4, 50));
    let levels = report["levels"].as_array().expect("levels");
    assert_eq!(levels.len(), 2);
    for (level, concurrency) in levels.iter().zip([1, 4]) {
        assert_eq!(u(&level["concurrency"]), concurrency);
        assert_eq!(u(&level["requests"]), 150, "the count bound, not the time");
        assert_eq!(u(&level["errors"]), 0);
        assert!(f(&level["elapsed_s"]) < 20.0);
        assert!(f(&level["throughput"]) > 0.0);
        let (p50, p95, p99, max) = (
            f(&level["p50_ms"]),
            f(&level["p95_ms"]),
            f(&level["p99_ms"]),
            f(&level["max_ms"]),
        );
        assert!(
            0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= max,
            "{level}"
        );
    }
    assert_eq!(seen.searches.load(Ordering::SeqCst), 300);
    let bodies = seen.bodies.lock().expect("lock");
    assert_eq!(bodies.len(), 300, "every search sent its own query");
    let one: Value = serde_json::from_str(bodies.iter().next().expect("one")).expect("JSON");
    assert_eq!(one["vector"].as_array().expect("a vector").len(), 4);
    assert_eq!(one["k"], 10);
}

#[test]
fn failed_searches_are_counted_as_errors() {
    let (addr, seen) = stand_in(Behaviour {
        fail_every: Some(4),
        ..Behaviour::default()
    });
    let report = bench(
        &addr,
        &[
            "--concurrency",
            "3",
            "--duration",
            "20s",
            "--max-requests",
            "200",
        ],
    );
    let level = &report["levels"][0];
    assert_eq!(u(&level["requests"]), 200);
    assert_eq!(u(&level["errors"]), seen.failed.load(Ordering::SeqCst));
    assert_eq!(u(&level["errors"]), 50);
}

#[test]
fn a_level_stops_at_its_duration() {
    let (addr, seen) = stand_in(Behaviour {
        delay: Duration::from_millis(20),
        ..Behaviour::default()
    });
    let started = Instant::now();
    let report = bench(
        &addr,
        &[
            "--concurrency",
            "2",
            "--duration",
            "500ms",
            "--max-requests",
            "100000",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let level = &report["levels"][0];
    let elapsed = f(&level["elapsed_s"]);
    assert!((0.5..1.5).contains(&elapsed), "{elapsed} s");
    // Two clients, 20 ms a search, half a second: about 50, never near the count bound.
    let requests = u(&level["requests"]);
    assert!((20..=60).contains(&requests), "{requests}");
    assert_eq!(seen.searches.load(Ordering::SeqCst), requests);
    assert!(f(&level["p50_ms"]) >= 20.0);
}

#[test]
fn wait_ready_polls_health_then_times_the_first_search() {
    let (addr, _) = stand_in(Behaviour {
        loading_for: Duration::from_millis(400),
        ..Behaviour::default()
    });
    let report = bench(
        &addr,
        &[
            "--concurrency",
            "1",
            "--duration",
            "5s",
            "--max-requests",
            "20",
            "--wait-ready",
            "10s",
        ],
    );
    let first = &report["first_search"];
    assert!(f(&first["ready_after_ms"]) >= 300.0, "{first}");
    assert_eq!(first["first_ok"], true);
    assert!(f(&first["first_ms"]) > 0.0 && f(&first["median_ms"]) > 0.0);
    assert!(f(&first["ratio"]) > 0.0);

    let output = svdb(&[
        "bench-serve",
        "--addr",
        &addr,
        "--max-requests",
        "5",
        "--concurrency",
        "1",
        "--wait-ready",
        "5s",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(
        table.contains("first search") && table.contains("vs median"),
        "{table}"
    );
    assert!(table.contains("p99 ms"), "{table}");

    let (never, _) = stand_in(Behaviour {
        loading_for: Duration::from_secs(3600),
        ..Behaviour::default()
    });
    let output = svdb(&["bench-serve", "--addr", &never, "--wait-ready", "300ms"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not ready"), "{}", stderr(&output));
}

#[test]
fn repeat_sends_one_query_and_by_id_sends_stored_ids() {
    let (addr, seen) = stand_in(Behaviour::default());
    bench(
        &addr,
        &["--concurrency", "2", "--max-requests", "30", "--repeat"],
    );
    assert_eq!(seen.bodies.lock().expect("lock").len(), 1);

    let (addr, seen) = stand_in(Behaviour::default());
    bench(
        &addr,
        &[
            "--concurrency",
            "1",
            "--max-requests",
            "10",
            "--by-id",
            "--index",
            "ivf",
            "--nprobe",
            "8",
        ],
    );
    for body in seen.bodies.lock().expect("lock").iter() {
        let body: Value = serde_json::from_str(body).expect("JSON");
        assert!(
            (0..50).contains(&body["id"].as_i64().expect("an id")),
            "{body}"
        );
        assert_eq!(
            (&body["index"], &body["nprobe"]),
            (&Value::from("ivf"), &Value::from(8))
        );
    }
}

#[test]
fn addresses_off_this_machine_are_refused_before_any_traffic() {
    for addr in ["10.1.2.3:7700", "192.168.0.1:80", "8.8.8.8:53"] {
        assert_refused_before_any_work(&["bench-serve", "--addr", addr], "loopback");
        assert_refused_before_any_work(&["bench-serve", "--addr", addr], addr);
    }
}

/// The load tester's own ceiling, against a stand-in that answers at once, run by hand:
///
/// ```text
/// cargo test --release --test bench_serve -- --ignored --nocapture
/// ```
#[test]
#[ignore = "seconds of load: run by hand to see the tester's own ceiling"]
fn measure_the_load_testers_own_ceiling() {
    let (addr, _) = stand_in(Behaviour::default());
    let output = svdb(&[
        "bench-serve",
        "--addr",
        &addr,
        "--concurrency",
        "1,8,32",
        "--duration",
        "3s",
        "--wait-ready",
        "5s",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    println!("{}", stdout(&output));
}

#[test]
fn in_process_runs_the_same_levels_on_handles_of_the_file() {
    let (addr, seen) = stand_in(Behaviour::default());
    let dir = tempfile::TempDir::new().expect("a temporary folder");
    let db = dir.path().join("F.db");
    let mut collection = simple_vector_db::engine::Collection::open(&db).expect("creates");
    let vectors: Vec<Vec<f32>> = (0..50)
        .map(|i| (0..4).map(|j| (i * 4 + j) as f32 + 1.0).collect())
        .collect();
    collection.insert(&vectors, None).expect("stored");
    drop(collection);
    let db_arg = db.display().to_string();
    let report = bench(
        &addr,
        &[
            "--concurrency",
            "1,2",
            "--max-requests",
            "40",
            "--in-process",
            &db_arg,
        ],
    );
    let served = report["levels"].as_array().expect("levels");
    let local = report["in_process"].as_array().expect("in-process levels");
    assert_eq!(local.len(), 2);
    for (served, local) in served.iter().zip(local) {
        assert_eq!(served["concurrency"], local["concurrency"]);
        assert_eq!(u(&local["requests"]), 40);
        assert_eq!(u(&local["errors"]), 0, "every search answered by the file");
        assert!(f(&local["p50_ms"]) > 0.0);
    }
    assert_eq!(
        seen.searches.load(Ordering::SeqCst),
        80,
        "the in-process levels send nothing"
    );
    let missing = dir.path().join("missing.db");
    assert_refused_before_any_work(
        &[
            "bench-serve",
            "--addr",
            &addr,
            "--in-process",
            &missing.display().to_string(),
        ],
        "missing.db",
    );
}
