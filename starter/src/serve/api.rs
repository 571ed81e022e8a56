//! The service's requests and answers, as the JSON a client sends and reads.
//!
//! Each request type lists its fields ([`Fields::FIELDS`]) so that a field the service does not
//! know (a typo such as `"nprobes"`) is refused by name rather than silently ignored: a client
//! that asks for a knob should learn that the knob does not exist. Optional fields are
//! `Option`s; their defaults are applied in [`validate`](super::validate), where every check is.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::filter::Value;
use crate::sqlite_store::attributes::Attributes;

/// The fields a request body may hold.
pub trait Fields {
    /// Every field name the request knows, as the client spells them.
    const FIELDS: &'static [&'static str];
}

// ANCHOR: search_request
/// `POST /search`: a query vector, or the id of a stored one, and the search's knobs.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchRequest {
    pub vector: Option<Vec<f32>>,
    pub id: Option<i64>,
    pub k: Option<usize>,
    pub index: Option<String>,
    pub nprobe: Option<usize>,
    pub ef: Option<usize>,
    pub rerank: Option<usize>,
    pub filter: Option<String>,
    pub strategy: Option<String>,
}
// ANCHOR_END: search_request

impl Fields for SearchRequest {
    const FIELDS: &'static [&'static str] = &[
        "vector", "id", "k", "index", "nprobe", "ef", "rerank", "filter", "strategy",
    ];
}

/// One neighbour in an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: i64,
    pub score: f32,
    /// The vector's attributes, `null` when the collection has none.
    pub attributes: Option<Map<String, Json>>,
}

/// The answer to `POST /search`.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub results: Vec<Hit>,
    /// The index that answered (`flat` for brute force).
    pub index: String,
    pub took_ms: f64,
    /// `true` when the answer came from the cache of recent answers.
    pub cached: bool,
}

/// `POST /vectors`: vectors to store, with their ids and attributes if the client has them.
#[derive(Debug, Clone, Deserialize)]
pub struct StoreRequest {
    pub vectors: Vec<Vec<f32>>,
    pub ids: Option<Vec<i64>>,
    pub attributes: Option<Vec<Map<String, Json>>>,
    #[serde(default)]
    pub upsert: bool,
}

impl Fields for StoreRequest {
    const FIELDS: &'static [&'static str] = &["vectors", "ids", "attributes", "upsert"];
}

/// The answer to `POST /vectors`, sent once the write is committed.
#[derive(Debug, Clone, Serialize)]
pub struct StoreResponse {
    pub stored: usize,
    pub ids: Vec<i64>,
    /// The file's generation after the write.
    pub generation: i64,
}

/// `DELETE /vectors`: the ids to delete, all or nothing.
#[derive(Debug, Clone, Deserialize)]
pub struct DeleteRequest {
    pub ids: Vec<i64>,
}

impl Fields for DeleteRequest {
    const FIELDS: &'static [&'static str] = &["ids"];
}

/// The answer to `DELETE /vectors`.
#[derive(Debug, Clone, Serialize)]
pub struct DeleteResponse {
    pub deleted: usize,
}

/// The answer to `GET /vectors/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct VectorResponse {
    pub id: i64,
    pub vector: Vec<f32>,
    pub attributes: Option<Map<String, Json>>,
}

/// What `GET /info` says of one index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexSummary {
    pub name: String,
    pub kind: String,
    pub label: String,
    pub up_to_date: bool,
    pub bytes_per_vector: usize,
}

/// The answer to `GET /info`.
#[derive(Debug, Clone, Serialize)]
pub struct InfoResponse {
    pub dimension: Option<usize>,
    pub metric: String,
    pub count: usize,
    pub generation: i64,
    pub indexes: Vec<IndexSummary>,
    /// The index a search uses when it names none (`flat`), `null` when there are several.
    pub default_index: Option<String>,
    /// How many reader threads answer searches.
    pub readers: usize,
}

/// The answer to `GET /health`.
#[derive(Debug, Clone, Serialize)]
pub struct HealthResponse {
    /// `loading` until the collection is in memory, then `ok`.
    pub status: &'static str,
}

/// The attributes of one vector as a JSON object, `null` for a column it has no value in.
pub fn attributes_to_json(attributes: &Attributes, row: usize) -> Option<Map<String, Json>> {
    let values = attributes.rows.get(row)?;
    Some(
        attributes
            .columns
            .iter()
            .zip(values)
            .map(|((name, _), value)| (name.clone(), value_to_json(value.as_ref())))
            .collect(),
    )
}

/// An attribute value as JSON (a real that JSON cannot hold, which SQLite never returns, is
/// `null`).
fn value_to_json(value: Option<&Value>) -> Json {
    match value {
        None => Json::Null,
        Some(Value::Integer(i)) => Json::from(*i),
        Some(Value::Real(r)) => serde_json::Number::from_f64(*r).map_or(Json::Null, Json::Number),
        Some(Value::Text(t)) => Json::from(t.as_str()),
    }
}
