//! The SQL the three kinds share: one generic [`ClassificationStore`] over the per-kind
//! [`Columns`]. Every write is one transaction that reads the object again before it
//! commits.

use herald_domain::classification::{CustomerKey, id_in};
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;

use super::columns::Columns;
use super::{
    ClassificationError, ClassificationStore, Kind, Listing, MetaFields, ObjectMeta, meta_columns,
    new_object_id, written_or_stale,
};
use crate::sql::{Bind, Sql};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

/// The id to bind when matching `id = $n OR customer_key = $m`: ids are positive, so -1
/// matches nothing when `id_or_key` is a customer key.
pub(crate) fn id_param(id_or_key: &str) -> i64 {
    id_in(id_or_key).unwrap_or(-1)
}

/// The SELECT of kind `C`'s objects in account `$1` (table aliased `o`), narrowed and
/// ordered by `rest`.
fn select<C: Columns>(rest: &str) -> String {
    format!(
        "SELECT {}{} FROM {} o {} WHERE o.mid = $1 {rest}",
        meta_columns("o"),
        C::SELECT,
        C::KIND.table(),
        C::JOINS,
    )
}

/// The object with this id.
async fn by_id<'c, C: Columns>(
    executor: impl Executor<'c, Database = Any>,
    mid: Mid,
    id: i64,
) -> Result<Option<C>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(select::<C>("AND o.id = $2")))
        .bind(mid.get())
        .bind(id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(C::decode).transpose()
}

/// The object with this id, about to be changed inside a transaction.
async fn current<C: Columns>(
    conn: &mut AnyConnection,
    mid: Mid,
    id: i64,
) -> Result<C, ClassificationError> {
    by_id(conn, mid, id)
        .await?
        .ok_or_else(|| ClassificationError::NotFound {
            kind: C::KIND,
            reference: id.to_string(),
        })
}

/// The object id and customer key of an object about to be created.
fn new_keys(meta: &MetaFields) -> (String, String) {
    let object_id = new_object_id();
    let key = meta
        .customer_key
        .as_ref()
        .map_or_else(|| object_id.clone(), |key| key.as_str().to_owned());
    (object_id, key)
}

/// Maps a unique-key violation to [`ClassificationError::DuplicateKey`].
fn duplicate_key(kind: Kind, customer_key: &str) -> impl Fn(sqlx::Error) -> ClassificationError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ClassificationError::DuplicateKey {
                kind,
                customer_key: customer_key.to_owned(),
            }
        }
        _ => err.into(),
    }
}

/// The customer key an update leaves in place: the new one, or the current one; a default
/// object's key never changes.
fn key_after_update(
    kind: Kind,
    current: &ObjectMeta,
    requested: Option<&CustomerKey>,
) -> Result<String, ClassificationError> {
    match requested {
        Some(key) if key.as_str() != current.customer_key => {
            if current.is_default {
                return Err(ClassificationError::DefaultKeyFixed {
                    kind,
                    customer_key: current.customer_key.clone(),
                });
            }
            Ok(key.as_str().to_owned())
        }
        _ => Ok(current.customer_key.clone()),
    }
}

#[async_trait::async_trait]
impl<C: Columns> ClassificationStore<C> for SqlStore {
    async fn list(&self, mid: Mid, page: PageRequest) -> Result<Listing<C>, StoreError> {
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {} WHERE mid = $1",
            C::KIND.table()
        )))
        .bind(mid.get())
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(select::<C>(
            "ORDER BY o.id LIMIT $2 OFFSET $3",
        )))
        .bind(mid.get())
        .bind(i64::from(page.page_size))
        .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(Listing {
            total: u64::try_from(total).unwrap_or_default(),
            items: rows.iter().map(C::decode).collect::<Result<_, _>>()?,
        })
    }

    async fn get(&self, mid: Mid, id: i64) -> Result<Option<C>, StoreError> {
        Ok(by_id(&self.pool, mid, id).await?)
    }

    async fn find(&self, mid: Mid, id_or_key: &str) -> Result<Option<C>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(select::<C>(
            "AND (o.id = $2 OR o.customer_key = $3)",
        )))
        .bind(mid.get())
        .bind(id_param(id_or_key))
        .bind(id_or_key.trim())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(C::decode).transpose()?)
    }

    async fn create(
        &self,
        mid: Mid,
        fields: C::Fields,
        now: OffsetDateTime,
    ) -> Result<C, ClassificationError> {
        let meta = C::meta_fields(&fields);
        let (object_id, key) = new_keys(meta);
        let mut tx = self.write_tx().await?;
        let written = C::written(&mut tx, mid, &fields, None).await?;
        let mut sql = Sql::new(&format!(
            "INSERT INTO {} (mid, object_id, customer_key, name, description",
            C::KIND.table()
        ));
        for (column, _) in &written {
            sql.push(", ").push(column);
        }
        sql.push(", is_default, created_at, modified_at) VALUES ");
        let shared: [Bind; 5] = [
            mid.get().into(),
            object_id.into(),
            key.as_str().into(),
            meta.name.as_str().into(),
            meta.description.as_str().into(),
        ];
        let now = to_millis(now);
        sql.bind_list(
            shared
                .into_iter()
                .chain(written.into_iter().map(|(_, value)| value))
                .chain([Bind::Int(0), now.into(), now.into()]),
        )
        .push(" RETURNING id");
        let id: i64 = sql
            .query()
            .fetch_one(&mut *tx)
            .await
            .map_err(duplicate_key(C::KIND, &key))?
            .try_get(0)?;
        let created = current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: C::Fields,
        now: OffsetDateTime,
    ) -> Result<C, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let before: C = current(&mut tx, mid, id).await?;
        let meta = C::meta_fields(&fields);
        let key = key_after_update(C::KIND, before.meta(), meta.customer_key.as_ref())?;
        let written = C::written(&mut tx, mid, &fields, Some(&before)).await?;
        let mut sql = Sql::new(&format!("UPDATE {} SET customer_key = ", C::KIND.table()));
        sql.bind(key.as_str())
            .push(", name = ")
            .bind(meta.name.as_str())
            .push(", description = ")
            .bind(meta.description.as_str());
        for (column, value) in written {
            sql.push(", ").push(column).push(" = ").bind(value);
        }
        sql.push(", version = version + 1, modified_at = ")
            .bind(to_millis(now))
            .push(" WHERE mid = ")
            .bind(mid.get())
            .push(" AND id = ")
            .bind(id)
            .push(" AND version = ")
            .bind(version);
        let written = sql
            .query()
            .execute(&mut *tx)
            .await
            .map_err(duplicate_key(C::KIND, &key))?;
        written_or_stale(C::KIND, &written, before.meta())?;
        let updated = current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete(&self, mid: Mid, id: i64) -> Result<C, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let before: C = current(&mut tx, mid, id).await?;
        let meta = before.meta();
        if meta.is_default {
            return Err(ClassificationError::DefaultUndeletable {
                kind: C::KIND,
                customer_key: meta.customer_key.clone(),
            });
        }
        let users = C::users(&mut tx, mid, id).await?;
        if !users.is_empty() {
            return Err(ClassificationError::InUse {
                kind: C::KIND,
                name: meta.name.clone(),
                users,
            });
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE mid = $1 AND id = $2",
            C::KIND.table()
        )))
        .bind(mid.get())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(before)
    }
}
