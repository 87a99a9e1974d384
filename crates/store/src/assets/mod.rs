//! Emails as Content Builder assets: stored, listed with filters, read for rendering.
//!
//! Ids come from one global sequence (from 10001); a customer key is unique within its
//! account. Every query is scoped to one MID: another account's assets do not exist.

mod query_sql;

use herald_domain::asset::{AssetStatus, AssetType, CustomerKey, EmailContent, EmailFields};
use herald_domain::asset_query::AssetQuery;
use herald_domain::mid::Mid;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::send::{SendReference, sends_using};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// An asset about to be created.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub mid: Mid,
    pub customer_key: CustomerKey,
    /// A UUID, chosen by the caller.
    pub object_id: String,
    pub status: AssetStatus,
    pub content: EmailContent,
    pub created_at: OffsetDateTime,
}

/// The new state of an existing asset (everything but its ids and creation time).
#[derive(Debug, Clone)]
pub struct AssetUpdate {
    pub customer_key: CustomerKey,
    pub status: AssetStatus,
    pub content: EmailContent,
    pub modified_at: OffsetDateTime,
}

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Also its `legacyData.legacyId` and the Send API's `EmailId`.
    pub id: i64,
    pub mid: Mid,
    pub customer_key: String,
    pub object_id: String,
    pub asset_type: AssetType,
    pub status: AssetStatus,
    pub fields: EmailFields,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
}

/// One page of a listing, and how many assets match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetPage {
    pub total: i64,
    pub items: Vec<Asset>,
}

/// What rendering an email needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub id: i64,
    pub customer_key: String,
    pub asset_type: AssetType,
    pub name: String,
    pub subject: String,
    pub preheader: String,
    pub html: Option<String>,
    pub text: Option<String>,
}

/// Why an asset could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AssetWriteError {
    /// Another asset of the account has this customer key.
    #[error("customer key {0:?} is already used by another asset of this account")]
    DuplicateCustomerKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an asset was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum AssetDeleteError {
    /// Send definitions or live send instances send this email.
    #[error(
        "the email {id} is used by {users}: change or delete them first",
        users = users.join(", ")
    )]
    InUse {
        id: i64,
        /// Each user named with its kind, as in `send definition 10000001 "Spring"`.
        users: Vec<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AssetDeleteError {
    fn from(err: sqlx::Error) -> Self {
        AssetDeleteError::Store(err.into())
    }
}

#[async_trait::async_trait]
pub trait AssetStore {
    /// One page of the account's assets matching `query`, and the number matching in all.
    async fn list_assets(&self, mid: Mid, query: &AssetQuery) -> Result<AssetPage, StoreError>;
    async fn get_asset(&self, mid: Mid, id: i64) -> Result<Option<Asset>, StoreError>;
    /// Creates an asset with the next id; its modification time is its creation time.
    async fn create_asset(&self, asset: NewAsset) -> Result<Asset, AssetWriteError>;
    /// Replaces an asset's content, key and status; `None` when the account has no such asset.
    async fn update_asset(
        &self,
        mid: Mid,
        id: i64,
        update: AssetUpdate,
    ) -> Result<Option<Asset>, AssetWriteError>;
    /// Deletes an asset; false when the account has no such asset. Refused while a send
    /// definition or a live send instance uses it as its email.
    async fn delete_asset(&self, mid: Mid, id: i64) -> Result<bool, AssetDeleteError>;
    /// The email with this id in the account, as the Send API and the engine render it.
    async fn get_email(&self, mid: Mid, id: i64) -> Result<Option<Email>, StoreError>;
}

pub(crate) const COLUMNS: &str = "id, mid, customer_key, object_id, name, description, \
    asset_type, status, subject, preheader, html_content, text_content, created_at, modified_at";

fn decode_error(what: &str, value: i64) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {value} in the assets table").into())
}

fn asset_type(row: &AnyRow) -> Result<AssetType, sqlx::Error> {
    let id: i64 = row.try_get("asset_type")?;
    AssetType::from_id(id).ok_or_else(|| decode_error("asset type", id))
}

pub(crate) fn asset(row: &AnyRow) -> Result<Asset, sqlx::Error> {
    let status: i64 = row.try_get("status")?;
    Ok(Asset {
        id: row.try_get("id")?,
        mid: Mid::from_stored(row.try_get("mid")?),
        customer_key: row.try_get("customer_key")?,
        object_id: row.try_get("object_id")?,
        asset_type: asset_type(row)?,
        status: AssetStatus::from_id(status).ok_or_else(|| decode_error("status", status))?,
        fields: EmailFields {
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            subject: row.try_get("subject")?,
            preheader: row.try_get("preheader")?,
            html: row.try_get("html_content")?,
            text: row.try_get("text_content")?,
        },
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
    })
}

/// A unique violation can only be the (mid, customer_key) constraint.
fn write_error(err: sqlx::Error, customer_key: &CustomerKey) -> AssetWriteError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            AssetWriteError::DuplicateCustomerKey(customer_key.as_str().to_owned())
        }
        _ => AssetWriteError::Store(err.into()),
    }
}

#[async_trait::async_trait]
impl AssetStore for SqlStore {
    async fn list_assets(&self, mid: Mid, query: &AssetQuery) -> Result<AssetPage, StoreError> {
        let listing = query_sql::Listing::new(mid, query);
        let total: i64 = listing
            .count()
            .fetch_one(&self.pool)
            .await?
            .try_get("total")?;
        let rows = listing.page().fetch_all(&self.pool).await?;
        Ok(AssetPage {
            total,
            items: rows.iter().map(asset).collect::<Result<_, _>>()?,
        })
    }

    async fn get_asset(&self, mid: Mid, id: i64) -> Result<Option<Asset>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM assets WHERE mid = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(mid.get())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(asset).transpose()?)
    }

    async fn create_asset(&self, new: NewAsset) -> Result<Asset, AssetWriteError> {
        let fields = new.content.fields();
        let sql = format!(
            "INSERT INTO assets (mid, customer_key, object_id, name, description, asset_type,
                 status, subject, preheader, html_content, text_content, created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.mid.get())
            .bind(new.customer_key.as_str())
            .bind(&new.object_id)
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(new.content.asset_type().id())
            .bind(new.status.id())
            .bind(&fields.subject)
            .bind(&fields.preheader)
            .bind(fields.html.as_deref())
            .bind(fields.text.as_deref())
            .bind(to_millis(new.created_at))
            .fetch_one(&self.pool)
            .await
            .map_err(|err| write_error(err, &new.customer_key))?;
        Ok(asset(&row).map_err(StoreError::from)?)
    }

    async fn update_asset(
        &self,
        mid: Mid,
        id: i64,
        update: AssetUpdate,
    ) -> Result<Option<Asset>, AssetWriteError> {
        let fields = update.content.fields();
        let sql = format!(
            "UPDATE assets SET customer_key = $1, name = $2, description = $3, asset_type = $4,
                 status = $5, subject = $6, preheader = $7, html_content = $8,
                 text_content = $9, modified_at = $10
             WHERE mid = $11 AND id = $12
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(update.customer_key.as_str())
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(update.content.asset_type().id())
            .bind(update.status.id())
            .bind(&fields.subject)
            .bind(&fields.preheader)
            .bind(fields.html.as_deref())
            .bind(fields.text.as_deref())
            .bind(to_millis(update.modified_at))
            .bind(mid.get())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| write_error(err, &update.customer_key))?;
        Ok(row
            .as_ref()
            .map(asset)
            .transpose()
            .map_err(StoreError::from)?)
    }

    async fn delete_asset(&self, mid: Mid, id: i64) -> Result<bool, AssetDeleteError> {
        let mut tx = self.write_tx().await?;
        let users = sends_using(&mut tx, mid, SendReference::Email, id).await?;
        if !users.is_empty() {
            return Err(AssetDeleteError::InUse { id, users });
        }
        let deleted = sqlx::query("DELETE FROM assets WHERE mid = $1 AND id = $2")
            .bind(mid.get())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted == 1)
    }

    async fn get_email(&self, mid: Mid, id: i64) -> Result<Option<Email>, StoreError> {
        let row = sqlx::query(
            "SELECT id, customer_key, asset_type, name, subject, preheader, html_content,
                    text_content
             FROM assets WHERE mid = $1 AND id = $2",
        )
        .bind(mid.get())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Email {
            id: row.try_get("id")?,
            customer_key: row.try_get("customer_key")?,
            asset_type: asset_type(&row)?,
            name: row.try_get("name")?,
            subject: row.try_get("subject")?,
            preheader: row.try_get("preheader")?,
            html: row.try_get("html_content")?,
            text: row.try_get("text_content")?,
        }))
    }
}
