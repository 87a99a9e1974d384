//! Accounts: the MIDs (business units) that own everything else.

use herald_domain::mid::Mid;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError, classifications};

/// An account (business unit), named by its MID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub mid: Mid,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait AccountStore {
    /// Creates an account with the next free MID, with its default sender and delivery
    /// profiles and send classifications, in one transaction. The first account (MID
    /// 100000001, "Herald") is created with the schema.
    async fn create_account(&self, name: &str, now: OffsetDateTime) -> Result<Account, StoreError>;
    async fn get_account(&self, mid: Mid) -> Result<Option<Account>, StoreError>;
    /// All accounts, oldest first.
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError>;
}

fn account(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        mid: Mid::from_stored(row.try_get("mid")?),
        name: row.try_get("name")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

#[async_trait::async_trait]
impl AccountStore for SqlStore {
    async fn create_account(&self, name: &str, now: OffsetDateTime) -> Result<Account, StoreError> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING mid, name, created_at",
        )
        .bind(name)
        .bind(to_millis(now))
        .fetch_one(&mut *tx)
        .await?;
        let created = account(&row)?;
        classifications::defaults::insert(&mut tx, created.mid, name, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get_account(&self, mid: Mid) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT mid, name, created_at FROM accounts WHERE mid = $1")
            .bind(mid.get())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(account).transpose()?)
    }

    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query("SELECT mid, name, created_at FROM accounts ORDER BY mid")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(account).collect::<Result<_, _>>()?)
    }
}
