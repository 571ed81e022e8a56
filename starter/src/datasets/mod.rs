//! Vectors to play with: the handwritten digits the original uses, generated clusters, and
//! NumPy `.npy` files made elsewhere.
//!
//! All return plain `Vec<Vec<f32>>`, one vector per row, the form every database here accepts.
//! Files and sizes come from outside, so two small modules guard every read: [`regular_file`]
//! opens only regular files (not a FIFO that blocks forever, not `/dev/zero` that never ends),
//! and [`memory_budget`] checks a size before anything that large is allocated.

pub mod attributes_csv;
pub mod clustered;
pub mod digits;
pub mod memory_budget;
pub mod npy;
pub mod npy_header;
pub mod regular_file;
