//! Reading and deleting the rows of the three kinds the same way: each kind gives its
//! SELECT (its table aliased `o`) and its decoder as a [`Rows`].

use herald_domain::classification::id_in;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use super::{ClassificationError, Kind, Listing};
use crate::{SqlStore, StoreError};

/// The id to bind when matching `id = $n OR customer_key = $m`: ids are positive, so -1
/// matches nothing when `id_or_key` is a customer key.
pub(crate) fn id_param(id_or_key: &str) -> i64 {
    id_in(id_or_key).unwrap_or(-1)
}

/// How the objects of one kind are read.
pub(crate) struct Rows<T> {
    pub kind: Kind,
    /// The SELECT of the kind's objects in account `$1` (table aliased `o`), narrowed and
    /// ordered by the text given.
    pub select: fn(&str) -> String,
    pub decode: fn(&AnyRow) -> Result<T, sqlx::Error>,
}

impl<T: Send> Rows<T> {
    /// One page, oldest first, with the total.
    pub async fn page(
        &self,
        store: &SqlStore,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<T>, StoreError> {
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {} WHERE mid = $1",
            self.kind.table()
        )))
        .bind(mid.get())
        .fetch_one(&store.pool)
        .await?
        .try_get(0)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe((self.select)(
            "ORDER BY o.id LIMIT $2 OFFSET $3",
        )))
        .bind(mid.get())
        .bind(i64::from(page.page_size))
        .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .fetch_all(&store.pool)
        .await?;
        Ok(Listing {
            total: u64::try_from(total).unwrap_or_default(),
            items: rows.iter().map(self.decode).collect::<Result<_, _>>()?,
        })
    }

    /// The object with this id.
    pub async fn by_id<'c>(
        &self,
        executor: impl Executor<'c, Database = Any>,
        mid: Mid,
        id: i64,
    ) -> Result<Option<T>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe((self.select)("AND o.id = $2")))
            .bind(mid.get())
            .bind(id)
            .fetch_optional(executor)
            .await?;
        row.as_ref().map(self.decode).transpose()
    }

    /// The object `id_or_key` names: a digit string is an id, anything else a customer key.
    pub async fn find(
        &self,
        store: &SqlStore,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<T>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe((self.select)(
            "AND (o.id = $2 OR o.customer_key = $3)",
        )))
        .bind(mid.get())
        .bind(id_param(id_or_key))
        .bind(id_or_key.trim())
        .fetch_optional(&store.pool)
        .await?;
        Ok(row.as_ref().map(self.decode).transpose()?)
    }

    /// The object with this id, about to be changed inside a transaction.
    pub async fn current(
        &self,
        conn: &mut AnyConnection,
        mid: Mid,
        id: i64,
    ) -> Result<T, ClassificationError> {
        self.by_id(conn, mid, id)
            .await?
            .ok_or_else(|| ClassificationError::NotFound {
                kind: self.kind,
                reference: id.to_string(),
            })
    }

    /// Deletes the object with this id.
    pub async fn delete(
        &self,
        conn: &mut AnyConnection,
        mid: Mid,
        id: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE mid = $1 AND id = $2",
            self.kind.table()
        )))
        .bind(mid.get())
        .bind(id)
        .execute(conn)
        .await?;
        Ok(())
    }
}
