//! What the send engine asks of the store: claiming due instances and recipients with
//! leases, recording outcomes, and settling each running instance's status and counts.
//!
//! Nothing here holds a transaction across I/O: a claim is one short statement that sets
//! a lease; the caller does its work (CRM reads, SMTP) outside any transaction, then
//! records the outcome, which applies only if the lease is still the caller's.

use std::collections::HashSet;

use herald_domain::mid::Mid;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::recipients::{Recipient, cancel_unleased_on, recipient_counts_on};
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

/// What one [`EngineStore::record_and_claim`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryTurn {
    /// The recipients whose outcomes were applied.
    pub applied: HashSet<i64>,
    /// The recipients claimed for their next attempt.
    pub claimed: Vec<ClaimedRecipient>,
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
    /// Brings the database's statistics of recipients up to date (PostgreSQL; SQLite
    /// plans without them), so a send that has just written a large audience is claimed,
    /// counted and settled through the right indexes rather than as if the table were
    /// still empty until autovacuum's next look, which may be minutes away.
    async fn refresh_recipient_statistics(&self) -> Result<(), StoreError>;
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
    /// Records attempts' outcomes, then claims up to `limit` recipients that are due (of
    /// instances that are delivering), in one write transaction: a busy node's delivery
    /// writes commit once per batch of messages, and never contend with each other.
    ///
    /// An outcome whose lease was lost is not applied (nothing written); `applied` lists
    /// the recipients whose outcomes were. Each applied `Sent` or `Bounced` outcome
    /// appends its event to the log, and a `Bounced` one puts the address on the
    /// account's suppression list as a hard bounce (with the reply as detail), in the same
    /// transaction: an instance never shows a bounce whose suppression is still to come,
    /// or lost to a crash.
    async fn record_and_claim(
        &self,
        owner: &str,
        outcomes: &[AttemptOutcome],
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<DeliveryTurn, StoreError>;
    /// Claims up to `limit` recipients that are due, of instances that are delivering.
    async fn claim_recipients(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedRecipient>, StoreError> {
        let turn = self.record_and_claim(owner, &[], now, lease, limit).await?;
        Ok(turn.claimed)
    }
    /// Records attempts' outcomes (see [`EngineStore::record_and_claim`]); returns the ids
    /// of the recipients they applied to.
    async fn record_outcomes(
        &self,
        owner: &str,
        outcomes: &[AttemptOutcome],
        now: OffsetDateTime,
    ) -> Result<HashSet<i64>, StoreError> {
        let turn = self
            .record_and_claim(owner, outcomes, now, Duration::ZERO, 0)
            .await?;
        Ok(turn.applied)
    }
    /// Records one attempt's outcome; false (and nothing written) if the lease was lost.
    async fn record_outcome(
        &self,
        owner: &str,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let applied = self
            .record_outcomes(owner, std::slice::from_ref(outcome), now)
            .await?;
        Ok(applied.contains(&outcome.recipient_id))
    }
    /// Hands a claimed recipient back untouched (its send was paused or canceled before
    /// the message reached a relay).
    async fn release_recipient(
        &self,
        owner: &str,
        recipient_id: i64,
        attempt: i64,
    ) -> Result<(), StoreError>;
    /// Whether any recipient of the instance is still waiting for an attempt (or in
    /// flight): one entry of the queue's index read, however large the send.
    async fn has_pending_recipients(&self, instance_id: i64) -> Result<bool, StoreError>;
    /// Instances that are `Sending`, `Paused` or `Cancel Pending`.
    async fn active_instances(&self) -> Result<Vec<ActiveInstance>, StoreError>;
    /// Brings an active instance's counts up to date and moves it on when its work is
    /// done: `Sending` with nothing pending becomes `Complete`; `Cancel Pending` cancels
    /// the pending recipients no one holds a live lease on, and becomes `Canceled` once
    /// none is pending (those in flight end with their outcome). Returns the status
    /// it is in afterwards with the recipients still pending, or `None` when there is no
    /// such instance or its status changed while it was being settled (nothing is written
    /// then). It counts every recipient of the instance: the caller decides how often.
    async fn settle_instance(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<Settled>, StoreError>;
}

/// An instance as a settling pass left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub status: InstanceStatus,
    /// Recipients still waiting for an attempt or in flight.
    pub pending: i64,
}

/// Instances a node may start: due `Scheduled` ones and abandoned resolutions.
const DUE: &str = "(status = 'Scheduled' AND scheduled_at <= $1)
     OR (status = 'Sending' AND phase = 'resolving' AND lease_until < $1)";

impl Backend {
    /// `FOR UPDATE SKIP LOCKED` where the backend has it (PostgreSQL); SQLite has a
    /// single writer, so its statements never race.
    pub(super) fn skip_locked(self) -> &'static str {
        match self {
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
        // Most polls find nothing due: a read says so without taking the write lock
        // (SQLite's single writer is the delivery writer's).
        let due = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 1 AS due FROM send_instances WHERE {DUE} LIMIT 1"
        )))
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "UPDATE send_instances SET status = 'Sending', phase = 'resolving',
                 started_at = COALESCE(started_at, $1), job_id = COALESCE(job_id, id),
                 lease_owner = $2, lease_until = $3, modified_at = $1
             WHERE id = (SELECT id FROM send_instances WHERE {DUE}
                         ORDER BY scheduled_at, id LIMIT 1 {skip})
               AND ({DUE})
             RETURNING {INSTANCE_COLUMNS}",
            skip = self.backend.skip_locked()
        );
        let _turn = self.write_turn().await;
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
        let _turn = self.write_turn().await;
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

    async fn refresh_recipient_statistics(&self) -> Result<(), StoreError> {
        self.analyze("recipients").await
    }

    async fn finish_resolution(
        &self,
        id: i64,
        owner: &str,
        targeted: i64,
        union_duplicates: i64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
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
        let mut tx = self.write_tx().await?;
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

    async fn record_and_claim(
        &self,
        owner: &str,
        outcomes: &[AttemptOutcome],
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<DeliveryTurn, StoreError> {
        let mut tx = self.write_tx().await?;
        let applied =
            super::outcomes::record_outcomes(&mut tx, self.backend, owner, outcomes, now).await?;
        let claimed = if limit > 0 {
            super::claims::claim_recipients(
                &mut tx,
                self.backend,
                &self.claim_cursors,
                owner,
                now,
                lease,
                limit,
            )
            .await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        Ok(DeliveryTurn { applied, claimed })
    }

    async fn release_recipient(
        &self,
        owner: &str,
        recipient_id: i64,
        attempt: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
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

    async fn has_pending_recipients(&self, instance_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM recipients
             WHERE instance_id = $1 AND status IN ('queued', 'deferred') LIMIT 1",
        )
        .bind(instance_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
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
    ) -> Result<Option<Settled>, StoreError> {
        let mut tx = self.write_tx().await?;
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
        // Recipients may still be written (a resolution whose node is alive).
        let still_resolving = resolving && resolver_alive;
        let union_duplicates: i64 = row.try_get("union_duplicates")?;
        // A cancel settles the recipients nobody holds a live lease on at once; those in
        // flight are settled by their outcome (or canceled once released or expired), so
        // `Canceled` comes when no recipient is pending any more.
        if status == InstanceStatus::CancelPending && !still_resolving {
            cancel_unleased_on(&mut tx, id, now).await?;
        }
        let counts = recipient_counts_on(&mut tx, id).await?;
        let next = match status {
            InstanceStatus::Sending if !resolving && counts.pending() == 0 => {
                InstanceStatus::Complete
            }
            InstanceStatus::CancelPending if counts.pending() == 0 && !still_resolving => {
                InstanceStatus::Canceled
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
        Ok(Some(Settled {
            status: next,
            pending: counts.pending(),
        }))
    }
}
