//! Asynchronous bounces: delivery status notifications that come back after a relay
//! accepted a message. The caller has already found the message through its VERP address
//! and checked the address's signature; this records what the notification says.

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use herald_domain::recipient::RecipientStatus;
use sqlx::Row;
use time::OffsetDateTime;

use super::events::{NewEvent, append_on};
use super::suppressions::KEEP_OR_HARDEN;
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

/// The message a VERP address names, as far as bounce handling needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BouncedMessage {
    pub recipient_id: i64,
    pub instance_id: i64,
    pub mid: Mid,
    pub email: String,
    pub status: RecipientStatus,
}

/// A notification's verdict on one message.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncBounce {
    pub recipient_id: i64,
    /// A permanent failure (5.x.x, `Action: failed`): the address is suppressed.
    pub hard: bool,
    /// The notification's own Message-ID, so the same one piped twice counts once.
    pub notification_id: Option<String>,
    /// What the `bounced` event carries (kind, status, diagnostic…).
    pub detail: serde_json::Value,
    /// Kept as the recipient's last reply and the suppression's detail.
    pub diagnostic: String,
}

/// What recording a bounce did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BounceRecorded {
    /// A `bounced` event was appended (and, for a hard bounce, the message marked
    /// bounced and the address suppressed).
    Recorded { event_id: i64 },
    /// The message was already marked bounced: nothing changed.
    AlreadyBounced,
    /// This very notification was recorded before: nothing changed.
    Duplicate,
    /// No such message (any more).
    Unknown,
}

#[async_trait::async_trait]
pub trait BounceStore {
    /// The message (recipient) with this id, whatever its account: the caller proves the
    /// account with the VERP signature.
    async fn bounced_message(
        &self,
        recipient_id: i64,
    ) -> Result<Option<BouncedMessage>, StoreError>;
    /// Records a bounce in one transaction: the event; for a hard bounce also the
    /// message's status (`sent` becomes `bounced`, and its instance's counts follow) and
    /// the address on the account's suppression list as a hard bounce.
    async fn record_async_bounce(
        &self,
        bounce: &AsyncBounce,
        now: OffsetDateTime,
    ) -> Result<BounceRecorded, StoreError>;
}

#[async_trait::async_trait]
impl BounceStore for SqlStore {
    async fn bounced_message(
        &self,
        recipient_id: i64,
    ) -> Result<Option<BouncedMessage>, StoreError> {
        let row =
            sqlx::query("SELECT id, instance_id, mid, email, status FROM recipients WHERE id = $1")
                .bind(recipient_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        Ok(Some(BouncedMessage {
            recipient_id: row.try_get("id")?,
            instance_id: row.try_get("instance_id")?,
            mid: Mid::from_stored(row.try_get("mid")?),
            email: row.try_get("email")?,
            status: RecipientStatus::parse(&status).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown recipient status {status:?}").into())
            })?,
        }))
    }

    async fn record_async_bounce(
        &self,
        bounce: &AsyncBounce,
        now: OffsetDateTime,
    ) -> Result<BounceRecorded, StoreError> {
        let mut tx = self.write_tx().await?;
        // Lock the message's row first, so that two notifications for it are recorded
        // one after the other (the second then sees the first).
        sqlx::query("UPDATE recipients SET attempts = attempts WHERE id = $1")
            .bind(bounce.recipient_id)
            .execute(&mut *tx)
            .await?;
        let Some(row) =
            sqlx::query("SELECT instance_id, mid, status FROM recipients WHERE id = $1")
                .bind(bounce.recipient_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(BounceRecorded::Unknown);
        };
        let instance_id: i64 = row.try_get("instance_id")?;
        let mid = Mid::from_stored(row.try_get("mid")?);
        if row.try_get::<String, _>("status")? == RecipientStatus::Bounced.as_str() {
            return Ok(BounceRecorded::AlreadyBounced);
        }
        if let Some(id) = &bounce.notification_id {
            let earlier: Vec<Option<String>> = sqlx::query(
                "SELECT detail FROM events WHERE recipient_id = $1 AND kind = 'bounced'",
            )
            .bind(bounce.recipient_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.try_get("detail"))
            .collect::<Result<_, _>>()?;
            let seen = earlier.iter().flatten().any(|detail| {
                serde_json::from_str::<serde_json::Value>(detail)
                    .is_ok_and(|d| d["notificationId"].as_str() == Some(id))
            });
            if seen {
                return Ok(BounceRecorded::Duplicate);
            }
        }
        if bounce.hard {
            sqlx::query(
                "UPDATE recipients SET status = 'bounced', last_reply = $1,
                     completed_at = COALESCE(completed_at, $2)
                 WHERE id = $3 AND status = 'sent'",
            )
            .bind(&bounce.diagnostic)
            .bind(to_millis(now))
            .bind(bounce.recipient_id)
            .execute(&mut *tx)
            .await?;
            // A finished instance is no longer settled: its counts follow here. (A live
            // one is recounted by the settler anyway.)
            sqlx::query(
                "UPDATE send_instances SET
                     sent = (SELECT COUNT(*) FROM recipients WHERE instance_id = $1 AND status = 'sent'),
                     bounced = (SELECT COUNT(*) FROM recipients WHERE instance_id = $1 AND status = 'bounced')
                 WHERE id = $1",
            )
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
            // SQLite needs the WHERE to read ON CONFLICT as the upsert clause.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO suppressions (mid, email_norm, reason, detail, created_at)
                 SELECT mid, email_norm, 'hard_bounce', $1, $2 FROM recipients WHERE id = $3
                 {KEEP_OR_HARDEN}"
            )))
            .bind(&bounce.diagnostic)
            .bind(to_millis(now))
            .bind(bounce.recipient_id)
            .execute(&mut *tx)
            .await?;
        }
        let mut detail = bounce.detail.clone();
        if let (Some(object), Some(id)) = (detail.as_object_mut(), &bounce.notification_id) {
            object.insert("notificationId".into(), id.clone().into());
        }
        let event = NewEvent {
            mid,
            instance_id,
            recipient_id: bounce.recipient_id,
            kind: EventKind::Bounced,
            detail: Some(detail),
        };
        let event_id = append_on(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(BounceRecorded::Recorded { event_id })
    }
}
