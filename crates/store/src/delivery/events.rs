//! The event log: append-only, one row per thing that happened to a message. Outcomes
//! append theirs in the same transaction as the recipient's status, so the log and the
//! statuses never disagree.

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub mid: Mid,
    pub instance_id: i64,
    pub recipient_id: i64,
    pub kind: EventKind,
    /// A JSON object with what else is known (the relay's reply, the link followed…).
    pub detail: Option<serde_json::Value>,
}

/// One event of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Increases with every append (but, on PostgreSQL, may become visible out of order
    /// across concurrent transactions).
    pub id: i64,
    pub mid: Mid,
    pub instance_id: i64,
    pub recipient_id: i64,
    pub kind: EventKind,
    pub detail: Option<serde_json::Value>,
    pub created_at: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait EventStore {
    /// Appends one event; returns its id.
    async fn append_event(&self, event: &NewEvent, now: OffsetDateTime) -> Result<i64, StoreError>;
    /// The account's events with an id above `after`, oldest first, at most `limit`.
    async fn events_after(
        &self,
        mid: Mid,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError>;
    /// Every event of one recipient (one message), oldest first.
    async fn recipient_events(&self, recipient_id: i64) -> Result<Vec<Event>, StoreError>;
}

const EVENT_COLUMNS: &str = "id, mid, instance_id, recipient_id, kind, detail, created_at";

pub(crate) fn event(row: &AnyRow) -> Result<Event, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let detail: Option<String> = row.try_get("detail")?;
    Ok(Event {
        id: row.try_get("id")?,
        mid: Mid::from_stored(row.try_get("mid")?),
        instance_id: row.try_get("instance_id")?,
        recipient_id: row.try_get("recipient_id")?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown event kind {kind:?}").into()))?,
        detail: detail
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|err| sqlx::Error::Decode(err.into()))?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

/// Appends `event` inside a transaction someone else commits.
pub(crate) async fn append_on(
    conn: &mut sqlx::AnyConnection,
    event: &NewEvent,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(event.mid.get())
    .bind(event.instance_id)
    .bind(event.recipient_id)
    .bind(event.kind.as_str())
    .bind(event.detail.as_ref().map(|detail| detail.to_string()))
    .bind(to_millis(now))
    .fetch_one(conn)
    .await?;
    row.try_get("id")
}

#[async_trait::async_trait]
impl EventStore for SqlStore {
    async fn append_event(&self, event: &NewEvent, now: OffsetDateTime) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(append_on(&mut conn, event, now).await?)
    }

    async fn events_after(
        &self,
        mid: Mid,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE mid = $1 AND id > $2 ORDER BY id LIMIT $3"
        )))
        .bind(mid.get())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
    }

    async fn recipient_events(&self, recipient_id: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE recipient_id = $1 ORDER BY id"
        )))
        .bind(recipient_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
    }
}
