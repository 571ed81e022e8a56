//! `svdb serve`'s API, through the real binary: readiness, searches that agree with the
//! library, writes, and every kind of bad request, each answered with its status and kind.

mod serve_common;

use serde_json::{json, Value};
use serve_common::{labelled_collection, result_ids, vectors, Server};
use simple_vector_db::engine::{Collection, IndexSpec, IvfSettings, SearchParams};
use tempfile::TempDir;

const DIMENSION: usize = 8;

fn served(n: usize) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), n, DIMENSION);
    let server = Server::start_ready(&db, &["--readers", "2"]);
    (dir, db, server)
}

fn ids_in_process(db: &std::path::Path, index: Option<&str>, query: &[f32], k: usize) -> Vec<i64> {
    let collection = Collection::open_existing(db).expect("the file opens");
    collection
        .search(index, query, &SearchParams::k(k))
        .expect("the library searches")
        .iter()
        .map(|n| n.id)
        .collect()
}

#[test]
fn health_is_loading_then_ok() {
    let dir = TempDir::new().expect("a temporary directory");
    // Big enough that loading takes a moment with several readers.
    let db = labelled_collection(dir.path(), 50_000, 64);
    let server = Server::start(&db, &["--readers", "2"]);
    // Asked as soon as the address is printed: the readers are still loading 12.8 MB each.
    assert_eq!(server.get("/health"), (503, json!({"status": "loading"})));
    server.wait_ready();
    assert_eq!(server.get("/health"), (200, json!({"status": "ok"})));
    assert!(server.log().contains("preloaded"), "{}", server.log());
}

#[test]
fn a_search_by_vector_or_by_id_is_the_library_s_search() {
    let (_dir, db, server) = served(300);
    let query = vectors(300, DIMENSION)[17]
        .iter()
        .map(|x| x + 0.5)
        .collect::<Vec<f32>>();
    let (status, answer) = server.post("/search", &json!({"vector": query, "k": 7}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(result_ids(&answer), ids_in_process(&db, None, &query, 7));
    assert_eq!(answer["index"], "flat");
    assert_eq!(answer["cached"], false);
    assert!(answer["took_ms"].as_f64().is_some_and(|ms| ms >= 0.0));

    let stored = vectors(300, DIMENSION)[42].clone();
    let (status, by_id) = server.post("/search", &json!({"id": 42}));
    assert_eq!(status, 200, "{by_id}");
    assert_eq!(result_ids(&by_id), ids_in_process(&db, None, &stored, 10));
    assert_eq!(result_ids(&by_id)[0], 42);
    // Attributes come with each result.
    for hit in by_id["results"].as_array().expect("results") {
        let id = hit["id"].as_i64().expect("an id");
        assert_eq!(hit["attributes"], json!({"label": id % 10}));
    }
}

#[test]
fn a_search_through_an_index_is_the_library_s_search() {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 400, DIMENSION);
    let mut collection = Collection::open_existing(&db).expect("the file opens");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(8).with_seed(3)))
        .expect("an index");
    drop(collection);
    let server = Server::start_ready(&db, &[]);
    let query = vectors(400, DIMENSION)[5].clone();
    let (status, answer) = server.post("/search", &json!({"vector": query, "k": 5}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["index"], "ivf", "the only index is the default");
    assert_eq!(
        result_ids(&answer),
        ids_in_process(&db, Some("ivf"), &query, 5)
    );
    let (status, flat) = server.post(
        "/search",
        &json!({"vector": query, "k": 5, "index": "flat", "filter": "label = 5"}),
    );
    assert_eq!(status, 200, "{flat}");
    assert_eq!(flat["index"], "flat");
    let (status, probed) = server.post("/search", &json!({"vector": query, "k": 5, "nprobe": 8}));
    assert_eq!(status, 200, "{probed}");
    let (status, info) = server.get("/info");
    assert_eq!(status, 200);
    assert_eq!(info["indexes"][0]["name"], "ivf");
    assert_eq!(info["indexes"][0]["kind"], "ivf");
    assert_eq!(info["indexes"][0]["up_to_date"], true);
}

#[test]
fn a_filter_keeps_only_what_passes() {
    let (_dir, _db, server) = served(300);
    let (status, answer) = server.post(
        "/search",
        &json!({"id": 3, "k": 20, "filter": "label = 3", "strategy": "pre"}),
    );
    assert_eq!(status, 200, "{answer}");
    let ids = result_ids(&answer);
    assert_eq!(ids.len(), 20);
    assert!(ids.iter().all(|id| id % 10 == 3), "{ids:?}");
    assert_eq!(ids[0], 3);
}

#[test]
fn an_insert_is_found_an_upsert_replaces_a_delete_removes() {
    let (_dir, _db, server) = served(100);
    let far = vec![500.0f32; DIMENSION];
    let (status, stored) = server.post(
        "/vectors",
        &json!({"vectors": [far], "attributes": [{"label": 77}]}),
    );
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["stored"], 1);
    let id = stored["ids"][0].as_i64().expect("an id");
    assert_eq!(id, 100, "ids continue from the largest");
    assert!(stored["generation"].as_i64().is_some());
    let (_, found) = server.post("/search", &json!({"vector": far, "k": 1}));
    assert_eq!(result_ids(&found), [id]);
    assert_eq!(found["results"][0]["attributes"], json!({"label": 77}));

    let (status, vector) = server.get(&format!("/vectors/{id}"));
    assert_eq!(status, 200);
    assert_eq!(
        vector,
        json!({"id": id, "vector": far, "attributes": {"label": 77}})
    );

    // An upsert replaces the vector under the id.
    let elsewhere = vec![-500.0f32; DIMENSION];
    let (status, upserted) = server.post(
        "/vectors",
        &json!({"vectors": [elsewhere], "ids": [id], "upsert": true}),
    );
    assert_eq!(status, 200, "{upserted}");
    let (_, found) = server.post("/search", &json!({"vector": elsewhere, "k": 1}));
    assert_eq!(result_ids(&found), [id]);
    assert_eq!(
        server.get(&format!("/vectors/{id}")).1["vector"],
        json!(elsewhere)
    );
    // Without upsert, the same id is refused.
    let (status, error) = server.post("/vectors", &json!({"vectors": [far], "ids": [id]}));
    assert_eq!(
        (status, error["error"]["kind"].clone()),
        (409, json!("duplicate_id"))
    );

    let (status, deleted) = server.delete("/vectors", &json!({"ids": [id, 5]}));
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted, json!({"deleted": 2}));
    let (_, found) = server.post("/search", &json!({"vector": elsewhere, "k": 100}));
    let ids = result_ids(&found);
    assert!(!ids.contains(&id) && !ids.contains(&5), "{ids:?}");
    assert_eq!(server.get(&format!("/vectors/{id}")).0, 404);
    let (status, error) = server.post("/search", &json!({"id": 5}));
    assert_eq!(
        (status, error["error"]["kind"].clone()),
        (404, json!("not_found"))
    );

    // Unknown ids delete nothing, and are named.
    let (status, error) = server.delete("/vectors", &json!({"ids": [6, 12345]}));
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["error"]["kind"], "unknown_ids");
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("12345")));
    assert_eq!(server.get("/vectors/6").0, 200, "nothing was deleted");

    let (status, info) = server.get("/info");
    assert_eq!(status, 200);
    assert_eq!(info["count"], 99, "100 + 1 inserted - 2 deleted");
    assert_eq!(info["dimension"], DIMENSION);
    assert_eq!(info["metric"], "cosine", "the default metric");
    assert_eq!(info["readers"], 2);
    assert_eq!(info["default_index"], "flat");
}

// ANCHOR: bad_requests
/// Each bad request, its status and its kind: never a 5xx, and the server answers after all.
#[test]
fn every_bad_request_gets_its_status_and_kind() {
    let (_dir, _db, server) = served(50);
    let good = vec![1.0f32; DIMENSION];
    let json_cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        (
            "wrong dimension",
            "/search",
            json!({"vector": [1.0, 2.0]}),
            400,
            "dimension_mismatch",
        ),
        (
            "infinite value",
            "/search",
            json!({"vector": [1e39, 0, 0, 0, 0, 0, 0, 0]}),
            400,
            "non_finite_value",
        ),
        (
            "empty vector",
            "/search",
            json!({"vector": []}),
            400,
            "empty_vector",
        ),
        (
            "k zero",
            "/search",
            json!({"vector": good, "k": 0}),
            400,
            "k_out_of_range",
        ),
        (
            "k too large",
            "/search",
            json!({"vector": good, "k": 1001}),
            400,
            "k_out_of_range",
        ),
        (
            "k negative",
            "/search",
            json!({"vector": good, "k": -1}),
            400,
            "invalid_field",
        ),
        (
            "k not a number",
            "/search",
            json!({"vector": good, "k": "ten"}),
            400,
            "invalid_field",
        ),
        (
            "vector of strings",
            "/search",
            json!({"vector": ["a"]}),
            400,
            "invalid_field",
        ),
        (
            "unknown index",
            "/search",
            json!({"vector": good, "index": "nope"}),
            400,
            "unknown_index",
        ),
        (
            "unknown field",
            "/search",
            json!({"vector": good, "nprobes": 2}),
            400,
            "unknown_field",
        ),
        (
            "nprobe on brute force",
            "/search",
            json!({"vector": good, "nprobe": 2}),
            400,
            "invalid_parameter",
        ),
        (
            "ef on brute force",
            "/search",
            json!({"vector": good, "ef": 20}),
            400,
            "invalid_parameter",
        ),
        (
            "rerank on brute force",
            "/search",
            json!({"vector": good, "rerank": 20}),
            400,
            "invalid_parameter",
        ),
        (
            "unknown strategy",
            "/search",
            json!({"vector": good, "filter": "label = 1", "strategy": "fast"}),
            400,
            "invalid_parameter",
        ),
        (
            "strategy without filter",
            "/search",
            json!({"vector": good, "strategy": "pre"}),
            400,
            "invalid_parameter",
        ),
        (
            "both vector and id",
            "/search",
            json!({"vector": good, "id": 1}),
            400,
            "invalid_query",
        ),
        (
            "neither vector nor id",
            "/search",
            json!({"k": 3}),
            400,
            "invalid_query",
        ),
        (
            "absent id",
            "/search",
            json!({"id": 999_999}),
            404,
            "not_found",
        ),
        (
            "filter syntax",
            "/search",
            json!({"vector": good, "filter": "label = = 3"}),
            400,
            "filter_syntax",
        ),
        (
            "unknown filter column",
            "/search",
            json!({"vector": good, "filter": "colour = 'red'"}),
            400,
            "unknown_attribute",
        ),
        (
            "filter type",
            "/search",
            json!({"vector": good, "filter": "label = 'red'"}),
            400,
            "filter_type_mismatch",
        ),
        (
            "not an object",
            "/search",
            json!([1, 2]),
            400,
            "malformed_json",
        ),
        (
            "no vectors",
            "/vectors",
            json!({"vectors": []}),
            400,
            "invalid_field",
        ),
        (
            "ragged vectors",
            "/vectors",
            json!({"vectors": [good, [1.0]]}),
            400,
            "dimension_mismatch",
        ),
        (
            "wrong dimension insert",
            "/vectors",
            json!({"vectors": [[1.0, 2.0]]}),
            400,
            "dimension_mismatch",
        ),
        (
            "infinite insert",
            "/vectors",
            json!({"vectors": [[1e39, 0, 0, 0, 0, 0, 0, 0]]}),
            400,
            "non_finite_value",
        ),
        (
            "ids count",
            "/vectors",
            json!({"vectors": [good], "ids": [1, 2]}),
            400,
            "id_count_mismatch",
        ),
        (
            "id twice",
            "/vectors",
            json!({"vectors": [good, good], "ids": [900, 900]}),
            409,
            "duplicate_id",
        ),
        (
            "upsert without ids",
            "/vectors",
            json!({"vectors": [good], "upsert": true}),
            400,
            "invalid_field",
        ),
        (
            "unknown attribute column",
            "/vectors",
            json!({"vectors": [good], "attributes": [{"colour": "red"}]}),
            400,
            "invalid_attribute",
        ),
        (
            "attribute of the wrong type",
            "/vectors",
            json!({"vectors": [good], "attributes": [{"label": "red"}]}),
            400,
            "invalid_attribute",
        ),
        (
            "unknown insert field",
            "/vectors",
            json!({"vector": [good]}),
            400,
            "unknown_field",
        ),
    ];
    for (name, path, body, status, kind) in &json_cases {
        let (got, answer) = server.post(path, body);
        assert_eq!(got, *status, "{name}: {answer}");
        assert_eq!(answer["error"]["kind"], *kind, "{name}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}: {answer}"
        );
    }
    let field_named = server
        .post("/search", &json!({"vector": good, "k": "ten"}))
        .1;
    assert!(
        field_named["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains('k')),
        "{field_named}"
    );

    let raw_cases: Vec<(&str, &str, &[u8], u16, &str)> = vec![
        (
            "malformed JSON",
            "application/json",
            b"{\"vector\": [1,",
            400,
            "malformed_json",
        ),
        (
            "NaN is not JSON",
            "application/json",
            b"{\"vector\": [NaN]}",
            400,
            "malformed_json",
        ),
        (
            "wrong content type",
            "text/plain",
            b"{\"id\": 1}",
            415,
            "wrong_content_type",
        ),
    ];
    for (name, content_type, body, status, kind) in &raw_cases {
        let (got, answer) = server
            .post_raw("/search", content_type, body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, *status, "{name}: {answer}");
        assert_eq!(answer["error"]["kind"], *kind, "{name}: {answer}");
    }
    let (status, answer) = server.delete("/vectors", &json!({"ids": []}));
    assert_eq!(
        (status, answer["error"]["kind"].clone()),
        (400, json!("invalid_field"))
    );
    let (status, answer) = server.get("/vectors/forty-two");
    assert_eq!(
        (status, answer["error"]["kind"].clone()),
        (400, json!("invalid_field"))
    );
    let (status, answer) = server.get("/no/such/route");
    assert_eq!(
        (status, answer["error"]["kind"].clone()),
        (404, json!("no_such_route"))
    );
    let (status, answer) = server.get("/search");
    assert_eq!(
        (status, answer["error"]["kind"].clone()),
        (405, json!("method_not_allowed"))
    );

    // Nothing bad was stored, and the server still answers.
    assert_eq!(server.get("/info").1["count"], 50);
    assert_eq!(server.post("/search", &json!({"id": 1, "k": 3})).0, 200);
}
// ANCHOR_END: bad_requests

#[test]
fn a_body_over_the_limit_is_refused_with_413() {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 20, DIMENSION);
    let server = Server::start_ready(&db, &["--max-body-bytes", "1000"]);
    let big = json!({"vectors": vec![vec![1.5f32; DIMENSION]; 100]});
    let (status, answer) = server.post("/vectors", &big);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["error"]["kind"], "body_too_large");
    assert_eq!(server.get("/info").1["count"], 20);
    assert_eq!(server.post("/search", &json!({"id": 1})).0, 200);
}

#[test]
fn a_missing_file_is_refused_with_exit_2_naming_it() {
    let dir = TempDir::new().expect("a temporary directory");
    let missing = dir.path().join("absent.db");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_svdb"))
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(&missing)
        .output()
        .expect("svdb runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("absent.db"));
    assert!(output.stdout.is_empty(), "nothing was bound");
}

#[test]
fn a_full_queue_answers_overloaded_rather_than_waiting() {
    let dir = TempDir::new().expect("a temporary directory");
    let db = labelled_collection(dir.path(), 30_000, 64);
    // One reader with a queue of 64: 200 slow searches at once cannot all wait.
    let server = Server::start_ready(&db, &["--readers", "1", "--cache-entries", "0"]);
    let base = server.base.clone();
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                let agent = serve_common::agent();
                let query: Vec<f32> = (0..64).map(|j| ((i * 31 + j) % 17) as f32).collect();
                let mut response = agent
                    .post(format!("{base}/search"))
                    .header("Content-Type", "application/json")
                    .send(json!({"vector": query, "k": 1000, "filter": "label < 9", "strategy": "pre"}).to_string().as_bytes())
                    .expect("an answer");
                let status = response.status().as_u16();
                let retry = response.headers().get("retry-after").is_some();
                let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null);
                (status, retry, body)
            })
        })
        .collect();
    let answers: Vec<(u16, bool, Value)> = clients
        .into_iter()
        .map(|c| c.join().expect("a client"))
        .collect();
    let overloaded: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == 503)
        .collect();
    assert!(
        answers
            .iter()
            .all(|(status, _, _)| *status == 200 || *status == 503),
        "only answers or refusals"
    );
    assert!(answers.iter().any(|(status, _, _)| *status == 200));
    assert!(
        !overloaded.is_empty(),
        "200 slow searches at once overflow a queue of 64"
    );
    for (_, retry, body) in overloaded {
        assert!(*retry, "a 503 says when to come back");
        assert_eq!(body["error"]["kind"], "overloaded");
    }
    assert_eq!(server.get("/health").0, 200);
}

#[test]
fn a_file_that_is_not_a_collection_stops_the_server_with_exit_1() {
    let dir = TempDir::new().expect("a temporary directory");
    let not_ours = dir.path().join("notes.db");
    std::fs::write(&not_ours, "these are notes, not a database\n".repeat(200)).expect("a file");
    // Bound and announced first; the load fails after, and the server stops by itself.
    let mut server = Server::start(&not_ours, &[]);
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(1), "{}", server.log());
    assert!(server.log().contains("notes.db"), "{}", server.log());
}
