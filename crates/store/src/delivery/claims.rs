//! Claiming due recipients for delivery. Each claim reads the pending recipients of one
//! delivering instance through the partial index `recipients_pending`, in the order they
//! fell due, and stops at the limit: its cost does not grow with the size of the queue.

use herald_domain::mid::Mid;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::engine::ClaimedRecipient;
use super::recipients::{RECIPIENT_COLUMNS, recipient};
use crate::timestamp::to_millis;
use crate::{Backend, StoreError};

/// Claims up to `limit` due recipients, oldest instance first, inside the caller's write
/// transaction.
pub(super) async fn claim_recipients(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    owner: &str,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedRecipient>, StoreError> {
    let instances: Vec<i64> = sqlx::query(
        "SELECT id FROM send_instances WHERE status = 'Sending' AND phase = 'delivering'
         ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<Result<_, _>>()?;
    let mut claimed = Vec::new();
    for instance_id in instances {
        let wanted = limit - claimed.len() as i64;
        if wanted <= 0 {
            break;
        }
        let picked = claim_from(tx, backend, instance_id, owner, now, lease, wanted).await?;
        claimed.extend(picked);
    }
    Ok(claimed)
}

/// Claims up to `limit` due recipients of one instance, if it is still delivering.
async fn claim_from(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    instance_id: i64,
    owner: &str,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedRecipient>, StoreError> {
    // The picked ids are materialized once: as `WHERE id IN (SELECT … LIMIT …)`,
    // PostgreSQL may run the subquery again while updating (a re-check, or a plan that
    // rescans it), and with SKIP LOCKED each run picks other rows; a claim of 16 once took
    // 1,423 recipients, whose leases then ran out before their turn.
    let sql = format!(
        "WITH picked AS MATERIALIZED (
             SELECT id FROM recipients
             WHERE instance_id = $5 AND status IN ('queued', 'deferred')
               AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
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
    Ok(claimed)
}
