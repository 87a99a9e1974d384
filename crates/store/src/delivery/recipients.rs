//! The recipients of a send instance: one row per message, written in batches while the
//! audience is resolved, then worked through by the delivery workers.

use std::collections::HashMap;

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::RecipientStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::sql::{CHUNK, insert_rows, placeholders};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// A recipient about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    pub instance_id: i64,
    pub mid: Mid,
    /// The CRM record's 18-character id: the subscriber key.
    pub record_id: String,
    pub email: String,
    /// The address in lower case: the key for dedupe and suppression.
    pub email_norm: String,
    pub domain: String,
    /// The record's personalization values, as a JSON object.
    pub fields: String,
    /// `Queued`, or `Suppressed` when the record itself opted out.
    pub status: RecipientStatus,
}

/// A stored recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: i64,
    pub instance_id: i64,
    pub record_id: String,
    pub email: String,
    pub domain: String,
    pub fields: String,
    pub status: RecipientStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub first_attempt_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub last_reply: Option<String>,
}

/// How many recipients of an instance are in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientCounts(pub HashMap<RecipientStatus, i64>);

impl RecipientCounts {
    pub fn get(&self, status: RecipientStatus) -> i64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> i64 {
        self.0.values().sum()
    }

    /// Recipients still waiting for an attempt.
    pub fn pending(&self) -> i64 {
        self.get(RecipientStatus::Queued) + self.get(RecipientStatus::Deferred)
    }
}

#[async_trait::async_trait]
pub trait RecipientStore {
    /// Writes a batch; a record already in the instance is skipped. Returns how many rows
    /// were written.
    async fn insert_recipients(&self, batch: &[NewRecipient]) -> Result<u64, StoreError>;
    /// Marks queued recipients excluded when their record id or address is listed.
    async fn exclude_recipients(
        &self,
        instance_id: i64,
        record_ids: &[String],
        emails_norm: &[String],
    ) -> Result<u64, StoreError>;
    /// Marks queued recipients whose address is on the account's suppression list:
    /// any reason for commercial sends, hard bounces only for transactional ones.
    async fn suppress_listed_recipients(
        &self,
        instance_id: i64,
        mid: Mid,
        commercial: bool,
    ) -> Result<u64, StoreError>;
    /// Keeps one queued recipient per address (the first written); marks the others
    /// duplicates.
    async fn mark_duplicate_addresses(&self, instance_id: i64) -> Result<u64, StoreError>;
    /// Recipients per status.
    async fn recipient_counts(&self, instance_id: i64) -> Result<RecipientCounts, StoreError>;
    /// One page of an instance's recipients (optionally of one status), in write order,
    /// with the total.
    async fn list_recipients(
        &self,
        mid: Mid,
        instance_id: i64,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<(i64, Vec<Recipient>), StoreError>;
    /// Marks every pending recipient that is not leased at `now` canceled.
    async fn cancel_pending_recipients(
        &self,
        instance_id: i64,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// Why a recipient written as `Suppressed` is not sent (the record itself opted out).
const OPTED_OUT_REPLY: &str = "suppressed: opted out (HasOptedOutOfEmail)";

pub(crate) const RECIPIENT_COLUMNS: &str = "id, instance_id, record_id, email, domain, fields, status, attempts, \
                       next_attempt_at, first_attempt_at, completed_at, last_reply";

pub(crate) fn recipient(row: &AnyRow) -> Result<Recipient, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let status = RecipientStatus::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status:?}").into()))?;
    let optional_time = |name: &str| -> Result<Option<OffsetDateTime>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(name)?.map(from_millis))
    };
    Ok(Recipient {
        id: row.try_get("id")?,
        instance_id: row.try_get("instance_id")?,
        record_id: row.try_get("record_id")?,
        email: row.try_get("email")?,
        domain: row.try_get("domain")?,
        fields: row.try_get("fields")?,
        status,
        attempts: row.try_get("attempts")?,
        // Only a pending recipient has a next attempt.
        next_attempt_at: optional_time("next_attempt_at")?.filter(|_| status.is_pending()),
        first_attempt_at: optional_time("first_attempt_at")?,
        completed_at: optional_time("completed_at")?,
        last_reply: row.try_get("last_reply")?,
    })
}

/// Recipients of an instance per status, on the caller's connection (or transaction).
pub(crate) async fn recipient_counts_on(
    conn: &mut AnyConnection,
    instance_id: i64,
) -> Result<RecipientCounts, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM recipients WHERE instance_id = $1 GROUP BY status",
    )
    .bind(instance_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = RecipientCounts::default();
    for row in rows {
        let status: String = row.try_get("status")?;
        if let Some(status) = RecipientStatus::parse(&status) {
            counts.0.insert(status, row.try_get("n")?);
        }
    }
    Ok(counts)
}

#[async_trait::async_trait]
impl RecipientStore for SqlStore {
    async fn insert_recipients(&self, batch: &[NewRecipient]) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut written = 0;
        for chunk in batch.chunks(insert_rows(9)) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 9 + 1, 9)))
                .collect();
            let sql = format!(
                "INSERT INTO recipients
                   (instance_id, mid, record_id, email, email_norm, domain, fields, status,
                    last_reply)
                 VALUES {} ON CONFLICT (instance_id, record_id) DO NOTHING",
                values.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                query = query
                    .bind(row.instance_id)
                    .bind(row.mid.get())
                    .bind(&row.record_id)
                    .bind(&row.email)
                    .bind(&row.email_norm)
                    .bind(&row.domain)
                    .bind(&row.fields)
                    .bind(row.status.as_str())
                    .bind((row.status == RecipientStatus::Suppressed).then_some(OPTED_OUT_REPLY));
            }
            written += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn exclude_recipients(
        &self,
        instance_id: i64,
        record_ids: &[String],
        emails_norm: &[String],
    ) -> Result<u64, StoreError> {
        let mut excluded = 0;
        for (column, values) in [("record_id", record_ids), ("email_norm", emails_norm)] {
            for chunk in values.chunks(CHUNK) {
                let sql = format!(
                    "UPDATE recipients SET status = 'excluded'
                     WHERE instance_id = $1 AND status = 'queued' AND {column} IN ({})",
                    placeholders(2, chunk.len())
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(instance_id);
                for value in chunk {
                    query = query.bind(value);
                }
                excluded += query.execute(&self.pool).await?.rows_affected();
            }
        }
        Ok(excluded)
    }

    async fn suppress_listed_recipients(
        &self,
        instance_id: i64,
        mid: Mid,
        commercial: bool,
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let updated = sqlx::query(
            "UPDATE recipients SET status = 'suppressed', last_reply = (
                 SELECT 'suppressed: ' || s.reason FROM suppressions s
                 WHERE s.mid = $2 AND s.email_norm = recipients.email_norm)
             WHERE instance_id = $1 AND status = 'queued' AND email_norm IN (
                 SELECT email_norm FROM suppressions
                 WHERE mid = $2 AND (reason = 'hard_bounce' OR $3 = 1))",
        )
        .bind(instance_id)
        .bind(mid.get())
        .bind(i64::from(commercial))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated)
    }

    async fn mark_duplicate_addresses(&self, instance_id: i64) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let updated = sqlx::query(
            "UPDATE recipients SET status = 'duplicate'
             WHERE instance_id = $1 AND status = 'queued' AND id NOT IN (
                 SELECT MIN(id) FROM recipients
                 WHERE instance_id = $1 AND status = 'queued' GROUP BY email_norm)",
        )
        .bind(instance_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated)
    }

    async fn recipient_counts(&self, instance_id: i64) -> Result<RecipientCounts, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(recipient_counts_on(&mut conn, instance_id).await?)
    }

    async fn list_recipients(
        &self,
        mid: Mid,
        instance_id: i64,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<(i64, Vec<Recipient>), StoreError> {
        let status = status.map(RecipientStatus::as_str).unwrap_or("");
        let filter = "mid = $1 AND instance_id = $2 AND ($3 = '' OR status = $3)";
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM recipients WHERE {filter}"
        )))
        .bind(mid.get())
        .bind(instance_id)
        .bind(status)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECIPIENT_COLUMNS} FROM recipients WHERE {filter} ORDER BY id LIMIT $4 OFFSET $5"
        )))
        .bind(mid.get())
        .bind(instance_id)
        .bind(status)
        .bind(i64::from(page.page_size))
        .bind(page.offset() as i64)
        .fetch_all(&self.pool)
        .await?;
        let items = rows.iter().map(recipient).collect::<Result<_, _>>()?;
        Ok((total, items))
    }

    async fn cancel_pending_recipients(
        &self,
        instance_id: i64,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let mut conn = self.pool.acquire().await?;
        Ok(cancel_unleased_on(&mut conn, instance_id, now).await?)
    }
}

/// Marks canceled the instance's pending recipients that no one holds a live lease on, on
/// the caller's connection (or transaction); those in flight are left to their outcome.
pub(crate) async fn cancel_unleased_on(
    conn: &mut AnyConnection,
    instance_id: i64,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE recipients SET status = 'canceled', completed_at = $2
         WHERE instance_id = $1 AND status IN ('queued', 'deferred')
           AND (lease_until IS NULL OR lease_until < $2)",
    )
    .bind(instance_id)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated)
}
