//! Recording attempt outcomes in batches: one transaction for many outcomes, so a busy
//! node commits once per batch instead of once per message (SQLite's commit is the cost
//! that bounds a single writer; PostgreSQL pays a round trip per statement).

use std::collections::HashSet;

use herald_domain::event::EventKind;
use herald_domain::recipient::RecipientStatus;
use sqlx::Row;
use time::OffsetDateTime;

use super::engine::AttemptOutcome;
use super::suppressions::KEEP_OR_HARDEN;
use crate::sql::{Bind, Sql, insert_rows};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

/// Applies the outcomes whose lease is still `owner`'s, in one transaction; returns the
/// ids of the recipients it applied to. Each applied `Sent` or `Bounced` outcome appends
/// its event, and a `Bounced` one suppresses the address as a hard bounce, in the same
/// transaction.
pub(super) async fn record_outcomes(
    store: &SqlStore,
    owner: &str,
    outcomes: &[AttemptOutcome],
    now: OffsetDateTime,
) -> Result<HashSet<i64>, StoreError> {
    let mut tx = store.pool.begin_with(store.begin_write()).await?;
    let mut applied = HashSet::with_capacity(outcomes.len());
    for chunk in outcomes.chunks(insert_rows(6)) {
        let mut sql = Sql::new(
            "WITH v (id, attempt, status, reply, next_attempt_at, completed_at) AS (VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|outcome| {
            let finished = !outcome.status.is_pending();
            [
                Bind::Int(outcome.recipient_id),
                Bind::Int(outcome.attempt),
                Bind::from(outcome.status.as_str()),
                Bind::OptionalText(outcome.reply.clone()),
                Bind::Int(outcome.next_attempt_at.map(to_millis).unwrap_or(0)),
                Bind::OptionalInt(finished.then(|| to_millis(now))),
            ]
        }));
        sql.push(
            ") UPDATE recipients SET status = v.status, last_reply = v.reply,
                 next_attempt_at = v.next_attempt_at, completed_at = v.completed_at,
                 lease_owner = NULL, lease_until = NULL, recorded_attempts = attempts
             FROM v
             WHERE recipients.id = v.id AND recipients.attempts = v.attempt
               AND recipients.lease_owner = ",
        )
        .bind(owner)
        .push(" RETURNING recipients.id AS id");
        for row in sql.query().fetch_all(&mut *tx).await? {
            applied.insert(row.try_get::<i64, _>("id")?);
        }
    }
    let recorded: Vec<&AttemptOutcome> = outcomes
        .iter()
        .filter(|outcome| applied.contains(&outcome.recipient_id))
        .collect();
    append_events(&mut tx, &recorded, now).await?;
    for outcome in recorded {
        if outcome.status == RecipientStatus::Bounced {
            suppress_bounced(&mut tx, outcome, now).await?;
        }
    }
    tx.commit().await?;
    Ok(applied)
}

/// The event an outcome appends to the log, if any.
fn event_of(status: RecipientStatus) -> Option<EventKind> {
    match status {
        RecipientStatus::Sent => Some(EventKind::Sent),
        RecipientStatus::Bounced => Some(EventKind::Bounced),
        _ => None,
    }
}

async fn append_events(
    tx: &mut sqlx::AnyConnection,
    outcomes: &[&AttemptOutcome],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let events: Vec<(&AttemptOutcome, EventKind)> = outcomes
        .iter()
        .filter_map(|outcome| event_of(outcome.status).map(|kind| (*outcome, kind)))
        .collect();
    for chunk in events.chunks(insert_rows(3)) {
        let mut sql = Sql::new("WITH v (id, kind, detail) AS (VALUES ");
        sql.bind_rows(chunk.iter().map(|(outcome, kind)| {
            // A relay's 5xx is a hard bounce, told apart from a notification's by source.
            let detail = outcome.reply.as_ref().map(|reply| match kind {
                EventKind::Bounced => {
                    serde_json::json!({ "reply": reply, "kind": "hard", "source": "smtp" })
                }
                _ => serde_json::json!({ "reply": reply }),
            });
            let detail = detail.map(|detail| detail.to_string());
            [
                Bind::Int(outcome.recipient_id),
                Bind::from(kind.as_str()),
                Bind::OptionalText(detail),
            ]
        }));
        sql.push(
            ") INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
             SELECT r.mid, r.instance_id, r.id, v.kind, v.detail, ",
        )
        .bind(to_millis(now))
        .push(" FROM v JOIN recipients r ON r.id = v.id ORDER BY r.id");
        sql.query().execute(&mut *tx).await?;
    }
    Ok(())
}

/// A bounce puts the address on the account's suppression list as a hard bounce.
async fn suppress_bounced(
    tx: &mut sqlx::AnyConnection,
    outcome: &AttemptOutcome,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
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
    Ok(())
}
