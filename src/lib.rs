//! # simple_vector_db
//!
//! A vector database written from scratch, to be read and learned from. Each module is a stage
//! of the tutorial in `tutorial/`, in the order the book tells it:
//!
//! 1. [`distances`]: cosine similarity and euclidean distance, and the [`Metric`] that ranks by them.
//! 2. [`vector_db_in_memory`]: every vector in memory, every search a full scan.
//! 3. [`utils`]: coloured logging and timing.
//!
//! Shared pieces: [`error`] (the crate's one error type), [`validation`] (checks at the door),
//! [`top_k`] (the bounded heap every search uses), [`kmeans`] (seeded k-means) and [`datasets`].

pub mod datasets;
pub mod distances;
pub mod error;
pub mod evaluation;
pub mod kmeans;
pub mod quantization;
pub mod sqlite_store;
pub mod top_k;
pub mod utils;
pub mod validation;
pub mod vector_blob;
pub mod vector_db_in_memory;
pub mod vector_db_sqlite;
pub mod vector_db_sqlite_pq;

pub use distances::Metric;
pub use error::{Error, Result};
pub use vector_db_in_memory::VectorDbInMemory;
pub use vector_db_sqlite::VectorDbSqlite;
pub use vector_db_sqlite_pq::VectorDbSqlitePq;
