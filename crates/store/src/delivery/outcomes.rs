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
use crate::sql::{JsonColumn, Sql};
use crate::timestamp::to_millis;
use crate::{Backend, StoreError};

/// Applies the outcomes whose lease is still `owner`'s, in the caller's write transaction;
/// returns the ids of the recipients it applied to. Each applied `Sent` or `Bounced` outcome
/// appends its event, and a `Bounced` one suppresses the address as a hard bounce, in the
/// same transaction.
pub(super) async fn record_outcomes(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    owner: &str,
    outcomes: &[AttemptOutcome],
    now: OffsetDateTime,
) -> Result<HashSet<i64>, StoreError> {
    if outcomes.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = outcomes
        .iter()
        .map(|outcome| {
            let finished = !outcome.status.is_pending();
            serde_json::json!([
                outcome.recipient_id,
                outcome.attempt,
                outcome.status.as_str(),
                outcome.reply,
                outcome.next_attempt_at.map(to_millis).unwrap_or(0),
                finished.then(|| to_millis(now)),
            ])
        })
        .collect();
    let mut sql = Sql::new("WITH v AS (");
    sql.bind_json_rows(
        backend,
        &[
            JsonColumn::Int("id"),
            JsonColumn::Int("attempt"),
            JsonColumn::Text("status"),
            JsonColumn::Text("reply"),
            JsonColumn::Int("next_attempt_at"),
            JsonColumn::Int("completed_at"),
        ],
        rows,
    )
    .push(
        ") UPDATE recipients SET status = v.status, last_reply = v.reply,
             next_attempt_at = v.next_attempt_at, completed_at = v.completed_at,
             lease_owner = NULL, lease_until = NULL, recorded_attempts = attempts
         FROM v
         WHERE recipients.id = v.id AND recipients.attempts = v.attempt
           AND recipients.lease_owner = ",
    )
    .bind(owner)
    .push(" RETURNING recipients.id AS id");
    let mut applied = HashSet::with_capacity(outcomes.len());
    for row in sql.query().fetch_all(&mut *tx).await? {
        applied.insert(row.try_get::<i64, _>("id")?);
    }
    let recorded: Vec<&AttemptOutcome> = outcomes
        .iter()
        .filter(|outcome| applied.contains(&outcome.recipient_id))
        .collect();
    append_events(tx, backend, &recorded, now).await?;
    for outcome in recorded {
        if outcome.status == RecipientStatus::Bounced {
            suppress_bounced(tx, outcome, now).await?;
        }
    }
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
    backend: Backend,
    outcomes: &[&AttemptOutcome],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let rows: Vec<serde_json::Value> = outcomes
        .iter()
        .filter_map(|outcome| {
            let kind = event_of(outcome.status)?;
            // A relay's 5xx is a hard bounce, told apart from a notification's by source.
            let detail = outcome.reply.as_ref().map(|reply| match kind {
                EventKind::Bounced => {
                    serde_json::json!({ "reply": reply, "kind": "hard", "source": "smtp" })
                }
                _ => serde_json::json!({ "reply": reply }),
            });
            let detail = detail.map(|detail| detail.to_string());
            Some(serde_json::json!([
                outcome.recipient_id,
                kind.as_str(),
                detail
            ]))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("WITH v AS (");
    sql.bind_json_rows(
        backend,
        &[
            JsonColumn::Int("id"),
            JsonColumn::Text("kind"),
            JsonColumn::Text("detail"),
        ],
        rows,
    )
    .push(
        ") INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
         SELECT r.mid, r.instance_id, r.id, v.kind, v.detail, ",
    )
    .bind(to_millis(now))
    .push(" FROM v JOIN recipients r ON r.id = v.id ORDER BY r.id");
    sql.query().execute(&mut *tx).await?;
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
