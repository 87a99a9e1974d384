//! Ids in paths: a path naming an id that cannot be one names nothing, a 404.

use crate::api::error::ApiError;

/// The whole number `text` is, or a 404 saying no `what` has that id.
pub fn id_or_not_found(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("no {what} has the id {text:?}")))
}
