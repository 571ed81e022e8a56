//! The search modes the evaluator can measure, one per stage of the database.

pub mod in_memory;
pub mod pq;
pub mod sqlite;
pub mod sqlite_pq;

pub use in_memory::InMemoryBruteForce;
pub use pq::InMemoryPq;
pub use sqlite::{load_sqlite, SqliteBruteForce, SqliteIvf};
pub use sqlite_pq::SqlitePq;
