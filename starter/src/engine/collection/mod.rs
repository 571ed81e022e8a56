//! A collection: vectors under ids in one SQLite file, and the indexes built on them.
//!
//! The collection is the source of truth: the `vectors` table holds every id and vector.
//! Indexes are derived data, each in tables of its own, listed in the `indexes` table with the
//! metric and the generation of the collection they reflect. Every write (an insert, an index
//! build, a metric change) is one transaction that keeps every index up to date and adds one
//! to the generation, so a crash leaves the file as it was before or after, never between.
//!
//! Several handles, in one process or several, may share a file. A handle caches what it reads
//! often (the dimension, the centroids, the codebooks) together with the generation it read
//! them at. Each operation runs in a transaction (a write takes SQLite's write lock first) and
//! starts by comparing that generation with the file's: if another handle has written since, the
//! cache is read again before anything is answered or written.

mod delete;
mod filtered;
mod indexes;
mod insert;
mod merge;
mod retrain;
mod search;
mod snapshot;
mod view;

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use delete::UNKNOWN_IDS_NAMED;
pub use filtered::{FilteredSearch, Strategy, POST_FILTER_EXPANSION};
pub use indexes::{IndexInfo, IndexSpec};
pub use merge::{Exported, Merged};
pub use retrain::Retrained;
pub use view::CollectionIndex;

use crate::distances::Metric;
use crate::engine::catalog::{self, IndexRecord};
use crate::engine::indexes::{BrokenIndex, HnswIndex, IvfIndex, IvfPqIndex, PqIndex, PqSettings};
use crate::engine::scan::{ScanMode, VectorMatrix};
use crate::engine::stored_index::StoredIndex;
use crate::engine::IndexKind;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::sqlite_store::{
    connection, metadata, rows, stored_vectors, Layout, Metadata, StoreKind,
};
use filtered::Matching;

// ANCHOR: collection
/// Vectors under `i64` ids in an SQLite file (or in memory), and the indexes built on them.
#[derive(Debug)]
pub struct Collection {
    connection: Connection,
    /// The file's path, to name it in errors (`:memory:` for an in-memory collection).
    path: String,
    /// What was read from the file, as of `state.metadata.generation`.
    state: RefCell<State>,
    /// Whether searches read from SQLite or from memory (this handle's choice, not the file's).
    mode: ScanMode,
}

/// The cached settings and indexes of a collection.
#[derive(Debug)]
struct State {
    metadata: Metadata,
    indexes: BTreeMap<String, Box<dyn StoredIndex>>,
    /// `false` after a failed write, whose changes to the cache were rolled back in the file.
    valid: bool,
    /// The raw vectors held in memory, loaded by the first preloaded brute-force search.
    memory: OnceCell<VectorMatrix>,
    /// The ids the last filter selected, kept until a write: searches with one filter reuse
    /// them rather than asking SQLite again for each query.
    matching: RefCell<Option<(Filter, Rc<Matching>)>>,
}

impl State {
    fn new(metadata: Metadata, indexes: BTreeMap<String, Box<dyn StoredIndex>>) -> Self {
        State {
            metadata,
            indexes,
            valid: true,
            memory: OnceCell::new(),
            matching: RefCell::new(None),
        }
    }

    /// Drops what is held in memory, after a write changed what it mirrors.
    fn forget_memory(&mut self) {
        self.memory.take();
        self.matching.get_mut().take();
        for index in self.indexes.values_mut() {
            index.forget_memory();
        }
    }
}
// ANCHOR_END: collection

/// The name a codes-only collection gives its one product-quantization index.
pub const PQ_INDEX: &str = "pq";

impl Collection {
    // ANCHOR: open
    /// Opens the collection in the file at `path`, creating a collection of raw vectors when
    /// the file does not exist or is empty.
    ///
    /// # Errors
    ///
    /// [`Error::CannotOpen`], [`Error::NotOurDatabase`] or [`Error::UnsupportedSchemaVersion`]:
    /// a file that is not ours is refused before anything is written to it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_layout(path, Layout::Rows)
    }

    /// As [`open`](Self::open), creating a new collection in `layout`; an existing file keeps
    /// the layout it was created with.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with_layout(path: impl AsRef<Path>, layout: Layout) -> Result<Self> {
        Self::open_file(
            path.as_ref(),
            Some((StoreKind::Vectors, layout)),
            &nothing_more,
        )
    }

    /// Opens the collection in an existing file; never creates one.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchDatabase`] when there is no file at `path`; otherwise as [`open`](Self::open).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_file(path.as_ref(), None, &nothing_more)
    }

    /// A new collection of raw vectors in memory, gone when dropped.
    ///
    /// # Errors
    ///
    /// An SQLite error if memory cannot be had.
    pub fn open_in_memory() -> Result<Self> {
        Self::open_in_memory_with_layout(Layout::Rows)
    }

    /// A new collection of raw vectors in memory, in `layout`.
    ///
    /// # Errors
    ///
    /// An SQLite error if memory cannot be had.
    pub fn open_in_memory_with_layout(layout: Layout) -> Result<Self> {
        Self::from_connection(
            connection::open_memory()?,
            ":memory:",
            (StoreKind::Vectors, layout),
            &nothing_more,
        )
    }
    // ANCHOR_END: open

    /// Opens (or creates) a collection that keeps only product-quantization codes, in one
    /// index named [`PQ_INDEX`]; `path = None` keeps it in memory.
    ///
    /// # Errors
    ///
    /// [`Error::PqSettingsMismatch`] when an existing file was created with other settings;
    /// [`Error::NotOurDatabase`] when it holds raw vectors; bad settings.
    pub fn open_quantized(path: Option<&Path>, settings: &PqSettings) -> Result<Self> {
        // A new file gets its schema and its one index in one transaction.
        let create_index = |connection: &Connection, metadata: &Metadata| -> Result<()> {
            let index = PqIndex::create_untrained(
                connection,
                PQ_INDEX,
                settings,
                metadata.generation,
                metadata.layout,
            )?;
            catalog::write(connection, index.record())
        };
        let collection = match path {
            Some(path) => Self::open_file(
                path,
                Some((StoreKind::ProductQuantized, Layout::Rows)),
                &create_index,
            )?,
            None => Self::from_connection(
                connection::open_memory()?,
                ":memory:",
                (StoreKind::ProductQuantized, Layout::Rows),
                &create_index,
            )?,
        };
        if collection.kind() != StoreKind::ProductQuantized {
            return Err(Error::NotOurDatabase {
                path: collection.path.clone(),
                reason: "it holds raw vectors, not product-quantized codes".to_string(),
            });
        }
        let (stored_m, stored_k) =
            collection
                .quantizer_settings()?
                .ok_or_else(|| Error::BadIndexRecord {
                    index: PQ_INDEX.to_string(),
                    reason: "a codes-only collection without its pq index".to_string(),
                })?;
        if (stored_m, stored_k) != (settings.m_chunks, settings.nb_subspace_centroids) {
            return Err(Error::PqSettingsMismatch {
                stored_m,
                stored_k,
                m: settings.m_chunks,
                k: settings.nb_subspace_centroids,
            });
        }
        Ok(collection)
    }

    // ANCHOR: open_file
    fn open_file(
        path: &Path,
        create_as: Option<(StoreKind, Layout)>,
        also_create: &dyn Fn(&Connection, &Metadata) -> Result<()>,
    ) -> Result<Self> {
        let connection = connection::open_file(path, create_as.is_some())?;
        let display = path.display().to_string();
        // Check that the file is ours (or empty) before changing anything in it.
        let metadata = metadata::load_or_create(&connection, create_as, &display, also_create)?;
        connection::enable_write_ahead_log(&connection)?;
        Self::with_metadata(connection, display, metadata)
    }
    // ANCHOR_END: open_file

    fn from_connection(
        connection: Connection,
        path: &str,
        create_as: (StoreKind, Layout),
        also_create: &dyn Fn(&Connection, &Metadata) -> Result<()>,
    ) -> Result<Self> {
        let metadata = metadata::load_or_create(&connection, Some(create_as), path, also_create)?;
        Self::with_metadata(connection, path.to_string(), metadata)
    }

    fn with_metadata(connection: Connection, path: String, metadata: Metadata) -> Result<Self> {
        let indexes = load_indexes(&connection, &metadata)?;
        Ok(Collection {
            connection,
            path,
            state: RefCell::new(State::new(metadata, indexes)),
            mode: ScanMode::Streamed,
        })
    }

    /// The file's path (`:memory:` for a collection in memory).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the collection keeps of each vector.
    pub fn kind(&self) -> StoreKind {
        self.state.borrow().metadata.kind
    }

    /// How the file lays its vectors out: one row each, or in chunks.
    pub fn layout(&self) -> Layout {
        self.state.borrow().metadata.layout
    }

    /// Whether searches read from SQLite or from memory.
    pub fn scan_mode(&self) -> ScanMode {
        self.mode
    }

    // ANCHOR: set_scan_mode
    /// Chooses where searches read vectors: from SQLite at every query ([`ScanMode::Streamed`],
    /// the default), or from memory ([`ScanMode::Preloaded`]), loaded by the first search that
    /// needs them (or by [`preload`](Self::preload)) and loaded again after any write, by this
    /// handle or another.
    ///
    /// # Errors
    ///
    /// An SQLite error from changing how the file is read.
    pub fn set_scan_mode(&mut self, mode: ScanMode) -> Result<()> {
        self.mode = mode;
        if mode == ScanMode::Streamed {
            self.state.get_mut().forget_memory();
        }
        connection::map_file(&self.connection, mode == ScanMode::Streamed)
    }
    // ANCHOR_END: set_scan_mode

    /// The dimension fixed by the first insert, if any (as of the last operation).
    pub fn dimension(&self) -> Option<usize> {
        self.state.borrow().metadata.dimension
    }

    /// The metric searches rank by (as of the last operation).
    pub fn metric(&self) -> Metric {
        self.state.borrow().metadata.metric
    }

    /// The generation of the file: how many writes it has seen.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn generation(&self) -> Result<i64> {
        self.read(|_, state| Ok(state.metadata.generation))
    }

    /// How many vectors are stored.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn len(&self) -> Result<usize> {
        self.read(|connection, _| rows::count(connection))
    }

    /// `true` when no vector is stored.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The raw vector stored under `id`, bit for bit; `None` when there is no such id.
    ///
    /// # Errors
    ///
    /// [`Error::NoRawVectors`] for a collection that keeps only codes; a corrupt row.
    pub fn get(&self, id: i64) -> Result<Option<Vec<f32>>> {
        self.read(|connection, state| {
            if state.metadata.kind != StoreKind::Vectors {
                return match rows::read_row(connection, id)? {
                    None => Ok(None),
                    Some(_) => Err(Error::NoRawVectors {
                        path: self.path.clone(),
                    }),
                };
            }
            stored_vectors::read_vector(connection, &state.metadata, id)
        })
    }

    // ANCHOR: set_metric
    /// Changes the metric, in the file as well, and brings every index along in the same
    /// transaction: an inverted file re-files its vectors; an index that cannot follow (product
    /// quantization estimates euclidean distances only) refuses, and nothing changes.
    ///
    /// # Errors
    ///
    /// [`Error::MetricNotSupported`] naming the index that cannot follow.
    pub fn set_metric(&mut self, metric: Metric) -> Result<()> {
        if self.read(|_, state| Ok(state.metadata.metric))? == metric {
            return Ok(()); // nothing to write: the generation stays
        }
        self.write(|connection, state| {
            if state.metadata.metric == metric {
                return Ok(());
            }
            for index in state.indexes.values_mut() {
                index.follow_metric(connection, metric)?;
                catalog::write(connection, index.record())?;
            }
            metadata::write_value(connection, metadata::METRIC, metric.as_str())?;
            state.metadata.metric = metric;
            Ok(())
        })
    }
    // ANCHOR_END: set_metric

    // ANCHOR: read_write
    /// Runs `f` in a read transaction, on a cache brought up to date with the file first (or in
    /// the transaction of the [`snapshot`](Self::snapshot) it is called in).
    fn read<T>(&self, f: impl FnOnce(&Connection, &State) -> Result<T>) -> Result<T> {
        if !self.connection.is_autocommit() {
            // Inside a snapshot: its transaction is the one to read in.
            self.refresh(&self.connection)?;
            return f(&self.connection, &self.state.borrow());
        }
        let transaction =
            Transaction::new_unchecked(&self.connection, TransactionBehavior::Deferred)?;
        self.refresh(&transaction)?;
        let result = f(&transaction, &self.state.borrow());
        transaction.commit()?;
        result
    }

    /// Runs `f` in a write transaction, under the write lock, on a cache brought up to date
    /// first; then moves the generation on. On any error nothing is written, and the cache is
    /// read again next time (`f` may have changed it before failing).
    fn write<T>(&mut self, f: impl FnOnce(&Connection, &mut State) -> Result<T>) -> Result<T> {
        let transaction =
            Transaction::new_unchecked(&self.connection, TransactionBehavior::Immediate)?;
        self.refresh(&transaction)?;
        let state = self.state.get_mut();
        let result = f(&transaction, state).and_then(|value| {
            let before = state.metadata.generation;
            let after = metadata::bump_generation(&transaction, &self.path)?;
            catalog::advance(&transaction, before, after)?;
            transaction.commit()?;
            state.metadata.generation = after;
            state.forget_memory();
            // The cached records move on as the file's did. Without this, the cache (current by
            // its generation, so never re-read) kept every index at `before`, and the next
            // search through any index was refused as stale.
            for index in state.indexes.values_mut() {
                let record = index.record_mut();
                if record.built_on == before {
                    record.built_on = after;
                }
            }
            Ok(value)
        });
        if result.is_err() {
            state.valid = false;
        }
        result
    }

    /// Reads the settings and indexes again when another handle (or a failed write) changed
    /// them since they were cached.
    fn refresh(&self, connection: &Connection) -> Result<()> {
        let generation = metadata::read_generation(connection, &self.path)?;
        let current = {
            let state = self.state.borrow();
            state.valid && state.metadata.generation == generation
        };
        if !current {
            let metadata = metadata::load(connection, &self.path)?;
            let indexes = load_indexes(connection, &metadata)?;
            *self.state.borrow_mut() = State::new(metadata, indexes);
        }
        Ok(())
    }
    // ANCHOR_END: read_write

    /// `(m, k)` of a codes-only collection's index, once created.
    fn quantizer_settings(&self) -> Result<Option<(usize, usize)>> {
        self.read(|_, state| {
            Ok(state.indexes.get(PQ_INDEX).and_then(|index| {
                index
                    .quantizer()
                    .map(|q| (q.m_chunks(), q.nb_subspace_centroids()))
            }))
        })
    }
}

/// What a collection of raw vectors creates beside its schema: nothing.
fn nothing_more(_: &Connection, _: &Metadata) -> Result<()> {
    Ok(())
}

/// Loads every index listed in the catalog.
fn load_indexes(
    connection: &Connection,
    metadata: &Metadata,
) -> Result<BTreeMap<String, Box<dyn StoredIndex>>> {
    catalog::read_all(connection)?
        .into_iter()
        .map(|record| {
            let name = record.name.clone();
            // Damaged index tables must not lock the collection away: it opens, and the index
            // refuses every use until it is rebuilt or dropped.
            let index = load_index(connection, record.clone(), metadata).or_else(|error| {
                if matches!(
                    error,
                    Error::Sqlite(_) | Error::BadIndexRecord { .. } | Error::BlobLength { .. }
                ) {
                    log::warn!("index {name} is damaged: {error}");
                    Ok(Box::new(BrokenIndex::new(record, &error)) as Box<dyn StoredIndex>)
                } else {
                    Err(error)
                }
            })?;
            Ok((name, index))
        })
        .collect()
}

fn load_index(
    connection: &Connection,
    record: IndexRecord,
    metadata: &Metadata,
) -> Result<Box<dyn StoredIndex>> {
    Ok(match record.kind {
        IndexKind::Ivf => {
            let dimension = metadata.dimension.ok_or_else(|| Error::BadIndexRecord {
                index: record.name.clone(),
                reason: "the collection has no dimension yet".to_string(),
            })?;
            Box::new(IvfIndex::load(
                connection,
                record,
                dimension,
                metadata.layout,
            )?)
        }
        IndexKind::Pq => Box::new(PqIndex::load(
            connection,
            record,
            metadata.dimension,
            metadata.layout,
        )?),
        IndexKind::Hnsw => Box::new(HnswIndex::load(connection, record, metadata)?),
        IndexKind::IvfPq => Box::new(IvfPqIndex::load(connection, record, metadata)?),
        IndexKind::Flat => {
            return Err(Error::BadIndexRecord {
                index: record.name,
                reason: "flat is not a stored index".to_string(),
            })
        }
    })
}
