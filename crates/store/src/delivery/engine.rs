//! What the send engine asks of the store: claiming due instances and recipients with
//! leases, recording outcomes, and settling each running instance's status and counts.
//!
//! Nothing here holds a transaction across I/O: a claim is one short statement that sets
//! a lease; the caller does its work (CRM reads, SMTP) outside any transaction, then
//! records the outcome, which applies only if the lease is still the caller's.

use herald_domain::mid::Mid;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::recipients::{RECIPIENT_COLUMNS, Recipient, recipient, recipient_counts_on};
use super::suppressions::KEEP_OR_HARDEN;
use crate::send::SendInstance;
use crate::send::rows::{INSTANCE_COLUMNS, instance};
use crate::timestamp::to_millis;
use crate::{Backend, SqlStore, StoreError};

/// A recipient claimed for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRecipient {
    pub recipient: Recipient,
    pub mid: Mid,
    /// Which attempt this is (1 for the first); outcomes must quote it back.
    pub attempt: i64,
    /// An earlier attempt was claimed but never recorded (its node died or its lease ran
    /// out mid-delivery): the relay may have the message already.
    pub maybe_delivered_before: bool,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub recipient_id: i64,
    pub attempt: i64,
    /// `Sent`, `Bounced`, `Failed`, or `Deferred` with `next_attempt_at`.
    pub status: RecipientStatus,
    pub reply: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// An instance in a status the engine works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveInstance {
    pub id: i64,
    pub mid: Mid,
    pub status: InstanceStatus,
}

#[async_trait::async_trait]
pub trait EngineStore {
    /// Starts one due instance: a `Scheduled` one whose time has come (it becomes
    /// `Sending`), or a `Sending` one whose audience resolution was abandoned (lease
    /// expired). The caller holds it until `lease_until` and must resolve its audience.
    /// Of several nodes asking at once, exactly one gets each instance.
    async fn claim_due_instance(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<SendInstance>, StoreError>;
    /// Extends the resolution lease; false if the instance is no longer the caller's.
    async fn extend_instance_lease(
        &self,
        id: i64,
        owner: &str,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Ends the resolution: records how many target memberships there were and how many
    /// of them were folded into a record already written, and lets delivery begin.
    async fn finish_resolution(
        &self,
        id: i64,
        owner: &str,
        targeted: i64,
        union_duplicates: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Puts a live instance in `Error` with a message saying why; its pending recipients
    /// are canceled.
    async fn fail_instance(
        &self,
        id: i64,
        message: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` recipients that are due, of instances that are delivering.
    async fn claim_recipients(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedRecipient>, StoreError>;
    /// Records an attempt's outcome; false (and nothing written) if the lease was lost.
    /// A `Bounced` outcome also puts the address on the account's suppression list as a
    /// hard bounce (with the reply as detail), in the same transaction: an instance never
    /// shows a bounce whose suppression is still to come, or lost to a crash.
    async fn record_outcome(
        &self,
        owner: &str,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Hands a claimed recipient back untouched (its send was paused or canceled before
    /// the message reached a relay).
    async fn release_recipient(
        &self,
        owner: &str,
        recipient_id: i64,
        attempt: i64,
    ) -> Result<(), StoreError>;
    /// Recipients waiting for an attempt, across all sends.
    async fn pending_recipients(&self) -> Result<i64, StoreError>;
    /// Instances that are `Sending`, `Paused` or `Cancel Pending`.
    async fn active_instances(&self) -> Result<Vec<ActiveInstance>, StoreError>;
    /// Brings an active instance's counts up to date and moves it on when its work is
    /// done: `Sending` with nothing pending becomes `Complete`; `Cancel Pending` with
    /// nothing in flight cancels what is left and becomes `Canceled`. Returns the status
    /// it is in afterwards, or `None` when there is no such instance or its status
    /// changed while it was being settled (nothing is written then).
    async fn settle_instance(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<InstanceStatus>, StoreError>;
}

/// Instances a node may start: due `Scheduled` ones and abandoned resolutions.
const DUE: &str = "(status = 'Scheduled' AND scheduled_at <= $1)
     OR (status = 'Sending' AND phase = 'resolving' AND lease_until < $1)";

impl SqlStore {
    /// `FOR UPDATE SKIP LOCKED` where the backend has it (PostgreSQL); SQLite has a
    /// single writer, so its statements never race.
    fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

#[async_trait::async_trait]
impl EngineStore for SqlStore {
    async fn claim_due_instance(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<SendInstance>, StoreError> {
        let sql = format!(
            "UPDATE send_instances SET status = 'Sending', phase = 'resolving',
                 started_at = COALESCE(started_at, $1), job_id = COALESCE(job_id, id),
                 lease_owner = $2, lease_until = $3, modified_at = $1
             WHERE id = (SELECT id FROM send_instances WHERE {DUE}
                         ORDER BY scheduled_at, id LIMIT 1 {skip})
               AND ({DUE})
             RETURNING {INSTANCE_COLUMNS}",
            skip = self.skip_locked()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(now))
            .bind(owner)
            .bind(to_millis(now + lease))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(instance).transpose()?)
    }

    async fn extend_instance_lease(
        &self,
        id: i64,
        owner: &str,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE send_instances SET lease_until = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(to_millis(until))
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn finish_resolution(
        &self,
        id: i64,
        owner: &str,
        targeted: i64,
        union_duplicates: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE send_instances SET phase = 'delivering', lease_owner = NULL,
                 lease_until = NULL, targeted = $1, union_duplicates = $2, modified_at = $3
             WHERE id = $4 AND lease_owner = $5 AND phase = 'resolving'",
        )
        .bind(targeted)
        .bind(union_duplicates)
        .bind(to_millis(now))
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn fail_instance(
        &self,
        id: i64,
        message: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(self.begin_write()).await?;
        let updated = sqlx::query(
            "UPDATE send_instances SET status = 'Error', message = $1, completed_at = $2,
                 modified_at = $2, lease_owner = NULL, lease_until = NULL
             WHERE id = $3 AND status IN ('Scheduled', 'Sending', 'Paused', 'Cancel Pending')",
        )
        .bind(message)
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE recipients SET status = 'canceled', completed_at = $1
             WHERE instance_id = $2 AND status IN ('queued', 'deferred')",
        )
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(updated == 1)
    }

    async fn claim_recipients(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedRecipient>, StoreError> {
        // The picked ids are materialized once: as `WHERE id IN (SELECT … LIMIT …)`,
        // PostgreSQL may run the subquery again while updating (a re-check, or a plan
        // that rescans it), and with SKIP LOCKED each run picks other rows; a claim of
        // 16 once took 1,423 recipients, whose leases then ran out before their turn.
        let sql = format!(
            "WITH picked AS MATERIALIZED (
                 SELECT r.id FROM recipients r
                 JOIN send_instances i ON i.id = r.instance_id
                 WHERE i.status = 'Sending' AND i.phase = 'delivering'
                   AND r.status IN ('queued', 'deferred') AND r.next_attempt_at <= $3
                   AND (r.lease_until IS NULL OR r.lease_until < $3)
                 ORDER BY r.next_attempt_at, r.id LIMIT $4 {skip})
             UPDATE recipients SET lease_owner = $1, lease_until = $2, attempts = attempts + 1,
                 first_attempt_at = COALESCE(first_attempt_at, $3)
             WHERE id IN (SELECT id FROM picked)
             RETURNING {RECIPIENT_COLUMNS}, mid, recorded_attempts",
            skip = self.skip_locked().replace("UPDATE", "UPDATE OF r")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(to_millis(now + lease))
            .bind(to_millis(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let recipient = recipient(row)?;
                let recorded: i64 = row.try_get("recorded_attempts")?;
                Ok(ClaimedRecipient {
                    mid: Mid::from_stored(row.try_get("mid")?),
                    attempt: recipient.attempts,
                    maybe_delivered_before: recipient.attempts - 1 > recorded,
                    recipient,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        claimed.sort_by_key(|c| c.recipient.id);
        Ok(claimed)
    }

    async fn record_outcome(
        &self,
        owner: &str,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let finished = !outcome.status.is_pending();
        let mut tx = self.pool.begin_with(self.begin_write()).await?;
        let updated = sqlx::query(
            "UPDATE recipients SET status = $1, last_reply = $2, next_attempt_at = $3,
                 completed_at = $4, lease_owner = NULL, lease_until = NULL,
                 recorded_attempts = attempts
             WHERE id = $5 AND lease_owner = $6 AND attempts = $7",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.reply.as_deref())
        .bind(outcome.next_attempt_at.map(to_millis).unwrap_or(0))
        .bind(finished.then(|| to_millis(now)))
        .bind(outcome.recipient_id)
        .bind(owner)
        .bind(outcome.attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        if outcome.status == RecipientStatus::Bounced {
            // SQLite needs the WHERE to read ON CONFLICT as the upsert clause.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO suppressions (mid, email_norm, reason, detail, created_at)
                 SELECT mid, email_norm, 'hard_bounce', $1, $2 FROM recipients WHERE id = $3
                 {KEEP_OR_HARDEN}"
            )))
            .bind(outcome.reply.as_deref())
            .bind(to_millis(now))
            .bind(outcome.recipient_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn release_recipient(
        &self,
        owner: &str,
        recipient_id: i64,
        attempt: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE recipients SET lease_owner = NULL, lease_until = NULL,
                 attempts = attempts - 1
             WHERE id = $1 AND lease_owner = $2 AND attempts = $3",
        )
        .bind(recipient_id)
        .bind(owner)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn pending_recipients(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM recipients WHERE status IN ('queued', 'deferred')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    async fn active_instances(&self) -> Result<Vec<ActiveInstance>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, mid, status FROM send_instances
             WHERE status IN ('Sending', 'Paused', 'Cancel Pending') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(ActiveInstance {
                    id: row.try_get("id")?,
                    mid: Mid::from_stored(row.try_get("mid")?),
                    status: InstanceStatus::parse(&status)
                        .map_err(|err| sqlx::Error::Decode(err.into()))?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn settle_instance(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<InstanceStatus>, StoreError> {
        let mut tx = self.pool.begin_with(self.begin_write()).await?;
        let Some(row) = sqlx::query(
            "SELECT status, phase, lease_until, union_duplicates FROM send_instances WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let status = InstanceStatus::parse(&row.try_get::<String, _>("status")?)
            .map_err(|err| StoreError::Database(sqlx::Error::Decode(err.into())))?;
        let phase: Option<String> = row.try_get("phase")?;
        let resolving = phase.as_deref() != Some("delivering");
        let resolver_alive = row
            .try_get::<Option<i64>, _>("lease_until")?
            .is_some_and(|until| until >= to_millis(now));
        let union_duplicates: i64 = row.try_get("union_duplicates")?;
        let in_flight: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM recipients WHERE instance_id = $1
               AND status IN ('queued', 'deferred') AND lease_until >= $2",
        )
        .bind(id)
        .bind(to_millis(now))
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let next = match status {
            InstanceStatus::CancelPending if in_flight == 0 && !(resolving && resolver_alive) => {
                sqlx::query(
                    "UPDATE recipients SET status = 'canceled', completed_at = $1
                     WHERE instance_id = $2 AND status IN ('queued', 'deferred')",
                )
                .bind(to_millis(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                InstanceStatus::Canceled
            }
            other => other,
        };
        let counts = recipient_counts_on(&mut tx, id).await?;
        let next = match next {
            InstanceStatus::Sending if !resolving && counts.pending() == 0 => {
                InstanceStatus::Complete
            }
            other => other,
        };
        let count = |s: RecipientStatus| counts.get(s);
        // Only if the status is still the one read: a client's pause or cancel that
        // committed meanwhile (PostgreSQL does not lock the row read above) must not be
        // overwritten with the old status.
        let settled = sqlx::query(
            "UPDATE send_instances SET status = $1, excluded = $2, suppressed = $3,
                 duplicates = $4, sent = $5, deferred = $6, bounced = $7, failed = $8,
                 completed_at = CASE WHEN $9 = 1 THEN $10 ELSE completed_at END,
                 modified_at = CASE WHEN status = $1 THEN modified_at ELSE $10 END
             WHERE id = $11 AND status = $12",
        )
        .bind(next.as_str())
        .bind(count(RecipientStatus::Excluded))
        .bind(count(RecipientStatus::Suppressed))
        .bind(union_duplicates + count(RecipientStatus::Duplicate))
        .bind(count(RecipientStatus::Sent))
        .bind(count(RecipientStatus::Deferred))
        .bind(count(RecipientStatus::Bounced))
        .bind(count(RecipientStatus::Failed))
        .bind(i64::from(next != status && next.is_final()))
        .bind(to_millis(now))
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if settled == 0 {
            // Nothing of this pass applies; the next one settles the new status.
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(next))
    }
}
