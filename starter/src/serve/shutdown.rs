//! Stopping without losing a write: SIGTERM or Ctrl-C, then a graceful drain.
//!
//! On the signal the server stops accepting connections, and every request already in
//! flight runs to its answer (axum's graceful shutdown). Only then are the job queues closed:
//! the readers finish, and the writer commits every write still queued before it stops. A
//! write is acknowledged only after its commit, so whatever a client was told is stored is in
//! the file, and the process exits with 0. (SIGKILL cannot be caught; even then nothing
//! acknowledged is lost, because the commit came before the answer.)

use tokio::sync::watch;

/// Why the service stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Interrupt,
    Terminate,
    /// The collection could not be loaded: nothing to serve.
    LoadFailed,
}

impl StopReason {
    fn describe(self) -> &'static str {
        match self {
            StopReason::Interrupt => "Ctrl-C (SIGINT) received",
            StopReason::Terminate => "SIGTERM received",
            StopReason::LoadFailed => "the collection could not be loaded",
        }
    }
}

// ANCHOR: stop_signal
/// Resolves at the first of Ctrl-C, SIGTERM or a failed load (`failed` turning `true`),
/// logging which.
pub async fn stop_signal(mut failed: watch::Receiver<bool>) -> StopReason {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await; // no handler: only the other causes remain
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let load_failed = async {
        if failed.wait_for(|failed| *failed).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let reason = tokio::select! {
        () = interrupt => StopReason::Interrupt,
        () = terminate => StopReason::Terminate,
        () = load_failed => StopReason::LoadFailed,
    };
    log::info!(
        "shutting down: {}; finishing the requests in flight",
        reason.describe()
    );
    reason
}
// ANCHOR_END: stop_signal
