//! The graph as an index of a collection: built, searched, kept up to date, kept in the file.
//!
//! Opening a collection reads only the graph's entry row. The graph itself is read on first
//! use, a search or an insert, and then stays in memory, kept in step with every write of this
//! handle: an insert links its new nodes in memory and writes back only the rows it changed. A
//! graph is always searched in memory, whatever the scan mode: a walk hops from node to node in
//! an order no one can predict, and one B-tree lookup per hop would cost more than all the
//! distances of the search. (hnswlib and FAISS hold their graphs in memory too.)

use std::cell::OnceCell;
use std::collections::BTreeSet;

use rusqlite::Connection;

use super::filtered::FilteredWalk;
use super::memory::Hnsw;
use super::select::Selection;
use super::tables::{GraphTables, Summary};
use super::HnswSettings;
use crate::distances::Metric;
use crate::engine::catalog::{IndexRecord, Settings};
use crate::engine::scan::ScanMode;
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IdSet, IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::sqlite_store::stored_vectors::read_all_vectors;
use crate::sqlite_store::Metadata;
use crate::utils::timing::measure;
use crate::validation::check_vector;

/// A graph index kept in a collection's file.
#[derive(Debug)]
pub struct HnswIndex {
    record: IndexRecord,
    settings: HnswSettings,
    /// What the graph reads the collection's vectors with.
    collection: Metadata,
    /// The entry row, read at open.
    summary: Summary,
    /// The graph, read from the file on first use.
    memory: OnceCell<Hnsw>,
}

impl HnswIndex {
    // ANCHOR: build
    /// Builds the graph on `vectors` (stored under `ids`), inserting them one by one in the
    /// order given, and writes its tables, inside the caller's write transaction.
    ///
    /// # Errors
    ///
    /// Bad settings ([`HnswSettings::check`]); [`Error::EmptyCollection`]; a storage error.
    pub fn build(
        connection: &Connection,
        name: &str,
        settings: &HnswSettings,
        collection: &Metadata,
        (ids, vectors): (&[i64], &[Vec<f32>]),
    ) -> Result<Self> {
        settings.check()?;
        let Some(dimension) = collection.dimension.filter(|_| !vectors.is_empty()) else {
            return Err(Error::EmptyCollection {
                index: name.to_string(),
            });
        };
        let mut hnsw = Hnsw::new(*settings, collection.metric, dimension);
        log::info!(
            "hnsw: linking {} vectors (M = {}, ef_construction = {}, {} selection)",
            vectors.len(),
            settings.m,
            settings.ef_construction,
            settings.selection.as_str()
        );
        let ((), took) = measure(|| {
            let mut changed = BTreeSet::new();
            for (&id, vector) in ids.iter().zip(vectors) {
                hnsw.insert(id, vector, &mut changed);
                changed.clear(); // every row is written below
            }
        });
        log::info!("hnsw: graph built in {:.2} s", took.as_secs_f64());
        let tables = GraphTables::new(name);
        tables.drop(connection)?;
        tables.create(connection)?;
        tables.write(connection, &hnsw, 0..hnsw.len() as u32)?;
        let index = HnswIndex {
            record: IndexRecord {
                name: name.to_string(),
                kind: IndexKind::Hnsw,
                metric: collection.metric,
                built_on: collection.generation,
                settings: settings_record(settings),
            },
            settings: *settings,
            collection: collection.clone(),
            summary: Summary::of(hnsw.graph()),
            memory: OnceCell::new(),
        };
        let _ = index.memory.set(hnsw);
        Ok(index)
    }
    // ANCHOR_END: build

    /// The index of `record`, whose graph is read from its tables on first use.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] for missing or bad settings or entry row; an SQLite error
    /// when the tables are missing.
    pub fn load(
        connection: &Connection,
        record: IndexRecord,
        collection: &Metadata,
    ) -> Result<Self> {
        let settings = settings_from_record(&record)?;
        let summary = GraphTables::new(&record.name).read_summary(connection, &record.name)?;
        Ok(HnswIndex {
            record,
            settings,
            collection: collection.clone(),
            summary,
            memory: OnceCell::new(),
        })
    }

    /// The settings it was built with.
    pub fn settings(&self) -> HnswSettings {
        self.settings
    }

    /// The graph in memory, read from the file the first time it is needed.
    ///
    /// # Errors
    ///
    /// A damaged graph ([`GraphTables::load`]).
    pub fn graph(&self, connection: &Connection) -> Result<&Hnsw> {
        if let Some(hnsw) = self.memory.get() {
            return Ok(hnsw);
        }
        let tables = GraphTables::new(&self.record.name);
        let collection = Metadata {
            metric: self.record.metric,
            ..self.collection.clone()
        };
        let (hnsw, took) =
            measure(|| tables.load(connection, self.settings, &collection, self.summary));
        let hnsw = hnsw?;
        log::info!(
            "index {}: graph of {} nodes loaded in {:.3} s",
            self.record.name,
            hnsw.len(),
            took.as_secs_f64()
        );
        Ok(self.memory.get_or_init(|| hnsw))
    }

    /// The beam width of a search: the query's own `ef`, never below `k`, or the index's
    /// default raised to `k`.
    fn beam(&self, params: &SearchParams) -> Result<usize> {
        match params.ef {
            Some(ef) if ef < params.k => Err(Error::EfBelowK { ef, k: params.k }),
            Some(ef) => Ok(ef),
            None => Ok(self.settings.ef_search.max(params.k)),
        }
    }
}

impl StoredIndex for HnswIndex {
    fn record(&self) -> &IndexRecord {
        &self.record
    }

    fn record_mut(&mut self) -> &mut IndexRecord {
        &mut self.record
    }

    fn label(&self) -> String {
        format!(
            "hnsw(m={},ef_construction={})",
            self.settings.m, self.settings.ef_construction
        )
    }

    // ANCHOR: hnsw_add
    fn add(&mut self, connection: &Connection, ids: &[i64], vectors: &[&[f32]]) -> Result<()> {
        // The first insert into a collection fixes its dimension: the graph reads vectors of it.
        if self.collection.dimension.is_none() {
            self.collection.dimension = vectors.first().map(|v| v.len());
        }
        self.graph(connection)?;
        let Some(hnsw) = self.memory.get_mut() else {
            return Ok(()); // just loaded, so present
        };
        let mut changed = BTreeSet::new();
        for (&id, vector) in ids.iter().zip(vectors) {
            hnsw.insert(id, vector, &mut changed);
        }
        GraphTables::new(&self.record.name).write(connection, hnsw, changed)?;
        self.summary = Summary::of(hnsw.graph());
        Ok(())
    }
    // ANCHOR_END: hnsw_add

    fn search(
        &self,
        connection: &Connection,
        _collection: &Metadata,
        query: &[f32],
        params: &SearchParams,
        _mode: ScanMode,
    ) -> Result<Vec<Neighbour>> {
        params.check()?;
        let ef = self.beam(params)?;
        let dimension = self.collection.dimension.unwrap_or(0);
        check_vector(query, dimension)?;
        Ok(self.graph(connection)?.search(query, params.k, ef))
    }

    fn search_allowed(
        &self,
        connection: &Connection,
        query: &[f32],
        params: &SearchParams,
        allowed: &IdSet,
    ) -> Result<Option<Vec<Neighbour>>> {
        params.check()?;
        let ef = self.beam(params)?;
        check_vector(query, self.collection.dimension.unwrap_or(0))?;
        let graph = self.graph(connection)?;
        let walk = FilteredWalk::for_share(allowed.len(), graph.len());
        Ok(Some(
            graph.search_allowed(query, (params.k, ef), allowed, walk).0,
        ))
    }

    fn preload(&self, connection: &Connection) -> Result<()> {
        self.graph(connection).map(|_| ())
    }

    fn forget_memory(&mut self) {
        // Nothing to forget: every write of this handle updates the graph in memory as it
        // updates the tables (another handle's writes make the collection read the index again).
    }

    fn follow_metric(&mut self, connection: &Connection, metric: Metric) -> Result<()> {
        // Which nodes are neighbours depends on the metric: the graph is built again.
        let (ids, vectors) = read_all_vectors(connection, &self.collection)?;
        let collection = Metadata {
            metric,
            ..self.collection.clone()
        };
        let rebuilt = HnswIndex::build(
            connection,
            &self.record.name,
            &self.settings,
            &collection,
            (&ids, &vectors),
        )?;
        *self = HnswIndex {
            record: IndexRecord {
                built_on: self.record.built_on,
                ..rebuilt.record.clone()
            },
            ..rebuilt
        };
        Ok(())
    }

    fn drop_tables(&self, connection: &Connection) -> Result<()> {
        GraphTables::new(&self.record.name).drop(connection)
    }

    fn bytes_per_vector(&self) -> usize {
        graph_bytes_per_vector(self.settings.m, self.summary)
    }

    fn train(&mut self, _connection: &Connection, _sample: &[&[f32]]) -> Result<()> {
        Err(Error::InvalidParameter {
            name: "sample",
            reason: format!(
                "index {} is a graph: it needs no training",
                self.record.name
            ),
        })
    }
}

// ANCHOR: graph_bytes
/// Bytes the graph keeps per vector in memory, as [`Hnsw::graph_bytes_per_node`] counts them,
/// from the entry row alone: on layer 0, `1 + 2·M` slots of 4 bytes; per upper layer, `1 + M`;
/// and a level byte, an offset and an id. hnswlib lays out its lists the same way.
pub fn graph_bytes_per_vector(m: usize, summary: Summary) -> usize {
    let per_node = 4 * (1 + 2 * m) + 1 + std::mem::size_of::<usize>() + 8;
    // `(nodes · per_node + upper) / nodes`, without the product: the counts come from the
    // file's entry row, where a damaged one can hold any number.
    let upper = summary.upper_lists.saturating_mul(4 * (1 + m));
    upper
        .checked_div(summary.nodes)
        .map_or(0, |upper| per_node.saturating_add(upper))
}
// ANCHOR_END: graph_bytes

/// The settings as the `indexes` table keeps them.
fn settings_record(settings: &HnswSettings) -> Settings {
    Settings::from_pairs([
        ("m", settings.m.to_string()),
        ("ef_construction", settings.ef_construction.to_string()),
        ("ef_search", settings.ef_search.to_string()),
        ("selection", settings.selection.as_str().to_string()),
        ("seed", settings.seed.to_string()),
    ])
}

/// The settings of a stored graph index, checked.
fn settings_from_record(record: &IndexRecord) -> Result<HnswSettings> {
    let name = &record.name;
    let selection_text = record.settings.get("selection").unwrap_or_default();
    let selection = Selection::from_name(selection_text).ok_or_else(|| Error::BadIndexRecord {
        index: name.clone(),
        reason: format!("unknown neighbour selection {selection_text:?}"),
    })?;
    let settings = HnswSettings {
        m: record.settings.number("m", name)?,
        ef_construction: record.settings.number("ef_construction", name)?,
        ef_search: record.settings.number("ef_search", name)?,
        selection,
        seed: record.settings.number("seed", name)?,
    };
    settings.check().map_err(|e| Error::BadIndexRecord {
        index: name.clone(),
        reason: e.to_string(),
    })?;
    Ok(settings)
}
