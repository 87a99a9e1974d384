//! What recipients do with a message once it arrives (opens, clicks, unsubscribes), and
//! the per-recipient and per-instance results read back from the event log.

use std::collections::HashMap;

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use sqlx::Row;
use time::OffsetDateTime;

use super::recipients::{RECIPIENT_COLUMNS, Recipient, recipient};
use super::suppressions::KEEP_OR_HARDEN;
use crate::sql::{CHUNK, placeholders};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// What an unsubscribe did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The CRM record the message went to (its `HasOptedOutOfEmail` is to be set).
    pub record_id: String,
    /// False when this message's link had already been used: nothing was written.
    pub first_time: bool,
}

/// The links of one message that were followed, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClicks {
    pub url: String,
    pub count: i64,
    pub first_at: OffsetDateTime,
}

/// One recipient's results, read from the event log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipientResults {
    /// When a relay first accepted the message.
    pub sent_at: Option<OffsetDateTime>,
    /// The latest bounce: when, and its detail (`reply`, and `kind` when known).
    pub bounced: Option<(OffsetDateTime, Option<serde_json::Value>)>,
    pub first_opened_at: Option<OffsetDateTime>,
    pub opens: i64,
    /// Followed links, most followed first.
    pub clicks: Vec<LinkClicks>,
    pub unsubscribed_at: Option<OffsetDateTime>,
}

/// An instance's engagement: every event counted, and the distinct recipients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngagementCounts {
    pub opens: i64,
    pub unique_opens: i64,
    pub clicks: i64,
    pub unique_clicks: i64,
    pub unsubscribes: i64,
    /// Distinct recipients that bounced for good (a relay's 5xx, a notification's
    /// permanent failure).
    pub bounced: i64,
    /// Distinct recipients a notification reported a temporary failure for.
    pub soft_bounced: i64,
    /// Distinct recipients a relay accepted or refused (the bounce rate's denominator).
    pub attempted: i64,
}

#[async_trait::async_trait]
pub trait EngagementStore {
    /// A recipient of the account's instance, if both still exist.
    async fn find_recipient(
        &self,
        mid: Mid,
        instance_id: i64,
        recipient_id: i64,
    ) -> Result<Option<Recipient>, StoreError>;
    /// Appends an event for a recipient of the account's instance (an open or a click) in
    /// one statement; false, with nothing written, when the recipient does not exist.
    async fn record_engagement(
        &self,
        mid: Mid,
        instance_id: i64,
        recipient_id: i64,
        kind: EventKind,
        detail: Option<serde_json::Value>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Unsubscribes the address a message went to: suppressed (reason `unsubscribe`) in
    /// the account and an `unsubscribed` event appended, in one transaction. Using the same
    /// message's link again writes nothing. `None` when the recipient does not exist.
    async fn unsubscribe(
        &self,
        mid: Mid,
        instance_id: i64,
        recipient_id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Unsubscribed>, StoreError>;
    /// The results of some recipients of the account, by recipient id.
    async fn recipient_results(
        &self,
        mid: Mid,
        recipient_ids: &[i64],
    ) -> Result<HashMap<i64, RecipientResults>, StoreError>;
    /// The engagement counts of one of the account's instances.
    async fn instance_engagement(
        &self,
        mid: Mid,
        instance_id: i64,
    ) -> Result<EngagementCounts, StoreError>;
}

/// The recipient filter every look-up here uses: the token names all three.
const ONE_RECIPIENT: &str = "mid = $1 AND instance_id = $2 AND id = $3";

#[async_trait::async_trait]
impl EngagementStore for SqlStore {
    async fn find_recipient(
        &self,
        mid: Mid,
        instance_id: i64,
        recipient_id: i64,
    ) -> Result<Option<Recipient>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECIPIENT_COLUMNS} FROM recipients WHERE {ONE_RECIPIENT}"
        )))
        .bind(mid.get())
        .bind(instance_id)
        .bind(recipient_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(recipient).transpose()?)
    }

    async fn record_engagement(
        &self,
        mid: Mid,
        instance_id: i64,
        recipient_id: i64,
        kind: EventKind,
        detail: Option<serde_json::Value>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let written = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
             SELECT mid, instance_id, id, $4, $5, $6 FROM recipients WHERE {ONE_RECIPIENT}"
        )))
        .bind(mid.get())
        .bind(instance_id)
        .bind(recipient_id)
        .bind(kind.as_str())
        .bind(detail.map(|detail| detail.to_string()))
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(written == 1)
    }

    async fn unsubscribe(
        &self,
        mid: Mid,
        instance_id: i64,
        recipient_id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Unsubscribed>, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT record_id FROM recipients WHERE {ONE_RECIPIENT}"
        )))
        .bind(mid.get())
        .bind(instance_id)
        .bind(recipient_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let record_id: String = row.try_get("record_id")?;
        // The unique index on unsubscribed events makes a second use of the link (even a
        // concurrent one) write nothing.
        let appended = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
             SELECT mid, instance_id, id, 'unsubscribed', NULL, $4 FROM recipients
             WHERE {ONE_RECIPIENT} ON CONFLICT DO NOTHING"
        )))
        .bind(mid.get())
        .bind(instance_id)
        .bind(recipient_id)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let first_time = appended == 1;
        if first_time {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO suppressions (mid, email_norm, reason, detail, created_at)
                 SELECT mid, email_norm, 'unsubscribe', $4, $5 FROM recipients
                 WHERE {ONE_RECIPIENT} {KEEP_OR_HARDEN}"
            )))
            .bind(mid.get())
            .bind(instance_id)
            .bind(recipient_id)
            .bind(format!("unsubscribed from send instance {instance_id}"))
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Unsubscribed {
            record_id,
            first_time,
        }))
    }

    async fn recipient_results(
        &self,
        mid: Mid,
        recipient_ids: &[i64],
    ) -> Result<HashMap<i64, RecipientResults>, StoreError> {
        let mut results: HashMap<i64, RecipientResults> = HashMap::new();
        for chunk in recipient_ids.chunks(CHUNK - 1) {
            let sql = format!(
                "SELECT recipient_id, kind, detail, MIN(created_at) AS first_at,
                        MAX(created_at) AS last_at, COUNT(*) AS n
                 FROM events WHERE mid = $1 AND recipient_id IN ({})
                 GROUP BY recipient_id, kind, detail",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mid.get());
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let kind: String = row.try_get("kind")?;
                let Some(kind) = EventKind::parse(&kind) else {
                    continue;
                };
                let detail: Option<String> = row.try_get("detail")?;
                let detail: Option<serde_json::Value> =
                    detail.and_then(|text| serde_json::from_str(&text).ok());
                let first_at = from_millis(row.try_get("first_at")?);
                let last_at = from_millis(row.try_get("last_at")?);
                let count: i64 = row.try_get("n")?;
                let entry = results.entry(row.try_get("recipient_id")?).or_default();
                add_group(entry, kind, detail, first_at, last_at, count);
            }
        }
        for entry in results.values_mut() {
            entry
                .clicks
                .sort_by(|a, b| b.count.cmp(&a.count).then(a.first_at.cmp(&b.first_at)));
        }
        Ok(results)
    }

    async fn instance_engagement(
        &self,
        mid: Mid,
        instance_id: i64,
    ) -> Result<EngagementCounts, StoreError> {
        let rows = sqlx::query(
            // A notification's temporary failure ("kind":"soft") is counted apart. Read
            // through the index of (instance, kind) (`+mid` keeps SQLite off the index of
            // mid): a status poll of a large send must not count its `sent` events, nor
            // the account's other events. The `kind IN (…)` list is the index's own
            // predicate, word for word (migration 18): SQLite matches it literally.
            "SELECT kind || CASE WHEN kind = 'bounced' AND detail LIKE '%\"kind\":\"soft\"%'
                              THEN '/soft' ELSE '' END AS kind_key,
                    COUNT(*) AS n, COUNT(DISTINCT recipient_id) AS distinct_n
             FROM events
             WHERE instance_id = $2 AND kind IN ('opened', 'clicked', 'unsubscribed', 'bounced')
               AND +mid = $1
             GROUP BY kind_key",
        )
        .bind(mid.get())
        .bind(instance_id)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = EngagementCounts::default();
        for row in rows {
            let kind: String = row.try_get("kind_key")?;
            let (all, distinct): (i64, i64) = (row.try_get("n")?, row.try_get("distinct_n")?);
            if kind == "bounced/soft" {
                counts.soft_bounced = distinct;
                continue;
            }
            match EventKind::parse(&kind) {
                Some(EventKind::Opened) => (counts.opens, counts.unique_opens) = (all, distinct),
                Some(EventKind::Clicked) => (counts.clicks, counts.unique_clicks) = (all, distinct),
                Some(EventKind::Unsubscribed) => counts.unsubscribes = distinct,
                Some(EventKind::Bounced) => counts.bounced = distinct,
                Some(EventKind::Sent) | None => {}
            }
        }
        // The recipients a relay accepted or refused, as the settler last counted them on
        // the instance (final once it is complete): a hard bounce notification turns a sent
        // recipient bounced, which leaves the sum alone. Counting the recipients here made
        // every status poll of a large send read all of them.
        counts.attempted = sqlx::query(
            "SELECT sent + bounced AS n FROM send_instances WHERE id = $2 AND mid = $1",
        )
        .bind(mid.get())
        .bind(instance_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.try_get("n"))
        .transpose()?
        .unwrap_or(0);
        Ok(counts)
    }
}

/// Folds one (recipient, kind, detail) group of events into the recipient's results.
fn add_group(
    results: &mut RecipientResults,
    kind: EventKind,
    detail: Option<serde_json::Value>,
    first_at: OffsetDateTime,
    last_at: OffsetDateTime,
    count: i64,
) {
    let earliest =
        |known: Option<OffsetDateTime>| Some(known.map_or(first_at, |t| t.min(first_at)));
    match kind {
        EventKind::Sent => results.sent_at = earliest(results.sent_at),
        EventKind::Bounced => {
            if results.bounced.as_ref().is_none_or(|(at, _)| *at < last_at) {
                results.bounced = Some((last_at, detail));
            }
        }
        EventKind::Opened => {
            results.first_opened_at = earliest(results.first_opened_at);
            results.opens += count;
        }
        EventKind::Clicked => {
            let url = detail
                .as_ref()
                .and_then(|detail| detail.get("url"))
                .and_then(|url| url.as_str())
                .unwrap_or_default()
                .to_owned();
            results.clicks.push(LinkClicks {
                url,
                count,
                first_at,
            });
        }
        EventKind::Unsubscribed => results.unsubscribed_at = earliest(results.unsubscribed_at),
    }
}
