//! What a kind tells the generic SQL ([`super::store`]) about itself: its own columns, how
//! to decode them, what a write puts in them, and who uses one of its objects.

use herald_domain::mid::Mid;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{Classification, ClassificationError, MetaFields};
use crate::sql::Bind;

/// The per-kind columns and hooks of a [`Classification`].
pub(crate) trait Columns: Classification {
    /// The kind's own columns after the shared ones, its table aliased `o`, as a SELECT
    /// list continues (`, o.from_name, …`).
    const SELECT: &'static str;
    /// The joins [`Self::SELECT`] needs (`JOIN … ON …`), or nothing.
    const JOINS: &'static str;

    /// One row of the SELECT.
    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error>;

    /// The shared fields of a create or update.
    fn meta_fields(fields: &Self::Fields) -> &MetaFields;

    /// The kind's own columns a create or update writes, with their values; `current` is
    /// the object an update changes (`None` on create). Checks what only this kind checks.
    fn written(
        conn: &mut AnyConnection,
        mid: Mid,
        fields: &Self::Fields,
        current: Option<&Self>,
    ) -> impl Future<Output = Result<Vec<(&'static str, Bind)>, ClassificationError>> + Send;

    /// The objects that use the one with this id, each named with its kind (as in
    /// `send classification "Spring"`): it cannot be deleted while there are any.
    fn users(
        conn: &mut AnyConnection,
        mid: Mid,
        id: i64,
    ) -> impl Future<Output = Result<Vec<String>, sqlx::Error>> + Send;
}
