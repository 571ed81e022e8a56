//! Small helpers every binary uses: coloured logging, timing, and printing results as JSON.

pub mod flex_logging;
pub mod output;
pub mod timing;
