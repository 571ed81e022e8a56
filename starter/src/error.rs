//! One error type for the whole crate.
//!
//! Every mistake a user or a file can make (a vector of the wrong size, a NaN, k = 0, a corrupt
//! database, …) ends up here as a variant that says what went wrong, so callers can match on it and
//! binaries can print it. Nothing a user controls is allowed to panic.

use std::path::PathBuf;

use crate::distances::Metric;

/// Everything that can go wrong in `simple_vector_db`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- Bad vectors and queries -------------------------------------------------------------
    /// A vector or query does not have the dimension of the database.
    #[error("dimension mismatch: expected {expected} values, got {found}")]
    DimensionMismatch { expected: usize, found: usize },

    /// A vector holds NaN or an infinity, which no distance can rank.
    #[error("vector holds a non-finite value ({value}) at position {position}")]
    NonFiniteValue { position: usize, value: f32 },

    /// A vector with no values at all.
    #[error("empty vector: a vector needs at least one value")]
    EmptyVector,

    /// `k = 0` asks for nothing; we treat it as a caller mistake rather than return `[]`.
    #[error("k must be at least 1")]
    ZeroK,

    /// A metric name we do not know.
    #[error("unknown metric {0:?}: expected \"cosine\" or \"euclidean\"")]
    UnknownMetric(String),
    // --- Storage -----------------------------------------------------------------------------
    /// An error reported by SQLite itself.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// A file could not be read or written.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A stored vector BLOB whose byte length does not match the expected dimension.
    #[error("corrupt vector BLOB: {len} bytes, expected {expected} (dimension x 4)")]
    BlobLength { len: usize, expected: usize },

    /// The database file could not be opened or created at all.
    #[error("cannot open database {path}: {reason}")]
    CannotOpen { path: String, reason: String },

    /// The file is a database, but not one that this crate wrote (or it was damaged).
    #[error("{path} is not a simple_vector_db database: {reason}")]
    NotOurDatabase { path: String, reason: String },

    /// The file was written with a schema version this build does not read.
    #[error("{path}: unsupported schema version {found} (this build reads versions {oldest} to {supported}; rebuild the file from its vectors)")]
    UnsupportedSchemaVersion {
        path: String,
        found: i64,
        /// The oldest version this build reads.
        oldest: i64,
        /// The version this build writes, the newest it reads.
        supported: i64,
    },

    /// Opening an existing database, and there is no file there.
    #[error("no database at {path}")]
    NoSuchDatabase { path: String },

    /// The collection keeps only codes, so it has no raw vector to return or to index.
    #[error("{path} keeps only product-quantization codes, not the raw vectors")]
    NoRawVectors { path: String },

    /// An id that is already taken; the whole batch was rolled back.
    #[error("duplicate id {0}: the batch was not inserted")]
    DuplicateId(i64),

    /// The caller gave ids, but not one per vector.
    #[error("got {ids} ids for {vectors} vectors")]
    IdCountMismatch { ids: usize, vectors: usize },

    /// A delete named ids the collection does not hold; the whole batch was refused, nothing
    /// was deleted. `first` lists the first few of them, in the batch's order.
    #[error("{count} ids are not in the collection (first: {first:?}): nothing was deleted")]
    UnknownIds { count: usize, first: Vec<i64> },

    // --- Inverted file index (k-means) -------------------------------------------------------
    /// `n_clusters` must be between 1 and the number of vectors.
    #[error("n_clusters = {n_clusters} is out of range: must be between 1 and {n_vectors} (the number of vectors)")]
    InvalidClusterCount { n_clusters: usize, n_vectors: usize },

    /// `n_probes` must be between 1 and the number of clusters.
    #[error("n_probes = {n_probes} is out of range: must be between 1 and {n_clusters} (the number of clusters)")]
    InvalidProbeCount { n_probes: usize, n_clusters: usize },

    /// An indexed search was asked for before any index was built.
    #[error("no k-means index: call create_kmeans_index first")]
    NoIndex,

    /// linfa's k-means failed (for example on degenerate data).
    #[error("k-means training failed: {0}")]
    KMeans(String),

    // --- The engine's indexes ---------------------------------------------------------------
    /// An index kind the engine does not know.
    #[error("unknown index kind {0:?}: expected \"flat\", \"ivf\", \"pq\", \"hnsw\" or \"ivfpq\"")]
    UnknownIndexKind(String),

    /// A name that cannot name an index (and its tables).
    #[error("invalid index name {name:?}: {reason}")]
    InvalidIndexName { name: String, reason: String },

    /// A search or an operation names an index the collection does not have.
    #[error("no index named {name:?} (the collection has: {})", list_or_none(.available))]
    NoSuchIndex {
        name: String,
        available: Vec<String>,
    },

    /// No index was named and the collection has several.
    #[error("the collection has several indexes ({}): name one", .available.join(", "))]
    AmbiguousIndex { available: Vec<String> },

    /// An index that no longer reflects its collection; it must be rebuilt before use.
    #[error("index {name:?} is stale: {reason}")]
    StaleIndex { name: String, reason: String },

    /// An index that cannot rank by a metric.
    #[error("index {index:?} cannot rank by the {metric} metric (product quantization estimates euclidean distances only)")]
    MetricNotSupported { index: String, metric: Metric },

    /// Two collections to be joined rank vectors by different metrics.
    #[error("the collections rank by different metrics: {expected} here, {found} in the other")]
    MetricMismatch { expected: Metric, found: Metric },

    /// `svdb check` (or [`check_file`](crate::engine::check::check_file)) found problems.
    #[error("{path}: {problems} problem(s) found")]
    CheckFailed { path: String, problems: usize },

    /// An index's record or tables in the file do not add up.
    #[error("index {index:?} is damaged: {reason}")]
    BadIndexRecord { index: String, reason: String },

    /// An index that needs vectors to be built on, asked of a collection that has none.
    #[error("cannot build index {index:?} on an empty collection: load vectors first")]
    EmptyCollection { index: String },

    // --- Filters -------------------------------------------------------------------------------
    /// A filter's text that does not follow the grammar of [`crate::filter`].
    #[error("filter syntax error at character {position}: {reason}")]
    FilterSyntax { position: usize, reason: String },

    /// A filter names a column the collection's attributes do not have.
    #[error("filter at character {position}: no attribute {name:?} (the collection has: {})", list_or_none(.available))]
    UnknownAttribute {
        name: String,
        position: usize,
        available: Vec<String>,
    },

    /// A filter compares a column with a value of another type.
    #[error("filter at character {position}: {column} holds {expected} values, and is compared with a {found} value")]
    FilterTypeMismatch {
        column: String,
        expected: crate::filter::AttributeType,
        found: crate::filter::AttributeType,
        position: usize,
    },

    /// An attribute column name or value that cannot be stored.
    #[error("attribute {name:?}: {reason}")]
    InvalidAttribute { name: String, reason: String },

    /// A batch brings other attribute columns than the collection's.
    #[error("the collection's attributes are ({stored}); this batch has ({given})")]
    AttributeSchemaMismatch { stored: String, given: String },

    // --- Graph index (HNSW) -----------------------------------------------------------------
    /// A graph search asked for a beam narrower than the results it must return.
    #[error("ef = {ef} is below k = {k}: the beam must hold at least the k results")]
    EfBelowK { ef: usize, k: usize },

    // --- Product quantization ----------------------------------------------------------------
    /// The dimension must split into `m` equal chunks.
    #[error("dimension {dimension} is not divisible by m_chunks = {m_chunks}")]
    ChunksDoNotDivide { dimension: usize, m_chunks: usize },

    /// A code is one byte, so a sub-space has at most 256 centroids (and at least 1).
    #[error("nb_subspace_centroids = {0} is out of range: must be between 1 and 256")]
    InvalidCentroidCount(usize),

    /// `m_chunks` must be at least 1.
    #[error("m_chunks must be at least 1")]
    ZeroChunks,

    /// k-means needs at least as many training vectors as centroids.
    #[error("{found} training vectors for {needed} centroids: need at least as many vectors as centroids")]
    TooFewTrainingVectors { found: usize, needed: usize },

    /// Encoding or searching with a quantizer whose codebook is not trained yet.
    #[error("the quantizer is not trained: train its codebook first")]
    NotTrained,

    /// Retraining would silently turn every stored code into garbage (the original's bug).
    #[error("the codebook is already trained and {stored} stored codes depend on it: retraining would make them meaningless")]
    CodebookInUse { stored: usize },

    /// A PQ database reopened with other settings than it was created with.
    #[error("the PQ database was created with m_chunks = {stored_m} and {stored_k} centroids, not {m} and {k}")]
    PqSettingsMismatch {
        stored_m: usize,
        stored_k: usize,
        m: usize,
        k: usize,
    },

    /// A stored code of the wrong length.
    #[error("corrupt PQ code: {len} bytes, expected {expected} (one per chunk)")]
    CodeLength { len: usize, expected: usize },

    // --- Hostile input -----------------------------------------------------------------------
    /// A vector so long that squared distances to it could overflow `f32` (see
    /// [`crate::validation`]): its squared norm, computed in `f64`, is above the limit.
    #[error("vector too large: its squared norm {squared_norm:e} is above {limit:e} (f32::MAX / 4), past which squared distances overflow f32")]
    VectorTooLarge { squared_norm: f64, limit: f64 },

    /// Data that would take more memory than [`crate::datasets::memory_budget::MEMORY_BUDGET`],
    /// refused before anything is allocated; `what` names the request (a flag, a file).
    #[error(
        "{what} would need {} of memory, more than the budget of {}",
        crate::datasets::memory_budget::human_bytes(*.bytes),
        crate::datasets::memory_budget::human_bytes(u128::from(*.budget))
    )]
    OverMemoryBudget {
        what: String,
        bytes: u128,
        budget: u64,
    },

    /// A path that is not a regular file: a directory, a device such as `/dev/zero` (which never
    /// ends), a FIFO (which blocks until something writes to it) or a socket.
    #[error("{path} is not a regular file but a {kind}: only regular files are read")]
    NotARegularFile { path: PathBuf, kind: &'static str },

    /// A file that is not a `.npy` file, or whose header cannot be parsed.
    #[error("{path} is not a valid .npy file: {reason}")]
    NpyHeader { path: PathBuf, reason: String },

    /// A `.npy` file whose header promises another amount of data than the file holds: the
    /// file is cut short or padded, or the header lies (a 192-byte file can claim 10^15 values).
    #[error(
        "{path}: the header claims {values} values of {item_size} bytes ({}) but the file holds {} of data",
        crate::datasets::memory_budget::human_bytes(.values.saturating_mul(*.item_size as u128)),
        crate::datasets::memory_budget::human_bytes(u128::from(*.data_bytes))
    )]
    NpyDataLength {
        path: PathBuf,
        values: u128,
        item_size: usize,
        data_bytes: u64,
    },

    // --- Backups and recovery -------------------------------------------------------------------
    /// SQLite's online backup of a file failed part-way; nothing was left under the backup's name.
    #[error("backup of {db} to {dest} failed: {source}")]
    BackupFailed {
        db: PathBuf,
        dest: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A backup asked to be written over the very file it copies.
    #[error("cannot back up {db} onto itself: give another destination")]
    BackupOntoItself { db: PathBuf },

    /// A damaged file, and not one backup that passes its own check (or none at all). Nothing
    /// was moved or deleted.
    #[error("{db} is damaged and no good backup was found (tried: {})", list_paths_or_none(.tried))]
    NoGoodBackup { db: PathBuf, tried: Vec<PathBuf> },

    // --- The load tester -------------------------------------------------------------------------
    /// The load tester sends traffic to this machine only.
    #[error("{addr}: {reason}; the load tester sends requests to loopback addresses only (127.0.0.0/8, ::1, localhost)")]
    NotLoopback { addr: String, reason: String },

    /// An HTTP request that got no answer at all (refused, reset, timed out).
    #[error("HTTP request to {url} failed: {reason}")]
    Http { url: String, reason: String },

    /// An answer from the server that is not what the contract says.
    #[error("unexpected answer from {url}: {reason}")]
    BadResponse { url: String, reason: String },

    /// The server did not answer `GET /health` with 200 in time.
    #[error("{url} was not ready after {waited_ms} ms (last answer: {last})")]
    ServerNotReady {
        url: String,
        waited_ms: u128,
        last: String,
    },

    // --- Datasets and evaluation -------------------------------------------------------------
    /// A data file that cannot be parsed.
    #[error("bad data in {path}: {reason}")]
    BadData { path: String, reason: String },

    /// A parameter outside its allowed range (with the reason).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },

    /// Drawing a chart failed.
    #[error("plotting failed: {0}")]
    Plot(String),
}

/// The crate's `Result`, with [`Error`] as the error type.
pub type Result<T> = std::result::Result<T, Error>;

/// `a, b, c`, or `none`.
fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// `a, b, c` for paths, or `none`.
fn list_paths_or_none(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        "none".to_string()
    } else {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        names.join(", ")
    }
}

impl Error {
    /// Wraps an I/O error together with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
