//! The graph as an index of a collection: built, searched, kept up to date, kept in the file.
//!
//! Opening a collection reads only the graph's entry row. The graph itself is read on first
//! use, a search or an insert, and then stays in memory, kept in step with every write of this
//! handle: an insert links its new nodes in memory and writes back only the rows it changed. A
//! graph is always searched in memory, whatever the scan mode: a walk hops from node to node in
//! an order no one can predict, and one B-tree lookup per hop would cost more than all the
//! distances of the search. (hnswlib and FAISS hold their graphs in memory too.)
//!
//! Deleting from a graph is harder than adding to it: a node is also a road. Other nodes'
//! lists lead through it, and cutting it out could leave a part of the graph that no walk
//! reaches. So a delete only marks the node (hnswlib's `markDelete`): searches walk through it
//! and never return it. Deleted nodes still cost hops and beam slots, so past
//! [`REBUILD_DELETED_SHARE`] of the graph the graph is built again from the live vectors, as
//! `svdb compact` does at any share. Rebuilding rather than repairing the lists that point at
//! deleted nodes (hnswlib's neighbour repair) keeps one code path, the build, whose recall
//! is measured; it costs a build, paid once per fifth of the graph deleted.

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
use crate::engine::staleness;
use crate::engine::stored_index::StoredIndex;
use crate::engine::{IdSet, IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::sqlite_store::stored_vectors::read_all_vectors;
use crate::sqlite_store::Metadata;
use crate::utils::timing::measure;
use crate::validation::check_vector;

// ANCHOR: rebuild_share
/// The share of deleted nodes past which a delete builds the graph again from the live vectors.
pub const REBUILD_DELETED_SHARE: f64 = 0.2;
// ANCHOR_END: rebuild_share

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

    /// How many nodes stand for deleted vectors (the graph is read if it is not yet).
    ///
    /// # Errors
    ///
    /// A damaged graph.
    pub fn deleted_nodes(&self, connection: &Connection) -> Result<usize> {
        Ok(self.graph(connection)?.deleted_count())
    }

    // ANCHOR: rebuild_from_live
    /// Builds the graph again on the collection's vectors, leaving out `leaving` (vectors
    /// being deleted in this transaction) and every deleted node, inside a write transaction.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn rebuild_from_live(&mut self, connection: &Connection, leaving: &[i64]) -> Result<()> {
        let leaving: std::collections::HashSet<i64> = leaving.iter().copied().collect();
        let (ids, vectors) = read_all_vectors(connection, &self.collection)?;
        let (ids, vectors): (Vec<i64>, Vec<Vec<f32>>) = ids
            .into_iter()
            .zip(vectors)
            .filter(|(id, _)| !leaving.contains(id))
            .unzip();
        let collection = Metadata {
            metric: self.record.metric,
            ..self.collection.clone()
        };
        let tables = GraphTables::new(&self.record.name);
        let hnsw = if ids.is_empty() {
            // Nothing left to link: an empty graph, which the build refuses to make.
            let dimension = self.collection.dimension.unwrap_or(0);
            let empty = Hnsw::new(self.settings, self.record.metric, dimension);
            tables.drop(connection)?;
            tables.create(connection)?;
            tables.write(connection, &empty, std::iter::empty())?;
            empty
        } else {
            let rebuilt = HnswIndex::build(
                connection,
                &self.record.name,
                &self.settings,
                &collection,
                (&ids, &vectors),
            )?;
            rebuilt
                .memory
                .into_inner()
                .ok_or_else(|| Error::BadIndexRecord {
                    index: self.record.name.clone(),
                    reason: "a graph built and not kept".to_string(),
                })?
        };
        self.summary = Summary::of(hnsw.graph());
        self.memory = OnceCell::new();
        let _ = self.memory.set(hnsw);
        staleness::record_training(connection, &self.record.name, ids.len())
    }
    // ANCHOR_END: rebuild_from_live

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
        free_ids_held_by_deleted_nodes(hnsw, ids, &mut changed)?;
        for (&id, vector) in ids.iter().zip(vectors) {
            hnsw.insert(id, vector, &mut changed);
        }
        GraphTables::new(&self.record.name).write(connection, hnsw, changed)?;
        self.summary = Summary::of(hnsw.graph());
        Ok(())
    }
    // ANCHOR_END: hnsw_add

    // ANCHOR: hnsw_remove
    fn remove(&mut self, connection: &Connection, ids: &[i64]) -> Result<()> {
        self.graph(connection)?;
        let Some(hnsw) = self.memory.get_mut() else {
            return Ok(()); // just loaded, so present
        };
        let node_of: std::collections::HashMap<i64, u32> = (0u32..)
            .zip(hnsw.ids().iter().copied())
            .filter(|&(node, _)| !hnsw.is_deleted(node))
            .map(|(node, id)| (id, node))
            .collect();
        let marked: Vec<u32> = ids
            .iter()
            .filter_map(|id| node_of.get(id).copied())
            .collect();
        let floor = hnsw.smallest_id();
        for (below, &node) in (1i64..).zip(&marked) {
            hnsw.mark_deleted(node, placeholder(floor, below)?);
        }
        let share = hnsw.deleted_count() as f64 / hnsw.len().max(1) as f64;
        if share > REBUILD_DELETED_SHARE {
            log::info!(
                "index {}: {:.0} % of the graph deleted, building it again",
                self.record.name,
                100.0 * share
            );
            return self.rebuild_from_live(connection, ids);
        }
        GraphTables::new(&self.record.name).write_deleted(connection, hnsw, &marked)?;
        self.summary = Summary::of(hnsw.graph());
        Ok(())
    }
    // ANCHOR_END: hnsw_remove

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

    // ANCHOR: hnsw_compact
    fn compact(&mut self, connection: &Connection) -> Result<()> {
        if self.deleted_nodes(connection)? == 0 {
            return Ok(());
        }
        self.rebuild_from_live(connection, &[])
    }
    // ANCHOR_END: hnsw_compact

    fn deleted_entries(&self, connection: &Connection) -> Result<usize> {
        // Counted in the file, not in the graph: `svdb info` must not need a readable graph.
        GraphTables::new(&self.record.name).count_deleted(connection)
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

/// The placeholder `below` under `floor`, an id no node holds, for a node being deleted.
fn placeholder(floor: i64, below: i64) -> Result<i64> {
    floor
        .checked_sub(below)
        .ok_or_else(|| Error::InvalidParameter {
            name: "ids",
            reason: "ids reach down to i64::MIN: no id is left free for a deleted graph node"
                .to_string(),
        })
}

/// Gives a new placeholder to every deleted node whose placeholder is one of the `ids` about
/// to be inserted, so that each id stays unique in the nodes table.
fn free_ids_held_by_deleted_nodes(
    hnsw: &mut Hnsw,
    ids: &[i64],
    changed: &mut BTreeSet<u32>,
) -> Result<()> {
    if hnsw.deleted_count() == 0 {
        return Ok(());
    }
    let incoming: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let holding: Vec<u32> = (0u32..)
        .zip(hnsw.ids())
        .filter(|&(node, id)| hnsw.is_deleted(node) && incoming.contains(id))
        .map(|(node, _)| node)
        .collect();
    // Below every id held and every id coming: free now, and after the insert.
    let floor = incoming
        .iter()
        .copied()
        .min()
        .map_or(hnsw.smallest_id(), |lowest| lowest.min(hnsw.smallest_id()));
    for (below, node) in (1i64..).zip(holding) {
        hnsw.mark_deleted(node, placeholder(floor, below)?);
        changed.insert(node);
    }
    Ok(())
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
pub(crate) fn settings_from_record(record: &IndexRecord) -> Result<HnswSettings> {
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
