//! The indexes a collection can keep in its file, one file each.
//!
//! - [`ivf`]: an inverted file, k-means cells (chapter 6);
//! - [`pq`]: product-quantization codes (chapters 7–8);
//! - [`hnsw`]: a graph of neighbours in layers (chapter 13);
//! - [`ivfpq`]: an inverted file of product-quantization codes of residuals (IVF-PQ);
//! - [`rerank`]: the exact re-scoring the compressed indexes share;
//! - [`broken`]: what stands in for an index whose tables could not be read.
//!
//! Each owns tables named after it, records what it was built for in the `indexes` table, and
//! implements [`StoredIndex`](crate::engine::stored_index::StoredIndex).

pub mod broken;
pub mod hnsw;
pub mod ivf;
pub mod ivf_lists;
pub mod ivfpq;
pub mod pq;
pub mod rerank;

pub use broken::BrokenIndex;
pub use hnsw::{HnswIndex, HnswSettings, Selection};
pub use ivf::{IvfIndex, IvfSettings};
pub use ivfpq::{IvfPqIndex, IvfPqSettings};
pub use pq::{PqIndex, PqSettings};
