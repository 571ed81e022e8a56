//! The same searches without the service: the baseline a service's latency is judged against.
//!
//! A search through HTTP pays for more than the search: the request's JSON, a hop through the
//! async runtime to a reader thread, the answer's JSON, the socket both ways. To see what that
//! costs, each worker here opens its own handle on the file, preloaded as a reader of the
//! service is, and runs the very searches the load tester would send, with the same
//! concurrency, on the same machine. The ratio of the two P99s is the service's overhead under
//! that load.

use std::path::Path;

use crate::engine::{Collection, SearchParams};
use crate::error::Result;
use crate::serve_client::client::{Query, SearchOptions, SearchOutcome};
use crate::serve_client::load::Searcher;

/// A preloaded handle on the collection, searching as the service's readers do.
pub struct InProcess {
    collection: Collection,
    index: Option<String>,
    params: SearchParams,
}

impl InProcess {
    /// Opens the collection at `db` and preloads its vectors and the index `options` names.
    ///
    /// # Errors
    ///
    /// The collection cannot be opened or preloaded.
    pub fn open(db: &Path, options: &SearchOptions) -> Result<Self> {
        let mut collection = Collection::open_existing(db)?;
        let index = match &options.index {
            Some(name) => Some(name.clone()),
            None => collection.default_index()?,
        };
        collection.preload(None)?;
        if let Some(name) = &index {
            collection.preload(Some(name))?;
        }
        let mut params = SearchParams::k(options.k);
        params.n_probes = options.nprobe;
        params.ef = options.ef;
        Ok(InProcess {
            collection,
            index,
            params,
        })
    }
}

impl Searcher for InProcess {
    fn search(&mut self, query: &Query) -> Result<SearchOutcome> {
        let found = match query {
            Query::Vector { vector } => {
                self.collection
                    .search(self.index.as_deref(), vector, &self.params)
            }
            Query::Id { id } => match self.collection.get(*id)? {
                Some(vector) => {
                    self.collection
                        .search(self.index.as_deref(), &vector, &self.params)
                }
                None => return Ok(SearchOutcome::Failed),
            },
        };
        Ok(match found {
            Ok(_) => SearchOutcome::Answered { cached: false },
            Err(_) => SearchOutcome::Failed,
        })
    }
}
