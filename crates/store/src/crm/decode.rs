//! Reading records back: their columns, and their custom fields from the values table.

use std::collections::{BTreeMap, HashMap};

use herald_domain::crm::{CrmObject, CrmRecord};
use herald_domain::email_address::EmailAddress;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::StoredRecord;
use crate::StoreError;
use crate::sql::{CHUNK, Sql};
use crate::timestamp::from_millis;

/// The record columns, on a table aliased `r`.
pub(crate) const RECORD_COLUMNS: &str = "r.id, r.object, r.email, r.first_name, r.last_name, \
     r.has_opted_out, r.external_id, r.created_at, r.modified_at, r.version";

fn decode_error(err: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(err))
}

/// A stored Salesforce id.
pub(crate) fn id_column(row: &AnyRow, column: &str) -> Result<SalesforceId, sqlx::Error> {
    let text: String = row.try_get(column)?;
    SalesforceId::parse(&text).map_err(decode_error)
}

/// A stored object name.
pub(crate) fn object_column(row: &AnyRow, column: &str) -> Result<CrmObject, sqlx::Error> {
    let text: String = row.try_get(column)?;
    CrmObject::parse(&text).map_err(decode_error)
}

/// A record from [`RECORD_COLUMNS`], without its custom fields.
fn record(row: &AnyRow) -> Result<StoredRecord, sqlx::Error> {
    let email: String = row.try_get("email")?;
    Ok(StoredRecord {
        record: CrmRecord {
            id: id_column(row, "id")?,
            object: object_column(row, "object")?,
            email: EmailAddress::parse(&email).map_err(decode_error)?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            has_opted_out: row.try_get::<i64, _>("has_opted_out")? != 0,
            external_id: row.try_get("external_id")?,
            custom: BTreeMap::new(),
        },
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
        version: row.try_get("version")?,
    })
}

/// Records from rows of [`RECORD_COLUMNS`], with their custom fields.
pub(crate) async fn records(
    conn: &mut AnyConnection,
    rows: &[AnyRow],
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut records = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<SalesforceId> = records.iter().map(|stored| stored.record.id).collect();
    let mut custom = custom_fields(conn, &ids).await?;
    for stored in &mut records {
        if let Some(fields) = custom.remove(&stored.record.id) {
            stored.record.custom = fields;
        }
    }
    Ok(records)
}

/// The custom field values of `ids`, by record.
async fn custom_fields(
    conn: &mut AnyConnection,
    ids: &[SalesforceId],
) -> Result<HashMap<SalesforceId, BTreeMap<String, String>>, StoreError> {
    let mut fields: HashMap<SalesforceId, BTreeMap<String, String>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        // By primary key only: the ids are the account's already, and naming the account
        // here would lead SQLite to scan all its values through the lookup index.
        let mut sql =
            Sql::new("SELECT record_id, field, value FROM crm_field_values WHERE record_id IN ");
        sql.bind_list(chunk.iter().map(|id| id.to_string()));
        for row in sql.query().fetch_all(&mut *conn).await? {
            fields
                .entry(id_column(&row, "record_id")?)
                .or_default()
                .insert(row.try_get("field")?, row.try_get("value")?);
        }
    }
    Ok(fields)
}
