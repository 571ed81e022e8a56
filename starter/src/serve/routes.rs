//! The endpoints: each handler reads and checks its request, hands the work to a worker, and
//! turns the answer (or the error) into JSON.
//!
//! Handlers are async and never block on SQLite: a search waits for its reader on a one-shot
//! channel, so two tokio threads serve any number of open connections while the workers
//! compute. One middleware around every route counts each request by endpoint and status,
//! and times it, for `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::oneshot;

use super::api::{
    DeleteRequest, DeleteResponse, HealthResponse, InfoResponse, SearchRequest, SearchResponse,
    StoreRequest, StoreResponse, VectorResponse,
};
use super::api_error::ApiError;
use super::cache::{key_of, CachedAnswer, Lookup};
use super::metrics::IndexLabel;
use super::page::page;
use super::validate::{check_delete, check_search, check_store, parse_id, read_json};
use super::workers::{answer_of, ReadJob, WriteJob};
use super::AppState;

// ANCHOR: router
/// Every route, with the size limit on bodies and the metrics around each request.
pub fn router(state: Arc<AppState>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/info", get(info))
        .route("/search", post(search))
        .route("/vectors", post(store).delete(delete))
        .route("/vectors/{id}", get(get_vector))
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            count_request,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
// ANCHOR_END: router

/// Counts and times every request, by the route it matched.
async fn count_request(
    State(state): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    // Unmatched paths share one label: a scanner's random paths must not grow the metrics.
    let endpoint = match &matched {
        Some(path) => format!("{} {}", request.method(), path.as_str()),
        None => "other".to_string(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe_request(
        &endpoint,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /health`: 503 `loading` until every worker is ready, then 200 `ok`.
async fn health(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        Json(HealthResponse { status: "ok" }).into_response()
    } else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthResponse { status: "loading" }),
        )
            .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            super::api_error::RETRY_AFTER_SECONDS.into(),
        );
        response
    }
}

// ANCHOR: search_handler
/// `POST /search`: from the cache when it holds an answer as new as the file, else from a
/// reader.
async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    let started = Instant::now();
    let search = check_search(read_json::<SearchRequest>(&headers, body)?)?;
    let workers = state.workers()?;
    let key = key_of(&search);
    let generation = match state.cache.lookup(&key)? {
        Lookup::Hit(answer) => {
            state.metrics.cache_hits.inc();
            return Ok(Json(SearchResponse {
                results: answer.results,
                index: answer.index,
                took_ms: milliseconds_since(started),
                cached: true,
            }));
        }
        Lookup::Miss { generation } => generation,
    };
    state.metrics.cache_misses.inc();
    let (reply, answer) = oneshot::channel();
    workers.submit_read(ReadJob::Search(Box::new(search), reply))?;
    let answer = answer_of(answer).await?;
    state.cache.store(
        key,
        CachedAnswer {
            results: answer.results.clone(),
            index: answer.index.clone(),
            generation,
        },
    );
    Ok(Json(SearchResponse {
        results: answer.results,
        index: answer.index,
        took_ms: milliseconds_since(started),
        cached: false,
    }))
}
// ANCHOR_END: search_handler

fn milliseconds_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}

/// `POST /vectors`: answered once the write has committed.
async fn store(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<StoreResponse>, ApiError> {
    let checked = check_store(read_json::<StoreRequest>(&headers, body)?)?;
    let workers = state.workers()?;
    let (reply, answer) = oneshot::channel();
    workers.submit_write(WriteJob::Store(Box::new(checked), reply))?;
    Ok(Json(answer_of(answer).await?))
}

/// `DELETE /vectors`: all the ids or none.
async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeleteResponse>, ApiError> {
    let ids = check_delete(read_json::<DeleteRequest>(&headers, body)?)?;
    let workers = state.workers()?;
    let (reply, answer) = oneshot::channel();
    workers.submit_write(WriteJob::Delete(ids, reply))?;
    let deleted = answer_of(answer).await?;
    Ok(Json(DeleteResponse { deleted }))
}

/// `GET /vectors/{id}`.
async fn get_vector(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<VectorResponse>, ApiError> {
    let id = parse_id(&id)?;
    let workers = state.workers()?;
    let (reply, answer) = oneshot::channel();
    workers.submit_read(ReadJob::Get(id, reply))?;
    Ok(Json(answer_of(answer).await?))
}

/// `GET /info`.
async fn info(State(state): State<Arc<AppState>>) -> Result<Json<InfoResponse>, ApiError> {
    Ok(Json(read_info(&state).await?))
}

async fn read_info(state: &AppState) -> Result<InfoResponse, ApiError> {
    let workers = state.workers()?;
    let (reply, answer) = oneshot::channel();
    workers.submit_read(ReadJob::Info(reply))?;
    let mut info = answer_of(answer).await?;
    info.readers = workers.readers;
    Ok(info)
}

// ANCHOR: metrics_handler
/// `GET /metrics`: the collection's figures read now (when it is loaded), then every metric.
async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    if state.is_ready() {
        let info = read_info(&state).await?;
        state
            .metrics
            .vectors
            .set(i64::try_from(info.count).unwrap_or(i64::MAX));
        for index in &info.indexes {
            let bytes = index.bytes_per_vector.saturating_mul(info.count);
            state
                .metrics
                .index_bytes
                .get_or_create(&IndexLabel {
                    index: index.name.clone(),
                })
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }
    state
        .metrics
        .cache_entries
        .set(i64::try_from(state.cache.len()).unwrap_or(i64::MAX));
    let text = state
        .metrics
        .render()
        .map_err(|e| ApiError::internal(format!("cannot write the metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
// ANCHOR_END: metrics_handler

async fn no_such_route(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        format!(
            "no endpoint {} {}: see GET / for the page, GET /info, POST /search, POST and DELETE /vectors, GET /vectors/{{id}}, GET /health, GET /metrics",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}
