//! Reports: saved filters over Contacts or Leads.

use std::collections::HashMap;

use herald_domain::crm::{Condition, Logic, ReportFilter, TargetKind};
use herald_domain::salesforce_id::SalesforceId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::decode::{id_column, object_column};
use super::target_table::TargetTable;
use super::{Report, ReportDefinition};
use crate::StoreError;
use crate::sql::{Bind, CHUNK, Sql};
use crate::timestamp::from_millis;

/// Reports: the table `crm_reports`, a name, an object and a filter's logic, with the
/// filter's conditions in `crm_report_conditions` (see [`TargetTable`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reports;

impl TargetTable for Reports {
    type Definition = ReportDefinition;
    type Saved = Report;
    const KIND: TargetKind = TargetKind::Report;
    const TABLE: &'static str = "crm_reports";
    const COLUMNS: &'static [&'static str] = &["name", "object", "logic"];

    fn values(definition: &ReportDefinition) -> Vec<Option<String>> {
        [
            definition.name.as_str(),
            definition.object.name(),
            definition.filter.logic().name(),
        ]
        .map(|value| Some(value.to_owned()))
        .into()
    }

    async fn decode(
        conn: &mut AnyConnection,
        rows: Vec<AnyRow>,
    ) -> Result<Vec<Report>, StoreError> {
        reports(conn, &rows).await
    }

    async fn write_rest(
        conn: &mut AnyConnection,
        id: SalesforceId,
        definition: &ReportDefinition,
    ) -> Result<(), StoreError> {
        write_conditions(conn, id, &definition.filter).await
    }
}

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
        version: row.try_get("version")?,
    })
}

/// Reports from rows of [`Reports::COLUMNS`] (and the columns every target has), with
/// their conditions.
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
