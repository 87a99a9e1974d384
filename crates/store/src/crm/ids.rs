//! Minting ids, and serialising CRM writes per account.

use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::{AnyConnection, Row};

use crate::{Backend, StoreError};

/// Reserves `count` ids with `key_prefix` and returns them in increasing order.
///
/// The counters are global, so an id is unique across accounts as Salesforce ids are.
/// Inside a write transaction; the counter row stays locked until it commits.
pub(crate) async fn mint(
    conn: &mut AnyConnection,
    key_prefix: &str,
    count: usize,
) -> Result<Vec<SalesforceId>, StoreError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    // A batch is far smaller than i64::MAX.
    let count = count as i64;
    let last: i64 = sqlx::query(
        "UPDATE crm_id_counters SET last_value = last_value + $1 WHERE key_prefix = $2
         RETURNING last_value",
    )
    .bind(count)
    .bind(key_prefix)
    .fetch_one(&mut *conn)
    .await?
    .try_get("last_value")?;
    Ok((last - count + 1..=last)
        .map(|n| SalesforceId::generate(key_prefix, n.unsigned_abs()))
        .collect())
}

/// Base of the PostgreSQL advisory lock keys that serialise CRM writes of one account.
const PG_CRM_LOCK: i64 = 0x4352_4D00_0000_0000; // "CRM"

/// Serialises CRM writes of `mid` until the transaction ends, so that look-ups made
/// before writing (by Email, by ExternalId) still hold when the rows are written. SQLite
/// transactions begun with IMMEDIATE are serialised already.
pub(crate) async fn lock_account(
    conn: &mut AnyConnection,
    backend: Backend,
    mid: Mid,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_CRM_LOCK + mid.get())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
