//! `/crm/v1/reports`: saved filters over Contacts or Leads, with member previews.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use herald_domain::crm::{Condition, CrmObject, Logic, ReportFilter, TargetRef};
use herald_domain::mid::Mid;
use herald_store::{Report, ReportDefinition};
use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, date, not_found, page_body, path_id, slice};
use super::{targets, text};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{CrmRead, CrmWrite};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/v1/reports", get(list).post(create))
        .route(
            "/crm/v1/reports/{id}",
            get(read).patch(update).delete(delete),
        )
        .route("/crm/v1/reports/{id}/members", get(members))
        .route("/crm/v1/reports/{id}/fields", get(fields))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReportBody {
    name: Option<String>,
    /// `Contact` or `Lead`.
    object: Option<String>,
    /// `and` (the default) or `or`.
    logic: Option<String>,
    conditions: Option<Vec<ConditionBody>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionBody {
    field: String,
    operator: String,
    /// A text, number or boolean; absent or null for `isEmpty`/`isNotEmpty`.
    #[serde(default)]
    value: Value,
}

fn report(report: Report) -> Value {
    let conditions: Vec<Value> = report
        .filter
        .conditions()
        .iter()
        .map(|condition| {
            let value = Some(condition.value()).filter(|value| !value.is_empty());
            json!({
                "field": condition.field().as_str(),
                "operator": condition.operator().name(),
                "value": value,
            })
        })
        .collect();
    json!({
        "id": report.id,
        "name": report.name,
        "object": report.object.name(),
        "logic": report.filter.logic().name(),
        "conditions": conditions,
        "createdDate": date(report.created_at),
        "modifiedDate": date(report.modified_at),
    })
}

fn conditions(bodies: &[ConditionBody]) -> Result<Vec<Condition>, ApiError> {
    bodies
        .iter()
        .enumerate()
        .map(|(index, body)| {
            let value = match &body.value {
                Value::Null => None,
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                Value::Bool(flag) => Some(flag.to_string()),
                Value::Array(_) | Value::Object(_) => {
                    return Err(ApiError::invalid(format!(
                        "conditions[{index}].value: expected a text, a number, true or false"
                    )));
                }
            };
            Condition::parse(&body.field, &body.operator, value.as_deref())
                .map_err(|err| ApiError::invalid(format!("conditions[{index}]: {err}")))
        })
        .collect()
}

/// A report's definition, its custom fields checked against those `object` has in `mid`.
async fn definition(
    state: &AppState,
    mid: Mid,
    name: String,
    object: CrmObject,
    logic: Logic,
    conditions: Vec<Condition>,
) -> Result<ReportDefinition, ApiError> {
    let invalid = |err: herald_domain::crm::FilterError| ApiError::invalid(err.to_string());
    let known = state.store.custom_fields(mid, object).await?;
    let filter = ReportFilter::new(logic, conditions)
        .map_err(invalid)?
        .resolve(object, &known)
        .map_err(invalid)?;
    Ok(ReportDefinition {
        name,
        object,
        filter,
    })
}

fn object(text: &str) -> Result<CrmObject, ApiError> {
    CrmObject::parse(text).map_err(|err| ApiError::invalid(err.to_string()))
}

fn logic(text: &str) -> Result<Logic, ApiError> {
    Logic::parse(text).map_err(|err| ApiError::invalid(err.to_string()))
}

fn missing(field: &str) -> ApiError {
    ApiError::BadRequest {
        errorcode: 10002,
        message: format!("Missing field: {field}"),
    }
}

async fn list(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let reports = state.store.list_reports(auth.mid, slice(page)).await?;
    Ok(Json(page_body(page, reports, report)))
}

async fn create(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = text::name(body.name.as_deref().ok_or_else(|| missing("name"))?)?;
    let object = object(body.object.as_deref().ok_or_else(|| missing("object"))?)?;
    let logic = body
        .logic
        .as_deref()
        .map(logic)
        .transpose()?
        .unwrap_or_default();
    let conditions = conditions(body.conditions.as_deref().unwrap_or_default())?;
    let definition = definition(&state, auth.mid, name, object, logic, conditions).await?;
    let created = state
        .store
        .create_report(auth.mid, definition, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(report(created))))
}

/// The report with its current member count.
async fn read(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let found = state
        .store
        .get_report(auth.mid, id)
        .await?
        .ok_or_else(|| not_found("Report", Some(id)))?;
    let count = state
        .store
        .count_members(auth.mid, TargetRef::report(id))
        .await?
        .unwrap_or_default();
    let mut body = report(found);
    body["memberCount"] = json!(count);
    Ok(Json(body))
}

/// Replaces what the body names; `conditions`, when given, replace all of them. The
/// result is checked as a whole (conditions against a changed object, for instance).
async fn update(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let existing = state
        .store
        .get_report(auth.mid, id)
        .await?
        .ok_or_else(|| not_found("Report", Some(id)))?;
    let name = match body.name.as_deref() {
        Some(name) => text::name(name)?,
        None => existing.name,
    };
    let object = body
        .object
        .as_deref()
        .map(object)
        .transpose()?
        .unwrap_or(existing.object);
    let logic = body
        .logic
        .as_deref()
        .map(logic)
        .transpose()?
        .unwrap_or(existing.filter.logic());
    let conditions = match body.conditions.as_deref() {
        Some(bodies) => conditions(bodies)?,
        None => existing.filter.conditions().to_vec(),
    };
    let definition = definition(&state, auth.mid, name, object, logic, conditions).await?;
    let updated = state
        .store
        .update_report(auth.mid, id, definition, state.clock.now())
        .await?
        .ok_or_else(|| not_found("Report", Some(id)))?;
    Ok(Json(report(updated)))
}

async fn delete(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    if !state.store.delete_report(auth.mid, id).await? {
        return Err(not_found("Report", Some(id)));
    }
    Ok(Json(json!({"id": id, "deleted": true})))
}

/// `?page=&pageSize=`: the records the report selects now, with their count.
async fn members(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let target = TargetRef::report(path_id(&id)?);
    targets::members(&state, auth.mid, target, &params).await
}

async fn fields(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    targets::fields(&state, auth.mid, TargetRef::report(path_id(&id)?)).await
}
