//! Charts of the sweeps and pictures of the tutorial, drawn with plotters into PNG files.
//!
//! [`chart`] is a small line chart; [`ivf`] and [`pq`] turn sweep results into charts;
//! [`hnsw`] draws the layers of a graph index and one search down them (chapter 13's picture);
//! [`filtered`] draws filtered search against the share of vectors passing (chapter 14).

pub mod chart;
pub mod filtered;
pub mod font;
pub mod frame;
pub mod hnsw;
pub mod ivf;
pub mod pq;

pub use chart::{save_charts, Axis, Chart, Legend, Scale, Series};
pub use hnsw::draw_hnsw_layers;
pub use ivf::plot_ivf_results;
pub use pq::plot_pq_results;
