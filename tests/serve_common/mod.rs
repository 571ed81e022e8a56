//! Helpers shared by the `svdb serve` tests: a server started on a free port and killed when
//! dropped, a blocking HTTP client, and small collections to serve.
//!
//! Every wait is bounded: a server that never prints its address, never gets ready or never
//! exits fails the test with a message instead of hanging it.

// Every test binary compiles the whole module but uses only some of its helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use simple_vector_db::engine::Collection;
use simple_vector_db::filter::{AttributeType, Value as AttributeValue};
use simple_vector_db::sqlite_store::attributes::Attributes;

/// How long a server may take to print its address, get ready, or exit.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A running `svdb serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: PathBuf,
    agent: ureq::Agent,
}

impl Server {
    /// Starts `svdb serve --db DB --addr 127.0.0.1:0 EXTRA…` and waits for its address line
    /// (not for readiness).
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let log = db.with_extension(format!("log-{}", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("a log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_svdb"))
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("svdb serve starts");
        let stdout = child.stdout.take().expect("a piped stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = sender.send(first);
        });
        let agent = agent();
        let line = match lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("svdb serve printed no address: {}", read(&log));
            }
        };
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}: {}", read(&log)))
            .to_string();
        Server {
            child,
            base,
            log,
            agent,
        }
    }

    /// Starts a server and waits until `/health` says ok.
    pub fn start_ready(db: &Path, extra: &[&str]) -> Server {
        let server = Server::start(db, extra);
        server.wait_ready();
        server
    }

    /// Polls `/health` until 200, for at most [`PATIENCE`].
    pub fn wait_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if let Ok((200, _)) = self.try_get("/health") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server never got ready: {}", read(&self.log));
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path`: the status and the JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}: {}", read(&self.log)))
    }

    pub fn try_get(&self, path: &str) -> Result<(u16, Value), ureq::Error> {
        let response = self.agent.get(format!("{}{path}", self.base)).call()?;
        Ok(json_of(response))
    }

    /// `GET path`: the status and the body as text.
    pub fn get_text(&self, path: &str) -> (u16, String) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.try_post(path, body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}: {}", read(&self.log)))
    }

    pub fn try_post(&self, path: &str, body: &Value) -> Result<(u16, Value), ureq::Error> {
        self.post_raw(path, "application/json", body.to_string().as_bytes())
    }

    /// `POST path` with any body and content type.
    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Value), ureq::Error> {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .send(body)?;
        Ok(json_of(response))
    }

    /// `DELETE path` with a JSON body.
    pub fn delete(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .agent
            .delete(format!("{}{path}", self.base))
            .force_send_body()
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("DELETE {path}: {e}"));
        json_of(response)
    }

    /// Sends `signal` (such as `TERM` or `KILL`) to the server.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the server to exit, for at most [`PATIENCE`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the server did not exit: {}", read(&self.log));
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        read(&self.log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that returns 4xx and 5xx answers rather than errors, and gives up after 30 s.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn json_of(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `n` vectors of `dimension` values, spread out and reproducible.
pub fn vectors(n: usize, dimension: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            (0..dimension)
                .map(|j| (((i * 7919 + j * 104_729) % 1000) as f32) / 100.0)
                .collect()
        })
        .collect()
}

/// A collection of `n` vectors with a `label` attribute (`i % 10`), ids 0 to n-1, in `dir`.
pub fn labelled_collection(dir: &Path, n: usize, dimension: usize) -> PathBuf {
    let path = dir.join("served.db");
    let mut collection = Collection::open(&path).expect("a new collection");
    let data = vectors(n, dimension);
    let attributes = Attributes {
        columns: vec![("label".to_string(), AttributeType::Integer)],
        rows: (0..n)
            .map(|i| vec![Some(AttributeValue::Integer((i % 10) as i64))])
            .collect(),
    };
    collection
        .insert_with_attributes(&data, None, &attributes)
        .expect("the vectors are stored");
    path
}

/// The ids of a `/search` answer.
pub fn result_ids(answer: &Value) -> Vec<i64> {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {answer}"))
        .iter()
        .map(|hit| hit["id"].as_i64().expect("an id"))
        .collect()
}
