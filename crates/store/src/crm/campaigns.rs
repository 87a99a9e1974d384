//! Campaigns and their members (Contacts and Leads).

use std::collections::BTreeSet;

use herald_domain::mid::Mid;
use herald_domain::salesforce_id::{CAMPAIGN_PREFIX, SalesforceId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::decode::id_column;
use super::ids::{lock_account, mint};
use super::{Campaign, CrmWriteError, MembershipChange, Page, Slice};
use crate::sql::{Bind, CHUNK, Sql, insert_rows};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait CrmCampaignStore {
    /// Creates an empty campaign with a new `701…` id.
    async fn create_campaign(
        &self,
        mid: Mid,
        name: &str,
        description: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Campaign, StoreError>;

    /// The campaign with this id in `mid`, if any.
    async fn get_campaign(
        &self,
        mid: Mid,
        id: SalesforceId,
    ) -> Result<Option<Campaign>, StoreError>;

    /// Campaigns in creation order.
    async fn list_campaigns(&self, mid: Mid, slice: Slice) -> Result<Page<Campaign>, StoreError>;

    /// Replaces a campaign's name and description. None when there is no such campaign.
    async fn update_campaign(
        &self,
        mid: Mid,
        id: SalesforceId,
        name: &str,
        description: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Campaign>, StoreError>;

    /// Deletes a campaign and its member list (not the records). False when there is no
    /// such campaign.
    async fn delete_campaign(&self, mid: Mid, id: SalesforceId) -> Result<bool, StoreError>;

    /// Adds Contacts and Leads to a campaign; ones already in are left as they are. If
    /// any id names no record of this account, nothing is added.
    async fn add_campaign_members(
        &self,
        mid: Mid,
        id: SalesforceId,
        records: &[SalesforceId],
        now: OffsetDateTime,
    ) -> Result<MembershipChange, CrmWriteError>;

    /// Removes members from a campaign; ids that are not members are ignored.
    async fn remove_campaign_members(
        &self,
        mid: Mid,
        id: SalesforceId,
        records: &[SalesforceId],
    ) -> Result<MembershipChange, CrmWriteError>;
}

const COLUMNS: &str = "id, name, description, created_at, modified_at";

fn campaign(row: &AnyRow) -> Result<Campaign, sqlx::Error> {
    Ok(Campaign {
        id: id_column(row, "id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
    })
}

async fn exists(conn: &mut AnyConnection, mid: Mid, id: SalesforceId) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 AS found FROM crm_campaigns WHERE mid = $1 AND id = $2")
        .bind(mid.get())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

pub(crate) async fn member_count(
    conn: &mut AnyConnection,
    mid: Mid,
    id: SalesforceId,
) -> Result<i64, StoreError> {
    // The account is checked once, on the campaign, so the members are counted from the
    // primary key's index alone, without reading a row of theirs.
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM crm_campaign_members WHERE campaign_id =
         (SELECT id FROM crm_campaigns WHERE mid = $1 AND id = $2)",
    )
    .bind(mid.get())
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("n")?)
}

#[async_trait::async_trait]
impl CrmCampaignStore for SqlStore {
    async fn create_campaign(
        &self,
        mid: Mid,
        name: &str,
        description: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Campaign, StoreError> {
        let mut tx = self.write_tx().await?;
        let id = mint(&mut tx, CAMPAIGN_PREFIX, 1)
            .await?
            .pop()
            .expect("one id was minted");
        sqlx::query(
            "INSERT INTO crm_campaigns (id, mid, name, description, created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(mid.get())
        .bind(name)
        .bind(description)
        .bind(to_millis(now))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Campaign {
            id,
            name: name.to_owned(),
            description: description.map(str::to_owned),
            created_at: now,
            modified_at: now,
        })
    }

    async fn get_campaign(
        &self,
        mid: Mid,
        id: SalesforceId,
    ) -> Result<Option<Campaign>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM crm_campaigns WHERE mid = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(mid.get())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(campaign).transpose()?)
    }

    async fn list_campaigns(&self, mid: Mid, slice: Slice) -> Result<Page<Campaign>, StoreError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM crm_campaigns WHERE mid = $1")
            .bind(mid.get())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let sql = format!(
            "SELECT {COLUMNS} FROM crm_campaigns WHERE mid = $1 ORDER BY id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(mid.get())
            .bind(i64::from(slice.limit))
            .bind(i64::try_from(slice.offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().map(campaign).collect::<Result<_, _>>()?;
        Ok(Page { count, items })
    }

    async fn update_campaign(
        &self,
        mid: Mid,
        id: SalesforceId,
        name: &str,
        description: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Campaign>, StoreError> {
        let sql = format!(
            "UPDATE crm_campaigns SET name = $1, description = $2, modified_at = $3
             WHERE mid = $4 AND id = $5 RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(description)
            .bind(to_millis(now))
            .bind(mid.get())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(campaign).transpose()?)
    }

    async fn delete_campaign(&self, mid: Mid, id: SalesforceId) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM crm_campaigns WHERE mid = $1 AND id = $2")
            .bind(mid.get())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn add_campaign_members(
        &self,
        mid: Mid,
        id: SalesforceId,
        records: &[SalesforceId],
        now: OffsetDateTime,
    ) -> Result<MembershipChange, CrmWriteError> {
        let wanted: Vec<SalesforceId> = records
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut tx = self.write_tx().await?;
        lock_account(&mut tx, self.backend, mid).await?;
        if !exists(&mut tx, mid, id).await? {
            return Err(CrmWriteError::NotFound);
        }
        let mut found = BTreeSet::new();
        for chunk in wanted.chunks(CHUNK) {
            // By primary key: `+mid` keeps SQLite from reading every record of the
            // account through the index that starts with `mid`, which made an import into
            // a campaign quadratic.
            let mut sql = Sql::new("SELECT id FROM crm_records WHERE +mid = ");
            sql.bind(mid.get())
                .push(" AND id IN ")
                .bind_list(chunk.iter().map(SalesforceId::to_string));
            for row in sql.query().fetch_all(&mut *tx).await? {
                found.insert(id_column(&row, "id")?);
            }
        }
        let unknown: Vec<SalesforceId> = wanted
            .iter()
            .filter(|record| !found.contains(*record))
            .copied()
            .collect();
        if !unknown.is_empty() {
            return Err(CrmWriteError::UnknownRecords(unknown));
        }
        let mut changed = 0;
        for chunk in wanted.chunks(insert_rows(4)) {
            let mut sql = Sql::new(
                "INSERT INTO crm_campaign_members (campaign_id, record_id, mid, added_at) VALUES ",
            );
            sql.bind_rows(chunk.iter().map(|record| {
                [
                    Bind::Text(id.to_string()),
                    Bind::Text(record.to_string()),
                    Bind::Int(mid.get()),
                    Bind::Int(to_millis(now)),
                ]
            }));
            sql.push(" ON CONFLICT (campaign_id, record_id) DO NOTHING");
            changed += sql.query().execute(&mut *tx).await?.rows_affected();
        }
        let member_count = member_count(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(MembershipChange {
            changed,
            member_count,
        })
    }

    async fn remove_campaign_members(
        &self,
        mid: Mid,
        id: SalesforceId,
        records: &[SalesforceId],
    ) -> Result<MembershipChange, CrmWriteError> {
        let unique: Vec<String> = records
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(SalesforceId::to_string)
            .collect();
        let mut tx = self.write_tx().await?;
        if !exists(&mut tx, mid, id).await? {
            return Err(CrmWriteError::NotFound);
        }
        let mut changed = 0;
        for chunk in unique.chunks(CHUNK) {
            let mut sql = Sql::new("DELETE FROM crm_campaign_members WHERE mid = ");
            sql.bind(mid.get())
                .push(" AND campaign_id = ")
                .bind(id.to_string())
                .push(" AND record_id IN ")
                .bind_list(chunk.iter().cloned());
            changed += sql.query().execute(&mut *tx).await?.rows_affected();
        }
        let member_count = member_count(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(MembershipChange {
            changed,
            member_count,
        })
    }
}
