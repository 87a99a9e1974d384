//! Delivery limits shared by every node through the database, so that they hold across a
//! cluster: rates as token buckets (a node takes a small grant of tokens in one statement
//! and spends it locally), concurrency as leased slot rows (a node that dies loses its
//! slots when their lease runs out).
//!
//! Times are the callers' clocks: a bucket's refill time only moves forward, so a node
//! whose clock runs ahead can refill a bucket early once (at most its burst), never
//! repeatedly.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::sql::{CHUNK, Sql};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

/// What a bucket gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketGrant {
    /// Whole tokens granted (0 to the number asked for).
    pub granted: i64,
    /// When none was granted: how long until the tokens asked for are there.
    pub wait: std::time::Duration,
}

/// A rate: `per_second` tokens a second, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: i64,
    pub burst: i64,
}

#[async_trait::async_trait]
pub trait LimitStore {
    /// Takes up to `want` tokens (at most a burst) from the bucket `name` (created full on
    /// first use), refilled at `rate` since it was last refilled. With no whole token
    /// there, nothing is written and the grant says how long until `want` are.
    async fn take_tokens(
        &self,
        name: &str,
        rate: Rate,
        want: i64,
        now: OffsetDateTime,
    ) -> Result<BucketGrant, StoreError>;
    /// Claims a free slot of `name` (slots `0..limit`; a slot whose lease ran out is
    /// free) for `owner` until `now + lease`; `None` when all are held.
    async fn claim_slot(
        &self,
        name: &str,
        limit: i64,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<i64>, StoreError>;
    /// Gives back slots of `name` that `owner` holds.
    async fn release_slots(&self, owner: &str, name: &str, slots: &[i64])
    -> Result<(), StoreError>;
    /// Gives back every slot `owner` holds, and forgets what it wants (a node shutting
    /// down).
    async fn release_all_slots(&self, owner: &str) -> Result<(), StoreError>;
    /// Says that `owner` waits for a slot of `name`, until `until`.
    async fn want_slot(
        &self,
        name: &str,
        owner: &str,
        until: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The limits whose slots a node other than `owner` waits for at `now`.
    async fn slots_wanted(
        &self,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, StoreError>;
    /// Extends the lease of every slot `owner` holds; how many it holds.
    async fn renew_slots(&self, owner: &str, until: OffsetDateTime) -> Result<u64, StoreError>;
    /// Extends a claimed recipient's lease (a message that waited long for its turn under
    /// the limits); false when the claim is no longer the caller's.
    async fn extend_recipient_lease(
        &self,
        owner: &str,
        recipient_id: i64,
        attempt: i64,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Milliseconds since the last refill, never negative (a clock behind the last writer's)
/// and at most a day (so that `elapsed × rate` stays far from overflowing).
const ELAPSED: &str = "(CASE WHEN $1 - refilled_at > 86400000 THEN 86400000
                          WHEN $1 > refilled_at THEN $1 - refilled_at ELSE 0 END)";

#[async_trait::async_trait]
impl LimitStore for SqlStore {
    async fn take_tokens(
        &self,
        name: &str,
        rate: Rate,
        want: i64,
        now: OffsetDateTime,
    ) -> Result<BucketGrant, StoreError> {
        let per_second = rate.per_second.max(1);
        let capacity = rate.burst.max(1) * 1000;
        let want = want.clamp(1, rate.burst.max(1));
        // Tokens (in thousandths) after the refill, capped at the burst.
        let available = format!(
            "(CASE WHEN milli_tokens + {ELAPSED} * $2 > $3 THEN $3
                   ELSE milli_tokens + {ELAPSED} * $2 END)"
        );
        let granted =
            format!("(CASE WHEN {available} / 1000 < $4 THEN {available} / 1000 ELSE $4 END)");
        // Written only when there is a whole token to give: an empty bucket costs a read.
        let update = format!(
            "UPDATE limit_buckets SET granted = {granted},
                 milli_tokens = {available} - {granted} * 1000,
                 refilled_at = CASE WHEN $1 > refilled_at THEN $1 ELSE refilled_at END
             WHERE name = $5 AND {available} >= 1000
             RETURNING granted"
        );
        let turn = self.write_turn().await;
        let row = sqlx::query(sqlx::AssertSqlSafe(update))
            .bind(to_millis(now))
            .bind(per_second)
            .bind(capacity)
            .bind(want)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = row {
            return Ok(BucketGrant {
                granted: row.try_get("granted")?,
                wait: std::time::Duration::ZERO,
            });
        }
        let read = format!(
            "SELECT {available} AS available FROM limit_buckets
             WHERE name = $4 AND $3 > 0"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(read))
            .bind(to_millis(now))
            .bind(per_second)
            .bind(capacity)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            // First use: the bucket starts full.
            sqlx::query(
                "INSERT INTO limit_buckets (name, milli_tokens, refilled_at)
                 VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(capacity)
            .bind(to_millis(now))
            .execute(&self.pool)
            .await?;
            drop(turn);
            return Box::pin(self.take_tokens(name, rate, want, now)).await;
        };
        // Wait until the tokens asked for are there (rounded up: waking before would
        // only ask again for nothing).
        let available: i64 = row.try_get("available")?;
        let missing = (want * 1000 - available).max(0);
        let wait_ms = (missing + per_second - 1) / per_second;
        Ok(BucketGrant {
            granted: 0,
            wait: std::time::Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)),
        })
    }

    async fn claim_slot(
        &self,
        name: &str,
        limit: i64,
        owner: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<i64>, StoreError> {
        // The lowest slot number nobody holds; if another node takes it at the same
        // moment, the conflict clause refuses this claim and the caller asks again.
        let _turn = self.write_turn().await;
        let row = sqlx::query(
            "WITH RECURSIVE numbers (slot) AS (
                 SELECT CAST(0 AS BIGINT) UNION ALL
                 SELECT slot + 1 FROM numbers WHERE slot + 1 < $1)
             INSERT INTO limit_slots (name, slot, owner, lease_until)
             SELECT $2, slot, $3, $4 FROM numbers
             WHERE slot NOT IN (SELECT slot FROM limit_slots WHERE name = $2 AND lease_until >= $5)
             ORDER BY slot LIMIT 1
             ON CONFLICT (name, slot) DO UPDATE SET owner = excluded.owner,
                 lease_until = excluded.lease_until
             WHERE limit_slots.lease_until < $5
             RETURNING slot",
        )
        .bind(limit.max(1))
        .bind(name)
        .bind(owner)
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("slot")).transpose()?)
    }

    async fn release_slots(
        &self,
        owner: &str,
        name: &str,
        slots: &[i64],
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        for chunk in slots.chunks(CHUNK) {
            let mut sql = Sql::new("DELETE FROM limit_slots WHERE owner = ");
            sql.bind(owner)
                .push(" AND name = ")
                .bind(name)
                .push(" AND slot IN ")
                .bind_list(chunk.iter().copied());
            sql.query().execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn release_all_slots(&self, owner: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        for table in ["limit_slots", "limit_wants"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE owner = $1"
            )))
            .bind(owner)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn want_slot(
        &self,
        name: &str,
        owner: &str,
        until: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO limit_wants (name, owner, until) VALUES ($1, $2, $3)
             ON CONFLICT (name, owner) DO UPDATE SET until = excluded.until",
        )
        .bind(name)
        .bind(owner)
        .bind(to_millis(until))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn slots_wanted(
        &self,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT name FROM limit_wants WHERE owner <> $1 AND until >= $2")
                .bind(owner)
                .bind(to_millis(now))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get("name"))
            .collect::<Result<_, _>>()?)
    }

    async fn renew_slots(&self, owner: &str, until: OffsetDateTime) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let renewed = sqlx::query("UPDATE limit_slots SET lease_until = $1 WHERE owner = $2")
            .bind(to_millis(until))
            .bind(owner)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(renewed)
    }

    async fn extend_recipient_lease(
        &self,
        owner: &str,
        recipient_id: i64,
        attempt: i64,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let updated = sqlx::query(
            "UPDATE recipients SET lease_until = $1
             WHERE id = $2 AND lease_owner = $3 AND attempts = $4
               AND status IN ('queued', 'deferred')",
        )
        .bind(to_millis(until))
        .bind(recipient_id)
        .bind(owner)
        .bind(attempt)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }
}
