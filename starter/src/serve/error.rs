//! What can stop the service itself, as opposed to one bad request.
//!
//! A request that goes wrong is answered ([`ApiError`](super::api_error::ApiError)) and the
//! service goes on. These errors end it: the address cannot be served, the file cannot be
//! loaded, a thread cannot be started. Each keeps the error that caused it.

use std::path::PathBuf;

/// A failure that stops `svdb serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The tokio runtime could not be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),

    /// The bound socket could not be handed to tokio, or serving it failed.
    #[error("cannot serve {addr}: {source}")]
    Socket {
        addr: String,
        #[source]
        source: std::io::Error,
    },

    /// A worker thread could not be started.
    #[error("cannot start the thread {name}: {source}")]
    Thread {
        name: String,
        #[source]
        source: std::io::Error,
    },

    /// The collection could not be opened or loaded into memory.
    #[error("cannot load {path}: {source}")]
    Load {
        path: PathBuf,
        /// Boxed: the library's error is large, and this one travels through every start-up
        /// function's result.
        #[source]
        source: Box<crate::Error>,
    },

    /// A worker thread panicked (a bug: nothing a request sends should get there).
    #[error("the worker thread {0} panicked")]
    WorkerPanicked(String),
}
