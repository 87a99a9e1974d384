//! DKIM signing keys, installation-wide, named by their DNS record
//! (`{selector}._domainkey.{domain}`). A delivery profile names one by that id; without
//! one, the newest key of the From address's domain signs.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// A stored key. The private key is PKCS#8 PEM; never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKeyRecord {
    pub id: String,
    pub domain: String,
    pub selector: String,
    /// `rsa` or `ed25519`.
    pub algorithm: String,
    pub private_pem: String,
    /// The TXT record value to publish at `id`.
    pub dns_record: String,
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for DkimKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKeyRecord")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
pub trait DkimKeyStore {
    /// Stores a key; false when a key with that id exists already (nothing changes).
    async fn insert_dkim_key(&self, key: DkimKeyRecord) -> Result<bool, StoreError>;
    async fn get_dkim_key(&self, id: &str) -> Result<Option<DkimKeyRecord>, StoreError>;
    /// The newest key for a domain (lower case).
    async fn newest_dkim_key_for(&self, domain: &str) -> Result<Option<DkimKeyRecord>, StoreError>;
    async fn list_dkim_keys(&self) -> Result<Vec<DkimKeyRecord>, StoreError>;
}

const COLUMNS: &str = "id, domain, selector, algorithm, private_pem, dns_record, created_at";

fn record(row: &AnyRow) -> Result<DkimKeyRecord, sqlx::Error> {
    Ok(DkimKeyRecord {
        id: row.try_get("id")?,
        domain: row.try_get("domain")?,
        selector: row.try_get("selector")?,
        algorithm: row.try_get("algorithm")?,
        private_pem: row.try_get("private_pem")?,
        dns_record: row.try_get("dns_record")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

#[async_trait::async_trait]
impl DkimKeyStore for SqlStore {
    async fn insert_dkim_key(&self, key: DkimKeyRecord) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO dkim_keys (id, domain, selector, algorithm, private_pem, dns_record, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.domain)
        .bind(&key.selector)
        .bind(&key.algorithm)
        .bind(&key.private_pem)
        .bind(&key.dns_record)
        .bind(to_millis(key.created_at))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn get_dkim_key(&self, id: &str) -> Result<Option<DkimKeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dkim_keys WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(record).transpose()?)
    }

    async fn newest_dkim_key_for(&self, domain: &str) -> Result<Option<DkimKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM dkim_keys WHERE domain = $1 ORDER BY created_at DESC, id LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(domain)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(record).transpose()?)
    }

    async fn list_dkim_keys(&self) -> Result<Vec<DkimKeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dkim_keys ORDER BY domain, created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
    }
}
