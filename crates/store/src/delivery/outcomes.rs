//! Recording attempt outcomes in batches: one transaction for many outcomes, so a busy
//! node commits once per batch instead of once per message (SQLite's commit is the cost
//! that bounds a single writer; PostgreSQL pays a round trip per statement).

use std::collections::{HashMap, HashSet};

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
/// same transaction. On PostgreSQL the events are appended by the same statement (a
/// data-modifying `WITH`): one round trip fewer on each of the delivery writer's turns.
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
    let events: Vec<Option<OutcomeEvent>> = outcomes.iter().map(event_of).collect();
    let rows = outcomes
        .iter()
        .zip(&events)
        .map(|(outcome, event)| {
            let finished = !outcome.status.is_pending();
            serde_json::json!([
                outcome.recipient_id,
                outcome.attempt,
                outcome.status.as_str(),
                outcome.reply,
                outcome.next_attempt_at.map(to_millis).unwrap_or(0),
                finished.then(|| to_millis(now)),
                event.as_ref().map(|(kind, _)| kind.as_str()),
                event.as_ref().and_then(|(_, detail)| detail.as_deref()),
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
            JsonColumn::Text("event_kind"),
            JsonColumn::Text("event_detail"),
        ],
        rows,
    )
    .push(match backend {
        Backend::Postgres => "), applied AS (",
        Backend::Sqlite => ") ",
    })
    .push(
        "UPDATE recipients SET status = v.status, last_reply = v.reply,
             next_attempt_at = v.next_attempt_at, completed_at = v.completed_at,
             lease_owner = NULL, lease_until = NULL, recorded_attempts = attempts
         FROM v
         WHERE recipients.id = v.id AND recipients.attempts = v.attempt
           AND recipients.lease_owner = ",
    )
    .bind(owner);
    match backend {
        Backend::Postgres => sql
            .push(
                " RETURNING recipients.id, recipients.mid, recipients.instance_id,
                     v.event_kind, v.event_detail),
                 logged AS (
                     INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
                     SELECT mid, instance_id, id, event_kind, event_detail, ",
            )
            .bind(to_millis(now))
            .push(
                " FROM applied WHERE event_kind IS NOT NULL ORDER BY id)
                 SELECT id, mid, instance_id FROM applied",
            ),
        Backend::Sqlite => sql.push(
            " RETURNING recipients.id AS id, recipients.mid AS mid,
                 recipients.instance_id AS instance_id",
        ),
    };
    let mut applied = HashSet::with_capacity(outcomes.len());
    let mut returned = Vec::new();
    for row in sql.query().fetch_all(&mut *tx).await? {
        let id: i64 = row.try_get("id")?;
        applied.insert(id);
        returned.push((
            id,
            row.try_get::<i64, _>("mid")?,
            row.try_get::<i64, _>("instance_id")?,
        ));
    }
    if backend == Backend::Sqlite {
        append_events(tx, outcomes, &events, &returned, now).await?;
    }
    for outcome in outcomes {
        if outcome.status == RecipientStatus::Bounced && applied.contains(&outcome.recipient_id) {
            suppress_bounced(tx, outcome, now).await?;
        }
    }
    Ok(applied)
}

/// An event an outcome appends to the log: its kind and detail (a JSON object).
type OutcomeEvent = (EventKind, Option<String>);

/// The event an outcome appends to the log, if any.
fn event_of(outcome: &AttemptOutcome) -> Option<OutcomeEvent> {
    let kind = match outcome.status {
        RecipientStatus::Sent => EventKind::Sent,
        RecipientStatus::Bounced => EventKind::Bounced,
        _ => return None,
    };
    // A relay's 5xx is a hard bounce, told apart from a notification's by source.
    let detail = outcome.reply.as_ref().map(|reply| match kind {
        EventKind::Bounced => {
            serde_json::json!({ "reply": reply, "kind": "hard", "source": "smtp" })
        }
        _ => serde_json::json!({ "reply": reply }),
    });
    Some((kind, detail.map(|detail| detail.to_string())))
}

/// SQLite's events of the applied outcomes (`events`: each outcome's, as `event_of` made
/// it; `applied`: recipient, mid, instance, as the update returned them), appended in
/// recipient order.
async fn append_events(
    tx: &mut sqlx::AnyConnection,
    outcomes: &[AttemptOutcome],
    events: &[Option<OutcomeEvent>],
    applied: &[(i64, i64, i64)],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let events: HashMap<i64, &OutcomeEvent> = outcomes
        .iter()
        .zip(events)
        .filter_map(|(outcome, event)| Some((outcome.recipient_id, event.as_ref()?)))
        .collect();
    let mut applied = applied.to_vec();
    applied.sort_unstable();
    let rows: Vec<serde_json::Value> = applied
        .iter()
        .filter_map(|(id, mid, instance_id)| {
            let (kind, detail) = events.get(id)?;
            Some(serde_json::json!([
                mid,
                instance_id,
                id,
                kind.as_str(),
                detail,
                to_millis(now)
            ]))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql =
        Sql::new("INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at) ");
    sql.bind_json_rows(
        Backend::Sqlite,
        &[
            JsonColumn::Int("mid"),
            JsonColumn::Int("instance_id"),
            JsonColumn::Int("recipient_id"),
            JsonColumn::Text("kind"),
            JsonColumn::Text("detail"),
            JsonColumn::Int("created_at"),
        ],
        rows,
    );
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
