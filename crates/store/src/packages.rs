//! Installed packages with an API Integration component: a client id, a hashed secret,
//! the scopes they grant and the account that owns them.

use herald_domain::mid::Mid;
use herald_domain::scope::ScopeSet;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// What it takes to create a package. The secret arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewPackage {
    pub client_id: String,
    pub mid: Mid,
    pub name: String,
    pub secret_hash: String,
    pub scopes: ScopeSet,
    pub created_at: OffsetDateTime,
}

/// A stored package.
#[derive(Clone)]
pub struct Package {
    pub client_id: String,
    pub mid: Mid,
    pub name: String,
    /// A PHC-format password hash; never shown.
    pub secret_hash: String,
    pub scopes: ScopeSet,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Package")
            .field("client_id", &self.client_id)
            .field("mid", &self.mid)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
pub trait PackageStore {
    async fn create_package(&self, package: NewPackage) -> Result<Package, StoreError>;
    async fn get_package(&self, client_id: &str) -> Result<Option<Package>, StoreError>;
    /// All packages, revoked ones included, oldest first.
    async fn list_packages(&self) -> Result<Vec<Package>, StoreError>;
    /// Revokes a package and deletes its tokens. Returns false when there is no such
    /// package or it was revoked already.
    async fn revoke_package(
        &self,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

const COLUMNS: &str = "client_id, mid, name, secret_hash, scopes, created_at, revoked_at";

fn package(row: &AnyRow) -> Result<Package, sqlx::Error> {
    let scopes: String = row.try_get("scopes")?;
    Ok(Package {
        client_id: row.try_get("client_id")?,
        mid: Mid::from_stored(row.try_get("mid")?),
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        scopes: ScopeSet::parse(&scopes).map_err(|err| sqlx::Error::Decode(err.into()))?,
        created_at: from_millis(row.try_get("created_at")?),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_millis),
    })
}

#[async_trait::async_trait]
impl PackageStore for SqlStore {
    async fn create_package(&self, new: NewPackage) -> Result<Package, StoreError> {
        sqlx::query(
            "INSERT INTO packages (client_id, mid, name, secret_hash, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&new.client_id)
        .bind(new.mid.get())
        .bind(&new.name)
        .bind(&new.secret_hash)
        .bind(new.scopes.to_string())
        .bind(to_millis(new.created_at))
        .execute(&self.pool)
        .await?;
        Ok(Package {
            client_id: new.client_id,
            mid: new.mid,
            name: new.name,
            secret_hash: new.secret_hash,
            scopes: new.scopes,
            created_at: new.created_at,
            revoked_at: None,
        })
    }

    async fn get_package(&self, client_id: &str) -> Result<Option<Package>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM packages WHERE client_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(package).transpose()?)
    }

    async fn list_packages(&self) -> Result<Vec<Package>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM packages ORDER BY created_at, client_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(package).collect::<Result<_, _>>()?)
    }

    async fn revoke_package(
        &self,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let revoked = sqlx::query(
            "UPDATE packages SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM access_tokens WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revoked == 1)
    }
}
