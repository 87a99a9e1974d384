//! The custom fields each object has in each account.

use herald_domain::crm::CrmObject;
use herald_domain::mid::Mid;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::StoreError;
use crate::sql::{Bind, Sql, insert_rows};
use crate::timestamp::to_millis;

/// The custom field names of `object` in `mid`, as first spelled, sorted without regard
/// to case.
pub(crate) async fn custom_field_names(
    conn: &mut AnyConnection,
    mid: Mid,
    object: CrmObject,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT name FROM crm_fields WHERE mid = $1 AND object = $2")
        .bind(mid.get())
        .bind(object.name())
        .fetch_all(&mut *conn)
        .await?;
    let mut names = rows
        .iter()
        .map(|row| row.try_get::<String, _>("name"))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort_by_key(|name| name.to_ascii_lowercase());
    Ok(names)
}

/// Makes `names` known to `object` in `mid`; names known already are left as they are.
pub(crate) async fn define(
    conn: &mut AnyConnection,
    mid: Mid,
    object: CrmObject,
    names: &[String],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for chunk in names.chunks(insert_rows(5)) {
        let mut sql =
            Sql::new("INSERT INTO crm_fields (mid, object, name_key, name, created_at) VALUES ");
        sql.bind_rows(chunk.iter().map(|name| {
            [
                Bind::Int(mid.get()),
                Bind::from(object.name()),
                Bind::Text(name.to_ascii_lowercase()),
                Bind::from(name.as_str()),
                Bind::Int(to_millis(now)),
            ]
        }));
        sql.push(" ON CONFLICT (mid, object, name_key) DO NOTHING");
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A custom field value as a number, when it is one (for `lessThan`/`greaterThan`).
pub(crate) fn as_number(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}
