//! The page at `GET /`, in a real browser: headless Chromium loads `/?id=N` on the digits,
//! and the DOM it leaves shows the query and its neighbours, the same as `/search` says, with
//! their labels. Skipped, with a notice, where `/usr/bin/chromium` is not installed.

mod serve_common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use serve_common::{result_ids, Server};
use simple_vector_db::datasets::digits;
use simple_vector_db::engine::Collection;
use simple_vector_db::filter::{AttributeType, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use tempfile::TempDir;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The digits, with their digit as the `label` attribute.
fn digits_collection(dir: &Path) -> std::path::PathBuf {
    let data = digits::load().expect("the embedded digits");
    let attributes = Attributes {
        columns: vec![("label".to_string(), AttributeType::Integer)],
        rows: data
            .labels
            .iter()
            .map(|&label| vec![Some(Value::Integer(i64::from(label)))])
            .collect(),
    };
    let path = dir.join("digits.db");
    let mut collection = Collection::open(&path).expect("a new collection");
    collection
        .insert_with_attributes(&data.vectors, None, &attributes)
        .expect("the digits are stored");
    path
}

/// The DOM Chromium leaves after running the page's script, within a minute.
fn dump_dom(url: &str, profile: &Path) -> String {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=10000", "--dump-dom", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("chromium's output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The value of `name="…"` in one tag's text.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// Every opening tag whose class is exactly `class`.
fn tags_of_class<'d>(dom: &'d str, class: &str) -> Vec<&'d str> {
    let needle = format!("class=\"{class}\"");
    let mut tags = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find(&needle) {
        let open = rest[..at].rfind('<').unwrap_or(0);
        let close = rest[at..].find('>').map_or(rest.len(), |c| at + c);
        tags.push(&rest[open..close]);
        rest = &rest[close..];
    }
    tags
}

#[test]
fn the_page_draws_the_query_and_its_neighbours_with_their_labels() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is not installed");
        return;
    }
    let dir = TempDir::new().expect("a temporary directory");
    let db = digits_collection(dir.path());
    let server = Server::start_ready(&db, &[]);
    let query_id = 0; // a zero: label 0
    let (status, answer) = server.post("/search", &json!({"id": query_id, "k": 10}));
    assert_eq!(status, 200, "{answer}");
    let expected = result_ids(&answer);

    let dom = dump_dom(
        &format!("{}/?id={query_id}", server.base),
        &dir.path().join("profile"),
    );
    assert!(
        dom.contains("id=\"results\" data-state=\"done\""),
        "the search finished:\n{dom}"
    );
    let query = tags_of_class(&dom, "image query");
    assert_eq!(query.len(), 1, "one query image:\n{dom}");
    assert_eq!(attribute(query[0], "data-id"), Some("0"));
    assert_eq!(attribute(query[0], "data-label"), Some("0"));

    let neighbours = tags_of_class(&dom, "image neighbour");
    let ids: Vec<i64> = neighbours
        .iter()
        .map(|tag| {
            attribute(tag, "data-id")
                .and_then(|id| id.parse().ok())
                .expect("a data-id")
        })
        .collect();
    assert_eq!(
        ids, expected,
        "the page shows /search's answer, in its order"
    );
    let labels: Vec<&str> = neighbours
        .iter()
        .map(|tag| attribute(tag, "data-label").expect("a data-label"))
        .collect();
    let same = labels.iter().filter(|label| **label == "0").count();
    assert!(same >= 8, "most neighbours of a zero are zeros: {labels:?}");
    // Each image is drawn on a canvas, and the table lists the same results.
    assert!(dom.matches("<canvas").count() >= 11, "{dom}");
    assert_eq!(tags_of_class(&dom, "hit").len(), expected.len());
}
