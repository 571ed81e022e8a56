//! Filtered search: the k nearest among the vectors whose attributes pass a filter.
//!
//! SQLite decides which vectors pass (through the index on a column, when the filter is a
//! range on one); the strategies differ in how that set meets the nearest-neighbour search:
//!
//! - **pre-filter** ([`Strategy::Pre`]): score exactly the vectors that pass. Always right, and
//!   cheap when few pass; when most pass it is a brute-force search.
//! - **post-filter** ([`Strategy::Post`]): ask the index for `k × 10`, keep those that pass.
//!   Fast when most pass; when few do, fewer than k survive, and the search says so
//!   ([`FilteredSearch::complete`]).
//! - **iterative** ([`Strategy::Iterative`]): the post-filter again and again, asking for twice
//!   as many each time, until k pass (or, the index run dry, an exact scan finishes).
//! - **in-index** ([`Strategy::InIndex`]): the index skips the vectors that fail as it goes (an
//!   inverted file in its cells, reading more cells if its probes hold fewer than k; a graph
//!   walking through them without returning them).
//! - **auto** ([`Strategy::Auto`], the default): a planner that counts how many pass and picks
//!   ([`plan`]): a post-filter sized from that count when many pass, in between the inverted
//!   file's own filtered search or, for a graph, the iterative post-filter, and the exact
//!   pre-filter when very few pass.
//!
//! Whatever the strategy, a result never fails its filter: every id returned is in the set
//! SQLite selected.

use std::rc::Rc;

use rusqlite::Connection;

use super::search::memory_of;
use super::{Collection, State};
use crate::engine::scan::{Lookup, ScanMode};
use crate::engine::{IdSet, IndexKind, Neighbour, SearchParams};
use crate::error::{Error, Result};
use crate::filter::sql::to_sql;
use crate::filter::Filter;
use crate::sqlite_store::attributes::{matching_ids, read_schema, Schema};
use crate::sqlite_store::chunks::CHUNK_CAPACITY;
use crate::sqlite_store::stored_vectors::{for_each_vector, read_vector};
use crate::sqlite_store::{rows, Layout, StoreKind};
use crate::top_k::TopK;
use crate::validation::check_vector;

// ANCHOR: strategy
/// How a filtered search combines the filter and the nearest-neighbour search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Strategy {
    /// The planner chooses, from how many vectors pass.
    #[default]
    Auto,
    /// Filter first, in SQLite, then score exactly the vectors that pass.
    Pre,
    /// Search for `k × 10` first, then keep those that pass.
    Post,
    /// Post-filter with twice as many candidates each round, until k pass.
    Iterative,
    /// The index skips the vectors that fail as it searches.
    InIndex,
}
// ANCHOR_END: strategy

impl Strategy {
    /// The name used on the command line and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Pre => "pre",
            Strategy::Post => "post",
            Strategy::Iterative => "iterative",
            Strategy::InIndex => "in-index",
        }
    }
}

/// How many times k a post-filtered search asks the index for.
pub const POST_FILTER_EXPANSION: usize = 10;

/// Above this share of vectors filtered out, the planner scans the matching ones exactly
/// (Milvus switches at about the same point): an index searched for so few would wander far
/// for each result, and the exact scan of a few hundred or thousand vectors is cheap.
pub const EXACT_BELOW_SELECTIVITY: f64 = 0.01;

/// From this share of vectors passing up, the planner post-filters: among `3 / share × k`
/// nearest, about `3 × k` pass, enough for the best k to be among them most of the time, and
/// such a search costs what an unfiltered one of that size costs. Below it, the index skips
/// the failing vectors itself.
pub const POST_FROM_SELECTIVITY: f64 = 0.2;

/// The same threshold for a graph, whose post-filters stay cheap much lower: a beam of
/// `3 / share × k` costs less than a walk among few allowed nodes (measured in chapter 14).
pub const GRAPH_POST_FROM_SELECTIVITY: f64 = 0.05;

/// A binary search for an id in memory costs about this many checks of the filter's set in a
/// scan of every row.
const SEARCH_COST: usize = 16;

/// The vectors a filter selected, of how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// In id order.
    pub ids: Vec<i64>,
    pub set: IdSet,
    /// How many vectors the collection held when they were selected.
    pub total: usize,
}

// ANCHOR: plan
/// Below which share passing the planner scans the matching vectors exactly. In memory, a
/// graph's exact threshold is where its post-filter takes over: between the two, the exact
/// scan of a few thousand vectors looked up by id beats both the graph's filtered walk and its
/// widening post-filters (chapter 14). Read from the file, the scan costs more, and the
/// general threshold holds.
fn exact_below(kind: Option<IndexKind>, mode: ScanMode) -> f64 {
    match (kind, mode) {
        (Some(IndexKind::Hnsw), ScanMode::Preloaded) => GRAPH_POST_FROM_SELECTIVITY,
        _ => EXACT_BELOW_SELECTIVITY,
    }
}

/// What the planner decided, and on what grounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The strategy run (never [`Strategy::Auto`]).
    pub strategy: Strategy,
    /// How many vectors pass, and how many there are.
    pub matching: usize,
    pub total: usize,
    /// For a post-filter: how many times k candidates to ask the index for.
    pub expansion: usize,
    /// Why this strategy ([`explanation`](Self::explanation) says it in words).
    pub reason: Reason,
}

/// The ground on which the planner chose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// No index: only the exact scan.
    NoIndex,
    /// Fewer pass than this share (or k or fewer): the exact scan is cheaper.
    FewPass { below: f64 },
    /// Enough pass for a post-filter of `expansion × k` to hold about 3 × k of them.
    ManyPass,
    /// In between, for an index whose own filtered search is slower than widening post-filters.
    Widening,
    /// In between, for an index that skips the failing vectors faster itself.
    OwnSearch,
    /// The caller chose the strategy.
    Asked,
}

impl Plan {
    /// The share of vectors that pass.
    pub fn selectivity(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.matching as f64 / self.total as f64
        }
    }

    /// Why this strategy, in a few words (for `--explain`: written only when asked, so that a
    /// search pays no formatting).
    pub fn explanation(&self) -> String {
        let share = self.selectivity() * 100.0;
        match self.reason {
            Reason::NoIndex => "no index: scan the matching vectors".to_string(),
            Reason::FewPass { below } => format!(
                "{share:.3} % pass, under {:.0} %: an exact scan of them is cheaper than any index",
                below * 100.0
            ),
            Reason::ManyPass => format!(
                "{share:.3} % pass: the index's {} × k nearest hold about 3 × k of them",
                self.expansion
            ),
            Reason::Widening => format!(
                "{share:.3} % pass: the index's nearest, 2, 4, 8, … × k at a time, until k pass"
            ),
            Reason::OwnSearch => {
                format!("{share:.3} % pass: the index skips the others as it searches")
            }
            Reason::Asked => "asked for".to_string(),
        }
    }
}

/// The strategy for a search through an index of kind `index` (`None`: brute force) asked for
/// `k` results, when `matching` of `total` vectors pass; `asked` unless it is
/// [`Strategy::Auto`]. `mode` says where an exact scan reads the vectors from.
pub fn plan(
    asked: Strategy,
    index: Option<IndexKind>,
    mode: ScanMode,
    k: usize,
    (matching, total): (usize, usize),
) -> Plan {
    let share = if total == 0 {
        0.0
    } else {
        matching as f64 / total as f64
    };
    let exact_below = exact_below(index, mode);
    let mut expansion = POST_FILTER_EXPANSION;
    let (strategy, reason) = match (asked, index) {
        (Strategy::Auto, None) => (Strategy::Pre, Reason::NoIndex),
        (Strategy::Auto, Some(_)) if matching <= k || share < exact_below => {
            (Strategy::Pre, Reason::FewPass { below: exact_below })
        }
        (Strategy::Auto, Some(kind))
            if share
                >= if kind == IndexKind::Hnsw {
                    GRAPH_POST_FROM_SELECTIVITY
                } else {
                    POST_FROM_SELECTIVITY
                } =>
        {
            expansion = (3.0 / share).ceil() as usize;
            (Strategy::Post, Reason::ManyPass)
        }
        // A graph walking among few allowed nodes expands many others before its beam fills:
        // widening post-filters find them for less than its own filtered walk when the exact
        // scan has to read the file (measured in chapter 14).
        (Strategy::Auto, Some(IndexKind::Hnsw | IndexKind::Pq)) => {
            (Strategy::Iterative, Reason::Widening)
        }
        (Strategy::Auto, Some(_)) => (Strategy::InIndex, Reason::OwnSearch),
        (asked, _) => (asked, Reason::Asked),
    };
    Plan {
        strategy,
        matching,
        total,
        expansion,
        reason,
    }
}
// ANCHOR_END: plan

/// What a filtered search found, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct FilteredSearch {
    /// The best vectors that pass, best first (at most k).
    pub neighbours: Vec<Neighbour>,
    pub plan: Plan,
    /// `false` when fewer than k were found although at least k pass: a post-filter whose
    /// candidates held too few of them.
    pub complete: bool,
}

impl Collection {
    /// The attribute columns of the collection, in order (empty before any attributes).
    ///
    /// # Errors
    ///
    /// A damaged schema table.
    pub fn attribute_schema(&self) -> Result<Schema> {
        self.read(|connection, _| read_schema(connection))
    }

    /// The ids of the vectors that pass `filter`, in id order.
    ///
    /// # Errors
    ///
    /// The filter's errors ([`Error::UnknownAttribute`], [`Error::FilterTypeMismatch`]).
    pub fn matching_ids(&self, filter: &Filter) -> Result<Vec<i64>> {
        self.read(|connection, state| Ok(matching(connection, state, filter)?.ids.clone()))
    }

    // ANCHOR: search_filtered
    /// The best `params.k` vectors for `query` among those that pass `filter`, found with
    /// `strategy` through the index `index` (`None`: brute force, always the pre-filter).
    ///
    /// # Errors
    ///
    /// The filter's errors, checked against the collection's attributes before any search;
    /// then those of [`search`](Self::search).
    pub fn search_filtered(
        &self,
        index: Option<&str>,
        query: &[f32],
        params: &SearchParams,
        filter: &Filter,
        strategy: Strategy,
    ) -> Result<FilteredSearch> {
        params.check()?;
        let index = index.filter(|name| *name != "flat");
        let (passing, plan) = self.planned(index, params.k, filter, strategy)?;
        let total = passing.total;
        let neighbours = match (plan.strategy, index) {
            (Strategy::Pre | Strategy::Auto, _) | (_, None) => {
                self.pre_filtered(query, params.k, &passing)?
            }
            (Strategy::Post, Some(name)) => {
                self.post_filtered(name, query, params, &passing, plan.expansion)?
            }
            (Strategy::Iterative, Some(name)) => {
                self.iterative(name, query, params, &passing, total)?
            }
            (Strategy::InIndex, Some(name)) => {
                match self.in_index(name, query, params, &passing)? {
                    // A graph can hold a node no walk reaches: then the exact scan answers.
                    Some(found) if found.len() >= params.k.min(passing.ids.len()) => found,
                    Some(_) => self.pre_filtered(query, params.k, &passing)?,
                    None => self.iterative(name, query, params, &passing, total)?,
                }
            }
        };
        let wanted = params.k.min(passing.ids.len());
        // The planner's post-filter promised k results, not only luck: when its candidates held
        // too few, the search goes on, iteratively, to the exact scan if need be.
        let neighbours = match index {
            Some(name) if strategy == Strategy::Auto && neighbours.len() < wanted => {
                self.iterative(name, query, params, &passing, total)?
            }
            _ => neighbours,
        };
        Ok(FilteredSearch {
            complete: neighbours.len() >= wanted,
            neighbours,
            plan,
        })
    }
    // ANCHOR_END: search_filtered

    /// What the planner would do for `filter` through `index`, without searching.
    ///
    /// # Errors
    ///
    /// The filter's errors.
    pub fn explain_filter(
        &self,
        index: Option<&str>,
        k: usize,
        filter: &Filter,
        strategy: Strategy,
    ) -> Result<Plan> {
        let index = index.filter(|name| *name != "flat");
        Ok(self.planned(index, k, filter, strategy)?.1)
    }

    /// The vectors that pass `filter`, and the plan for them, read in one transaction.
    fn planned(
        &self,
        index: Option<&str>,
        k: usize,
        filter: &Filter,
        strategy: Strategy,
    ) -> Result<(Rc<Matching>, Plan)> {
        self.read(|connection, state| {
            let passing = matching(connection, state, filter)?;
            let kind = index
                .map(|name| super::indexes::find(state, name).map(|found| found.record().kind))
                .transpose()?;
            let plan = plan(
                strategy,
                kind,
                self.mode,
                k,
                (passing.ids.len(), passing.total),
            );
            Ok((passing, plan))
        })
    }

    // ANCHOR: pre_filtered
    /// The exact best `k` among the vectors that pass: from memory in the preloaded mode,
    /// otherwise from the file; either way each looked up by id when few pass, and all the
    /// vectors scanned once (skipping the others) when more do.
    fn pre_filtered(&self, query: &[f32], k: usize, passing: &Matching) -> Result<Vec<Neighbour>> {
        self.read(|connection, state| {
            if state.metadata.kind != StoreKind::Vectors {
                return Err(Error::NoRawVectors {
                    path: self.path.clone(),
                });
            }
            let metric = state.metadata.metric;
            let mut best = TopK::new(k, metric);
            let Some(dimension) = state.metadata.dimension else {
                return Ok(Vec::new());
            };
            check_vector(query, dimension)?;
            if self.mode == ScanMode::Preloaded {
                let memory = memory_of(connection, state)?;
                // The passing vectors are looked up by id, rather than every id checked, when
                // that costs less: always for consecutive ids, for a few otherwise.
                let looked_up = match memory.lookup() {
                    Lookup::Direct => true,
                    Lookup::BinarySearch => passing.ids.len() * SEARCH_COST < memory.len(),
                    Lookup::Scan => false,
                };
                if looked_up {
                    for &id in &passing.ids {
                        if let Some(vector) = memory.vector_of(id) {
                            best.push(id, metric.score(query, vector));
                        }
                    }
                    return Ok(best.into_neighbours());
                }
                let rows = memory
                    .ids()
                    .iter()
                    .zip(memory.values().chunks_exact(dimension.max(1)));
                for (&id, vector) in rows {
                    if passing.set.contains(id) {
                        best.push(id, metric.score(query, vector));
                    }
                }
            } else if reads_by_id_are_cheaper(
                passing.ids.len(),
                passing.total,
                state.metadata.layout,
            ) {
                for &id in &passing.ids {
                    if let Some(vector) = read_vector(connection, &state.metadata, id)? {
                        best.push(id, metric.score(query, &vector));
                    }
                }
            } else {
                for_each_vector(connection, &state.metadata, |id, vector| {
                    if passing.set.contains(id) {
                        best.push(id, metric.score(query, vector));
                    }
                    Ok(())
                })?;
            }
            Ok(best.into_neighbours())
        })
    }
    // ANCHOR_END: pre_filtered

    // ANCHOR: post_filtered
    /// The index's best `k × expansion`, and of those the ones that pass, best first.
    fn post_filtered(
        &self,
        index: &str,
        query: &[f32],
        params: &SearchParams,
        passing: &Matching,
        expansion: usize,
    ) -> Result<Vec<Neighbour>> {
        let wide = params.k.saturating_mul(expansion);
        let widened = SearchParams {
            k: wide,
            // A graph's beam must hold the wider k.
            ef: params.ef.map(|ef| ef.max(wide)),
            ..params.clone()
        };
        Ok(self
            .search(Some(index), query, &widened)?
            .into_iter()
            .filter(|n| passing.set.contains(n.id))
            .take(params.k)
            .collect())
    }
    // ANCHOR_END: post_filtered

    // ANCHOR: iterative
    /// Post-filters with 2, 4, 8, … times k candidates until k pass. An index can run dry
    /// before: an inverted file returns only what its probed cells hold, however many are asked
    /// for. Then the exact scan of the matching vectors finishes the search, so that k results
    /// come back whenever k match.
    fn iterative(
        &self,
        index: &str,
        query: &[f32],
        params: &SearchParams,
        passing: &Matching,
        total: usize,
    ) -> Result<Vec<Neighbour>> {
        let wanted = params.k.min(passing.ids.len());
        let mut expansion = 2usize;
        loop {
            let found = self.post_filtered(index, query, params, passing, expansion)?;
            if found.len() >= wanted {
                return Ok(found);
            }
            if params.k.saturating_mul(expansion) >= total {
                return self.pre_filtered(query, params.k, passing);
            }
            expansion = expansion.saturating_mul(2);
        }
    }
    // ANCHOR_END: iterative

    /// The index's own filtered search, if it has one.
    fn in_index(
        &self,
        index: &str,
        query: &[f32],
        params: &SearchParams,
        passing: &Matching,
    ) -> Result<Option<Vec<Neighbour>>> {
        self.read(|connection, state| {
            let found = super::indexes::find(state, index)?;
            super::search::check_up_to_date(found, state, index)?;
            found.search_allowed(connection, query, params, &passing.set)
        })
    }
}

/// The vectors that pass `filter`, from the cache when the last filtered search asked the
/// same filter (the cache is dropped by every write): a search per query with one filter reads
/// neither the schema nor the attributes again.
fn matching(connection: &Connection, state: &State, filter: &Filter) -> Result<Rc<Matching>> {
    if let Some((cached, found)) = state.matching.borrow().as_ref() {
        if cached == filter {
            return Ok(Rc::clone(found));
        }
    }
    let sql = to_sql(filter, &read_schema(connection)?)?;
    let ids = matching_ids(connection, &sql)?;
    let found = Rc::new(Matching {
        set: IdSet::new(&ids),
        ids,
        total: rows::count(connection)?,
    });
    *state.matching.borrow_mut() = Some((filter.clone(), Rc::clone(&found)));
    Ok(found)
}

/// `true` when reading `matching` vectors one by one costs less than scanning all `count`: a
/// row is one B-tree seek, so up to a tenth of the rows; a vector in a chunk costs opening its
/// chunk's BLOB, so only a handful per chunk of the collection.
fn reads_by_id_are_cheaper(matching: usize, count: usize, layout: Layout) -> bool {
    match layout {
        Layout::Rows => matching * 10 < count,
        Layout::Chunks => matching * CHUNK_CAPACITY < count * 4,
    }
}
