//! How a Send API route answers when it does not succeed: a business error (HTTP 200 with
//! `{"IsError":true,"Message":…}`) or one of Herald's standard errors (400 for a body
//! that is not JSON or of the wrong type, 401, 403, 500).

use std::fmt;

use axum::Json;
use axum::body::Body;
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use herald_domain::paging::PageRequest;
use herald_domain::send::message::Verb;
use herald_domain::send::route::check_route;

use super::wire::Failure;
use crate::api::error::ApiError;
use crate::api::query::Params;
use crate::service;

/// The page size of a list when the client names none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page size a list accepts.
pub const MAX_PAGE_SIZE: u32 = 500;

/// A Send API route's refusal.
#[derive(Debug)]
pub enum SendError {
    /// A business error, answered with HTTP 200.
    Refused(Failure),
    /// Anything else, in Herald's standard error shape.
    Api(ApiError),
}

/// What a Send API handler returns.
pub type SendResult<T> = Result<T, SendError>;

impl IntoResponse for SendError {
    fn into_response(self) -> Response<Body> {
        match self {
            SendError::Refused(failure) => (StatusCode::OK, Json(failure)).into_response(),
            SendError::Api(err) => err.into_response(),
        }
    }
}

impl From<ApiError> for SendError {
    fn from(err: ApiError) -> Self {
        SendError::Api(err)
    }
}

/// A use case's refusal is the Send API's business error (its message is already the
/// whole `Error <verb> integrated send definition: …`); a stale update is a 409, and
/// anything else Herald's standard error.
impl From<service::Error> for SendError {
    fn from(err: service::Error) -> Self {
        match err {
            service::Error::Invalid { message, .. }
            | service::Error::NotFound(message)
            | service::Error::Conflict(message) => {
                SendError::Refused(Failure::from_message(message))
            }
            other => SendError::Api(other.into()),
        }
    }
}

/// The business error `Error <verb> integrated send definition: <detail>`.
pub fn refuse(verb: Verb, detail: impl fmt::Display) -> SendError {
    SendError::Refused(Failure::new(verb, detail))
}

/// Checks the path's `{integrationType}/{channel}` (only `salesforce/email` exists); any
/// other value is a business error naming the supported one.
pub fn check_path(verb: Verb, integration_type: &str, channel: &str) -> SendResult<()> {
    check_route(integration_type, channel).map_err(|err| refuse(verb, err))
}

/// `page` (from 1) and `pageSize` (1 to [`MAX_PAGE_SIZE`], default
/// [`DEFAULT_PAGE_SIZE`]); a value out of range is a business error. A page past the
/// last one is not an error: it is empty.
pub fn page(verb: Verb, params: &Params) -> SendResult<PageRequest> {
    PageRequest::parse(
        params.get("page"),
        params.get("pagesize"),
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )
    .map_err(|err| refuse(verb, err))
}
