//! Measuring a vector database: does it find the true neighbours, and how fast?
//!
//! An approximate index trades accuracy for speed, so both have to be measured on the same data:
//! a [`Dataset`] holds base vectors, queries and the exact top-k of each query; an [`Evaluator`]
//! runs any [`VectorIndex`](crate::engine::VectorIndex) over the queries and reports recall@k,
//! queries per second and latency percentiles. Sweeps repeat that over an index's settings and
//! write CSV files and plots.

pub mod data_source;
pub mod dataset;
pub mod evaluator;
pub mod filtered_sweep;
pub mod filtered_walks;
pub mod ground_truth;
pub mod index_sweep;
pub mod latency;
pub mod load;
pub mod recall;
pub mod results_csv;
pub mod table;

// What only the binaries need: command-line options (clap), charts (plotters) and the sweeps,
// which drive a progress bar (indicatif). Behind the `cli` feature, so a program embedding the
// library can still grade an index without compiling those three.
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod ivf_sweep;
#[cfg(feature = "cli")]
pub mod plots;
#[cfg(feature = "cli")]
pub mod pq_sweep;
#[cfg(feature = "cli")]
pub mod progress;

pub use dataset::Dataset;
pub use evaluator::{Evaluation, Evaluator};
pub use ground_truth::GroundTruth;
pub use latency::LatencySummary;
pub use load::load_collection;
