//! `svdb serve` stopped while it writes: SIGTERM and Ctrl-C drain and exit 0, SIGKILL loses
//! nothing that was acknowledged; and a write by another process is never hidden by the cache.

mod serve_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::json;
use serve_common::{labelled_collection, result_ids, vectors, Server};
use simple_vector_db::engine::Collection;
use tempfile::TempDir;

const DIMENSION: usize = 4;

/// Every insert the server acknowledged: the id it gave, and the vector sent.
type Acknowledged = Arc<Mutex<Vec<(i64, Vec<f32>)>>>;

/// A client inserting one vector at a time until the server stops answering (or `stop`).
fn insert_stream(
    base: String,
    seed: u64,
    acknowledged: Acknowledged,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let agent = serve_common::agent();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
            let vector: Vec<f32> = (0..DIMENSION).map(|_| rng.gen_range(-10.0..10.0)).collect();
            let sent = agent
                .post(format!("{base}/vectors"))
                .header("Content-Type", "application/json")
                .send(json!({"vectors": [vector]}).to_string().as_bytes());
            let Ok(mut response) = sent else {
                return; // the server is gone
            };
            if response.status() != 200 {
                return; // shutting down: 503
            }
            let Ok(text) = response.body_mut().read_to_string() else {
                return; // killed while answering: not acknowledged
            };
            let body: serde_json::Value =
                serde_json::from_str(&text).expect("an acknowledged insert answers JSON");
            let id = body["ids"][0].as_i64().expect("the id of the insert");
            acknowledged.lock().expect("the list").push((id, vector));
        }
    })
}

/// Waits until `count` inserts are acknowledged, for at most 30 s.
fn wait_for_acks(acknowledged: &Acknowledged, count: usize) {
    let started = Instant::now();
    while acknowledged.lock().expect("the list").len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the inserts never came"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Every acknowledged insert is in the file, with its vector.
fn assert_all_stored(db: &std::path::Path, acknowledged: &[(i64, Vec<f32>)]) {
    let collection = Collection::open_existing(db).expect("the file opens");
    for (id, vector) in acknowledged {
        assert_eq!(
            collection.get(*id).expect("a read").as_deref(),
            Some(vector.as_slice()),
            "acknowledged insert {id} is in the file"
        );
    }
}

/// Sends `signal` during a stream of inserts: the server must drain and exit 0, logging
/// `said`, with every acknowledged insert in the file.
fn stop_during_inserts(signal: &str, said: &str) {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 50, DIMENSION);
    let mut server = Server::start_ready(&db, &["--readers", "1"]);
    let acknowledged: Acknowledged = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|seed| {
            insert_stream(
                server.base.clone(),
                seed,
                Arc::clone(&acknowledged),
                Arc::clone(&stop),
            )
        })
        .collect();
    wait_for_acks(&acknowledged, 30);
    server.signal(signal);
    let status = server.wait_exit();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("a client");
    }
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(log.contains(said), "{log}");
    assert!(log.contains("write queue is drained"), "{log}");
    let acknowledged = acknowledged.lock().expect("the list").clone();
    assert!(acknowledged.len() >= 30);
    assert_all_stored(&db, &acknowledged);
}

#[test]
fn sigterm_during_inserts_drains_and_exits_0() {
    stop_during_inserts("TERM", "SIGTERM received");
}

#[test]
fn ctrl_c_during_inserts_drains_and_exits_0() {
    stop_during_inserts("INT", "Ctrl-C (SIGINT) received");
}

#[test]
fn sigkill_during_inserts_loses_nothing_acknowledged_in_100_trials() {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 20, DIMENSION);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let started = Instant::now();
    let mut total = 0;
    for trial in 0..100 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "trial {trial}: too slow"
        );
        let mut server = Server::start_ready(&db, &["--readers", "1", "--cache-entries", "0"]);
        let acknowledged: Acknowledged = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let client = insert_stream(
            server.base.clone(),
            trial,
            Arc::clone(&acknowledged),
            Arc::clone(&stop),
        );
        // Killed after a few acknowledged inserts, while the next one is on its way.
        wait_for_acks(&acknowledged, rng.gen_range(1..=6));
        server.signal("KILL");
        let status = server.wait_exit();
        stop.store(true, Ordering::Relaxed);
        client.join().expect("the client");
        assert_eq!(status.code(), None, "trial {trial}: killed by a signal");
        let acknowledged = acknowledged.lock().expect("the list").clone();
        assert_all_stored(&db, &acknowledged);
        total += acknowledged.len();
    }
    let collection = Collection::open_existing(&db).expect("the file opens");
    assert!(collection.len().expect("a count") >= 20 + total);
    eprintln!(
        "100 trials, {total} acknowledged inserts, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_write_by_another_process_is_never_hidden_by_the_cache() {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 100, DIMENSION);
    let server = Server::start_ready(&db, &[]);
    let query: Vec<f32> = vectors(100, DIMENSION)[9]
        .iter()
        .map(|x| x + 0.37)
        .collect();
    let ask = json!({"vector": query, "k": 3});
    let (_, first) = server.post("/search", &ask);
    let (_, second) = server.post("/search", &ask);
    assert_eq!(first["cached"], false);
    assert_eq!(second["cached"], true);
    assert_eq!(result_ids(&first), result_ids(&second));

    // Another handle (this test process, not the server) stores the query itself.
    let mut collection = Collection::open_existing(&db).expect("the file opens");
    let new_id = collection
        .insert(std::slice::from_ref(&query), None)
        .expect("an insert")[0];
    drop(collection);

    let (status, third) = server.post("/search", &ask);
    assert_eq!(status, 200, "{third}");
    assert_eq!(
        third["cached"], false,
        "the file moved on: the cached answer is old"
    );
    assert_eq!(result_ids(&third)[0], new_id);
    let (_, fourth) = server.post("/search", &ask);
    assert_eq!(fourth["cached"], true);
    assert_eq!(result_ids(&fourth)[0], new_id);
}
