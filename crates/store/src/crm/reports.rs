//! Reports: saved filters over Contacts or Leads.

use std::collections::HashMap;

use herald_domain::crm::{Condition, Logic, ReportFilter};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::{REPORT_PREFIX, SalesforceId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::decode::{id_column, object_column};
use super::ids::mint;
use super::{Page, Report, ReportDefinition, Slice};
use crate::sql::{Bind, CHUNK, Sql};
use crate::timestamp::{from_millis, to_millis};
use crate::{SqlStore, StoreError};

#[async_trait::async_trait]
pub trait CrmReportStore {
    /// Creates a report with a new `00O…` id.
    async fn create_report(
        &self,
        mid: Mid,
        definition: ReportDefinition,
        now: OffsetDateTime,
    ) -> Result<Report, StoreError>;

    /// The report with this id in `mid`, if any.
    async fn get_report(&self, mid: Mid, id: SalesforceId) -> Result<Option<Report>, StoreError>;

    /// Reports in creation order.
    async fn list_reports(&self, mid: Mid, slice: Slice) -> Result<Page<Report>, StoreError>;

    /// Replaces a report's definition. None when there is no such report.
    async fn update_report(
        &self,
        mid: Mid,
        id: SalesforceId,
        definition: ReportDefinition,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, StoreError>;

    /// False when there is no such report.
    async fn delete_report(&self, mid: Mid, id: SalesforceId) -> Result<bool, StoreError>;
}

const COLUMNS: &str = "id, name, object, logic, created_at, modified_at";

/// A report row, with its conditions.
fn report(row: &AnyRow, conditions: Vec<Condition>) -> Result<Report, sqlx::Error> {
    let logic: String = row.try_get("logic")?;
    let logic = Logic::parse(&logic).map_err(|err| sqlx::Error::Decode(err.into()))?;
    Ok(Report {
        id: id_column(row, "id")?,
        name: row.try_get("name")?,
        object: object_column(row, "object")?,
        filter: ReportFilter::new(logic, conditions)
            .map_err(|err| sqlx::Error::Decode(err.into()))?,
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
    })
}

/// Reports from rows of [`COLUMNS`], with their conditions.
async fn reports(conn: &mut AnyConnection, rows: &[AnyRow]) -> Result<Vec<Report>, StoreError> {
    let ids = rows
        .iter()
        .map(|row| row.try_get::<String, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut conditions: HashMap<String, Vec<Condition>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new(
            "SELECT report_id, field, operator, value FROM crm_report_conditions WHERE report_id IN ",
        );
        sql.bind_list(chunk.iter().cloned())
            .push(" ORDER BY report_id, position");
        for row in sql.query().fetch_all(&mut *conn).await? {
            let field: String = row.try_get("field")?;
            let operator: String = row.try_get("operator")?;
            let value: String = row.try_get("value")?;
            let condition = Condition::parse(&field, &operator, Some(&value))
                .map_err(|err| sqlx::Error::Decode(err.into()))?;
            conditions
                .entry(row.try_get("report_id")?)
                .or_default()
                .push(condition);
        }
    }
    let mut reports = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(&ids) {
        reports.push(report(row, conditions.remove(id).unwrap_or_default())?);
    }
    Ok(reports)
}

/// Loads one report of `mid`.
pub(crate) async fn load(
    conn: &mut AnyConnection,
    mid: Mid,
    id: SalesforceId,
) -> Result<Option<Report>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM crm_reports WHERE mid = $1 AND id = $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(mid.get())
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(reports(conn, &rows).await?.pop())
}

/// Writes the conditions of report `id`, replacing any it had.
async fn write_conditions(
    conn: &mut AnyConnection,
    id: SalesforceId,
    filter: &ReportFilter,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM crm_report_conditions WHERE report_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if filter.conditions().is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "INSERT INTO crm_report_conditions (report_id, position, field, operator, value) VALUES ",
    );
    for (position, condition) in filter.conditions().iter().enumerate() {
        if position > 0 {
            sql.push(", ");
        }
        sql.bind_list([
            Bind::Text(id.to_string()),
            Bind::Int(position as i64),
            Bind::from(condition.field().as_str()),
            Bind::from(condition.operator().name()),
            Bind::from(condition.value()),
        ]);
    }
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

#[async_trait::async_trait]
impl CrmReportStore for SqlStore {
    async fn create_report(
        &self,
        mid: Mid,
        definition: ReportDefinition,
        now: OffsetDateTime,
    ) -> Result<Report, StoreError> {
        let mut tx = self.write_tx().await?;
        let id = mint(&mut tx, REPORT_PREFIX, 1)
            .await?
            .pop()
            .expect("one id was minted");
        sqlx::query(
            "INSERT INTO crm_reports (id, mid, name, object, logic, created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(mid.get())
        .bind(&definition.name)
        .bind(definition.object.name())
        .bind(definition.filter.logic().name())
        .bind(to_millis(now))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        write_conditions(&mut tx, id, &definition.filter).await?;
        tx.commit().await?;
        Ok(Report {
            id,
            name: definition.name,
            object: definition.object,
            filter: definition.filter,
            created_at: now,
            modified_at: now,
        })
    }

    async fn get_report(&self, mid: Mid, id: SalesforceId) -> Result<Option<Report>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, mid, id).await
    }

    async fn list_reports(&self, mid: Mid, slice: Slice) -> Result<Page<Report>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM crm_reports WHERE mid = $1")
            .bind(mid.get())
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
        let sql = format!(
            "SELECT {COLUMNS} FROM crm_reports WHERE mid = $1 ORDER BY id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(mid.get())
            .bind(i64::from(slice.limit))
            .bind(i64::try_from(slice.offset).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?;
        let items = reports(&mut conn, &rows).await?;
        Ok(Page { count, items })
    }

    async fn update_report(
        &self,
        mid: Mid,
        id: SalesforceId,
        definition: ReportDefinition,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, StoreError> {
        let mut tx = self.write_tx().await?;
        let updated = sqlx::query(
            "UPDATE crm_reports SET name = $1, object = $2, logic = $3, modified_at = $4
             WHERE mid = $5 AND id = $6",
        )
        .bind(&definition.name)
        .bind(definition.object.name())
        .bind(definition.filter.logic().name())
        .bind(to_millis(now))
        .bind(mid.get())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        write_conditions(&mut tx, id, &definition.filter).await?;
        let report = load(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn delete_report(&self, mid: Mid, id: SalesforceId) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM crm_reports WHERE mid = $1 AND id = $2")
            .bind(mid.get())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }
}
