//! The suppression list of each account: addresses that must not be sent (some) mail.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::SuppressionReason;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// One suppressed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub email_norm: String,
    pub reason: SuppressionReason,
    pub detail: Option<String>,
    pub created_at: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait SuppressionStore {
    /// Suppresses an address (normalized). An address already listed keeps its entry,
    /// except that a hard bounce replaces a weaker reason. Returns whether anything changed.
    async fn suppress(
        &self,
        mid: Mid,
        email_norm: &str,
        reason: SuppressionReason,
        detail: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Removes an address from the list; false when it was not there.
    async fn unsuppress(&self, mid: Mid, email_norm: &str) -> Result<bool, StoreError>;
    async fn get_suppression(
        &self,
        mid: Mid,
        email_norm: &str,
    ) -> Result<Option<Suppression>, StoreError>;
    /// One page of the list, newest first, with the total count.
    async fn list_suppressions(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<(i64, Vec<Suppression>), StoreError>;
}

fn suppression(row: &AnyRow) -> Result<Suppression, sqlx::Error> {
    let reason: String = row.try_get("reason")?;
    Ok(Suppression {
        email_norm: row.try_get("email_norm")?,
        reason: SuppressionReason::parse(&reason)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown reason {reason:?}").into()))?,
        detail: row.try_get("detail")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

/// How a new entry meets an address already listed: it keeps its entry, except that a
/// hard bounce replaces a weaker reason.
pub(crate) const KEEP_OR_HARDEN: &str = "ON CONFLICT (mid, email_norm) DO UPDATE SET
       reason = excluded.reason, detail = excluded.detail, created_at = excluded.created_at
     WHERE excluded.reason = 'hard_bounce' AND suppressions.reason <> 'hard_bounce'";

#[async_trait::async_trait]
impl SuppressionStore for SqlStore {
    async fn suppress(
        &self,
        mid: Mid,
        email_norm: &str,
        reason: SuppressionReason,
        detail: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO suppressions (mid, email_norm, reason, detail, created_at)
             VALUES ($1, $2, $3, $4, $5) {KEEP_OR_HARDEN}"
        )))
        .bind(mid.get())
        .bind(email_norm)
        .bind(reason.as_str())
        .bind(detail)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    async fn unsuppress(&self, mid: Mid, email_norm: &str) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM suppressions WHERE mid = $1 AND email_norm = $2")
            .bind(mid.get())
            .bind(email_norm)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(removed > 0)
    }

    async fn get_suppression(
        &self,
        mid: Mid,
        email_norm: &str,
    ) -> Result<Option<Suppression>, StoreError> {
        let row = sqlx::query(
            "SELECT email_norm, reason, detail, created_at FROM suppressions
             WHERE mid = $1 AND email_norm = $2",
        )
        .bind(mid.get())
        .bind(email_norm)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(suppression).transpose()?)
    }

    async fn list_suppressions(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<(i64, Vec<Suppression>), StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM suppressions WHERE mid = $1")
            .bind(mid.get())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let rows = sqlx::query(
            "SELECT email_norm, reason, detail, created_at FROM suppressions WHERE mid = $1
             ORDER BY created_at DESC, email_norm LIMIT $2 OFFSET $3",
        )
        .bind(mid.get())
        .bind(i64::from(page.page_size))
        .bind(page.offset() as i64)
        .fetch_all(&self.pool)
        .await?;
        let items = rows.iter().map(suppression).collect::<Result<_, _>>()?;
        Ok((total, items))
    }
}
