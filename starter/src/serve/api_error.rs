//! One bad request, one answer: every failure a request can meet becomes an HTTP status and a
//! JSON body `{"error":{"kind":"…","message":"…"}}`.
//!
//! The `kind` is a stable snake_case word a program can match on; the `message` is for a person
//! and names the field at fault. The library's typed errors are mapped to statuses here, in
//! one place (`impl From<Error> for ApiError`): a mistake in the request
//! is a 4xx, and only a failure of the service itself (a damaged file, a storage error) is a
//! 5xx. Nothing a request sends can make the service panic.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// How many seconds a client told "overloaded" or "loading" is asked to wait.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// A request that could not be answered, as the client will see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// A stable snake_case word, such as `dimension_mismatch`.
    pub kind: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    kind: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error of `kind` answered with `status`.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 400: the request is wrong in a way `kind` names.
    pub fn bad_request(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, message)
    }

    /// 404: what the request names is not there.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503: the job queue is full; the client should come back shortly.
    pub fn overloaded(queue: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            format!("the {queue} queue is full: retry in {RETRY_AFTER_SECONDS} s"),
        )
    }

    /// 503: the collection is still being loaded.
    pub fn loading() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "loading",
            "the collection is still being loaded: see GET /health",
        )
    }

    /// 503: the service is stopping and takes no new work.
    pub fn shutting_down() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the service is shutting down",
        )
    }

    /// 500: a failure of the service, not of the request.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Detail {
                kind: self.kind,
                message: &self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

// ANCHOR: error_statuses
impl From<Error> for ApiError {
    /// The library's errors, each to the status it deserves: a mistake in the request is a
    /// 4xx, a problem of the file or the service a 5xx.
    fn from(error: Error) -> Self {
        let message = error.to_string();
        let (status, kind) = match &error {
            Error::DimensionMismatch { .. } => (StatusCode::BAD_REQUEST, "dimension_mismatch"),
            Error::NonFiniteValue { .. } => (StatusCode::BAD_REQUEST, "non_finite_value"),
            Error::EmptyVector => (StatusCode::BAD_REQUEST, "empty_vector"),
            Error::VectorTooLarge { .. } => (StatusCode::BAD_REQUEST, "vector_too_large"),
            Error::ZeroK => (StatusCode::BAD_REQUEST, "k_out_of_range"),
            Error::NoSuchIndex { .. } => (StatusCode::BAD_REQUEST, "unknown_index"),
            Error::AmbiguousIndex { .. } => (StatusCode::BAD_REQUEST, "ambiguous_index"),
            Error::InvalidProbeCount { .. }
            | Error::EfBelowK { .. }
            | Error::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, "invalid_parameter"),
            Error::FilterSyntax { .. } => (StatusCode::BAD_REQUEST, "filter_syntax"),
            Error::UnknownAttribute { .. } => (StatusCode::BAD_REQUEST, "unknown_attribute"),
            Error::FilterTypeMismatch { .. } => (StatusCode::BAD_REQUEST, "filter_type_mismatch"),
            Error::InvalidAttribute { .. } => (StatusCode::BAD_REQUEST, "invalid_attribute"),
            Error::AttributeSchemaMismatch { .. } => {
                (StatusCode::BAD_REQUEST, "attribute_schema_mismatch")
            }
            Error::IdCountMismatch { .. } => (StatusCode::BAD_REQUEST, "id_count_mismatch"),
            Error::DuplicateId(_) => (StatusCode::CONFLICT, "duplicate_id"),
            Error::UnknownIds { .. } => (StatusCode::NOT_FOUND, "unknown_ids"),
            // The index exists but no longer reflects the collection: the client can name
            // another, or someone must rebuild it.
            Error::StaleIndex { .. } => (StatusCode::CONFLICT, "stale_index"),
            Error::NoRawVectors { .. } => (StatusCode::CONFLICT, "no_raw_vectors"),
            Error::OverMemoryBudget { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "over_memory_budget"),
            _ => {
                log::error!("request failed inside the service: {error}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        ApiError::new(status, kind, message)
    }
}
// ANCHOR_END: error_statuses
