//! Claiming due recipients for delivery. Each claim reads the pending recipients of one
//! delivering instance through the partial index `recipients_pending`, in the order they
//! fell due, and stops at the limit: its cost does not grow with the size of the queue.
//!
//! A claim also starts where the store's last claim of that instance stopped (its
//! cursor), not at the front of the queue: the front holds the recipients in flight
//! (pending until their outcome, leased) and the index entries of those already sent
//! (dead until vacuum), which a claim from the front steps over every time: 1 ms of a
//! PostgreSQL claim of ~90 in a 100k send. A claim that finds fewer after the cursor than
//! it asked for looks again from the front at once and drops the cursor: whatever was
//! passed over (a recipient released, or whose lease ran out) is claimed then.
//!
//! The list of delivering instances a claim goes through is read again only when the last
//! reading is older than [`FRESH`] or the claim comes up short: a busy node's claims skip
//! that round trip, a new send waits at most [`FRESH`] behind a busy one, and a claim's own
//! statement checks that its instance still delivers.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use herald_domain::mid::Mid;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::engine::ClaimedRecipient;
use super::recipients::{RECIPIENT_COLUMNS, recipient};
use crate::timestamp::to_millis;
use crate::{Backend, StoreError};

/// The cursor of a claim that starts at the front of the queue.
const FRONT: (i64, i64) = (i64::MIN, i64::MIN);

/// How long a reading of the delivering instances serves claims that find all they ask.
const FRESH: std::time::Duration = std::time::Duration::from_millis(200);

/// What the store remembers between claims.
#[derive(Debug, Default)]
struct Remembered {
    /// Where each instance's last claim stopped: the `(next_attempt_at, id)` of the last
    /// recipient it took.
    cursors: HashMap<i64, (i64, i64)>,
    /// The delivering instances, oldest first, and when they were read.
    delivering: Option<(Instant, Vec<i64>)>,
}

/// The claims' memory: cursors and the delivering instances.
#[derive(Debug, Default)]
pub(crate) struct ClaimCursors(Mutex<Remembered>);

impl ClaimCursors {
    /// The memory; a panic elsewhere while it was held leaves cursors that are still
    /// usable (at worst one points past a recipient, which the next wrap claims).
    fn lock(&self) -> MutexGuard<'_, Remembered> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, instance_id: i64) -> (i64, i64) {
        let remembered = self.lock();
        remembered
            .cursors
            .get(&instance_id)
            .copied()
            .unwrap_or(FRONT)
    }

    fn set(&self, instance_id: i64, cursor: Option<(i64, i64)>) {
        let mut remembered = self.lock();
        match cursor {
            Some(cursor) => remembered.cursors.insert(instance_id, cursor),
            None => remembered.cursors.remove(&instance_id),
        };
    }

    /// The delivering instances as last read, if that was less than [`FRESH`] ago.
    fn delivering(&self) -> Option<Vec<i64>> {
        let remembered = self.lock();
        let (read_at, instances) = remembered.delivering.as_ref()?;
        (read_at.elapsed() < FRESH).then(|| instances.clone())
    }

    /// Remembers the delivering instances just read, and forgets the cursors of those no
    /// longer delivering (ended, paused, canceled).
    fn read(&self, delivering: &[i64]) {
        let mut remembered = self.lock();
        remembered
            .cursors
            .retain(|instance_id, _| delivering.contains(instance_id));
        remembered.delivering = Some((Instant::now(), delivering.to_vec()));
    }
}

/// Claims up to `limit` due recipients, oldest instance first, inside the caller's write
/// transaction.
pub(super) async fn claim_recipients(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    cursors: &ClaimCursors,
    owner: &str,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedRecipient>, StoreError> {
    let claimant = Claimant { owner, now, lease };
    let mut claimed = Vec::new();
    let mut tried = Vec::new();
    if let Some(instances) = cursors.delivering() {
        claim_each(
            tx,
            backend,
            cursors,
            &claimant,
            &instances,
            limit,
            &mut claimed,
        )
        .await?;
        if claimed.len() as i64 == limit {
            return Ok(claimed);
        }
        tried = instances;
    }
    // Short (or nothing remembered): read the delivering instances again, and go on with
    // those not tried yet.
    let instances: Vec<i64> = sqlx::query(
        "SELECT id FROM send_instances WHERE status = 'Sending' AND phase = 'delivering'
         ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<Result<_, _>>()?;
    cursors.read(&instances);
    let untried: Vec<i64> = instances
        .into_iter()
        .filter(|instance_id| !tried.contains(instance_id))
        .collect();
    claim_each(
        tx,
        backend,
        cursors,
        &claimant,
        &untried,
        limit,
        &mut claimed,
    )
    .await?;
    Ok(claimed)
}

/// Claims due recipients of `instances` in turn, until `claimed` holds `limit`.
async fn claim_each(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    cursors: &ClaimCursors,
    claimant: &Claimant<'_>,
    instances: &[i64],
    limit: i64,
    claimed: &mut Vec<ClaimedRecipient>,
) -> Result<(), StoreError> {
    for &instance_id in instances {
        let wanted = limit - claimed.len() as i64;
        if wanted <= 0 {
            break;
        }
        let mut cursor = cursors.get(instance_id);
        loop {
            let wanted = limit - claimed.len() as i64;
            let (picked, stopped_at) =
                claim_from(tx, backend, instance_id, cursor, claimant, wanted).await?;
            let full = picked.len() as i64 == wanted;
            cursors.set(instance_id, stopped_at.filter(|_| full));
            claimed.extend(picked);
            // Short after a cursor: look again from the front, once.
            if full || cursor == FRONT {
                break;
            }
            cursor = FRONT;
        }
    }
    Ok(())
}

/// Who claims, when, and for how long.
struct Claimant<'a> {
    owner: &'a str,
    now: OffsetDateTime,
    lease: Duration,
}

/// Claims up to `limit` due recipients of one instance after `cursor`, if it is still
/// delivering; with the cursor after the last of them.
async fn claim_from(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    instance_id: i64,
    cursor: (i64, i64),
    claimant: &Claimant<'_>,
    limit: i64,
) -> Result<(Vec<ClaimedRecipient>, Option<(i64, i64)>), StoreError> {
    let Claimant { owner, now, lease } = *claimant;
    // The picked ids are materialized once: as `WHERE id IN (SELECT … LIMIT …)`,
    // PostgreSQL may run the subquery again while updating (a re-check, or a plan that
    // rescans it), and with SKIP LOCKED each run picks other rows; a claim of 16 once took
    // 1,423 recipients, whose leases then ran out before their turn.
    let sql = format!(
        "WITH picked AS MATERIALIZED (
             SELECT id FROM recipients
             WHERE instance_id = $5 AND status IN ('queued', 'deferred')
               AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
               AND (next_attempt_at, id) > ($6, $7)
             ORDER BY next_attempt_at, id LIMIT $4 {skip})
         UPDATE recipients SET lease_owner = $1, lease_until = $2, attempts = attempts + 1,
             first_attempt_at = COALESCE(first_attempt_at, $3)
         WHERE id IN (SELECT id FROM picked)
           AND EXISTS (SELECT 1 FROM send_instances
                       WHERE id = $5 AND status = 'Sending' AND phase = 'delivering')
         RETURNING {RECIPIENT_COLUMNS}, mid, recorded_attempts",
        skip = backend.skip_locked()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .bind(limit)
        .bind(instance_id)
        .bind(cursor.0)
        .bind(cursor.1)
        .fetch_all(&mut *tx)
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
    let mut stopped_at = None;
    for row in &rows {
        let position = (
            row.try_get::<i64, _>("next_attempt_at")?,
            row.try_get("id")?,
        );
        stopped_at = stopped_at.max(Some(position));
    }
    Ok((claimed, stopped_at))
}
