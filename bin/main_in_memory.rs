//! Chapter 2: the in-memory vector database, on the original tutorial's three vectors.
//!
//! Run with `cargo run --bin main_in_memory`.

use std::process::ExitCode;

use simple_vector_db::utils::flex_logging;
use simple_vector_db::{Result, VectorDbInMemory};

// ANCHOR: main
fn main() -> ExitCode {
    flex_logging::init();
    flex_logging::exit_code(run())
}

fn run() -> Result<()> {
    let mut db = VectorDbInMemory::new(); // cosine similarity by default
    db.insert(&[[10.0, 20.0, 30.0], [-1.0, -2.0, -3.0], [0.3, 0.3, 0.3]])?;

    log::info!("Retrieved vector 1: {:?}", db.retrieve(1));

    let query = [0.1, 0.2, 0.3];
    for (key, score) in db.search(&query, 3)? {
        log::info!("key {key}: cosine similarity {score:.4}");
    }
    Ok(())
}
// ANCHOR_END: main
