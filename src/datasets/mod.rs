//! Vectors to play with: the handwritten digits the original uses, and generated clusters.
//!
//! Both return plain `Vec<Vec<f32>>`, one vector per row, the form every database here accepts.

pub mod clustered;
pub mod digits;
pub mod npy;
