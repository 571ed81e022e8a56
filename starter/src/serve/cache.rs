//! A cache of recent answers, that never serves an answer older than the file.
//!
//! Many clients ask the same question (a page shows the neighbours of the same digit, a
//! dashboard refreshes): the answer is kept, under the request written out canonically (every
//! default filled in, the filter as parsed), in a bounded LRU: once full, the answer asked for
//! least recently makes room.
//!
//! An answer is right only for the collection it was computed on, so each entry remembers the
//! file's generation (how many writes the file has seen) as of before its search. A write
//! through this service empties the cache; a write by another process (`svdb load` on the
//! same file) is caught at lookup, where the entry's generation is compared with the file's,
//! read by one small query on a connection of the cache's own. An entry stamped with a
//! generation read *before* its search can only be too old, never too new: at worst it
//! misses once more than it had to.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lru::LruCache;
use rusqlite::Connection;

use super::api::Hit;
use super::validate::{CheckedSearch, Target};
use crate::error::Result;
use crate::filter::Filter;
use crate::sqlite_store::{connection, metadata};

/// An answer as the cache keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedAnswer {
    pub results: Vec<Hit>,
    pub index: String,
    /// The file's generation when the search began.
    pub generation: i64,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Hit(CachedAnswer),
    /// Not there, or too old: search, then [`AnswerCache::store`] under this generation.
    Miss {
        generation: i64,
    },
}

/// The bounded cache of answers, and the connection it reads the file's generation on.
#[derive(Debug)]
pub struct AnswerCache {
    entries: Option<Mutex<LruCache<String, CachedAnswer>>>,
    /// Opened by the first lookup, after start-up's check (and recovery) of the file: a
    /// connection opened before a recovery would read the damaged file set aside.
    probe: Mutex<Option<Connection>>,
    path: PathBuf,
    /// The path as errors name it, written out once rather than at every lookup.
    shown: String,
}

impl AnswerCache {
    /// A cache of at most `capacity` answers for the file at `path` (0: no cache; the
    /// generation is still read, for the answers' sake).
    pub fn new(path: &Path, capacity: usize) -> Self {
        AnswerCache {
            entries: NonZeroUsize::new(capacity).map(|n| Mutex::new(LruCache::new(n))),
            probe: Mutex::new(None),
            path: path.to_path_buf(),
            shown: path.display().to_string(),
        }
    }

    /// The file's generation now: one read of the `meta` table.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn file_generation(&self) -> Result<i64> {
        let mut probe = self
            .probe
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let probe = match &mut *probe {
            Some(open) => open,
            slot @ None => slot.insert(connection::open_file(&self.path, false)?),
        };
        metadata::read_generation(probe, &self.shown)
    }

    // ANCHOR: lookup
    /// The answer kept for `key`, if it is as new as the file.
    ///
    /// # Errors
    ///
    /// A storage error reading the generation.
    pub fn lookup(&self, key: &str) -> Result<Lookup> {
        let generation = self.file_generation()?;
        let Some(entries) = &self.entries else {
            return Ok(Lookup::Miss { generation });
        };
        let mut entries = entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match entries.get(key) {
            Some(answer) if answer.generation == generation => Ok(Lookup::Hit(answer.clone())),
            Some(_) => {
                entries.pop(key); // computed on an older file: it will never be right again
                Ok(Lookup::Miss { generation })
            }
            None => Ok(Lookup::Miss { generation }),
        }
    }
    // ANCHOR_END: lookup

    /// Keeps `answer` under `key`.
    pub fn store(&self, key: String, answer: CachedAnswer) {
        if let Some(entries) = &self.entries {
            let mut entries = entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            entries.put(key, answer);
        }
    }

    /// Forgets every answer: the collection changed.
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            let mut entries = entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            entries.clear();
        }
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |entries| {
            entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .len()
        })
    }

    /// `true` when no answer is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ANCHOR: cache_key
/// The request written out canonically: two requests that ask the same question (with or
/// without the default `k`, with the filter spaced differently) get one key.
pub fn key_of(search: &CheckedSearch) -> String {
    let target = match &search.target {
        // f32's Debug writes the shortest text that reads back as the same number: exact.
        Target::Vector(vector) => format!("vector={vector:?}"),
        Target::Id(id) => format!("id={id}"),
    };
    let filter = search
        .filter
        .as_ref()
        .map_or_else(|| "none".to_string(), canonical_filter);
    format!(
        "{target} index={:?} params={:?} filter={filter} strategy={}",
        search.index,
        search.params,
        search.strategy.as_str()
    )
}
// ANCHOR_END: cache_key

/// A filter written out with every operand in brackets and without the positions its text had,
/// so that `label=3` and `label = 3` are one question.
fn canonical_filter(filter: &Filter) -> String {
    match filter {
        Filter::Compare {
            column, op, value, ..
        } => format!("({column} {} {value:?})", op.as_sql()),
        Filter::In {
            column,
            values,
            negated,
            ..
        } => format!(
            "({column} {}IN {values:?})",
            if *negated { "NOT " } else { "" }
        ),
        Filter::And(left, right) => {
            format!(
                "({} AND {})",
                canonical_filter(left),
                canonical_filter(right)
            )
        }
        Filter::Or(left, right) => {
            format!(
                "({} OR {})",
                canonical_filter(left),
                canonical_filter(right)
            )
        }
        Filter::Not(inner) => format!("(NOT {})", canonical_filter(inner)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::api::SearchRequest;
    use crate::serve::validate::check_search;

    fn request(k: Option<usize>, filter: Option<&str>) -> SearchRequest {
        SearchRequest {
            vector: Some(vec![1.0, 0.5]),
            id: None,
            k,
            index: None,
            nprobe: None,
            ef: None,
            rerank: None,
            filter: filter.map(str::to_string),
            strategy: None,
        }
    }

    fn key(request: SearchRequest) -> String {
        key_of(&check_search(request).expect("a good request"))
    }

    #[test]
    fn one_question_asked_two_ways_has_one_key() {
        assert_eq!(key(request(None, None)), key(request(Some(10), None)));
        assert_eq!(
            key(request(None, Some("label = 3"))),
            key(request(None, Some("  label=3 ")))
        );
    }

    #[test]
    fn different_questions_have_different_keys() {
        assert_ne!(key(request(Some(5), None)), key(request(Some(6), None)));
        assert_ne!(
            key(request(None, Some("label = 3"))),
            key(request(None, Some("label = 4")))
        );
        let mut by_id = request(None, None);
        by_id.vector = None;
        by_id.id = Some(1);
        assert_ne!(key(by_id), key(request(None, None)));
    }

    #[test]
    fn an_answer_older_than_the_file_misses_and_is_dropped() {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        let path = dir.path().join("c.db");
        let mut collection = crate::engine::Collection::open(&path).expect("a collection");
        collection
            .insert(&[[1.0f32, 2.0]], None)
            .expect("an insert");
        let cache = AnswerCache::new(&path, 4);
        let Lookup::Miss { generation } = cache.lookup("q").expect("a lookup") else {
            panic!("an empty cache misses");
        };
        let answer = CachedAnswer {
            results: Vec::new(),
            index: "flat".to_string(),
            generation,
        };
        cache.store("q".to_string(), answer.clone());
        assert_eq!(cache.lookup("q").expect("a lookup"), Lookup::Hit(answer));
        collection
            .insert(&[[3.0f32, 4.0]], None)
            .expect("another write");
        assert_eq!(
            cache.lookup("q").expect("a lookup"),
            Lookup::Miss {
                generation: generation + 1
            }
        );
        assert!(cache.is_empty(), "the old answer is gone");
    }
}
