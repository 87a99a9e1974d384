//! Send definitions: create (alone or with its first instance), read, update, delete,
//! search.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::send::criteria::SearchCriteria;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus;
use sqlx::AnyConnection;
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use super::instances::insert_instance;
use super::rows::{DEFINITION_COLUMNS, definition, targets_json, to_flag};
use super::{
    DeleteDefinitionError, NewSendDefinition, SendDefinition, SendDefinitionChanges, SendInstance,
    SendPage, UpdateDefinitionError,
};
use crate::sql::placeholders;
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait SendDefinitionStore {
    /// Stores a new definition and returns it with its id.
    async fn create_send_definition(
        &self,
        new: NewSendDefinition,
    ) -> Result<SendDefinition, StoreError>;

    /// The one-step create: stores a definition and schedules its first instance in one
    /// transaction, so either both exist afterwards or neither does. The instance is
    /// created at `new.created_at`.
    async fn create_send_definition_and_instance(
        &self,
        new: NewSendDefinition,
        schedule: Schedule,
    ) -> Result<(SendDefinition, SendInstance), StoreError>;

    /// The definition with this id, if this MID has it.
    async fn get_send_definition(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SendDefinition>, StoreError>;

    /// Applies `changes` in one statement (fields left `None` keep their value) if the
    /// definition is still at `version`, increments it and returns the updated
    /// definition; `None` if this MID has no such definition, and
    /// [`UpdateDefinitionError::Stale`] (nothing written) if another update came first.
    /// Instances already scheduled keep what they were scheduled with.
    async fn update_send_definition(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        changes: SendDefinitionChanges,
        now: OffsetDateTime,
    ) -> Result<Option<SendDefinition>, UpdateDefinitionError>;

    /// Deletes a definition unless one of its instances is still live
    /// ([`InstanceStatus::LIVE`]). Its finished instances stay, readable by their ids.
    async fn delete_send_definition(&self, mid: Mid, id: i64) -> Result<(), DeleteDefinitionError>;

    /// The definitions that match `criteria`, oldest first: the number of matches and
    /// the requested page of them.
    async fn search_send_definitions(
        &self,
        mid: Mid,
        criteria: &SearchCriteria,
        page: PageRequest,
    ) -> Result<SendPage<SendDefinition>, StoreError>;
}

/// Takes the definition's row lock (a no-op update) so that scheduling and deleting it
/// are serialised; false when this MID has no such definition. SQLite write
/// transactions are serialised already; PostgreSQL needs the row lock.
pub(super) async fn lock_definition(
    conn: &mut AnyConnection,
    mid: Mid,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query(
        "UPDATE send_definitions SET modified_at = modified_at WHERE id = $1 AND mid = $2",
    )
    .bind(id)
    .bind(mid.get())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(locked == 1)
}

async fn insert_definition(
    conn: &mut AnyConnection,
    new: &NewSendDefinition,
) -> Result<SendDefinition, sqlx::Error> {
    let sql = format!(
        "INSERT INTO send_definitions (mid, external_key, name, description, email_id,
             send_classification_id, targets, exclusions, deduplicate_by_email, created_at,
             modified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         RETURNING {DEFINITION_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(new.mid.get())
        .bind(&new.external_key)
        .bind(&new.name)
        .bind(&new.description)
        .bind(new.email_id)
        .bind(new.send_classification_id)
        .bind(targets_json(&new.targets)?)
        .bind(targets_json(&new.exclusions)?)
        .bind(to_flag(new.deduplicate_by_email))
        .bind(to_millis(new.created_at))
        .fetch_one(conn)
        .await?;
    definition(&row)
}

#[async_trait::async_trait]
impl SendDefinitionStore for SqlStore {
    async fn create_send_definition(
        &self,
        new: NewSendDefinition,
    ) -> Result<SendDefinition, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(insert_definition(&mut conn, &new).await?)
    }

    async fn create_send_definition_and_instance(
        &self,
        new: NewSendDefinition,
        schedule: Schedule,
    ) -> Result<(SendDefinition, SendInstance), StoreError> {
        let mut tx = self.write_tx().await?;
        let created = insert_definition(&mut tx, &new).await?;
        let instance = insert_instance(&mut tx, new.mid, created.id, schedule, new.created_at)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("send definition {}", created.id)))?;
        tx.commit().await?;
        Ok((created, instance))
    }

    async fn get_send_definition(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SendDefinition>, StoreError> {
        let sql =
            format!("SELECT {DEFINITION_COLUMNS} FROM send_definitions WHERE id = $1 AND mid = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(mid.get())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(definition).transpose()?)
    }

    async fn update_send_definition(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        changes: SendDefinitionChanges,
        now: OffsetDateTime,
    ) -> Result<Option<SendDefinition>, UpdateDefinitionError> {
        let sql = format!(
            "UPDATE send_definitions SET
                 name = COALESCE($1, name),
                 description = COALESCE($2, description),
                 email_id = COALESCE($3, email_id),
                 send_classification_id = COALESCE($4, send_classification_id),
                 targets = COALESCE($5, targets),
                 exclusions = COALESCE($6, exclusions),
                 deduplicate_by_email = COALESCE($7, deduplicate_by_email),
                 modified_at = $8,
                 version = version + 1
             WHERE id = $9 AND mid = $10 AND version = $11
             RETURNING {DEFINITION_COLUMNS}"
        );
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(changes.name)
            .bind(changes.description)
            .bind(changes.email_id)
            .bind(changes.send_classification_id)
            .bind(changes.targets.as_deref().map(targets_json).transpose()?)
            .bind(
                changes
                    .exclusions
                    .as_deref()
                    .map(targets_json)
                    .transpose()?,
            )
            .bind(changes.deduplicate_by_email.map(to_flag))
            .bind(to_millis(now))
            .bind(id)
            .bind(mid.get())
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        let updated = match row {
            Some(row) => Some(definition(&row)?),
            // Nothing written: the definition is gone, or at another version.
            None if lock_definition(&mut tx, mid, id).await? => {
                return Err(UpdateDefinitionError::Stale { id, version });
            }
            None => None,
        };
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_send_definition(&self, mid: Mid, id: i64) -> Result<(), DeleteDefinitionError> {
        let mut tx = self.write_tx().await?;
        if !lock_definition(&mut tx, mid, id).await? {
            return Err(DeleteDefinitionError::NotFound);
        }
        let live = InstanceStatus::LIVE;
        let sql = format!(
            "SELECT id, status FROM send_instances
             WHERE mid = $1 AND definition_id = $2 AND status IN ({})
             ORDER BY id LIMIT 1",
            placeholders(3, live.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(mid.get()).bind(id);
        for status in live {
            query = query.bind(status.as_str());
        }
        if let Some(row) = query.fetch_optional(&mut *tx).await? {
            let status: String = row.try_get("status")?;
            return Err(DeleteDefinitionError::InUse {
                instance_id: row.try_get("id")?,
                status: InstanceStatus::parse(&status)
                    .map_err(|err| sqlx::Error::Decode(err.into()))?,
            });
        }
        sqlx::query("DELETE FROM send_definitions WHERE id = $1 AND mid = $2")
            .bind(id)
            .bind(mid.get())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_send_definitions(
        &self,
        mid: Mid,
        criteria: &SearchCriteria,
        page: PageRequest,
    ) -> Result<SendPage<SendDefinition>, StoreError> {
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let size = i64::from(page.page_size);
        if criteria.matches_everything() {
            let count: i64 = sqlx::query("SELECT COUNT(*) FROM send_definitions WHERE mid = $1")
                .bind(mid.get())
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
            let sql = format!(
                "SELECT {DEFINITION_COLUMNS} FROM send_definitions WHERE mid = $1
                 ORDER BY id LIMIT $2 OFFSET $3"
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(mid.get())
                .bind(size)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
            let items = rows.iter().map(definition).collect::<Result<_, _>>()?;
            return Ok(SendPage { count, items });
        }
        // Name is matched without regard to case (Unicode-aware) and target ids in
        // either of their forms: the domain's predicate decides, over the MID's
        // definitions, so that both backends agree exactly.
        let sql =
            format!("SELECT {DEFINITION_COLUMNS} FROM send_definitions WHERE mid = $1 ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(mid.get())
            .fetch_all(&self.pool)
            .await?;
        let mut matches = Vec::new();
        for row in &rows {
            let candidate = definition(row)?;
            if criteria.matches(&candidate.name, &candidate.targets) {
                matches.push(candidate);
            }
        }
        let count = i64::try_from(matches.len()).unwrap_or(i64::MAX);
        let items = matches
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .collect();
        Ok(SendPage { count, items })
    }
}
