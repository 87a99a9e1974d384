//! Query parameters as real clients send them: names are case-insensitive and may carry
//! a `$` (`$pageSize`, `$pagesize`, `pageSize`, `pagesize` are one parameter).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use herald_domain::paging::{PageRequest, PagingError};

use crate::api::error::ApiError;

/// Query parameters keyed by lower-case name without a leading `$`.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// `page` (from 1) and `pagesize` (1..=`max`, default `default`).
    pub fn page(&self, default: u32, max: u32) -> Result<PageRequest, ApiError> {
        PageRequest::parse(self.get("page"), self.get("pagesize"), default, max)
            .map_err(|err: PagingError| ApiError::invalid(err.to_string()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(raw) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|err| ApiError::invalid(format!("Malformed query string: {err}")))?;
        Ok(Params(
            raw.into_iter()
                .map(|(name, value)| (name.trim_start_matches('$').to_ascii_lowercase(), value))
                .collect(),
        ))
    }
}
