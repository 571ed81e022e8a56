//! # simple_vector_db
//!
//! A vector database written from scratch, to be read and learned from. Each module is a stage
//! of the tutorial in `tutorial/`, in the order the book tells it:
//!
//! 1. [`distances`]: cosine similarity and euclidean distance, and the [`Metric`] that ranks by them.
//! 2. [`vector_db_in_memory`]: every vector in memory, every search a full scan.
//! 3. [`utils`]: coloured logging and timing.
//! 4. [`vector_blob`] and [`vector_db_sqlite`]: vectors stored as BLOBs in SQLite, on the shared
//!    [`sqlite_store`] layer.
//! 5. [`VectorDbSqlite::search_without_index`]: brute-force search streamed from SQLite.
//! 6. [`VectorDbSqlite::create_kmeans_index`]: an inverted file index, cells from [`kmeans`].
//! 7. [`quantization`]: product quantization and asymmetric distances.
//! 8. [`vector_db_sqlite_pq`]: a product-quantized database on SQLite.
//! 9. [`evaluation`]: recall, latency, sweeps and plots.
//!
//! Shared pieces: [`error`] (the crate's one error type), [`validation`] (checks at the door),
//! [`top_k`] (the bounded heap every search uses), [`filter`] (conditions on attributes, for
//! filtered search), [`kernels`] (the distances again, fast: SIMD
//! loops, AVX2 when the CPU has it, whole blocks and product-quantization scans),
//! [`datasets`] and [`backup`] (online backups, a rotation, recovery from a damaged file).
//! With the `serve` feature (on by default), `serve` is the collection as an HTTP search
//! service (`svdb serve`); with the `cli` feature, `serve_client` is the load tester of
//! `svdb bench-serve`.
//!
//! ## A first search
//!
//! ```
//! use simple_vector_db::{Metric, VectorDbInMemory};
//!
//! let mut db = VectorDbInMemory::with_metric(Metric::Cosine);
//! db.insert(&[[10.0, 20.0, 30.0], [-1.0, -2.0, -3.0], [0.3, 0.3, 0.3]])?;
//! let best: Vec<i64> = db.search(&[0.1, 0.2, 0.3], 3)?.iter().map(|r| r.id).collect();
//! assert_eq!(best, [0, 2, 1]);
//! # Ok::<(), simple_vector_db::Error>(())
//! ```
//!
//! ## The same on SQLite, with an index
//!
//! ```
//! use simple_vector_db::{Metric, VectorDbSqlite};
//!
//! let mut db = VectorDbSqlite::open_in_memory()?; // or VectorDbSqlite::open("vectors.db")
//! db.set_metric(Metric::Euclidean)?;
//! let ids = db.insert(&[[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.0, 10.1]], None)?;
//! assert_eq!(ids, [0, 1, 2, 3]);
//! db.create_kmeans_index(2)?;
//! let found = db.search_in_kmeans_index(&[9.9, 10.0], 2, 1)?;
//! let mut near: Vec<i64> = found.neighbours.iter().map(|n| n.id).collect();
//! near.sort();
//! assert_eq!(near, [2, 3]);
//! # Ok::<(), simple_vector_db::Error>(())
//! ```
//!
//! ## Compressed: product quantization
//!
//! ```
//! use simple_vector_db::datasets::digits;
//! use simple_vector_db::VectorDbSqlitePq;
//!
//! let digits = digits::load()?;
//! let mut db = VectorDbSqlitePq::open_in_memory(16, 32)?; // 16 bytes per 64-float digit
//! db.insert(&digits.vectors, None)?; // the first batch trains the codebook
//! let nearest = db.search_without_index(&digits.vectors[11], 1)?;
//! assert_eq!(nearest[0].id, 11);
//! # Ok::<(), simple_vector_db::Error>(())
//! ```

pub mod backup;
pub mod datasets;
pub mod distances;
pub mod engine;
pub mod error;
pub mod evaluation;
pub mod filter;
pub mod kernels;
pub mod kmeans;
pub mod quantization;
#[cfg(feature = "serve")]
pub mod serve;
#[cfg(feature = "cli")]
pub mod serve_client;
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
