//! Measuring a vector database: does it find the true neighbours, and how fast?
//!
//! An approximate index trades accuracy for speed, so both have to be measured on the same data:
//! a [`Dataset`] holds base vectors, queries and the exact top-k of each query; an [`Evaluator`]
//! runs any [`SearchMode`] over the queries and reports recall@k, queries per second and latency
//! percentiles. Sweeps repeat that over an index's settings and write CSV files and plots.

pub mod cli;
pub mod data_source;
pub mod dataset;
pub mod evaluator;
pub mod ground_truth;
pub mod ivf_sweep;
pub mod latency;
pub mod modes;
pub mod plots;
pub mod pq_sweep;
pub mod progress;
pub mod recall;
pub mod results_csv;
pub mod search_mode;
pub mod table;

pub use dataset::Dataset;
pub use evaluator::{Evaluation, Evaluator};
pub use ground_truth::GroundTruth;
pub use latency::LatencySummary;
pub use search_mode::SearchMode;
