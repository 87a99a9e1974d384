//! The one error shape of Herald's REST routes, and the guarantee that every response is
//! JSON. (The token endpoint speaks OAuth's error shape instead: see `token.rs`; the Send
//! API reports business errors inside a 200: see its module.)

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use herald_domain::scope::Scope;
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

/// Where error bodies point clients, as Marketing Cloud's do.
pub const DOCUMENTATION: &str =
    "https://developer.salesforce.com/docs/marketing/marketing-cloud/guide/error-handling.html";

/// An error answered with `{"message","errorcode","documentation"}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid bearer token: 401 with `WWW-Authenticate`.
    #[error("Not Authorized")]
    NotAuthorized,
    /// A valid token without the scope a route needs.
    #[error("Insufficient Privileges")]
    InsufficientPrivileges { needs_one_of: &'static [Scope] },
    /// The request is malformed or invalid: 400 with an error code (10004 malformed,
    /// 10001 wrong type, 10002 missing field, 10003 invalid value).
    #[error("{message}")]
    BadRequest { errorcode: u32, message: String },
    /// The object does not exist for this account (other accounts' objects included).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (a duplicate key, an object in use).
    #[error("{0}")]
    Conflict(String),
    /// Something went wrong inside Herald; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 for a value that parsed but is not acceptable (errorcode 10003).
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            errorcode: 10003,
            message: message.into(),
        }
    }
}

impl From<herald_store::StoreError> for ApiError {
    fn from(err: herald_store::StoreError) -> Self {
        ApiError::Internal(err.into())
    }
}

impl From<crate::service::Error> for ApiError {
    fn from(err: crate::service::Error) -> Self {
        use crate::service::{Error, Problem};
        match err {
            Error::Invalid { problem, message } => ApiError::BadRequest {
                errorcode: match problem {
                    Problem::WrongType => 10001,
                    Problem::Missing => 10002,
                    Problem::Value => 10003,
                    Problem::Malformed => 10004,
                },
                message,
            },
            Error::NotFound(message) => ApiError::NotFound(message),
            Error::Conflict(message) | Error::Stale(message) => ApiError::Conflict(message),
            Error::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// Herald's error body. (Its keys are declared in the order they have always been
/// written: alphabetical.)
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// Where Marketing Cloud's error handling is documented.
    pub documentation: &'a str,
    /// 10001 wrong type, 10002 missing field, 10003 invalid value, 10004 not JSON, 10005
    /// not found, 10006 conflict, 20002 insufficient privileges, 0 not authorized or
    /// internal; an HTTP status for unknown routes and methods.
    pub errorcode: u32,
    /// What went wrong, naming the field at fault where there is one.
    pub message: &'a str,
}

/// The answer of every failed request (but the token endpoint's).
#[derive(ToResponse)]
#[response(description = "Herald's error body")]
#[allow(dead_code)] // it only describes the answer; error_body writes it
pub struct ErrorResponse<'a>(#[to_schema] ErrorBody<'a>);

/// A standard error body.
pub fn error_body(status: StatusCode, errorcode: u32, message: &str) -> Response<Body> {
    let body = ErrorBody {
        documentation: DOCUMENTATION,
        errorcode,
        message,
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response<Body> {
        match self {
            ApiError::NotAuthorized => {
                let mut response = error_body(StatusCode::UNAUTHORIZED, 0, "Not Authorized");
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                response
            }
            ApiError::InsufficientPrivileges { needs_one_of } => {
                let names: Vec<&str> = needs_one_of.iter().map(|s| s.name()).collect();
                let message = format!(
                    "Insufficient Privileges: this request needs one of these scopes: {}",
                    names.join(", ")
                );
                error_body(StatusCode::FORBIDDEN, 20002, &message)
            }
            ApiError::BadRequest { errorcode, message } => {
                error_body(StatusCode::BAD_REQUEST, errorcode, &message)
            }
            ApiError::NotFound(message) => error_body(StatusCode::NOT_FOUND, 10005, &message),
            ApiError::Conflict(message) => error_body(StatusCode::CONFLICT, 10006, &message),
            ApiError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "internal error");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    0,
                    "Internal Server Error",
                )
            }
        }
    }
}

/// Turns any error response that is not JSON (a 404 for an unknown path, a 405, a 413
/// from the body limit) into the standard JSON error body: clients parse every response.
pub async fn ensure_json(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() && !status.is_server_error() || is_json {
        return response;
    }
    let message = match status {
        StatusCode::NOT_FOUND => "Not Found: no such route".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed on this route".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large".to_owned(),
        other => other.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let mut json = error_body(status, u32::from(status.as_u16()), &message);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}
