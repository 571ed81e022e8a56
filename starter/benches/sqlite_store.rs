//! The SQLite vector store against `sqlite-vec`, on the same data, machine and run.
//!
//! 100,000 seeded clustered vectors of dimension 128 go into a database file: once into ours
//! ([`VectorDbSqlite`], one `insert` call, then again in batches of 10,000), once into a
//! `sqlite-vec` `vec0` virtual table (one transaction, one prepared statement). Then the same
//! seeded queries, drawn from the same distribution, ask both for their 10 nearest neighbours by
//! brute force: ours by `search_without_index` (euclidean, then cosine), `vec0` by its `MATCH`
//! KNN (L2), one query to each in turn so that both meet the same machine load. Both must agree
//! on the euclidean top 10, so the table reports that recall too. A last line times our row
//! scan alone, without scoring, to show how much of a search is SQLite's.
//!
//! The same vectors then go into a collection of the chunked layout (chapter 12): its insert
//! rate, its brute force streamed from SQLite chunk by chunk and preloaded in memory, the file
//! size and the resident memory the preloaded copy costs, each against the raw vector bytes.
//!
//! Run with `cargo bench --bench sqlite_store`. The machine is shared and noisy: read the
//! ratios, which compare both sides within one run, rather than the absolute figures.
//! `SQLITE_STORE_BENCH_VECTORS` and `SQLITE_STORE_BENCH_QUERIES` shrink the run (for profiling).

use std::path::Path;
use std::time::Duration;

use rusqlite::{ffi::sqlite3_auto_extension, params, Connection};
use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::{Collection, SearchParams};
use simple_vector_db::evaluation::recall::recall_at_k;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::sqlite_store::{connection, rows};
use simple_vector_db::utils::timing::measure;
use simple_vector_db::vector_blob::vector_to_blob;
use simple_vector_db::{Metric, VectorDbSqlite};

const DIMENSION: usize = 128;
const K: usize = 10;
const BATCH: usize = 10_000;

/// Vectors as the generator hands them out.
type Vectors = Vec<Vec<f32>>;

/// The 10 nearest ids of every query, in query order.
type Neighbours = Vec<Vec<i64>>;

/// One line of the results table.
struct Row {
    what: String,
    ours: f64,
    theirs: Option<f64>,
    unit: &'static str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n_vectors = env_count("SQLITE_STORE_BENCH_VECTORS", 100_000)?;
    let n_queries = env_count("SQLITE_STORE_BENCH_QUERIES", 100)?;
    let (vectors, queries) = clustered_data(n_vectors, n_queries)?;
    let dir = tempfile::tempdir()?;
    println!(
        "{n_vectors} clustered vectors of dimension {DIMENSION}, {n_queries} queries, k = {K}, \
         database files in {}",
        dir.path().display()
    );

    let mut ours = VectorDbSqlite::open(dir.path().join("ours.db"))?;
    ours.set_metric(Metric::Euclidean)?;
    let (inserted, ours_insert) = measure(|| ours.insert(&vectors, None));
    inserted?;
    let ours_insert = per_second(n_vectors, ours_insert);
    let ours_batched = insert_in_batches(&dir.path().join("ours_batched.db"), &vectors)?;

    let theirs = open_sqlite_vec(&dir.path().join("sqlite_vec.db"))?;
    let (inserted, theirs_insert) = measure(|| insert_sqlite_vec(&theirs, &vectors));
    inserted?;
    let theirs_insert = per_second(n_vectors, theirs_insert);

    let (ours_l2, theirs_l2, ours_l2_qps, theirs_l2_qps) = search_both(&ours, &theirs, &queries)?;
    ours.set_metric(Metric::Cosine)?;
    let ours_cosine_qps = search_ours(&ours, &queries)?;
    let scans_per_second = scan_without_scoring(&dir.path().join("ours.db"), n_queries)?;
    let chunked = measure_chunked(&dir.path().join("chunks.db"), &vectors, &queries, &ours_l2)?;
    let raw_bytes = (n_vectors * DIMENSION * 4) as f64;
    let theirs_file = file_size(&dir.path().join("sqlite_vec.db"))?;

    print_table(&[
        Row {
            what: "insert, one call of all vectors".into(),
            ours: ours_insert,
            theirs: Some(theirs_insert),
            unit: "vectors/s",
        },
        Row {
            what: format!("insert, batches of {BATCH}"),
            ours: ours_batched,
            theirs: None,
            unit: "vectors/s",
        },
        Row {
            what: "brute-force search, euclidean".into(),
            ours: ours_l2_qps,
            theirs: Some(theirs_l2_qps),
            unit: "queries/s",
        },
        Row {
            what: "brute-force search, cosine".into(),
            ours: ours_cosine_qps,
            theirs: None,
            unit: "queries/s",
        },
        Row {
            what: "row scan alone, no scoring".into(),
            ours: scans_per_second,
            theirs: None,
            unit: "scans/s",
        },
        Row {
            what: "chunks: insert, one call".into(),
            ours: chunked.insert,
            theirs: Some(theirs_insert),
            unit: "vectors/s",
        },
        Row {
            what: "chunks: brute force, streamed".into(),
            ours: chunked.streamed_qps,
            theirs: Some(theirs_l2_qps),
            unit: "queries/s",
        },
        Row {
            what: "chunks: brute force, preloaded".into(),
            ours: chunked.preloaded_qps,
            theirs: Some(theirs_l2_qps),
            unit: "queries/s",
        },
        Row {
            what: "chunks: file size / raw bytes".into(),
            ours: chunked.file_bytes / raw_bytes * 100.0,
            theirs: Some(theirs_file / raw_bytes * 100.0),
            unit: "%",
        },
        Row {
            what: "chunks: preloaded memory / raw".into(),
            ours: chunked.preload_rss / raw_bytes * 100.0,
            theirs: None,
            unit: "% (resident set growth)",
        },
    ]);
    println!(
        "streamed chunks: {:.2} GB/s of vectors ({:.1} ns per vector); preloaded: {:.2} GB/s",
        raw_bytes * chunked.streamed_qps / 1e9,
        1e9 / (chunked.streamed_qps * n_vectors as f64),
        raw_bytes * chunked.preloaded_qps / 1e9
    );
    println!(
        "recall@{K} of the chunked searches against the row search: streamed {:.4}, preloaded {:.4}",
        chunked.streamed_recall, chunked.preloaded_recall
    );
    println!(
        "recall@{K} of our euclidean search against sqlite-vec's: {:.4}",
        recall(&ours_l2, &theirs_l2)
    );
    Ok(())
}

/// What the chunked layout measured.
struct Chunked {
    insert: f64,
    streamed_qps: f64,
    preloaded_qps: f64,
    file_bytes: f64,
    preload_rss: f64,
    streamed_recall: f64,
    preloaded_recall: f64,
}

/// The chunked layout on a file: insert, search streamed then preloaded, sizes.
fn measure_chunked(
    path: &Path,
    vectors: &[Vec<f32>],
    queries: &[Vec<f32>],
    reference: &Neighbours,
) -> Result<Chunked, Box<dyn std::error::Error>> {
    let mut collection = Collection::open_with_layout(path, Layout::Chunks)?;
    collection.set_metric(Metric::Euclidean)?;
    let (inserted, insert) = measure(|| collection.insert(vectors, None));
    inserted?;
    // What the file holds once the write-ahead log is copied into it, as when it is closed.
    Connection::open(path)?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    let file_bytes = file_size(path)? + file_size(&path.with_extension("db-wal")).unwrap_or(0.0);
    let (streamed, streamed_qps) = search_collection(&collection, queries)?;
    let before = resident_bytes()?;
    collection.preload(None)?;
    let preload_rss = resident_bytes()? - before;
    let (preloaded, preloaded_qps) = search_collection(&collection, queries)?;
    Ok(Chunked {
        insert: per_second(vectors.len(), insert),
        streamed_qps,
        preloaded_qps,
        file_bytes,
        preload_rss,
        streamed_recall: recall(&streamed, reference),
        preloaded_recall: recall(&preloaded, reference),
    })
}

/// Every query by brute force through `collection`: the ids found and queries per second.
fn search_collection(
    collection: &Collection,
    queries: &[Vec<f32>],
) -> simple_vector_db::Result<(Neighbours, f64)> {
    let params = SearchParams::k(K);
    if let Some(first) = queries.first() {
        collection.search(None, first, &params)?;
    }
    let (found, elapsed) = measure(|| {
        queries
            .iter()
            .map(|query| {
                let found = collection.search(None, query, &params)?;
                Ok(found.into_iter().map(|n| n.id).collect())
            })
            .collect::<simple_vector_db::Result<Neighbours>>()
    });
    Ok((found?, per_second(queries.len(), elapsed)))
}

/// The size of a file in bytes.
fn file_size(path: &Path) -> std::io::Result<f64> {
    Ok(std::fs::metadata(path)?.len() as f64)
}

/// This process's resident set, from `/proc/self/status` (Linux).
fn resident_bytes() -> Result<f64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmRSS line in /proc/self/status")?;
    Ok(kib * 1024.0)
}

/// A count from the environment, or `default` when the variable is unset.
fn env_count(name: &str, default: usize) -> Result<usize, Box<dyn std::error::Error>> {
    match std::env::var(name) {
        Ok(text) => Ok(text.parse().map_err(|e| format!("{name}={text:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// The stored vectors and the queries, drawn from one seeded clustered distribution.
fn clustered_data(
    n_vectors: usize,
    n_queries: usize,
) -> simple_vector_db::Result<(Vectors, Vectors)> {
    let mut vectors = generate(&ClusteredSpec {
        n_vectors: n_vectors + n_queries,
        dimension: DIMENSION,
        n_clusters: 100,
        noise: 0.1,
        seed: 42,
    })?;
    let queries = vectors.split_off(n_vectors);
    Ok((vectors, queries))
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// Insert rate into a fresh file of ours when the vectors arrive in several calls.
fn insert_in_batches(path: &Path, vectors: &[Vec<f32>]) -> simple_vector_db::Result<f64> {
    let mut db = VectorDbSqlite::open(path)?;
    let (inserted, elapsed) = measure(|| {
        vectors
            .chunks(BATCH)
            .try_for_each(|batch| db.insert(batch, None).map(drop))
    });
    inserted?;
    Ok(per_second(vectors.len(), elapsed))
}

/// Every query through ours and through `vec0`, alternately, so that both meet the same load.
///
/// Returns the ids each found and each one's queries per second, after one untimed warm-up.
fn search_both(
    ours: &VectorDbSqlite,
    theirs: &Connection,
    queries: &[Vec<f32>],
) -> Result<(Neighbours, Neighbours, f64, f64), Box<dyn std::error::Error>> {
    let mut statement = theirs
        .prepare("SELECT rowid, distance FROM vec_items WHERE embedding MATCH ?1 AND k = 10")?;
    let mut knn = |query: &[f32]| -> rusqlite::Result<Vec<i64>> {
        statement
            .query_map([vector_to_blob(query)], |row| row.get(0))?
            .collect()
    };
    if let Some(first) = queries.first() {
        search_ours_once(ours, first)?;
        knn(first)?;
    }
    let (mut ours_found, mut theirs_found) = (Vec::new(), Vec::new());
    let (mut ours_time, mut theirs_time) = (Duration::ZERO, Duration::ZERO);
    for query in queries {
        let (found, elapsed) = measure(|| search_ours_once(ours, query));
        ours_found.push(found?);
        ours_time += elapsed;
        let (found, elapsed) = measure(|| knn(query));
        theirs_found.push(found?);
        theirs_time += elapsed;
    }
    Ok((
        ours_found,
        theirs_found,
        per_second(queries.len(), ours_time),
        per_second(queries.len(), theirs_time),
    ))
}

/// Queries per second of ours alone, after one untimed warm-up.
fn search_ours(db: &VectorDbSqlite, queries: &[Vec<f32>]) -> simple_vector_db::Result<f64> {
    if let Some(first) = queries.first() {
        search_ours_once(db, first)?;
    }
    let (searched, elapsed) = measure(|| {
        queries
            .iter()
            .try_for_each(|query| search_ours_once(db, query).map(drop))
    });
    searched?;
    Ok(per_second(queries.len(), elapsed))
}

/// The ids of the `K` nearest neighbours of `query` in our database.
fn search_ours_once(db: &VectorDbSqlite, query: &[f32]) -> simple_vector_db::Result<Vec<i64>> {
    let top = db.search_without_index(query, K)?;
    Ok(top.into_iter().map(|n| n.id).collect())
}

/// How many times per second the store streams every row to a visitor that does nothing.
///
/// This is the SQLite part of a search (stepping the statement, handing out each BLOB), without
/// the scores and the heap: compared with the queries per second above, it shows where a
/// search spends its time.
fn scan_without_scoring(path: &Path, n_scans: usize) -> simple_vector_db::Result<f64> {
    // A second connection to the file, read through the same row scan the collection uses.
    let connection = connection::open_file(path, false)?;
    let scan = || {
        rows::for_each_row(&connection, |_, blob| {
            std::hint::black_box(blob);
            Ok(())
        })
    };
    scan()?;
    let (scanned, elapsed) = measure(|| (0..n_scans).try_for_each(|_| scan()));
    scanned?;
    Ok(per_second(n_scans, elapsed))
}

/// A database file with the sqlite-vec extension loaded and a `vec0` table for our vectors.
///
/// The file gets the durability settings ours uses (WAL, synchronous NORMAL), so the insert
/// rates compare the same kind of commit.
fn open_sqlite_vec(path: &Path) -> rusqlite::Result<Connection> {
    // SAFETY: `sqlite3_vec_init` is the extension's entry point, whose real signature is the
    // one `sqlite3_auto_extension` expects; the crate declares it without arguments.
    unsafe {
        #[allow(clippy::missing_transmute_annotations)]
        sqlite3_auto_extension(Some(std::mem::transmute(
            sqlite_vec::sqlite3_vec_init as *const (),
        )));
    }
    let connection = Connection::open(path)?;
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(&format!(
        "CREATE VIRTUAL TABLE vec_items USING vec0(embedding float[{DIMENSION}])"
    ))?;
    Ok(connection)
}

/// All vectors in one transaction through one prepared statement, rowids from 0 like ours.
fn insert_sqlite_vec(connection: &Connection, vectors: &[Vec<f32>]) -> rusqlite::Result<()> {
    let transaction = connection.unchecked_transaction()?;
    {
        let mut statement =
            transaction.prepare("INSERT INTO vec_items (rowid, embedding) VALUES (?1, ?2)")?;
        for (id, vector) in vectors.iter().enumerate() {
            statement.execute(params![id as i64, vector_to_blob(vector)])?;
        }
    }
    transaction.commit()
}

/// The share of sqlite-vec's neighbours that ours found too, averaged over the queries.
fn recall(ours: &Neighbours, theirs: &Neighbours) -> f64 {
    let total: f64 = ours
        .iter()
        .zip(theirs)
        .map(|(mine, reference)| recall_at_k(mine, reference, K))
        .sum();
    total / theirs.len().max(1) as f64
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<34} {:>14} {:>14} {:>18}",
        "", "ours", "sqlite-vec", "ours / sqlite-vec"
    );
    for row in rows {
        let (theirs, ratio) = match row.theirs {
            Some(theirs) => (format!("{theirs:.0}"), format!("{:.2}", row.ours / theirs)),
            None => ("-".to_string(), "-".to_string()),
        };
        println!(
            "{:<34} {:>14} {:>14} {:>18}   {}",
            row.what,
            format!("{:.0}", row.ours),
            theirs,
            ratio,
            row.unit
        );
    }
}
