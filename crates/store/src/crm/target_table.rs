//! Campaigns and reports: the two kinds of targets kept in a table of their own, created,
//! read, listed, updated and deleted by one generic implementation. What differs between
//! them (their table, their own columns, the rows a report keeps beside its own) are the
//! hooks of [`TargetTable`].

use std::future::Future;

use herald_domain::crm::TargetKind;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::ids::mint;
use super::{CrmWriteError, Page, Slice};
use crate::sql::{Bind, Sql};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

/// One kind of target with its own table (campaigns, reports): the hooks of the generic
/// [`CrmTargetStore`].
pub trait TargetTable: Default + Copy + Send + Sync + 'static {
    /// What a create or an update writes.
    type Definition: Send + Sync + 'static;
    /// What is read back.
    type Saved: Send + 'static;
    /// The kind, for its id prefix.
    const KIND: TargetKind;
    /// The table (a fixed name, never client text).
    const TABLE: &'static str;
    /// The kind's own columns (all text), in the order [`TargetTable::values`] gives them.
    const COLUMNS: &'static [&'static str];

    /// The values of [`TargetTable::COLUMNS`] for a definition (None for NULL).
    fn values(definition: &Self::Definition) -> Vec<Option<String>>;

    /// Objects from rows of `id, created_at, modified_at, version` and
    /// [`TargetTable::COLUMNS`], in order.
    fn decode(
        conn: &mut AnyConnection,
        rows: Vec<AnyRow>,
    ) -> impl Future<Output = Result<Vec<Self::Saved>, StoreError>> + Send;

    /// Writes what the definition keeps outside the table, replacing what object `id`
    /// had there.
    fn write_rest(
        conn: &mut AnyConnection,
        id: SalesforceId,
        definition: &Self::Definition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Targets of kind `K` of one account. `kind` only says which kind (`Campaigns`,
/// `Reports`), so a call reads `store.get_target(Campaigns, mid, id)`.
#[async_trait::async_trait]
pub trait CrmTargetStore<K: TargetTable> {
    /// Creates one with a new id of its kind's prefix.
    async fn create_target(
        &self,
        kind: K,
        mid: Mid,
        definition: K::Definition,
        now: OffsetDateTime,
    ) -> Result<K::Saved, StoreError>;

    /// The one with this id in `mid`, if any.
    async fn get_target(
        &self,
        kind: K,
        mid: Mid,
        id: SalesforceId,
    ) -> Result<Option<K::Saved>, StoreError>;

    /// A page of them in creation order, with how many there are.
    async fn list_targets_of(
        &self,
        kind: K,
        mid: Mid,
        slice: Slice,
    ) -> Result<Page<K::Saved>, StoreError>;

    /// Replaces the definition of the one with this id, if it is still at `version` (the
    /// version read before deciding the change); the version is incremented. Else
    /// [`CrmWriteError::Stale`] and nothing changes. None when there is no such object.
    async fn update_target(
        &self,
        kind: K,
        mid: Mid,
        id: SalesforceId,
        version: i64,
        definition: K::Definition,
        now: OffsetDateTime,
    ) -> Result<Option<K::Saved>, CrmWriteError>;

    /// Deletes the one with this id (a campaign with its member list, not the records).
    /// False when there is no such object.
    async fn delete_target(&self, kind: K, mid: Mid, id: SalesforceId) -> Result<bool, StoreError>;
}

/// `SELECT` of a kind's columns from its table, up to `WHERE mid = `.
fn select<K: TargetTable>() -> String {
    format!(
        "SELECT id, created_at, modified_at, version, {} FROM {} WHERE mid = ",
        K::COLUMNS.join(", "),
        K::TABLE
    )
}

/// Reads one object of kind `K` of `mid`.
pub(crate) async fn load<K: TargetTable>(
    conn: &mut AnyConnection,
    mid: Mid,
    id: SalesforceId,
) -> Result<Option<K::Saved>, StoreError> {
    let mut sql = Sql::new(&select::<K>());
    sql.bind(mid.get()).push(" AND id = ").bind(id.to_string());
    let rows = sql.query().fetch_all(&mut *conn).await?;
    Ok(K::decode(conn, rows).await?.pop())
}

/// Whether object `id` of kind `K` is in `mid`.
pub(crate) async fn exists<K: TargetTable>(
    conn: &mut AnyConnection,
    mid: Mid,
    id: SalesforceId,
) -> Result<bool, StoreError> {
    let mut sql = Sql::new(&format!("SELECT 1 AS found FROM {} WHERE mid = ", K::TABLE));
    sql.bind(mid.get()).push(" AND id = ").bind(id.to_string());
    Ok(sql.query().fetch_optional(&mut *conn).await?.is_some())
}

#[async_trait::async_trait]
impl<K: TargetTable> CrmTargetStore<K> for SqlStore {
    async fn create_target(
        &self,
        _: K,
        mid: Mid,
        definition: K::Definition,
        now: OffsetDateTime,
    ) -> Result<K::Saved, StoreError> {
        let mut tx = self.write_tx().await?;
        let id = mint(&mut tx, K::KIND.key_prefix(), 1)
            .await?
            .pop()
            .expect("one id was minted");
        let mut sql = Sql::new(&format!(
            "INSERT INTO {} (id, mid, created_at, modified_at, {}) VALUES ",
            K::TABLE,
            K::COLUMNS.join(", ")
        ));
        let mut values = vec![
            Bind::Text(id.to_string()),
            Bind::Int(mid.get()),
            Bind::Int(to_millis(now)),
            Bind::Int(to_millis(now)),
        ];
        values.extend(K::values(&definition).into_iter().map(Bind::from));
        sql.bind_list(values);
        sql.query().execute(&mut *tx).await?;
        K::write_rest(&mut tx, id, &definition).await?;
        let created = load::<K>(&mut tx, mid, id).await?;
        tx.commit().await?;
        created.ok_or_else(|| StoreError::NotFound(format!("{} {id}", K::KIND)))
    }

    async fn get_target(
        &self,
        _: K,
        mid: Mid,
        id: SalesforceId,
    ) -> Result<Option<K::Saved>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load::<K>(&mut conn, mid, id).await
    }

    async fn list_targets_of(
        &self,
        _: K,
        mid: Mid,
        slice: Slice,
    ) -> Result<Page<K::Saved>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut count = Sql::new(&format!(
            "SELECT COUNT(*) AS n FROM {} WHERE mid = ",
            K::TABLE
        ));
        count.bind(mid.get());
        let count: i64 = count.query().fetch_one(&mut *conn).await?.try_get("n")?;
        let mut sql = Sql::new(&select::<K>());
        sql.bind(mid.get())
            .push(" ORDER BY id LIMIT ")
            .bind(i64::from(slice.limit))
            .push(" OFFSET ")
            .bind(i64::try_from(slice.offset).unwrap_or(i64::MAX));
        let rows = sql.query().fetch_all(&mut *conn).await?;
        let items = K::decode(&mut conn, rows).await?;
        Ok(Page { count, items })
    }

    async fn update_target(
        &self,
        _: K,
        mid: Mid,
        id: SalesforceId,
        version: i64,
        definition: K::Definition,
        now: OffsetDateTime,
    ) -> Result<Option<K::Saved>, CrmWriteError> {
        let mut tx = self.write_tx().await?;
        let mut sql = Sql::new(&format!("UPDATE {} SET modified_at = ", K::TABLE));
        sql.bind(to_millis(now)).push(", version = version + 1");
        for (column, value) in K::COLUMNS.iter().zip(K::values(&definition)) {
            sql.push(&format!(", {column} = ")).bind(value);
        }
        sql.push(" WHERE mid = ")
            .bind(mid.get())
            .push(" AND id = ")
            .bind(id.to_string())
            .push(" AND version = ")
            .bind(version);
        if sql.query().execute(&mut *tx).await?.rows_affected() == 0 {
            return match exists::<K>(&mut tx, mid, id).await? {
                true => Err(CrmWriteError::Stale),
                false => Ok(None),
            };
        }
        K::write_rest(&mut tx, id, &definition).await?;
        let updated = load::<K>(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_target(&self, _: K, mid: Mid, id: SalesforceId) -> Result<bool, StoreError> {
        let mut sql = Sql::new(&format!("DELETE FROM {} WHERE mid = ", K::TABLE));
        sql.bind(mid.get()).push(" AND id = ").bind(id.to_string());
        Ok(sql.query().execute(&self.pool).await?.rows_affected() == 1)
    }
}
