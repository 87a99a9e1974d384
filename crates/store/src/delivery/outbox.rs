//! The capture outbox: where messages go when no relay is configured, so a newcomer can see
//! exactly what would have been sent.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// A message to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCapturedMessage {
    pub mid: Mid,
    pub instance_id: i64,
    pub recipient_id: i64,
    pub envelope_from: String,
    pub rcpt_to: String,
    pub subject: String,
    pub raw: Vec<u8>,
}

/// A captured message, without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    pub id: i64,
    pub instance_id: i64,
    pub recipient_id: i64,
    pub envelope_from: String,
    pub rcpt_to: String,
    pub subject: String,
    pub size: i64,
    pub created_at: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait OutboxStore {
    /// Keeps a message. Capturing the same recipient twice keeps the first copy.
    async fn capture_message(
        &self,
        message: NewCapturedMessage,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// One page of an account's captured messages, newest first, optionally of one
    /// instance, with the total.
    async fn list_captured(
        &self,
        mid: Mid,
        instance_id: Option<i64>,
        page: PageRequest,
    ) -> Result<(i64, Vec<CapturedMessage>), StoreError>;
    /// The raw MIME of one captured message.
    async fn captured_raw(&self, mid: Mid, id: i64) -> Result<Option<Vec<u8>>, StoreError>;
}

fn captured(row: &AnyRow) -> Result<CapturedMessage, sqlx::Error> {
    Ok(CapturedMessage {
        id: row.try_get("id")?,
        instance_id: row.try_get("instance_id")?,
        recipient_id: row.try_get("recipient_id")?,
        envelope_from: row.try_get("envelope_from")?,
        rcpt_to: row.try_get("rcpt_to")?,
        subject: row.try_get("subject")?,
        size: row.try_get("size")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

#[async_trait::async_trait]
impl OutboxStore for SqlStore {
    async fn capture_message(
        &self,
        message: NewCapturedMessage,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO captured_messages
               (mid, instance_id, recipient_id, envelope_from, rcpt_to, subject, raw, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (recipient_id) DO NOTHING",
        )
        .bind(message.mid.get())
        .bind(message.instance_id)
        .bind(message.recipient_id)
        .bind(message.envelope_from)
        .bind(message.rcpt_to)
        .bind(message.subject)
        .bind(message.raw)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_captured(
        &self,
        mid: Mid,
        instance_id: Option<i64>,
        page: PageRequest,
    ) -> Result<(i64, Vec<CapturedMessage>), StoreError> {
        let instance = instance_id.unwrap_or(0);
        let filter = "mid = $1 AND ($2 = 0 OR instance_id = $2)";
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM captured_messages WHERE {filter}"
        )))
        .bind(mid.get())
        .bind(instance)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, instance_id, recipient_id, envelope_from, rcpt_to, subject,
                    CAST(LENGTH(raw) AS BIGINT) AS size, created_at
             FROM captured_messages WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(mid.get())
        .bind(instance)
        .bind(i64::from(page.page_size))
        .bind(page.offset() as i64)
        .fetch_all(&self.pool)
        .await?;
        let items = rows.iter().map(captured).collect::<Result<_, _>>()?;
        Ok((total, items))
    }

    async fn captured_raw(&self, mid: Mid, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT raw FROM captured_messages WHERE mid = $1 AND id = $2")
            .bind(mid.get())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("raw")).transpose()?)
    }
}
