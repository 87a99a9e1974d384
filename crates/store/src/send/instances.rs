//! Send instances: schedule a definition, read instances, and move them between statuses
//! with a compare-and-set.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus;
use sqlx::AnyConnection;
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use super::definitions::lock_definition;
use super::rows::{INSTANCE_COLUMNS, instance, to_flag};
use super::{SendInstance, SendPage};
use crate::sql::placeholders;
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait SendInstanceStore {
    /// Schedules a definition: creates a `Scheduled` instance that copies what the
    /// definition sends, to start at `schedule.start_at`. `None` if this MID has no such
    /// definition. Serialised with deleting the definition, so an instance is never
    /// scheduled from a definition being deleted.
    async fn schedule_send_definition(
        &self,
        mid: Mid,
        definition_id: i64,
        schedule: Schedule,
        now: OffsetDateTime,
    ) -> Result<Option<SendInstance>, StoreError>;

    /// The instance with this id, if this MID has it (whether or not its definition
    /// still exists).
    async fn get_send_instance(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SendInstance>, StoreError>;

    /// The MID's instances, of one definition or of all, oldest first: how many there
    /// are and the requested page.
    async fn list_send_instances(
        &self,
        mid: Mid,
        definition_id: Option<i64>,
        page: PageRequest,
    ) -> Result<SendPage<SendInstance>, StoreError>;

    /// Moves an instance to `to` if, and only if, its status is one of `from` right now
    /// (a compare-and-set: of two racing requests, one applies and the other gets
    /// `None`, as does an unknown id). Returns the updated instance.
    ///
    /// The first move to `Sending` records the start time; a move to a final status
    /// records the completion time. Callers take `from` and `to` from the domain's
    /// rules ([`InstanceStatus::on_request`], [`InstanceStatus::can_become`]).
    async fn transition_send_instance(
        &self,
        mid: Mid,
        id: i64,
        from: &[InstanceStatus],
        to: InstanceStatus,
        now: OffsetDateTime,
    ) -> Result<Option<SendInstance>, StoreError>;
}

/// Creates a `Scheduled` instance of the definition, copying what it sends. `None` if
/// this MID has no such definition. Runs on the caller's connection, so it can join
/// the caller's transaction.
pub(super) async fn insert_instance(
    conn: &mut AnyConnection,
    mid: Mid,
    definition_id: i64,
    schedule: Schedule,
    now: OffsetDateTime,
) -> Result<Option<SendInstance>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO send_instances (mid, definition_id, status, email_id,
             send_classification_id, targets, exclusions, deduplicate_by_email,
             all_recipients_opted_in, scheduled_at, created_at, modified_at)
         SELECT mid, id, $1, email_id, send_classification_id, targets, exclusions,
             deduplicate_by_email, $2, $3, $4, $4
         FROM send_definitions WHERE id = $5 AND mid = $6
         RETURNING {INSTANCE_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(InstanceStatus::Scheduled.as_str())
        .bind(to_flag(schedule.all_recipients_opted_in))
        .bind(to_millis(schedule.start_at))
        .bind(to_millis(now))
        .bind(definition_id)
        .bind(mid.get())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(instance).transpose()
}

#[async_trait::async_trait]
impl SendInstanceStore for SqlStore {
    async fn schedule_send_definition(
        &self,
        mid: Mid,
        definition_id: i64,
        schedule: Schedule,
        now: OffsetDateTime,
    ) -> Result<Option<SendInstance>, StoreError> {
        let mut tx = self.write_tx().await?;
        if !lock_definition(&mut tx, mid, definition_id).await? {
            return Ok(None);
        }
        let created = insert_instance(&mut tx, mid, definition_id, schedule, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get_send_instance(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SendInstance>, StoreError> {
        let sql =
            format!("SELECT {INSTANCE_COLUMNS} FROM send_instances WHERE id = $1 AND mid = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(mid.get())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(instance).transpose()?)
    }

    async fn list_send_instances(
        &self,
        mid: Mid,
        definition_id: Option<i64>,
        page: PageRequest,
    ) -> Result<SendPage<SendInstance>, StoreError> {
        let filter = "mid = $1 AND ($2 IS NULL OR definition_id = $2)";
        let count: i64 = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM send_instances WHERE {filter}"
        )))
        .bind(mid.get())
        .bind(definition_id)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let sql = format!(
            "SELECT {INSTANCE_COLUMNS} FROM send_instances WHERE {filter}
             ORDER BY id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(mid.get())
            .bind(definition_id)
            .bind(i64::from(page.page_size))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().map(instance).collect::<Result<_, _>>()?;
        Ok(SendPage { count, items })
    }

    async fn transition_send_instance(
        &self,
        mid: Mid,
        id: i64,
        from: &[InstanceStatus],
        to: InstanceStatus,
        now: OffsetDateTime,
    ) -> Result<Option<SendInstance>, StoreError> {
        debug_assert!(
            from.iter().all(|status| status.can_become(to)),
            "{from:?} cannot all become {to}"
        );
        if from.is_empty() {
            return Ok(None);
        }
        let now = to_millis(now);
        let sql = format!(
            "UPDATE send_instances SET
                 status = $1,
                 modified_at = $2,
                 started_at = COALESCE(started_at, $3),
                 completed_at = COALESCE(completed_at, $4)
             WHERE id = $5 AND mid = $6 AND status IN ({})
             RETURNING {INSTANCE_COLUMNS}",
            placeholders(7, from.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(to.as_str())
            .bind(now)
            .bind((to == InstanceStatus::Sending).then_some(now))
            .bind(to.is_final().then_some(now))
            .bind(id)
            .bind(mid.get());
        for status in from {
            query = query.bind(status.as_str());
        }
        let row = query.fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(instance).transpose()?)
    }
}
