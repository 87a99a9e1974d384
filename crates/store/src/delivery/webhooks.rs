//! Event webhook subscriptions and their delivery state. Each subscription has a cursor,
//! `done_through`: every event with an id up to it was delivered or is not for it. One
//! node at a time delivers a subscription, under a lease; a receiver that fails holds
//! the cursor (at least once, in order) until `next_attempt_at`.

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

use super::events::{Event, event};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// A subscription to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub mid: Mid,
    pub url: String,
    pub kinds: Vec<EventKind>,
    pub secret: String,
}

/// A stored subscription and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub mid: Mid,
    pub url: String,
    pub kinds: Vec<EventKind>,
    /// Signs every delivery. Shown to the client once, when the subscription is made.
    pub secret: String,
    pub done_through: i64,
    pub delivered: i64,
    /// Failed attempts at the event now at the head (0 when the receiver is healthy).
    pub failures: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// An event as a webhook carries it: with its message's address and subscriber key.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event: Event,
    pub email: String,
    pub subscriber_key: String,
}

#[async_trait::async_trait]
pub trait WebhookStore {
    /// Creates a subscription; it receives the events appended from now on.
    async fn create_webhook(
        &self,
        webhook: &NewWebhook,
        now: OffsetDateTime,
    ) -> Result<Webhook, StoreError>;
    /// One page of the account's subscriptions, oldest first, with the total count.
    async fn list_webhooks(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<(i64, Vec<Webhook>), StoreError>;
    async fn get_webhook(&self, mid: Mid, id: i64) -> Result<Option<Webhook>, StoreError>;
    /// Deletes a subscription; false when the account has none with this id.
    async fn delete_webhook(&self, mid: Mid, id: i64) -> Result<bool, StoreError>;
    /// Leases up to `limit` subscriptions that are due (not waiting out a retry) and not
    /// leased (a lease ends when its holder releases it or when it runs out).
    async fn claim_webhooks(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<Webhook>, StoreError>;
    /// The ids of every account's events above `after`, ascending, at most `limit`: what
    /// the dispatcher checks for gaps (ids not yet visible) before it moves a cursor.
    async fn event_ids_after(&self, after: i64, limit: i64) -> Result<Vec<i64>, StoreError>;
    /// The account's events with ids in `(after, through]`, oldest first, at most `limit`.
    async fn webhook_events(
        &self,
        mid: Mid,
        after: i64,
        through: i64,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>, StoreError>;
    /// Moves the cursor to `through` (only forward), counts `delivered` more deliveries,
    /// clears the failure state and extends the lease; false when the lease was lost.
    async fn advance_webhook(
        &self,
        id: i64,
        owner: &str,
        through: i64,
        delivered: i64,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<bool, StoreError>;
    /// Records a failed delivery of the head event: retried at `next_attempt_at`; the
    /// lease is released.
    async fn webhook_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        next_attempt_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Gives the lease back.
    async fn release_webhook(&self, id: i64, owner: &str) -> Result<(), StoreError>;
}

const COLUMNS: &str = "id, mid, url, kinds, secret, done_through, delivered, failures,
    last_error, next_attempt_at, created_at";

fn webhook(row: &AnyRow) -> Result<Webhook, sqlx::Error> {
    let kinds: String = row.try_get("kinds")?;
    let next: i64 = row.try_get("next_attempt_at")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        mid: Mid::from_stored(row.try_get("mid")?),
        url: row.try_get("url")?,
        kinds: kinds
            .split_whitespace()
            .map(|k| {
                EventKind::parse(k)
                    .ok_or_else(|| sqlx::Error::Decode(format!("unknown event kind {k:?}").into()))
            })
            .collect::<Result<_, _>>()?,
        secret: row.try_get("secret")?,
        done_through: row.try_get("done_through")?,
        delivered: row.try_get("delivered")?,
        failures: row.try_get("failures")?,
        last_error: row.try_get("last_error")?,
        next_attempt_at: (next > 0).then(|| from_millis(next)),
        created_at: from_millis(row.try_get("created_at")?),
    })
}

#[async_trait::async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(
        &self,
        new: &NewWebhook,
        now: OffsetDateTime,
    ) -> Result<Webhook, StoreError> {
        let kinds: Vec<&str> = new.kinds.iter().map(|k| k.as_str()).collect();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhooks (mid, url, kinds, secret, done_through, created_at)
             VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(id), 0) FROM events), $5)
             RETURNING {COLUMNS}"
        )))
        .bind(new.mid.get())
        .bind(&new.url)
        .bind(kinds.join(" "))
        .bind(&new.secret)
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(webhook(&row)?)
    }

    async fn list_webhooks(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<(i64, Vec<Webhook>), StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhooks WHERE mid = $1")
            .bind(mid.get())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhooks WHERE mid = $1 ORDER BY id LIMIT $2 OFFSET $3"
        )))
        .bind(mid.get())
        .bind(i64::from(page.page_size))
        .bind(page.offset() as i64)
        .fetch_all(&self.pool)
        .await?;
        let items = rows.iter().map(webhook).collect::<Result<_, _>>()?;
        Ok((total, items))
    }

    async fn get_webhook(&self, mid: Mid, id: i64) -> Result<Option<Webhook>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhooks WHERE mid = $1 AND id = $2"
        )))
        .bind(mid.get())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(webhook).transpose()?)
    }

    async fn delete_webhook(&self, mid: Mid, id: i64) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM webhooks WHERE mid = $1 AND id = $2")
            .bind(mid.get())
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn claim_webhooks(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<Webhook>, StoreError> {
        // Most polls find nothing due: a read says so without taking the write lock
        // (SQLite's single writer is the delivery writer's).
        let due = sqlx::query(
            "SELECT 1 AS due FROM webhooks
             WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) LIMIT 1",
        )
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        // The outer condition repeats the inner one: of two nodes racing for the same
        // subscription, the second finds it leased and updates nothing.
        let _turn = self.write_turn().await;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhooks SET lease_owner = $1, lease_until = $2
             WHERE id IN (
                 SELECT id FROM webhooks
                 WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
                 ORDER BY next_attempt_at, id LIMIT $4)
               AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
             RETURNING {COLUMNS}"
        )))
        .bind(owner)
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = rows.iter().map(webhook).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|w| w.id);
        Ok(claimed)
    }

    async fn event_ids_after(&self, after: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?)
    }

    async fn webhook_events(
        &self,
        mid: Mid,
        after: i64,
        through: i64,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.mid, e.instance_id, e.recipient_id, e.kind, e.detail, e.created_at,
                    r.email, r.record_id
             FROM events e JOIN recipients r ON r.id = e.recipient_id
             WHERE e.mid = $1 AND e.id > $2 AND e.id <= $3 ORDER BY e.id LIMIT $4",
        )
        .bind(mid.get())
        .bind(after)
        .bind(through)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WebhookEvent {
                    event: event(row)?,
                    email: row.try_get("email")?,
                    subscriber_key: row.try_get("record_id")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn advance_webhook(
        &self,
        id: i64,
        owner: &str,
        through: i64,
        delivered: i64,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let updated = sqlx::query(
            "UPDATE webhooks SET
                 done_through = CASE WHEN done_through < $1 THEN $1 ELSE done_through END,
                 delivered = delivered + $2, failures = 0, last_error = NULL,
                 next_attempt_at = 0, lease_until = $3
             WHERE id = $4 AND lease_owner = $5",
        )
        .bind(through)
        .bind(delivered)
        .bind(to_millis(now + lease))
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn webhook_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        next_attempt_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let updated = sqlx::query(
            "UPDATE webhooks SET failures = failures + 1, last_error = $1,
                 next_attempt_at = $2, lease_owner = NULL, lease_until = NULL
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(error)
        .bind(to_millis(next_attempt_at))
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn release_webhook(&self, id: i64, owner: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE webhooks SET lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
