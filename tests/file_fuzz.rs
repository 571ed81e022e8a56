//! Damaged files: thousands of mutants of healthy collection files, opened and searched.
//!
//! A deterministic mutation loop (cargo-fuzz needs a nightly toolchain): bit flips, overwritten
//! runs, zeroed pages, truncations and extensions of three healthy files, two of raw vectors with
//! an inverted file, a PQ index and a graph (HNSW, in the row layout, and again in chunks) and
//! attributes, one that keeps only codes. Every mutant is opened, counted, searched through
//! every index (streamed, then preloaded, then with a filter), and checked with `check_file`. Nothing may panic, abort or hang;
//! a mutant either fails with a typed error or answers. Bounded in count and in time.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::collection::Strategy;
use simple_vector_db::engine::{
    Collection, HnswSettings, IndexSpec, IvfPqSettings, IvfSettings, PqSettings, SearchParams,
};
use simple_vector_db::filter::{AttributeType, Filter, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::VectorDbSqlitePq;

const MUTANTS_PER_FILE: usize = 2_000;
const TIME_LIMIT: Duration = Duration::from_secs(90);

fn vectors(n: usize, d: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| ((i * 31 + j * 17) % 101) as f32 / 10.0)
                .collect()
        })
        .collect()
}

/// The bytes of a healthy file, written through `build` and checkpointed (no WAL left).
fn healthy_file(build: impl FnOnce(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("seed.db");
    build(&path);
    assert!(check_file(&path).expect("opens").is_empty());
    // The last connection to close checkpoints the write-ahead log into the file and removes it.
    assert!(
        !dir.path().join("seed.db-wal").exists(),
        "the log was checkpointed"
    );
    std::fs::read(&path).expect("reads")
}

fn mutate(seed: &[u8], rng: &mut Xoshiro256PlusPlus) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    let len = bytes.len();
    match rng.gen_range(0..6) {
        0 => {
            for _ in 0..rng.gen_range(1..8) {
                let at = rng.gen_range(0..len);
                bytes[at] ^= 1 << rng.gen_range(0..8);
            }
        }
        1 => {
            let at = rng.gen_range(0..len);
            let end = (at + rng.gen_range(1..64)).min(len);
            for b in &mut bytes[at..end] {
                *b = rng.gen();
            }
        }
        2 => {
            // A whole 16 KiB page zeroed, or filled with one byte.
            let pages = (len / 16_384).max(1);
            let start = rng.gen_range(0..pages) * 16_384;
            let fill: u8 = if rng.gen_bool(0.5) { 0 } else { rng.gen() };
            for b in &mut bytes[start..(start + 16_384).min(len)] {
                *b = fill;
            }
        }
        3 => bytes.truncate(rng.gen_range(0..len)),
        4 => {
            // The 100-byte SQLite header: page size, counters, schema cookie, encodings.
            let at = rng.gen_range(0..100.min(len));
            bytes[at] = rng.gen();
        }
        _ => bytes.extend((0..rng.gen_range(1..40_000)).map(|_| rng.gen::<u8>())),
    }
    bytes
}

/// What a mutant answered: its count and every search's ids (`Err` for a typed error), and
/// whether `check_file` found it healthy.
type Answers = (Option<usize>, Vec<Result<Vec<i64>, String>>, bool);

/// The name of an error's variant: the messages of two files differ by their paths.
fn variant(error: &simple_vector_db::Error) -> String {
    format!("{error:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Opens, counts, searches through every index and checks one file; `Err` is a typed error
/// on opening.
fn exercise(path: &Path, query: &[f32]) -> Result<Answers, String> {
    let mut collection = Collection::open_existing(path).map_err(|e| e.to_string())?;
    let count = collection.len().ok();
    let params = SearchParams::k(5).with_n_probes(2);
    let mut names: Vec<Option<String>> = vec![None];
    names.extend(
        collection
            .indexes()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|i| Some(i.name)),
    );
    let mut answers: Vec<_> = names
        .iter()
        .map(|name| {
            collection
                .search(name.as_deref(), query, &params)
                .map(|found| found.iter().map(|n| n.id).collect())
                .map_err(|e| variant(&e))
        })
        .collect();
    // The same searches from memory: loading a damaged file must fail as typed as reading it.
    for name in &names {
        answers.push(
            collection
                .preload(name.as_deref())
                .and_then(|()| collection.search(name.as_deref(), query, &params))
                .map(|found| found.iter().map(|n| n.id).collect())
                .map_err(|e| variant(&e)),
        );
    }
    // Filtered: the attribute tables are read, and every index's own filtered search runs.
    let filter = Filter::column("bucket")
        .lt(3)
        .or(Filter::column("color").eq("red"));
    for name in &names {
        for strategy in [Strategy::Auto, Strategy::InIndex] {
            answers.push(
                collection
                    .search_filtered(name.as_deref(), query, &params, &filter, strategy)
                    .map(|found| found.neighbours.iter().map(|n| n.id).collect())
                    .map_err(|e| variant(&e)),
            );
        }
    }
    drop(collection);
    let healthy = check_file(path).is_ok_and(|problems| problems.is_empty());
    Ok((count, answers, healthy))
}

fn fuzz(seed: &[u8], query: &[f32], label: &str, rng_seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(rng_seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let original_path = dir.path().join("original.db");
    std::fs::write(&original_path, seed).expect("writes");
    let original = exercise(&original_path, query).expect("the healthy file opens");
    let start = Instant::now();
    let (mut ran, mut panics, mut refused, mut flagged, mut unnoticed) = (0, 0, 0, 0, 0);
    for i in 0..MUTANTS_PER_FILE {
        if start.elapsed() > TIME_LIMIT {
            break;
        }
        // A fresh name each time: no WAL or shared-memory file of a previous mutant applies.
        let path = dir.path().join(format!("mutant-{i}.db"));
        std::fs::write(&path, mutate(seed, &mut rng)).expect("writes");
        // ANCHOR: verdict
        match catch_unwind(AssertUnwindSafe(|| exercise(&path, query))) {
            Ok(Ok(answers)) if answers == original => {}
            Ok(Ok((_, _, false))) => flagged += 1,
            // Different answers from a file every check passes: a changed payload byte that no
            // page structure covers (SQLite keeps no checksums of row contents).
            Ok(Ok(_)) => unnoticed += 1,
            Ok(Err(_)) => refused += 1,
            Err(_) => panics += 1,
        }
        // ANCHOR_END: verdict
        ran += 1;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    println!(
        "{label}: {ran} mutants in {:.1} s: {refused} refused at open, {flagged} opened but flagged by check_file, {unnoticed} answered differently unnoticed, {panics} panics",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(panics, 0, "{label}: {panics} of {ran} mutants panicked");
    assert!(
        ran >= 500,
        "{label}: only {ran} mutants ran in the time limit"
    );
}

/// A `bucket` (0 to 9) and a `color` per vector.
fn attributes(n: usize) -> Attributes {
    let colors = ["red", "green", "blue"];
    Attributes {
        columns: vec![
            ("bucket".into(), AttributeType::Integer),
            ("color".into(), AttributeType::Text),
        ],
        rows: (0..n)
            .map(|i| {
                vec![
                    Some(Value::Integer((i % 10) as i64)),
                    Some(Value::from(colors[i % 3])),
                ]
            })
            .collect(),
    }
}

/// A healthy file of raw vectors in `layout` with attributes, an inverted file, a PQ index, a
/// graph of small M (searched with its default beam) and an IVF-PQ index of 16 centroids per
/// sub-space.
fn collection_with_indexes(layout: Layout, base: &[Vec<f32>]) -> Vec<u8> {
    healthy_file(|path| {
        let mut collection = Collection::open_with_layout(path, layout).expect("creates");
        collection
            .set_metric(simple_vector_db::Metric::Euclidean)
            .expect("sets");
        collection
            .insert_with_attributes(base, None, &attributes(base.len()))
            .expect("stores");
        collection
            .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(8)))
            .expect("builds");
        collection
            .create_index("pq", &IndexSpec::Pq(PqSettings::new(4, 16)))
            .expect("builds");
        collection
            .create_index("hnsw", &IndexSpec::Hnsw(HnswSettings::new(4, 16)))
            .expect("builds");
        collection
            .create_index("ivfpq", &IndexSpec::IvfPq(IvfPqSettings::new(8, 4, 4)))
            .expect("builds");
    })
}

#[test]
fn mutants_of_a_collection_with_indexes_never_panic() {
    let base = vectors(300, 8);
    let seed = collection_with_indexes(Layout::Rows, &base);
    fuzz(&seed, &base[3], "vectors + ivf + pq + hnsw + ivfpq", 1);
}

#[test]
fn mutants_of_a_chunked_collection_with_indexes_never_panic() {
    let base = vectors(300, 8);
    let seed = collection_with_indexes(Layout::Chunks, &base);
    fuzz(
        &seed,
        &base[3],
        "chunks: vectors + ivf + pq + hnsw + ivfpq",
        3,
    );
}

#[test]
fn mutants_of_a_codes_only_collection_never_panic() {
    let base = vectors(300, 8);
    let seed = healthy_file(|path| {
        let mut db = VectorDbSqlitePq::create(path, 4, 16).expect("creates");
        db.insert(&base, None).expect("stores");
    });
    fuzz(&seed, &base[3], "codes only", 2);
}
