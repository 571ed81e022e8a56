//! Charts of the sweeps, drawn with plotters into PNG files.
//!
//! [`chart`] is a small line chart; [`ivf`] and [`pq`] turn sweep results into charts.

pub mod chart;
pub mod font;
pub mod ivf;
pub mod pq;

pub use chart::{save_charts, Axis, Chart, Legend, Scale, Series};
pub use ivf::plot_ivf_results;
pub use pq::plot_pq_results;
