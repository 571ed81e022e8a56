//! The engine: one vocabulary, one index interface, a collection with indexes that own their
//! tables.
//!
//! The staged databases of chapters 2–8 ([`VectorDbInMemory`](crate::VectorDbInMemory),
//! [`VectorDbSqlite`](crate::VectorDbSqlite), [`VectorDbSqlitePq`](crate::VectorDbSqlitePq))
//! are thin layers over what is here:
//!
//! - [`Neighbour`] and [`SearchParams`]: what a search returns and what it is asked;
//! - [`VectorIndex`]: the interface every index implements, so one evaluator, one command-line
//!   tool and one server serve them all;
//! - [`FlatIndex`]: brute force in memory;
//! - [`Collection`]: ids and vectors in an SQLite file, with the [`indexes`] built on them,
//!   each in tables of its own, listed in the [`catalog`];
//! - [`check`]: is a file intact, and do its parts agree?

pub mod catalog;
pub mod check;
pub mod collection;
pub mod flat;
pub mod id_set;
pub mod indexes;
pub mod neighbour;
pub mod scan;
pub mod search_params;
pub mod staleness;
pub mod stored_index;
pub mod vector_index;

pub use collection::{Collection, CollectionIndex, IndexInfo, IndexSpec};
pub use flat::FlatIndex;
pub use id_set::IdSet;
pub use indexes::{HnswSettings, IvfPqSettings, IvfSettings, PqSettings};
pub use neighbour::Neighbour;
pub use search_params::SearchParams;
pub use vector_index::{IndexKind, VectorIndex};
