//! Counting failed authentication attempts per key (a client id, a source address), in the
//! database so that every node sees the same counts.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// Failures counted in the current fixed window of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleWindow {
    pub failures: i64,
    pub window_start: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait ThrottleStore {
    /// Counts one failure for `key`. A window older than `window` starts over at one;
    /// windows older than twice `window` are deleted.
    async fn record_auth_failure(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<ThrottleWindow, StoreError>;
    /// The current window of `key`, if it has failures on record.
    async fn auth_failures(&self, key: &str) -> Result<Option<ThrottleWindow>, StoreError>;
}

#[async_trait::async_trait]
impl ThrottleStore for SqlStore {
    async fn record_auth_failure(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<ThrottleWindow, StoreError> {
        // Windows long over are of no use to anyone: forget them.
        sqlx::query("DELETE FROM auth_failures WHERE window_start < $1")
            .bind(to_millis(now - window * 2))
            .execute(&self.pool)
            .await?;
        // Both CASEs read the row as it was before this update (SQL semantics on both
        // backends), so they agree on whether the window has expired.
        let row = sqlx::query(
            "INSERT INTO auth_failures (throttle_key, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (throttle_key) DO UPDATE SET
               failures = CASE WHEN auth_failures.window_start <= $3 THEN 1
                               ELSE auth_failures.failures + 1 END,
               window_start = CASE WHEN auth_failures.window_start <= $3 THEN $2
                                   ELSE auth_failures.window_start END
             RETURNING failures, window_start",
        )
        .bind(key)
        .bind(to_millis(now))
        .bind(to_millis(now - window))
        .fetch_one(&self.pool)
        .await?;
        Ok(ThrottleWindow {
            failures: row.try_get("failures")?,
            window_start: from_millis(row.try_get("window_start")?),
        })
    }

    async fn auth_failures(&self, key: &str) -> Result<Option<ThrottleWindow>, StoreError> {
        let row =
            sqlx::query("SELECT failures, window_start FROM auth_failures WHERE throttle_key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ThrottleWindow {
            failures: row.try_get("failures")?,
            window_start: from_millis(row.try_get("window_start")?),
        }))
    }
}
