//! Campaigns and their members (Contacts and Leads).

use std::collections::BTreeSet;

use herald_domain::crm::TargetKind;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::decode::id_column;
use super::ids::lock_account;
use super::target_table::{TargetTable, exists};
use super::{Campaign, CampaignDefinition, CrmWriteError, MembershipChange};
use crate::sql::{Bind, CHUNK, Sql, insert_rows};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

/// Campaigns: the table `crm_campaigns`, a name and a description (see [`TargetTable`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Campaigns;

impl TargetTable for Campaigns {
    type Definition = CampaignDefinition;
    type Saved = Campaign;
    const KIND: TargetKind = TargetKind::Campaign;
    const TABLE: &'static str = "crm_campaigns";
    const COLUMNS: &'static [&'static str] = &["name", "description"];

    fn values(definition: &CampaignDefinition) -> Vec<Option<String>> {
        vec![
            Some(definition.name.clone()),
            definition.description.clone(),
        ]
    }

    async fn decode(_: &mut AnyConnection, rows: Vec<AnyRow>) -> Result<Vec<Campaign>, StoreError> {
        Ok(rows.iter().map(campaign).collect::<Result<_, _>>()?)
    }

    async fn write_rest(
        _: &mut AnyConnection,
        _: SalesforceId,
        _: &CampaignDefinition,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A campaign's members (its name and description are [`super::CrmTargetStore`]'s).
#[async_trait::async_trait]
pub trait CrmCampaignStore {
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

fn campaign(row: &AnyRow) -> Result<Campaign, sqlx::Error> {
    Ok(Campaign {
        id: id_column(row, "id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
        version: row.try_get("version")?,
    })
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
        if !exists::<Campaigns>(&mut tx, mid, id).await? {
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
        if !exists::<Campaigns>(&mut tx, mid, id).await? {
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
