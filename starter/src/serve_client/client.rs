//! The server's HTTP contract, from the client's side: `GET /health`, `GET /info` and
//! `POST /search`.
//!
//! ```text
//! GET  /health  → 503 while loading, 200 when ready
//! GET  /info    → {"dimension": 128, "count": 100000, ...}
//! POST /search  {"vector": [0.1, ...], "k": 10, "index": "ivf", "nprobe": 8}   (or "id": 42; "ef" for hnsw)
//!               → 200 {"results": [{"id": .., "score": .., "attributes": ..}], "index": "..",
//!                      "took_ms": .., "cached": false}
//! ```
//!
//! One client keeps one connection open (HTTP keep-alive), as a real application's client
//! would: a new TCP connection per search would measure the handshake as much as the search.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::Agent;

use crate::error::{Error, Result};

/// The longest one request may take before it counts as failed: a server that hangs must not
/// hang the load test.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What `GET /info` says of the collection served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ServerInfo {
    pub dimension: usize,
    pub count: usize,
}

/// The search settings sent with every query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SearchOptions {
    pub k: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nprobe: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ef: Option<usize>,
}

/// One search's query: a vector, or the id of a stored vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Query {
    Vector { vector: Vec<f32> },
    Id { id: i64 },
}

/// The body of a search request: the query and the settings, side by side.
#[derive(Serialize)]
struct SearchBody<'a> {
    #[serde(flatten)]
    query: &'a Query,
    #[serde(flatten)]
    options: &'a SearchOptions,
}

/// What a search answered, as far as the load tester cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOutcome {
    /// 200 with a body of the contract's shape; `cached` as the server said.
    Answered { cached: bool },
    /// Any other status, or a 200 whose body is not a search answer.
    Failed,
}

/// The part of a search answer that is checked.
#[derive(Deserialize)]
struct SearchAnswer {
    #[allow(dead_code)] // parsed to check the answer's shape; the ids themselves are not used
    results: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    cached: bool,
}

/// A client of one server, with its own connection.
#[derive(Debug, Clone)]
pub struct ServeClient {
    agent: Agent,
    base: String,
}

impl ServeClient {
    /// A client of the server at `base` (`http://127.0.0.1:7700`, from
    /// [`loopback_base_url`](super::loopback_base_url)).
    pub fn new(base: &str) -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false) // a 500 is an answer to count, not a transport failure
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        ServeClient {
            agent: Agent::new_with_config(config),
            base: base.to_string(),
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The status `GET /health` answers.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when the request gets no answer (nothing listens yet, for instance).
    pub fn health(&self) -> Result<u16> {
        let url = format!("{}/health", self.base);
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| http_error(&url, e))?;
        Ok(response.status().as_u16())
    }

    /// What `GET /info` says.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when it gets no answer; [`Error::BadResponse`] for another status than
    /// 200 or a body without `dimension` and `count`.
    pub fn info(&self) -> Result<ServerInfo> {
        let url = format!("{}/info", self.base);
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| http_error(&url, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| http_error(&url, e))?;
        if status != 200 {
            return Err(Error::BadResponse {
                url,
                reason: format!("status {status}"),
            });
        }
        serde_json::from_str(&body).map_err(|e| Error::BadResponse {
            url,
            reason: format!("no dimension and count in {body:?}: {e}"),
        })
    }

    /// Sends one search and says how it was answered.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when the request gets no answer (refused, reset, timed out): a failure
    /// of the transport, counted as an error by the load tester like a [`SearchOutcome::Failed`].
    pub fn search(&self, query: &Query, options: &SearchOptions) -> Result<SearchOutcome> {
        let url = format!("{}/search", self.base);
        let body = serde_json::to_string(&SearchBody { query, options }).map_err(|e| {
            Error::BadResponse {
                url: url.clone(),
                reason: format!("cannot write the request: {e}"),
            }
        })?;
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(&body)
            .map_err(|e| http_error(&url, e))?;
        let status = response.status().as_u16();
        // Read the body to the end even on an error status, so the connection can be reused.
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| http_error(&url, e))?;
        if status != 200 {
            return Ok(SearchOutcome::Failed);
        }
        Ok(match serde_json::from_str::<SearchAnswer>(&text) {
            Ok(answer) => SearchOutcome::Answered {
                cached: answer.cached,
            },
            Err(_) => SearchOutcome::Failed,
        })
    }
}

fn http_error(url: &str, error: ureq::Error) -> Error {
    Error::Http {
        url: url.to_string(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bodies_follow_the_contract() {
        let options = SearchOptions {
            k: 10,
            index: Some("ivf".to_string()),
            nprobe: Some(8),
            ef: None,
        };
        let vector = Query::Vector {
            vector: vec![0.5, 1.0],
        };
        let body = serde_json::to_value(SearchBody {
            query: &vector,
            options: &options,
        })
        .expect("serialises");
        assert_eq!(
            body,
            serde_json::json!({"vector": [0.5, 1.0], "k": 10, "index": "ivf", "nprobe": 8})
        );
        let by_id = serde_json::to_value(SearchBody {
            query: &Query::Id { id: 42 },
            options: &SearchOptions {
                k: 3,
                ..SearchOptions::default()
            },
        })
        .expect("serialises");
        assert_eq!(by_id, serde_json::json!({"id": 42, "k": 3}));
    }
}
