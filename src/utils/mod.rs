//! Small helpers every binary uses: coloured logging and timing.

pub mod flex_logging;
pub mod timing;
