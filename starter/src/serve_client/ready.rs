//! Waiting for a server to be ready, and for how long.
//!
//! A server that loads a large file (or preloads its vectors into memory) may listen long
//! before it can answer: `GET /health` answers 503 until it is ready. The load tester polls it
//! until it answers 200, within a bound, so that the first search it times is the first search
//! of a ready server: comparing it with the median shows what is still cold after "ready"
//! (pages not yet read, caches not yet filled).

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::serve_client::client::ServeClient;

/// The pause between two polls.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Polls `GET /health` until it answers 200; returns how long that took.
///
/// # Errors
///
/// [`Error::ServerNotReady`] when it has not answered 200 within `timeout`, with its last
/// answer (a status, or why there was none).
pub fn wait_ready(client: &ServeClient, timeout: Duration) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let last = match client.health() {
            Ok(200) => return Ok(started.elapsed()),
            Ok(status) => format!("status {status}"),
            Err(error) => error.to_string(),
        };
        if started.elapsed() >= timeout {
            return Err(Error::ServerNotReady {
                url: format!("{}/health", client.base()),
                waited_ms: started.elapsed().as_millis(),
                last,
            });
        }
        std::thread::sleep(POLL_EVERY);
    }
}
