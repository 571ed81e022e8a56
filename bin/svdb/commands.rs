//! The subcommands of `svdb`: each checks everything in `prepare`, then works in `run`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use simple_vector_db::datasets::attributes_csv::load_attributes;
use simple_vector_db::datasets::digits;
use simple_vector_db::datasets::npy;
use simple_vector_db::engine::check::{check_file, Problem};
use simple_vector_db::engine::collection::{Exported, Strategy};
use simple_vector_db::engine::indexes::Selection;
use simple_vector_db::engine::neighbour::ids_of;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::{
    Collection, HnswSettings, IndexSpec, IvfPqSettings, IvfSettings, Neighbour, PqSettings,
    SearchParams,
};
use simple_vector_db::evaluation::cli::parse_positive;
use simple_vector_db::filter::sql::to_sql;
use simple_vector_db::filter::{parse as parse_filter, AttributeType, Filter, Value};
use simple_vector_db::sqlite_store::attributes::Attributes;
use simple_vector_db::sqlite_store::{Layout, StoreKind};
use simple_vector_db::utils::timing::measure;
use simple_vector_db::validation::check_batch;
use simple_vector_db::{Error, Metric, Result};

use crate::backup::{BackupArgs, PreparedBackup};
use crate::bench_serve::{BenchServeArgs, PreparedBenchServe};
use crate::eval::{EvalArgs, PreparedEval};
use simple_vector_db::utils::output::print_json;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stores the vectors of a .npy file in a collection (created if the file does not exist).
    Load(LoadArgs),
    /// Builds (or rebuilds) an index on the collection.
    Index(IndexArgs),
    /// Lists the indexes of a collection.
    Indexes(DbArgs),
    /// Searches the collection for the nearest neighbours of each query of a .npy file.
    Search(SearchArgs),
    /// Measures an index on a data set: recall@k, speed, build time, size.
    Eval(Box<EvalArgs>),
    /// Shows what a collection holds: dimension, metric, count, indexes, file size.
    Info(DbArgs),
    /// Deletes vectors by id (with their attributes and index entries), all or nothing: ids the
    /// collection does not hold refuse the whole batch.
    Delete(DeleteArgs),
    /// Stores vectors under the given ids, replacing those already stored under them.
    Upsert(UpsertArgs),
    /// Rewrites what deletes left behind (a graph is built again on the live vectors), then
    /// VACUUMs the file; prints its size before and after.
    Compact(DbArgs),
    /// Trains an index again on the vectors stored now, with the settings it was built with;
    /// other processes search the old index until the new one commits.
    Retrain(RetrainArgs),
    /// Adds another collection's vectors (with their ids and attributes) to a collection and
    /// its indexes, all or nothing; ids both hold are refused unless --renumber.
    Merge(MergeArgs),
    /// Checks a file: SQLite's integrity check, then every table against the others. Exits with
    /// 1 when a problem is found.
    Check(DbArgs),
    /// Serves the collection over HTTP: search, insert, delete, metrics, a page (see
    /// `simple_vector_db::serve`).
    #[cfg(feature = "serve")]
    Serve(crate::serve::ServeArgs),
    /// Copies the file while it is in use, consistently (SQLite's online backup), to --to FILE
    /// or into --dir DIR keeping the newest --keep backups.
    Backup(BackupArgs),
    /// Load-tests a running `svdb serve` on this machine: throughput and latency percentiles
    /// at each concurrency level.
    BenchServe(Box<BenchServeArgs>),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The collection's SQLite file.
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The collection's SQLite file (created if missing).
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The vectors: a 2-D float32 or float64 .npy file, one vector per row.
    #[arg(long, value_name = "X.npy", required_unless_present = "digits")]
    vectors: Option<PathBuf>,
    /// Instead of --vectors and --attributes: the 1,797 handwritten digits shipped with the
    /// crate (64 values from 0 to 16, an 8×8 picture each), their digit as the `label` attribute.
    #[arg(long, conflicts_with_all = ["vectors", "attributes"])]
    digits: bool,
    /// Their ids: a 1-D int64 .npy file, one per row. Without it, row i gets id i, counting on
    /// from the largest id already stored.
    #[arg(long, value_name = "IDS.npy")]
    ids: Option<PathBuf>,
    /// The vectors' attributes: a CSV file with a header row naming the columns, then one row
    /// per vector, in the order of the vectors (for `svdb search --filter`).
    #[arg(long, value_name = "A.csv")]
    attributes: Option<PathBuf>,
    /// How searches rank (stored in the file; indexes follow a change or refuse it).
    #[arg(long)]
    metric: Option<Metric>,
    /// How a new collection lays vectors out: chunks (many per BLOB, fast) or rows (one per
    /// row, as in chapters 4 to 8). An existing file keeps its own.
    #[arg(long, value_enum, default_value_t = Layout::Chunks)]
    layout: Layout,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The collection's SQLite file.
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The ids to delete, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "ids_file",
        conflicts_with = "ids_file"
    )]
    ids: Vec<i64>,
    /// The ids to delete: a 1-D int64 .npy file.
    #[arg(long, value_name = "IDS.npy")]
    ids_file: Option<PathBuf>,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// The collection's SQLite file.
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The index to train again (`svdb indexes` lists them).
    #[arg(long, value_name = "NAME")]
    index: String,
    /// Train from this k-means seed instead of the one it was built with.
    #[arg(long)]
    seed: Option<u64>,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The collection that receives the vectors.
    #[arg(long, value_name = "A.db")]
    into: PathBuf,
    /// The collection whose vectors are added (left unchanged).
    #[arg(value_name = "B.db")]
    from: PathBuf,
    /// Give the added vectors fresh ids, after the largest one stored, instead of their own.
    #[arg(long)]
    renumber: bool,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct UpsertArgs {
    /// The collection's SQLite file.
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The vectors: a 2-D float32 or float64 .npy file, one vector per row.
    #[arg(long, value_name = "X.npy")]
    vectors: PathBuf,
    /// Their ids: a 1-D int64 .npy file, one per row.
    #[arg(long, value_name = "IDS.npy")]
    ids: PathBuf,
    /// The vectors' attributes: a CSV file, one row per vector.
    #[arg(long, value_name = "A.csv")]
    attributes: Option<PathBuf>,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The collection's SQLite file.
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The name of the index (default: its kind, `ivf`, `pq`, `hnsw` or `ivfpq`).
    #[arg(long)]
    name: Option<String>,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    kind: IndexKindArgs,
}

#[derive(Debug, Subcommand)]
pub enum IndexKindArgs {
    /// An inverted file: k-means cells.
    Ivf {
        /// How many cells.
        #[arg(long, value_parser = parse_positive)]
        nlist: usize,
        /// Seed of k-means.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// A graph of neighbours in layers (HNSW).
    Hnsw {
        /// Neighbours per node on the upper layers; layer 0 keeps 2·M. At least 2.
        #[arg(long, default_value_t = 32)]
        m: usize,
        /// The beam width of the search each insertion makes; at least M.
        #[arg(long, default_value_t = 40)]
        ef_construction: usize,
        /// The search beam width when a search does not give one (--ef).
        #[arg(long, default_value_t = 16)]
        ef_search: usize,
        /// How neighbours are chosen: the paper's heuristic, or the M closest.
        #[arg(long, value_enum, default_value_t = Selection::Heuristic)]
        selection: Selection,
        /// Seed of the levels.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Product quantization: m bytes per vector.
    Pq {
        /// Sub-vectors per vector (bytes per code); must divide the dimension.
        #[arg(long, value_parser = parse_positive)]
        m: usize,
        /// Bits per sub-vector code, 1 to 8 (2^nbits centroids per sub-space).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=8))]
        nbits: u32,
        /// Seed of k-means.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// IVF-PQ: k-means cells whose lists hold m-byte codes of each vector's residual.
    #[command(name = "ivfpq")]
    IvfPq {
        /// How many cells.
        #[arg(long, value_parser = parse_positive)]
        nlist: usize,
        /// Sub-vectors per residual (bytes per code); must divide the dimension.
        #[arg(long, value_parser = parse_positive)]
        m: usize,
        /// Bits per sub-vector code, 1 to 8 (2^nbits centroids per sub-space).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=8))]
        nbits: u32,
        /// Seed of both k-means (the cells and the residual quantizer).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The collection's SQLite file.
    #[arg(long, value_name = "F.db")]
    db: PathBuf,
    /// The queries: a 2-D float32 or float64 .npy file of the collection's dimension.
    #[arg(long, value_name = "Q.npy")]
    queries: PathBuf,
    /// Neighbours per query.
    #[arg(long, default_value_t = 10, value_parser = parse_positive)]
    k: usize,
    /// The index to search through (`flat`: brute force). Without it: the collection's only
    /// index, brute force when it has none.
    #[arg(long)]
    index: Option<String>,
    /// Inverted file and IVF-PQ: how many cells to read (default 1).
    #[arg(long, value_parser = parse_positive)]
    nprobe: Option<usize>,
    /// Graph: the search beam width (at least k; default: the index's ef_search).
    #[arg(long, value_parser = parse_positive)]
    ef: Option<usize>,
    /// Only vectors whose attributes pass this filter, such as "price < 100 AND color = 'red'"
    /// (operators = != < <= > >=, IN (...), AND, OR, NOT, parentheses).
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    /// How a filtered search works: auto (the planner picks from how many pass), pre (filter
    /// in SQLite, then score those exactly), post (search the index for 10 × k, keep those that
    /// pass), iterative (post with 2, 4, 8… × k until k pass) or in-index (the index skips the
    /// others as it searches).
    #[arg(long, value_enum, default_value_t = Strategy::Auto, requires = "filter")]
    strategy: Strategy,
    /// Print the plan of the filtered search (strategy, how many vectors pass, why) instead of
    /// searching.
    #[arg(long, requires = "filter")]
    explain: bool,
    /// Product quantization and IVF-PQ: re-score this many best candidates with the exact
    /// vectors.
    #[arg(long, value_parser = parse_positive)]
    rerank: Option<usize>,
    /// Also write the ids as an int64 .npy of shape (queries, k), -1 where fewer than k were found.
    #[arg(long, value_name = "IDS.npy")]
    output: Option<PathBuf>,
    /// Where searches read from: streamed (SQLite at every query) or preloaded (loaded into
    /// memory once, before the first query).
    #[arg(long, value_enum, default_value_t = ScanMode::Streamed)]
    mode: ScanMode,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// A command whose arguments and inputs have all been checked.
pub enum Prepared {
    Load(
        LoadArgs,
        Collection,
        Vec<Vec<f32>>,
        Option<Vec<i64>>,
        Option<Attributes>,
    ),
    Index(IndexArgs, Collection),
    Indexes(DbArgs, Collection),
    Search(
        SearchArgs,
        Collection,
        Vec<Vec<f32>>,
        Option<String>,
        Option<Filter>,
    ),
    Eval(Box<PreparedEval>),
    Info(DbArgs, Collection),
    Delete(DeleteArgs, Collection, Vec<i64>),
    Upsert(
        UpsertArgs,
        Collection,
        Vec<Vec<f32>>,
        Vec<i64>,
        Option<Attributes>,
    ),
    Compact(DbArgs, Collection),
    Retrain(RetrainArgs, Collection),
    Merge(MergeArgs, Collection, Metric, Exported),
    Check(DbArgs),
    #[cfg(feature = "serve")]
    Serve(crate::serve::PreparedServe),
    Backup(PreparedBackup),
    BenchServe(Box<PreparedBenchServe>),
}

impl Command {
    /// Checks every argument and reads every input, before any work.
    ///
    /// # Errors
    ///
    /// The first problem found, naming the file or the argument.
    pub fn prepare(self) -> Result<Prepared> {
        match self {
            Command::Load(args) => prepare_load(args),
            Command::Index(args) => prepare_index(args),
            Command::Indexes(args) => {
                let collection = Collection::open_existing(&args.db)?;
                Ok(Prepared::Indexes(args, collection))
            }
            Command::Search(args) => prepare_search(args),
            Command::Eval(args) => Ok(Prepared::Eval(Box::new(args.prepare()?))),
            Command::Info(args) => {
                let collection = Collection::open_existing(&args.db)?;
                Ok(Prepared::Info(args, collection))
            }
            Command::Delete(args) => prepare_delete(args),
            Command::Merge(args) => prepare_merge(args),
            Command::Upsert(args) => prepare_upsert(args),
            Command::Compact(args) => {
                let collection = Collection::open_existing(&args.db)?;
                Ok(Prepared::Compact(args, collection))
            }
            Command::Retrain(args) => {
                let collection = Collection::open_existing(&args.db)?;
                if !collection.has_index(&args.index)? {
                    return Err(Error::NoSuchIndex {
                        name: args.index.clone(),
                        available: collection.indexes()?.into_iter().map(|i| i.name).collect(),
                    });
                }
                Ok(Prepared::Retrain(args, collection))
            }
            Command::Check(args) => {
                if !args.db.is_file() {
                    return Err(Error::NoSuchDatabase {
                        path: args.db.display().to_string(),
                    });
                }
                Ok(Prepared::Check(args))
            }
            #[cfg(feature = "serve")]
            Command::Serve(args) => Ok(Prepared::Serve(args.prepare()?)),
            Command::Backup(args) => Ok(Prepared::Backup(args.prepare()?)),
            Command::BenchServe(args) => Ok(Prepared::BenchServe(Box::new(args.prepare()?))),
        }
    }
}

impl Prepared {
    /// Does the work.
    ///
    /// # Errors
    ///
    /// A storage, training or search error.
    pub fn run(self) -> Result<()> {
        match self {
            Prepared::Load(args, collection, vectors, ids, attributes) => {
                run_load(&args, collection, &vectors, ids, attributes.as_ref())
            }
            Prepared::Index(args, collection) => run_index(&args, collection),
            Prepared::Indexes(args, collection) => run_indexes(&args, &collection),
            Prepared::Search(args, mut collection, queries, index, filter) => {
                if args.mode == ScanMode::Preloaded {
                    collection.preload(index.as_deref())?;
                    if args.rerank.is_some_and(|depth| depth > 0) && index.is_some() {
                        collection.preload(None)?; // the vectors re-ranking reads
                    }
                }
                run_search(
                    &args,
                    &collection,
                    &queries,
                    index.as_deref(),
                    filter.as_ref(),
                )
            }
            Prepared::Eval(prepared) => prepared.run(),
            Prepared::Info(args, collection) => run_info(&args, &collection),
            Prepared::Delete(args, collection, ids) => run_delete(&args, collection, &ids),
            Prepared::Merge(args, collection, metric, exported) => {
                run_merge(&args, collection, metric, exported)
            }
            Prepared::Upsert(args, collection, vectors, ids, attributes) => {
                run_upsert(&args, collection, &vectors, &ids, attributes.as_ref())
            }
            Prepared::Compact(args, collection) => run_compact(&args, collection),
            Prepared::Retrain(args, collection) => run_retrain(&args, collection),
            Prepared::Check(args) => run_check(&args),
            #[cfg(feature = "serve")]
            Prepared::Serve(prepared) => prepared.run(),
            Prepared::Backup(prepared) => prepared.run(),
            Prepared::BenchServe(prepared) => prepared.run(),
        }
    }
}

fn prepare_load(args: LoadArgs) -> Result<Prepared> {
    let (vectors, labels) = match &args.vectors {
        Some(path) => (npy::load_vectors(path)?, None),
        None => {
            let set = digits::load()?;
            let labels = Attributes {
                columns: vec![("label".to_string(), AttributeType::Integer)],
                rows: set
                    .labels
                    .iter()
                    .map(|&label| vec![Some(Value::Integer(i64::from(label)))])
                    .collect(),
            };
            (set.vectors, Some(labels))
        }
    };
    let ids = args.ids.as_deref().map(npy::load_ids).transpose()?;
    if let Some(ids) = &ids {
        if ids.len() != vectors.len() {
            return Err(Error::IdCountMismatch {
                ids: ids.len(),
                vectors: vectors.len(),
            });
        }
    }
    let collection = Collection::open_with_layout(&args.db, args.layout)?;
    if collection.kind() != StoreKind::Vectors {
        return Err(Error::NoRawVectors {
            path: args.db.display().to_string(),
        });
    }
    check_batch(&vectors, collection.dimension())?;
    let attributes = match labels {
        Some(labels) => Some(labels),
        None => args
            .attributes
            .as_deref()
            .map(load_attributes)
            .transpose()?,
    };
    if let (Some(path), Some(attributes)) = (&args.attributes, &attributes) {
        if attributes.rows.len() != vectors.len() {
            return Err(Error::BadData {
                path: path.display().to_string(),
                reason: format!(
                    "{} rows of attributes for {} vectors",
                    attributes.rows.len(),
                    vectors.len()
                ),
            });
        }
        let stored = collection.attribute_schema()?;
        if !stored.is_empty() && stored != attributes.columns {
            return Err(Error::AttributeSchemaMismatch {
                stored: describe_schema(&stored),
                given: describe_schema(&attributes.columns),
            });
        }
    }
    Ok(Prepared::Load(args, collection, vectors, ids, attributes))
}

#[derive(Serialize)]
struct Loaded {
    db: String,
    loaded: usize,
    first_id: Option<i64>,
    last_id: Option<i64>,
    count: usize,
    metric: String,
}

fn run_load(
    args: &LoadArgs,
    mut collection: Collection,
    vectors: &[Vec<f32>],
    ids: Option<Vec<i64>>,
    attributes: Option<&Attributes>,
) -> Result<()> {
    if let Some(metric) = args.metric {
        collection.set_metric(metric)?;
    }
    let (stored, took) = measure(|| match attributes {
        Some(attributes) => collection.insert_with_attributes(vectors, ids.as_deref(), attributes),
        None => collection.insert(vectors, ids.as_deref()),
    });
    let stored = stored?;
    log::info!(
        "stored {} vectors in {:.2} s",
        stored.len(),
        took.as_secs_f64()
    );
    let loaded = Loaded {
        db: args.db.display().to_string(),
        loaded: stored.len(),
        first_id: stored.first().copied(),
        last_id: stored.last().copied(),
        count: collection.len()?,
        metric: collection.metric().to_string(),
    };
    if args.json {
        return print_json(&loaded);
    }
    match (loaded.first_id, loaded.last_id) {
        (Some(first), Some(last)) => say!(
            "loaded {} vectors into {} (ids {first} to {last}); it holds {} ({} metric)",
            loaded.loaded,
            loaded.db,
            loaded.count,
            loaded.metric
        ),
        _ => say!(
            "loaded nothing into {}; it holds {}",
            loaded.db,
            loaded.count
        ),
    }
    Ok(())
}

fn prepare_index(args: IndexArgs) -> Result<Prepared> {
    let collection = Collection::open_existing(&args.db)?;
    let n_vectors = collection.len()?;
    match args.kind {
        IndexKindArgs::Ivf { nlist, .. } if nlist > n_vectors => {
            return Err(Error::InvalidClusterCount {
                n_clusters: nlist,
                n_vectors,
            })
        }
        IndexKindArgs::Pq { m, nbits, .. } => {
            let dimension = collection.dimension().unwrap_or(0);
            if dimension % m != 0 {
                return Err(Error::ChunksDoNotDivide {
                    dimension,
                    m_chunks: m,
                });
            }
            if collection.metric() != Metric::Euclidean {
                return Err(Error::MetricNotSupported {
                    index: args.name.clone().unwrap_or_else(|| "pq".to_string()),
                    metric: collection.metric(),
                });
            }
            let needed = 1usize << nbits;
            if n_vectors < needed {
                return Err(Error::TooFewTrainingVectors {
                    found: n_vectors,
                    needed,
                });
            }
        }
        IndexKindArgs::Hnsw {
            m,
            ef_construction,
            ef_search,
            selection,
            seed,
        } => {
            hnsw_settings(m, ef_construction, ef_search, selection, seed).check()?;
            if n_vectors == 0 {
                return Err(Error::EmptyCollection {
                    index: args.name.clone().unwrap_or_else(|| "hnsw".to_string()),
                });
            }
        }
        IndexKindArgs::IvfPq {
            nlist,
            m,
            nbits,
            seed,
        } => {
            if collection.metric() != Metric::Euclidean {
                return Err(Error::MetricNotSupported {
                    index: args.name.clone().unwrap_or_else(|| "ivfpq".to_string()),
                    metric: collection.metric(),
                });
            }
            let dimension = collection.dimension().unwrap_or(0);
            ivfpq_settings(nlist, m, nbits, seed).check(n_vectors, dimension)?;
        }
        IndexKindArgs::Ivf { .. } => {}
    }
    if let Some(name) = &args.name {
        simple_vector_db::engine::catalog::check_index_name(name)?;
    }
    Ok(Prepared::Index(args, collection))
}

#[derive(Serialize)]
struct Built {
    name: String,
    label: String,
    build_s: f64,
}

fn run_index(args: &IndexArgs, mut collection: Collection) -> Result<()> {
    let (default_name, spec) = match args.kind {
        IndexKindArgs::Ivf { nlist, seed } => {
            let settings = IvfSettings::new(nlist);
            let settings = seed.map_or(settings, |seed| settings.with_seed(seed));
            ("ivf", IndexSpec::Ivf(settings))
        }
        IndexKindArgs::Hnsw {
            m,
            ef_construction,
            ef_search,
            selection,
            seed,
        } => (
            "hnsw",
            IndexSpec::Hnsw(hnsw_settings(
                m,
                ef_construction,
                ef_search,
                selection,
                seed,
            )),
        ),
        IndexKindArgs::Pq { m, nbits, seed } => {
            let settings = PqSettings::from_bits(m, nbits)?;
            let settings = seed.map_or(settings, |seed| settings.with_seed(seed));
            ("pq", IndexSpec::Pq(settings))
        }
        IndexKindArgs::IvfPq {
            nlist,
            m,
            nbits,
            seed,
        } => (
            "ivfpq",
            IndexSpec::IvfPq(ivfpq_settings(nlist, m, nbits, seed)),
        ),
    };
    let name = args.name.as_deref().unwrap_or(default_name);
    let (built, took) = measure(|| collection.create_index(name, &spec));
    built?;
    let label = collection
        .index_info(name)?
        .map_or_else(|| name.to_string(), |i| i.label);
    let built = Built {
        name: name.to_string(),
        label,
        build_s: took.as_secs_f64(),
    };
    if args.json {
        return print_json(&built);
    }
    say!(
        "built index {}: {} in {:.2} s",
        built.name,
        built.label,
        built.build_s
    );
    Ok(())
}

#[derive(Serialize)]
struct Explained {
    strategy: &'static str,
    matching: usize,
    total: usize,
    selectivity: f64,
    reason: String,
}

/// `svdb search --explain`: the plan, and what it rests on.
fn explain(
    args: &SearchArgs,
    collection: &Collection,
    index: Option<&str>,
    filter: &Filter,
) -> Result<()> {
    let plan = collection.explain_filter(index, args.k, filter, args.strategy)?;
    let explained = Explained {
        strategy: plan.strategy.as_str(),
        matching: plan.matching,
        total: plan.total,
        selectivity: plan.selectivity(),
        reason: plan.explanation(),
    };
    if args.json {
        return print_json(&explained);
    }
    say!("strategy: {}", explained.strategy);
    say!(
        "estimate: {} of {} vectors pass ({:.4} %), {:.4} % filtered out",
        explained.matching,
        explained.total,
        explained.selectivity * 100.0,
        (1.0 - explained.selectivity) * 100.0
    );
    say!("because: {}", explained.reason);
    Ok(())
}

/// A schema as `name type, ...`, for errors.
fn describe_schema(schema: &[(String, simple_vector_db::filter::AttributeType)]) -> String {
    schema
        .iter()
        .map(|(name, kind)| format!("{name} {kind}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The settings of `svdb index ivfpq`.
fn ivfpq_settings(nlist: usize, m: usize, nbits: u32, seed: Option<u64>) -> IvfPqSettings {
    let settings = IvfPqSettings::new(nlist, m, nbits);
    seed.map_or(settings, |seed| settings.with_seed(seed))
}

/// The graph settings of `svdb index hnsw`.
fn hnsw_settings(
    m: usize,
    ef_construction: usize,
    ef_search: usize,
    selection: Selection,
    seed: Option<u64>,
) -> HnswSettings {
    let settings = HnswSettings {
        ef_search,
        ..HnswSettings::new(m, ef_construction).with_selection(selection)
    };
    seed.map_or(settings, |seed| settings.with_seed(seed))
}

fn run_indexes(args: &DbArgs, collection: &Collection) -> Result<()> {
    let indexes = collection.indexes()?;
    if args.json {
        return print_json(&indexes);
    }
    say!("name\tkind\tlabel\tmetric\tbytes_per_vector\tup_to_date\tsettings");
    for index in indexes {
        say!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            index.name,
            index.kind,
            index.label,
            index.metric,
            index.bytes_per_vector,
            index.up_to_date,
            index.settings
        );
    }
    Ok(())
}

fn prepare_search(args: SearchArgs) -> Result<Prepared> {
    let collection = Collection::open_existing(&args.db)?;
    let queries = npy::load_vectors(&args.queries)?;
    let dimension = collection
        .dimension()
        .ok_or_else(|| Error::InvalidParameter {
            name: "db",
            reason: format!("{} holds no vector yet", args.db.display()),
        })?;
    check_batch(&queries, Some(dimension)).map_err(|e| Error::BadData {
        path: args.queries.display().to_string(),
        reason: e.to_string(),
    })?;
    let index = match args.index.as_deref() {
        Some("flat") => None,
        Some(name) => {
            if !collection.has_index(name)? {
                return Err(Error::NoSuchIndex {
                    name: name.to_string(),
                    available: collection.indexes()?.into_iter().map(|i| i.name).collect(),
                });
            }
            Some(name.to_string())
        }
        None => collection.default_index()?,
    };
    if let Some(nprobe) = args.nprobe {
        let cells = index
            .as_deref()
            .map(|name| collection.centroids(name))
            .transpose()?
            .flatten()
            .ok_or_else(|| Error::InvalidParameter {
                name: "nprobe",
                reason: format!(
                    "it applies to an inverted file, and the search uses {}",
                    index.as_deref().unwrap_or("brute force")
                ),
            })?
            .len();
        if nprobe > cells {
            return Err(Error::InvalidProbeCount {
                n_probes: nprobe,
                n_clusters: cells,
            });
        }
    }
    if let Some(ef) = args.ef {
        let graph = index
            .as_deref()
            .map(|name| collection.index_kind(name))
            .transpose()?
            == Some(simple_vector_db::engine::IndexKind::Hnsw);
        if !graph {
            return Err(Error::InvalidParameter {
                name: "ef",
                reason: format!(
                    "it applies to a graph index, and the search uses {}",
                    index.as_deref().unwrap_or("brute force")
                ),
            });
        }
        if ef < args.k {
            return Err(Error::EfBelowK { ef, k: args.k });
        }
    }
    let filter = match &args.filter {
        Some(text) => {
            let filter = parse_filter(text)?;
            to_sql(&filter, &collection.attribute_schema()?)?; // its columns and types, now
            Some(filter)
        }
        None => None,
    };
    Ok(Prepared::Search(args, collection, queries, index, filter))
}

fn run_search(
    args: &SearchArgs,
    collection: &Collection,
    queries: &[Vec<f32>],
    index: Option<&str>,
    filter: Option<&Filter>,
) -> Result<()> {
    if let (true, Some(filter)) = (args.explain, filter) {
        return explain(args, collection, index, filter);
    }
    let params = SearchParams {
        k: args.k,
        n_probes: args.nprobe,
        ef: args.ef,
        rerank: args.rerank,
    };
    let found = queries
        .iter()
        .map(|query| match filter {
            None => collection.search(index, query, &params),
            Some(filter) => {
                let found = collection.search_filtered(index, query, &params, filter, args.strategy)?;
                if !found.complete {
                    log::warn!(
                        "a {}-filtered search found {} of the {} results asked for: use --strategy pre",
                        found.plan.strategy.as_str(),
                        found.neighbours.len(),
                        params.k
                    );
                }
                Ok(found.neighbours)
            }
        })
        .collect::<Result<Vec<Vec<Neighbour>>>>()?;
    log::info!(
        "{} queries answered through {}",
        queries.len(),
        index.unwrap_or("brute force")
    );
    if let Some(path) = &args.output {
        let ids: Vec<Vec<i64>> = found.iter().map(|n| ids_of(n)).collect();
        npy::write_ids(path, &ids, args.k)?;
    }
    if args.json {
        return print_json(&found);
    }
    say!("query\trank\tid\tscore");
    for (query, neighbours) in found.iter().enumerate() {
        for (rank, n) in neighbours.iter().enumerate() {
            say!("{query}\t{rank}\t{}\t{}", n.id, n.score);
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Info {
    db: String,
    kind: &'static str,
    layout: &'static str,
    dimension: Option<usize>,
    metric: String,
    count: usize,
    generation: i64,
    file_bytes: u64,
    indexes: Vec<simple_vector_db::engine::IndexInfo>,
    /// Per index, the entries it keeps for deleted vectors (a graph's deleted nodes), which
    /// `svdb compact` removes.
    deleted_entries: std::collections::BTreeMap<String, usize>,
}

fn run_info(args: &DbArgs, collection: &Collection) -> Result<()> {
    // The write-ahead log holds commits not yet copied into the file: count it too.
    let file_bytes = [
        args.db.clone(),
        PathBuf::from(format!("{}-wal", args.db.display())),
    ]
    .iter()
    .filter_map(|p| std::fs::metadata(p).ok())
    .map(|m| m.len())
    .sum();
    let info = Info {
        db: args.db.display().to_string(),
        kind: collection.kind().as_str(),
        layout: collection.layout().as_str(),
        dimension: collection.dimension(),
        metric: collection.metric().to_string(),
        count: collection.len()?,
        generation: collection.generation()?,
        file_bytes,
        indexes: collection.indexes()?,
        deleted_entries: collection.deleted_entries()?.into_iter().collect(),
    };
    if args.json {
        return print_json(&info);
    }
    say!("db: {}", info.db);
    say!("kind: {}", info.kind);
    say!("layout: {}", info.layout);
    say!(
        "dimension: {}",
        info.dimension
            .map_or_else(|| "none yet".to_string(), |d| d.to_string())
    );
    say!("metric: {}", info.metric);
    say!("count: {}", info.count);
    say!("generation: {}", info.generation);
    say!("file_bytes: {}", info.file_bytes);
    if info.indexes.is_empty() {
        say!("indexes: none");
    }
    for index in &info.indexes {
        say!(
            "index: {} {} ({} metric, {} bytes per vector{})",
            index.name,
            index.label,
            index.metric,
            index.bytes_per_vector,
            if index.up_to_date {
                ""
            } else {
                ", STALE: rebuild it"
            }
        );
        if let Some(staleness) = index.staleness {
            say!(
                "index {}: trained on {} vectors; since then +{} added, -{} removed ({:.1} % changed)",
                index.name,
                staleness.trained_on,
                staleness.added,
                staleness.removed,
                100.0 * staleness.changed_share()
            );
        }
        let deleted = info.deleted_entries.get(&index.name).copied().unwrap_or(0);
        if deleted > 0 {
            say!(
                "index {}: {deleted} deleted vectors still kept (svdb compact removes them)",
                index.name
            );
        }
    }
    Ok(())
}

/// Opens both files and checks, before any write, what would refuse the merge: the metric,
/// the dimension and, unless renumbering, ids both hold.
fn prepare_merge(args: MergeArgs) -> Result<Prepared> {
    let into = Collection::open_existing(&args.into)?;
    let from = Collection::open_existing(&args.from)?;
    into.check_mergeable(from.metric(), from.dimension())?;
    let exported = from.export()?;
    if !args.renumber {
        let missing: std::collections::HashSet<i64> =
            into.missing_ids(&exported.0)?.into_iter().collect();
        if let Some(&taken) = exported.0.iter().find(|id| !missing.contains(id)) {
            return Err(Error::DuplicateId(taken));
        }
    }
    let metric = from.metric();
    Ok(Prepared::Merge(args, into, metric, exported))
}

#[derive(Serialize)]
struct MergeReport {
    into: String,
    from: String,
    added: usize,
    renumbered: bool,
    count: usize,
}

fn run_merge(
    args: &MergeArgs,
    mut collection: Collection,
    metric: Metric,
    exported: Exported,
) -> Result<()> {
    let merged = collection.merge_exported(metric, exported, args.renumber)?;
    let report = MergeReport {
        into: args.into.display().to_string(),
        from: args.from.display().to_string(),
        added: merged.added,
        renumbered: merged.renumbered,
        count: collection.len()?,
    };
    if args.json {
        return print_json(&report);
    }
    say!(
        "merged {} vectors from {} into {}{} ({} stored)",
        report.added,
        report.from,
        report.into,
        if report.renumbered {
            ", renumbered"
        } else {
            ""
        },
        report.count
    );
    Ok(())
}

fn prepare_delete(args: DeleteArgs) -> Result<Prepared> {
    let ids = match &args.ids_file {
        Some(path) => npy::load_ids(path)?,
        None => args.ids.clone(),
    };
    let collection = Collection::open_existing(&args.db)?;
    // Checked here too, so that unknown ids are a mistake (exit 2); the delete checks again
    // under the write lock.
    let missing = collection.missing_ids(&ids)?;
    if !missing.is_empty() {
        return Err(Error::UnknownIds {
            count: missing.len(),
            first: missing
                .into_iter()
                .take(simple_vector_db::engine::collection::UNKNOWN_IDS_NAMED)
                .collect(),
        });
    }
    Ok(Prepared::Delete(args, collection, ids))
}

#[derive(Serialize)]
struct Deleted {
    db: String,
    deleted: usize,
    count: usize,
}

fn run_delete(args: &DeleteArgs, mut collection: Collection, ids: &[i64]) -> Result<()> {
    let deleted = collection.delete(ids)?;
    let report = Deleted {
        db: args.db.display().to_string(),
        deleted,
        count: collection.len()?,
    };
    if args.json {
        return print_json(&report);
    }
    say!("deleted {} vectors ({} left)", report.deleted, report.count);
    Ok(())
}

fn prepare_upsert(args: UpsertArgs) -> Result<Prepared> {
    let vectors = npy::load_vectors(&args.vectors)?;
    let ids = npy::load_ids(&args.ids)?;
    if ids.len() != vectors.len() {
        return Err(Error::IdCountMismatch {
            ids: ids.len(),
            vectors: vectors.len(),
        });
    }
    let collection = Collection::open_existing(&args.db)?;
    check_batch(&vectors, collection.dimension())?;
    let attributes = args
        .attributes
        .as_deref()
        .map(load_attributes)
        .transpose()?;
    Ok(Prepared::Upsert(args, collection, vectors, ids, attributes))
}

#[derive(Serialize)]
struct Upserted {
    db: String,
    replaced: usize,
    inserted: usize,
    count: usize,
}

fn run_upsert(
    args: &UpsertArgs,
    mut collection: Collection,
    vectors: &[Vec<f32>],
    ids: &[i64],
    attributes: Option<&Attributes>,
) -> Result<()> {
    let replaced = collection.upsert(vectors, ids, attributes)?;
    let report = Upserted {
        db: args.db.display().to_string(),
        replaced,
        inserted: ids.len() - replaced,
        count: collection.len()?,
    };
    if args.json {
        return print_json(&report);
    }
    say!(
        "replaced {} vectors, inserted {} ({} stored)",
        report.replaced,
        report.inserted,
        report.count
    );
    Ok(())
}

#[derive(Serialize)]
struct Compacted {
    db: String,
    bytes_before: u64,
    bytes_after: u64,
    reclaimed: u64,
}

fn run_compact(args: &DbArgs, mut collection: Collection) -> Result<()> {
    let (before, after) = collection.compact()?;
    let report = Compacted {
        db: args.db.display().to_string(),
        bytes_before: before,
        bytes_after: after,
        reclaimed: before.saturating_sub(after),
    };
    if args.json {
        return print_json(&report);
    }
    say!("bytes before: {}", report.bytes_before);
    say!("bytes after: {}", report.bytes_after);
    say!("reclaimed: {}", report.reclaimed);
    Ok(())
}

fn run_retrain(args: &RetrainArgs, mut collection: Collection) -> Result<()> {
    let retrained = collection.retrain_index(&args.index, args.seed)?;
    if args.json {
        return print_json(&retrained);
    }
    let was = retrained.before.map_or_else(
        || "not recorded".to_string(),
        |before| {
            format!(
                "{} vectors, +{} -{} since",
                before.trained_on, before.added, before.removed
            )
        },
    );
    say!(
        "retrained {} on {} vectors in {:.2} s (was trained on {was})",
        retrained.name,
        retrained.vectors,
        retrained.seconds
    );
    Ok(())
}

#[derive(Serialize)]
struct Checked {
    db: String,
    ok: bool,
    problems: Vec<Problem>,
}

fn run_check(args: &DbArgs) -> Result<()> {
    let problems = check_file(&args.db)?;
    let checked = Checked {
        db: args.db.display().to_string(),
        ok: problems.is_empty(),
        problems,
    };
    if args.json {
        print_json(&checked)?;
    } else if checked.ok {
        say!("{}: ok", checked.db);
    } else {
        for problem in &checked.problems {
            say!("problem: {problem}");
        }
    }
    if checked.ok {
        Ok(())
    } else {
        Err(Error::CheckFailed {
            path: checked.db,
            problems: checked.problems.len(),
        })
    }
}
