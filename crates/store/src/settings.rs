//! Small named values Herald keeps about itself (for example, that the demo was seeded).

use sqlx::Row;

use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait SettingStore {
    async fn get_setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` unless `name` has one already; returns whether it was stored.
    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<bool, StoreError>;
}

#[async_trait::async_trait]
impl SettingStore for SqlStore {
    async fn get_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("value")).transpose()?)
    }

    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
