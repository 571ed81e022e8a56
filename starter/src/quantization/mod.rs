//! Product quantization: vectors compressed to one byte per chunk, searched without decompressing.
//!
//! A vector of `d` floats (4 bytes each) is cut into `m` chunks. For each chunk position,
//! k-means learns up to 256 centroids (the [`Codebook`]); a vector is then stored as `m` bytes,
//! the number of the nearest centroid of each chunk. A query is not compressed: its distance to
//! every centroid is computed once (a [`DistanceTable`]), and the distance to a stored code is
//! `m` look-ups in that table, added up. [`VectorQuantizer`] ties the pieces together.

pub mod asymmetric_distance;
pub mod codebook;
pub mod vector_quantizer;

pub use asymmetric_distance::{DistanceTable, SubspaceDistance};
pub use codebook::Codebook;
pub use vector_quantizer::VectorQuantizer;
