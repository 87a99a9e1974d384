//! Targets as a send sees them: their names, member counts, members page by page, and
//! the fields their records carry.

use std::collections::BTreeMap;

use herald_domain::crm::{
    CrmObject, CrmRecord, ReportFilter, StandardField, TargetKind, TargetRef,
};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::{AnyConnection, Row};

use super::campaigns::{Campaigns, member_count};
use super::decode::{self, RECORD_COLUMNS, id_column, object_column};
use super::fields::custom_field_names;
use super::filter_sql::push_filter;
use super::reports::Reports;
use super::target_table::load;
use super::{MAX_MEMBER_PAGE, Page, Slice, TargetSummary};
use crate::sql::Sql;
use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait CrmAudienceStore {
    /// The name of a target, if it exists in `mid`.
    async fn target_name(&self, mid: Mid, target: TargetRef) -> Result<Option<String>, StoreError>;

    /// Reports, then campaigns, each in creation order, with their member counts.
    async fn list_targets(&self, mid: Mid, slice: Slice)
    -> Result<Page<TargetSummary>, StoreError>;

    /// How many records a target has now. None when there is no such target.
    async fn count_members(&self, mid: Mid, target: TargetRef) -> Result<Option<i64>, StoreError>;

    /// Up to `limit` (at most [`MAX_MEMBER_PAGE`]) members of a target with ids after
    /// `after`, in id order: call again with the last id until a page comes back empty.
    /// A report's members are the records of its object that match its filter now; a
    /// campaign's are its member records. `StoreError::NotFound` when there is no such
    /// target.
    async fn members_page(
        &self,
        mid: Mid,
        target: TargetRef,
        after: Option<SalesforceId>,
        limit: u32,
    ) -> Result<Vec<CrmRecord>, StoreError>;

    /// A page of members by position, with the member count (for previews). None when
    /// there is no such target.
    async fn members_at(
        &self,
        mid: Mid,
        target: TargetRef,
        slice: Slice,
    ) -> Result<Option<Page<CrmRecord>>, StoreError>;

    /// The fields a target's records carry: the standard ones, then the custom fields of
    /// its object (a report) or of the objects of its members (a campaign). None when
    /// there is no such target.
    async fn target_fields(
        &self,
        mid: Mid,
        target: TargetRef,
    ) -> Result<Option<Vec<String>>, StoreError>;
}

/// Where a target's members come from.
enum Source {
    Report {
        object: CrmObject,
        filter: ReportFilter,
    },
    Campaign(SalesforceId),
}

async fn source(
    conn: &mut AnyConnection,
    mid: Mid,
    target: TargetRef,
) -> Result<Option<Source>, StoreError> {
    Ok(match target.kind {
        TargetKind::Report => {
            load::<Reports>(conn, mid, target.id)
                .await?
                .map(|report| Source::Report {
                    object: report.object,
                    filter: report.filter,
                })
        }
        TargetKind::Campaign => load::<Campaigns>(conn, mid, target.id)
            .await?
            .map(|_| Source::Campaign(target.id)),
    })
}

/// `SELECT {select}` over a source's member records (aliased `r`), after `after`.
fn member_sql(select: &str, mid: Mid, source: &Source, after: Option<SalesforceId>) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(select);
    match source {
        Source::Report { object, filter } => {
            sql.push(" FROM crm_records r WHERE r.mid = ")
                .bind(mid.get())
                .push(" AND r.object = ")
                .bind(object.name())
                .push(" AND ");
            push_filter(&mut sql, filter);
        }
        Source::Campaign(id) => {
            sql.push(
                " FROM crm_campaign_members m JOIN crm_records r ON r.id = m.record_id \
                 WHERE m.mid = ",
            )
            .bind(mid.get())
            .push(" AND m.campaign_id = ")
            .bind(id.to_string());
        }
    }
    if let Some(after) = after {
        sql.push(" AND ")
            .push(order_column(source))
            .push(" > ")
            .bind(after.to_string());
    }
    sql
}

/// The column members are paged by: the record id, read from the index the source is
/// scanned through (so a page is read in order and the scan stops at its limit, rather
/// than sorting every member after the cursor).
fn order_column(source: &Source) -> &'static str {
    match source {
        Source::Report { .. } => "r.id",
        Source::Campaign(_) => "m.record_id",
    }
}

async fn count(conn: &mut AnyConnection, mid: Mid, source: &Source) -> Result<i64, StoreError> {
    if let Source::Campaign(id) = source {
        return member_count(conn, mid, *id).await;
    }
    let row = member_sql("COUNT(*) AS n", mid, source, None)
        .query()
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// Member records from `offset` (or after `after`), at most `limit`.
async fn members(
    conn: &mut AnyConnection,
    mid: Mid,
    source: &Source,
    after: Option<SalesforceId>,
    slice: Slice,
) -> Result<Vec<CrmRecord>, StoreError> {
    let mut sql = member_sql(RECORD_COLUMNS, mid, source, after);
    sql.push(" ORDER BY ")
        .push(order_column(source))
        .push(" LIMIT ")
        .bind(i64::from(slice.limit.min(MAX_MEMBER_PAGE)))
        .push(" OFFSET ")
        .bind(i64::try_from(slice.offset).unwrap_or(i64::MAX));
    let rows = sql.query().fetch_all(&mut *conn).await?;
    Ok(decode::records(conn, &rows)
        .await?
        .into_iter()
        .map(|stored| stored.record)
        .collect())
}

#[async_trait::async_trait]
impl CrmAudienceStore for SqlStore {
    async fn target_name(&self, mid: Mid, target: TargetRef) -> Result<Option<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        match target.kind {
            TargetKind::Report => Ok(load::<Reports>(&mut conn, mid, target.id)
                .await?
                .map(|report| report.name)),
            TargetKind::Campaign => Ok(load::<Campaigns>(&mut conn, mid, target.id)
                .await?
                .map(|campaign| campaign.name)),
        }
    }

    async fn list_targets(
        &self,
        mid: Mid,
        slice: Slice,
    ) -> Result<Page<TargetSummary>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM crm_reports WHERE mid = $1)
                  + (SELECT COUNT(*) FROM crm_campaigns WHERE mid = $2) AS n",
        )
        .bind(mid.get())
        .bind(mid.get())
        .fetch_one(&mut *conn)
        .await?;
        let total: i64 = row.try_get("n")?;
        // Report ids (00O…) sort before campaign ids (701…).
        let rows = sqlx::query(
            "SELECT id, name FROM crm_reports WHERE mid = $1
             UNION ALL SELECT id, name FROM crm_campaigns WHERE mid = $2
             ORDER BY id LIMIT $3 OFFSET $4",
        )
        .bind(mid.get())
        .bind(mid.get())
        .bind(i64::from(slice.limit))
        .bind(i64::try_from(slice.offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let id = id_column(&row, "id")?;
            let kind = if id.key_prefix() == TargetKind::Report.key_prefix() {
                TargetKind::Report
            } else {
                TargetKind::Campaign
            };
            let target = TargetRef { kind, id };
            let Some(source) = source(&mut conn, mid, target).await? else {
                continue;
            };
            items.push(TargetSummary {
                target,
                name: row.try_get("name")?,
                member_count: count(&mut conn, mid, &source).await?,
            });
        }
        Ok(Page {
            count: total,
            items,
        })
    }

    async fn count_members(&self, mid: Mid, target: TargetRef) -> Result<Option<i64>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(source) = source(&mut conn, mid, target).await? else {
            return Ok(None);
        };
        Ok(Some(count(&mut conn, mid, &source).await?))
    }

    async fn members_page(
        &self,
        mid: Mid,
        target: TargetRef,
        after: Option<SalesforceId>,
        limit: u32,
    ) -> Result<Vec<CrmRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let source = source(&mut conn, mid, target)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{} {}", target.kind, target.id)))?;
        members(&mut conn, mid, &source, after, Slice { offset: 0, limit }).await
    }

    async fn members_at(
        &self,
        mid: Mid,
        target: TargetRef,
        slice: Slice,
    ) -> Result<Option<Page<CrmRecord>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(source) = source(&mut conn, mid, target).await? else {
            return Ok(None);
        };
        let count = count(&mut conn, mid, &source).await?;
        let items = members(&mut conn, mid, &source, None, slice).await?;
        Ok(Some(Page { count, items }))
    }

    async fn target_fields(
        &self,
        mid: Mid,
        target: TargetRef,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let objects = match source(&mut conn, mid, target).await? {
            None => return Ok(None),
            Some(Source::Report { object, .. }) => vec![object],
            Some(Source::Campaign(id)) => {
                let rows = sqlx::query(
                    "SELECT DISTINCT r.object FROM crm_campaign_members m
                     JOIN crm_records r ON r.id = m.record_id
                     WHERE m.mid = $1 AND m.campaign_id = $2",
                )
                .bind(mid.get())
                .bind(id.to_string())
                .fetch_all(&mut *conn)
                .await?;
                rows.iter()
                    .map(|row| object_column(row, "object"))
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        // Custom names of both objects, once each (compared without regard to case).
        let mut custom = BTreeMap::new();
        for object in objects {
            for name in custom_field_names(&mut conn, mid, object).await? {
                custom.entry(name.to_ascii_lowercase()).or_insert(name);
            }
        }
        let mut fields: Vec<String> = StandardField::ALL
            .iter()
            .map(|field| field.name().to_owned())
            .collect();
        fields.extend(custom.into_values());
        Ok(Some(fields))
    }
}
