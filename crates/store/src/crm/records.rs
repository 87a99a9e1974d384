//! Contacts and Leads: create, read, update, delete, list, and batch upserts.

use herald_domain::crm::{CrmObject, RecordChanges};
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::Row;
use time::OffsetDateTime;

use super::decode::{self, RECORD_COLUMNS};
use super::fields;
use super::ids::lock_account;
use super::write::{RowTarget, lookup, write_rows};
use super::{CrmWriteError, MatchOn, Page, RowOutcome, Slice, StoredRecord};
use crate::sql::Sql;
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait CrmRecordStore {
    /// The custom field names `object` has in `mid`, sorted without regard to case.
    async fn custom_fields(&self, mid: Mid, object: CrmObject) -> Result<Vec<String>, StoreError>;

    /// Creates a record; `changes` must carry an Email.
    async fn create_record(
        &self,
        mid: Mid,
        object: CrmObject,
        changes: RecordChanges,
        now: OffsetDateTime,
    ) -> Result<StoredRecord, CrmWriteError>;

    /// Changes the fields `changes` names on an existing record, if it is still at
    /// `version` (the version read before deciding the change; it is incremented). Else
    /// [`CrmWriteError::Stale`], and nothing changes.
    async fn update_record(
        &self,
        mid: Mid,
        object: CrmObject,
        id: SalesforceId,
        version: i64,
        changes: RecordChanges,
        now: OffsetDateTime,
    ) -> Result<StoredRecord, CrmWriteError>;

    /// Creates or updates records matched on `match_on`, one outcome per row in order.
    /// Rows that break a rule are not written; the others are, together. Meant to be
    /// called in batches (the REST API takes up to 10,000 rows, a CSV import as many per
    /// call); a batch is held in memory.
    async fn upsert_records(
        &self,
        mid: Mid,
        object: CrmObject,
        match_on: MatchOn,
        rows: Vec<RecordChanges>,
        now: OffsetDateTime,
    ) -> Result<Vec<RowOutcome>, StoreError>;

    /// The records of `object` in `mid` that rows with these keys would match, as
    /// `(key, id)` pairs; keys are made by [`MatchOn::key`]. A key may match several
    /// records (an Email), or none.
    async fn matching_records(
        &self,
        mid: Mid,
        object: CrmObject,
        match_on: MatchOn,
        keys: &[String],
    ) -> Result<Vec<(String, SalesforceId)>, StoreError>;

    /// Brings the database's statistics on records, their field values and campaign
    /// memberships up to date
    /// (PostgreSQL's `ANALYZE`; nothing to do on SQLite, which plans without them). A
    /// bulk load calls it as the tables grow: statistics taken while they were nearly
    /// empty make look-ups scan instead of using their indexes, and autovacuum may be
    /// slow to notice, or off.
    async fn refresh_record_statistics(&self) -> Result<(), StoreError>;

    /// The record of `object` with this id in `mid`, if any.
    async fn get_record(
        &self,
        mid: Mid,
        object: CrmObject,
        id: SalesforceId,
    ) -> Result<Option<StoredRecord>, StoreError>;

    /// Records of `object` in id order (creation order), optionally only those with
    /// `email` (compared without regard to case).
    async fn list_records(
        &self,
        mid: Mid,
        object: CrmObject,
        email: Option<&EmailAddress>,
        slice: Slice,
    ) -> Result<Page<StoredRecord>, StoreError>;

    /// Deletes a record, its custom values and its campaign memberships. False when
    /// there is no such record.
    async fn delete_record(
        &self,
        mid: Mid,
        object: CrmObject,
        id: SalesforceId,
    ) -> Result<bool, StoreError>;

    /// Sets or clears `HasOptedOutOfEmail` on a Contact or Lead. False when there is no
    /// such record.
    async fn set_opted_out(
        &self,
        mid: Mid,
        id: SalesforceId,
        opted_out: bool,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

impl SqlStore {
    /// Writes one row and reads the record back.
    async fn write_one(
        &self,
        mid: Mid,
        object: CrmObject,
        target: RowTarget,
        changes: RecordChanges,
        now: OffsetDateTime,
    ) -> Result<StoredRecord, CrmWriteError> {
        let outcome = write_rows(self, mid, object, vec![(target, changes)], now)
            .await?
            .pop();
        let id = match outcome {
            Some(RowOutcome::Created(id) | RowOutcome::Updated(id)) => id,
            Some(RowOutcome::Failed(super::RowError::NotFound)) | None => {
                return Err(CrmWriteError::NotFound);
            }
            Some(RowOutcome::Failed(super::RowError::Stale)) => return Err(CrmWriteError::Stale),
            Some(RowOutcome::Failed(err)) => return Err(CrmWriteError::Row(err)),
        };
        self.get_record(mid, object, id)
            .await?
            .ok_or(CrmWriteError::NotFound)
    }
}

#[async_trait::async_trait]
impl CrmRecordStore for SqlStore {
    async fn custom_fields(&self, mid: Mid, object: CrmObject) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fields::custom_field_names(&mut conn, mid, object).await
    }

    async fn create_record(
        &self,
        mid: Mid,
        object: CrmObject,
        changes: RecordChanges,
        now: OffsetDateTime,
    ) -> Result<StoredRecord, CrmWriteError> {
        self.write_one(mid, object, RowTarget::Create, changes, now)
            .await
    }

    async fn update_record(
        &self,
        mid: Mid,
        object: CrmObject,
        id: SalesforceId,
        version: i64,
        changes: RecordChanges,
        now: OffsetDateTime,
    ) -> Result<StoredRecord, CrmWriteError> {
        self.write_one(mid, object, RowTarget::Update(id, version), changes, now)
            .await
    }

    async fn upsert_records(
        &self,
        mid: Mid,
        object: CrmObject,
        match_on: MatchOn,
        rows: Vec<RecordChanges>,
        now: OffsetDateTime,
    ) -> Result<Vec<RowOutcome>, StoreError> {
        let rows = rows
            .into_iter()
            .map(|changes| (RowTarget::Match(match_on), changes))
            .collect();
        write_rows(self, mid, object, rows, now).await
    }

    async fn matching_records(
        &self,
        mid: Mid,
        object: CrmObject,
        match_on: MatchOn,
        keys: &[String],
    ) -> Result<Vec<(String, SalesforceId)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let keys = keys.iter().cloned().collect();
        lookup(&mut conn, mid, object, match_on.key_column(), keys).await
    }

    async fn refresh_record_statistics(&self) -> Result<(), StoreError> {
        self.analyze("crm_records, crm_field_values, crm_campaign_members")
            .await
    }

    async fn get_record(
        &self,
        mid: Mid,
        object: CrmObject,
        id: SalesforceId,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM crm_records r WHERE r.mid = $1 AND r.object = $2 \
             AND r.id = $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(mid.get())
            .bind(object.name())
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await?;
        Ok(decode::records(&mut conn, &rows).await?.pop())
    }

    async fn list_records(
        &self,
        mid: Mid,
        object: CrmObject,
        email: Option<&EmailAddress>,
        slice: Slice,
    ) -> Result<Page<StoredRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let filter = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM crm_records r WHERE r.mid = ")
                .bind(mid.get())
                .push(" AND r.object = ")
                .bind(object.name());
            if let Some(email) = email {
                sql.push(" AND r.email_key = ").bind(email.normalized());
            }
            sql
        };
        let count: i64 = filter("SELECT COUNT(*) AS n")
            .query()
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
        let mut sql = filter(&format!("SELECT {RECORD_COLUMNS}"));
        sql.push(" ORDER BY r.id LIMIT ")
            .bind(i64::from(slice.limit))
            .push(" OFFSET ")
            .bind(i64::try_from(slice.offset).unwrap_or(i64::MAX));
        let rows = sql.query().fetch_all(&mut *conn).await?;
        let items = decode::records(&mut conn, &rows).await?;
        Ok(Page { count, items })
    }

    async fn delete_record(
        &self,
        mid: Mid,
        object: CrmObject,
        id: SalesforceId,
    ) -> Result<bool, StoreError> {
        // Under the account lock, so that a campaign never gains a member being deleted.
        let mut tx = self.write_tx().await?;
        lock_account(&mut tx, self.backend, mid).await?;
        let deleted =
            sqlx::query("DELETE FROM crm_records WHERE mid = $1 AND object = $2 AND id = $3")
                .bind(mid.get())
                .bind(object.name())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(deleted == 1)
    }

    async fn set_opted_out(
        &self,
        mid: Mid,
        id: SalesforceId,
        opted_out: bool,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE crm_records SET has_opted_out = $1, modified_at = $2, version = version + 1
             WHERE mid = $3 AND id = $4",
        )
        .bind(i64::from(opted_out))
        .bind(to_millis(now))
        .bind(mid.get())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }
}
