//! Every check a request meets, in the order it meets them.
//!
//! A request is checked twice. First at the door, on its own: that the body is JSON of the
//! right content type and size, that it names only known fields, each of the right type, that
//! exactly one of `vector` and `id` is given, that `k` is in range, that every value is a
//! finite number, that a filter parses. Those checks need nothing but the request, so a bad
//! request is refused before it takes a place in a queue. Then, on a worker, against the
//! collection as it is in that transaction: the dimension, the index and whether the knobs
//! apply to it, the filter's columns. The collection may change between two requests (another
//! process can build an index), so those checks cannot be done once at startup.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use super::api::{DeleteRequest, Fields, SearchRequest, StoreRequest};
use super::api_error::ApiError;
use crate::engine::collection::Strategy;
use crate::engine::{Collection, IndexKind, SearchParams};
use crate::filter::sql::to_sql;
use crate::filter::{AttributeType, Filter, Value};
use crate::sqlite_store::attributes::{Attributes, Schema};
use crate::validation::{check_finite, check_magnitude};

/// `k`'s default and largest value.
pub const DEFAULT_K: usize = 10;
pub const MAX_K: usize = 1000;

/// What a search looks for: a vector given in the request, or the one stored under an id.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Vector(Vec<f32>),
    Id(i64),
}

/// A search request that passed the checks at the door, with its defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSearch {
    pub target: Target,
    /// The index named, `None` for the collection's default.
    pub index: Option<String>,
    pub params: SearchParams,
    pub filter: Option<Filter>,
    pub strategy: Strategy,
}

/// A store request that passed the checks at the door.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedStore {
    pub vectors: Vec<Vec<f32>>,
    pub ids: Option<Vec<i64>>,
    pub attributes: Option<Vec<Map<String, Json>>>,
    pub upsert: bool,
}

// ANCHOR: read_json
/// The body as a `T`: JSON, declared so, within the size limit, naming only `T`'s fields,
/// each of its type.
///
/// # Errors
///
/// `wrong_content_type` (415), `body_too_large` (413), `malformed_json`, `unknown_field`,
/// `invalid_field` (400).
pub fn read_json<T: DeserializeOwned + Fields>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    check_content_type(headers)?;
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is over the size limit: {}", rejection.body_text()),
            )
        } else {
            ApiError::bad_request("unreadable_body", rejection.body_text())
        }
    })?;
    let json: Json = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    let Json::Object(fields) = &json else {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the body must be a JSON object",
        ));
    };
    refuse_unknown_fields(fields, T::FIELDS)?;
    serde_path_to_error::deserialize(json).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad_request(
            "invalid_field",
            format!("field {field}: {}", e.into_inner()),
        )
    })
}
// ANCHOR_END: read_json

/// Refuses a body that is not declared as JSON.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = declared.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
            format!("Content-Type must be application/json, not {declared:?}"),
        ))
    }
}

/// Refuses the first field `known` does not list, naming it and the fields there are.
fn refuse_unknown_fields(fields: &Map<String, Json>, known: &[&str]) -> Result<(), ApiError> {
    match fields.keys().find(|name| !known.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(ApiError::bad_request(
            "unknown_field",
            format!(
                "unknown field {name:?}: the fields are {}",
                known.join(", ")
            ),
        )),
    }
}

// ANCHOR: check_search
/// The checks a search meets at the door, and its defaults.
///
/// # Errors
///
/// `invalid_query` (both or neither of `vector` and `id`), `k_out_of_range`,
/// `non_finite_value`, `vector_too_large`, `empty_vector`, `invalid_parameter`,
/// `filter_syntax` (400).
pub fn check_search(request: SearchRequest) -> Result<CheckedSearch, ApiError> {
    let target = match (request.vector, request.id) {
        (Some(vector), None) => {
            check_query_values(&vector)?;
            Target::Vector(vector)
        }
        (None, Some(id)) => Target::Id(id),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "give either \"vector\" or \"id\", not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "give the query as \"vector\" (numbers) or as \"id\" (a stored vector's id)",
            ))
        }
    };
    let k = request.k.unwrap_or(DEFAULT_K);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::bad_request(
            "k_out_of_range",
            format!("field k = {k} is out of range: must be between 1 and {MAX_K}"),
        ));
    }
    for (name, value) in [("nprobe", request.nprobe), ("ef", request.ef)] {
        if value == Some(0) {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("field {name} must be at least 1"),
            ));
        }
    }
    let filter = request
        .filter
        .as_deref()
        .map(crate::filter::parse)
        .transpose()?;
    let strategy = match (request.strategy.as_deref(), &filter) {
        (None, _) => Strategy::Auto,
        (Some(_), None) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "field strategy applies to a filtered search: give a \"filter\" too",
            ))
        }
        (Some(name), Some(_)) => parse_strategy(name)?,
    };
    Ok(CheckedSearch {
        target,
        index: request.index,
        params: SearchParams {
            k,
            n_probes: request.nprobe,
            ef: request.ef,
            rerank: request.rerank,
        },
        filter,
        strategy,
    })
}
// ANCHOR_END: check_search

/// A strategy by the name the command line uses.
fn parse_strategy(name: &str) -> Result<Strategy, ApiError> {
    [
        Strategy::Auto,
        Strategy::Pre,
        Strategy::Post,
        Strategy::Iterative,
        Strategy::InIndex,
    ]
    .into_iter()
    .find(|strategy| strategy.as_str() == name)
    .ok_or_else(|| {
        ApiError::bad_request(
            "invalid_parameter",
            format!("field strategy {name:?} is unknown: expected auto, pre, post, iterative or in-index"),
        )
    })
}

/// Refuses a query no distance can rank: empty, NaN or infinite (a JSON number too large for
/// an `f32`, such as `1e39`, arrives as an infinity), or so large that distances overflow.
fn check_query_values(vector: &[f32]) -> Result<(), ApiError> {
    if vector.is_empty() {
        return Err(crate::Error::EmptyVector.into());
    }
    check_finite(vector)?;
    check_magnitude(vector)?;
    Ok(())
}

// ANCHOR: check_against_collection
/// The checks a search meets against the collection, on a worker: the index exists and the
/// knobs apply to it, the query has the collection's dimension, the filter's columns exist
/// with the types it compares them to. Returns the index the search goes through, `None` for
/// brute force.
///
/// # Errors
///
/// `unknown_index`, `ambiguous_index`, `invalid_parameter`, `dimension_mismatch`,
/// `unknown_attribute`, `filter_type_mismatch` (400).
pub fn check_against_collection(
    collection: &Collection,
    search: &CheckedSearch,
    query: &[f32],
) -> Result<Option<String>, ApiError> {
    let index = match search.index.as_deref() {
        Some("flat") => None,
        Some(name) => {
            if !collection.has_index(name)? {
                return Err(crate::Error::NoSuchIndex {
                    name: name.to_string(),
                    available: collection.indexes()?.into_iter().map(|i| i.name).collect(),
                }
                .into());
            }
            Some(name.to_string())
        }
        None => collection.default_index()?,
    };
    let kind = index
        .as_deref()
        .map(|name| collection.index_kind(name))
        .transpose()?
        .unwrap_or(IndexKind::Flat);
    let used = index.as_deref().unwrap_or("flat");
    check_knobs(collection, index.as_deref(), kind, &search.params).map_err(|reason| {
        ApiError::bad_request(
            "invalid_parameter",
            format!("{reason} (the search uses {used})"),
        )
    })?;
    if let Some(dimension) = collection.dimension() {
        if query.len() != dimension {
            return Err(crate::Error::DimensionMismatch {
                expected: dimension,
                found: query.len(),
            }
            .into());
        }
    }
    if let Some(filter) = &search.filter {
        to_sql(filter, &collection.attribute_schema()?)?;
    }
    Ok(index)
}
// ANCHOR_END: check_against_collection

/// Whether `nprobe`, `ef` and `rerank` apply to an index of `kind`, and are in range: a knob
/// the index would ignore is refused, so that a client does not believe it tuned something.
fn check_knobs(
    collection: &Collection,
    index: Option<&str>,
    kind: IndexKind,
    params: &SearchParams,
) -> Result<(), String> {
    if let Some(nprobe) = params.n_probes {
        let cells = match (index, kind) {
            (Some(name), IndexKind::Ivf | IndexKind::IvfPq) => collection
                .centroids(name)
                .map_err(|e| e.to_string())?
                .map_or(0, |c| c.len()),
            _ => return Err("field nprobe applies to an inverted file (ivf, ivfpq)".to_string()),
        };
        if nprobe > cells {
            return Err(format!(
                "field nprobe = {nprobe} is out of range: the index has {cells} cells"
            ));
        }
    }
    if let Some(ef) = params.ef {
        if kind != IndexKind::Hnsw {
            return Err("field ef applies to a graph index (hnsw)".to_string());
        }
        if ef < params.k {
            return Err(format!(
                "field ef = {ef} is below k = {}: the beam must hold the k results",
                params.k
            ));
        }
    }
    if params.rerank.is_some() && !matches!(kind, IndexKind::Pq | IndexKind::IvfPq) {
        return Err("field rerank applies to compressed indexes (pq, ivfpq)".to_string());
    }
    Ok(())
}

// ANCHOR: check_store
/// The checks a write meets at the door: at least one vector, each non-empty and finite, all
/// of one length; one id and one attribute object per vector when given; ids for an upsert.
///
/// # Errors
///
/// `invalid_field`, `dimension_mismatch`, `non_finite_value`, `vector_too_large`,
/// `id_count_mismatch`, `duplicate_id` (an id given twice in the batch).
pub fn check_store(request: StoreRequest) -> Result<CheckedStore, ApiError> {
    let Some(first) = request.vectors.first() else {
        return Err(ApiError::bad_request(
            "invalid_field",
            "field vectors is empty: give at least one vector",
        ));
    };
    let dimension = first.len();
    for (row, vector) in request.vectors.iter().enumerate() {
        if vector.is_empty() {
            return Err(ApiError::bad_request(
                "empty_vector",
                format!("field vectors[{row}] is empty"),
            ));
        }
        if vector.len() != dimension {
            return Err(ApiError::bad_request(
                "dimension_mismatch",
                format!(
                    "field vectors[{row}] has {} values, vectors[0] has {dimension}",
                    vector.len()
                ),
            ));
        }
        check_finite(vector)
            .and_then(|()| check_magnitude(vector))
            .map_err(|e| {
                let mut error = ApiError::from(e);
                error.message = format!("field vectors[{row}]: {}", error.message);
                error
            })?;
    }
    let count = request.vectors.len();
    if let Some(ids) = &request.ids {
        if ids.len() != count {
            return Err(ApiError::bad_request(
                "id_count_mismatch",
                format!("field ids has {} ids for {count} vectors", ids.len()),
            ));
        }
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(crate::Error::DuplicateId(*twice).into());
        }
    }
    if let Some(attributes) = &request.attributes {
        if attributes.len() != count {
            return Err(ApiError::bad_request(
                "id_count_mismatch",
                format!(
                    "field attributes has {} objects for {count} vectors",
                    attributes.len()
                ),
            ));
        }
    }
    if request.upsert && request.ids.is_none() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "field upsert needs field ids: which stored vectors should be replaced?",
        ));
    }
    Ok(CheckedStore {
        vectors: request.vectors,
        ids: request.ids,
        attributes: request.attributes,
        upsert: request.upsert,
    })
}
// ANCHOR_END: check_store

/// The ids of a delete, at least one.
///
/// # Errors
///
/// `invalid_field` for an empty list.
pub fn check_delete(request: DeleteRequest) -> Result<Vec<i64>, ApiError> {
    if request.ids.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "field ids is empty: give at least one id",
        ));
    }
    Ok(request.ids)
}

/// The id in a path such as `/vectors/42`.
///
/// # Errors
///
/// `invalid_field` when it is not an integer.
pub fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_field",
            format!("the id {text:?} in the path is not an integer"),
        )
    })
}

// ANCHOR: attributes_from_json
/// The attribute objects of a batch as the library's [`Attributes`]: in the columns the
/// collection has (`stored`), or, for its first batch with attributes, in columns named by
/// the objects' keys in alphabetical order, each typed by its values (an integer column
/// holding a real becomes real). A key missing from an object, or `null`, is no value.
///
/// # Errors
///
/// `invalid_attribute` for a value that is not a number or a string, or a key the
/// collection's attributes do not have.
pub fn attributes_from_json(
    objects: &[Map<String, Json>],
    stored: &Schema,
) -> Result<Attributes, ApiError> {
    let columns = if stored.is_empty() {
        columns_of(objects)?
    } else {
        stored.clone()
    };
    let mut rows = Vec::with_capacity(objects.len());
    for (row, object) in objects.iter().enumerate() {
        if let Some(name) = object
            .keys()
            .find(|name| !columns.iter().any(|(c, _)| c == *name))
        {
            return Err(invalid_attribute(
                name,
                format!("attributes[{row}] names a column the collection does not have"),
            ));
        }
        let values = columns
            .iter()
            .map(|(name, kind)| match object.get(name) {
                None | Some(Json::Null) => Ok(None),
                Some(json) => value_of(json, *kind, name, row).map(Some),
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        rows.push(values);
    }
    Ok(Attributes { columns, rows })
}
// ANCHOR_END: attributes_from_json

/// The columns a first batch of attribute objects brings, typed by their values.
fn columns_of(objects: &[Map<String, Json>]) -> Result<Schema, ApiError> {
    let mut columns: std::collections::BTreeMap<String, AttributeType> = Default::default();
    for (row, object) in objects.iter().enumerate() {
        for (name, json) in object {
            let kind = match json {
                Json::Null => continue,
                Json::Number(n) if n.is_i64() => AttributeType::Integer,
                Json::Number(_) => AttributeType::Real,
                Json::String(_) => AttributeType::Text,
                _ => return Err(not_a_value(name, row)),
            };
            let merged = match (columns.get(name), kind) {
                (None, kind) => kind,
                (Some(AttributeType::Integer), AttributeType::Real)
                | (Some(AttributeType::Real), AttributeType::Integer) => AttributeType::Real,
                (Some(existing), kind) if *existing == kind => kind,
                (Some(existing), kind) => {
                    return Err(invalid_attribute(
                        name,
                        format!("attributes[{row}] holds a {kind} value in a {existing} column"),
                    ))
                }
            };
            columns.insert(name.clone(), merged);
        }
    }
    Ok(columns.into_iter().collect())
}

/// One attribute value, as the column's type wants it.
fn value_of(json: &Json, kind: AttributeType, name: &str, row: usize) -> Result<Value, ApiError> {
    let value = match (json, kind) {
        (Json::Number(n), AttributeType::Integer) => n.as_i64().map(Value::Integer),
        (Json::Number(n), AttributeType::Real) => n.as_f64().map(Value::Real),
        (Json::String(s), AttributeType::Text) => Some(Value::Text(s.clone())),
        (Json::Number(_) | Json::String(_), _) => None,
        _ => return Err(not_a_value(name, row)),
    };
    value.ok_or_else(|| {
        invalid_attribute(
            name,
            format!("attributes[{row}] holds {json} in a {kind} column"),
        )
    })
}

fn not_a_value(name: &str, row: usize) -> ApiError {
    invalid_attribute(
        name,
        format!("attributes[{row}]: a value must be a number, a string or null"),
    )
}

fn invalid_attribute(name: &str, reason: String) -> ApiError {
    crate::Error::InvalidAttribute {
        name: name.to_string(),
        reason,
    }
    .into()
}
