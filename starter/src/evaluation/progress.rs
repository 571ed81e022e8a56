//! A progress bar for sweeps, counted in queries.
//!
//! Drawn on standard error, and only when it is a terminal: in a pipe, a file or CI the bar stays
//! hidden and the output holds only the results.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

// ANCHOR: sweep_progress
/// A bar of `total_queries` steps showing elapsed time, rate and the setting being measured.
pub fn sweep_progress(total_queries: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total_queries), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} queries ({per_sec}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
// ANCHOR_END: sweep_progress
