//! The SQLite plumbing under every collection: the file, its settings, its rows.
//!
//! Opening a file (or memory) with settings suited to scans, recognising our own files,
//! remembering the dimension, metric and generation *in the file* so that a new process can
//! reopen it, handing out ids, inserting a batch and streaming rows back: the pieces
//! [`Collection`](crate::engine::Collection) is built from.
//!
//! The schema is three tables: `meta (key, value)` for the settings,
//! `vectors (position, id, vector)` for the collection, where `position` is the storage order,
//! `id` the id searches return and `vector` the raw `f32` bytes, and `indexes` for the catalog
//! of indexes built on the collection. Each index keeps its own data in tables of its own.

pub mod attributes;
pub mod chunks;
pub mod connection;
pub mod metadata;
pub mod rows;
pub mod stored_vectors;

pub use metadata::{Layout, Metadata, StoreKind, SCHEMA_VERSION};
