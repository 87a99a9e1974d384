//! The small adapters row structs decode their columns with (`#[derive(sqlx::FromRow)]`
//! with `#[sqlx(try_from = "i64")]` or `#[sqlx(try_from = "String")]`), so that a row
//! struct names each column once and no decoder calls `try_get` by hand:
//! [`Millis`] (timestamps are Unix milliseconds), [`Flag`] (booleans are 0 or 1),
//! [`StoredMid`] and [`JsonText`] (JSON kept as text).

use herald_domain::mid::Mid;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::timestamp::from_millis;

/// A timestamp column: Unix milliseconds, UTC.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Millis(pub OffsetDateTime);

impl From<i64> for Millis {
    fn from(millis: i64) -> Self {
        Millis(from_millis(millis))
    }
}

/// A boolean column: 0 or 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(value: i64) -> Self {
        Flag(value != 0)
    }
}

/// An account column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredMid(pub Mid);

impl From<i64> for StoredMid {
    fn from(value: i64) -> Self {
        StoredMid(Mid::from_stored(value))
    }
}

/// A column holding JSON as text.
#[derive(Debug, Clone)]
pub(crate) struct JsonText<T>(pub T);

impl<T: DeserializeOwned> TryFrom<String> for JsonText<T> {
    type Error = serde_json::Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(JsonText)
    }
}
