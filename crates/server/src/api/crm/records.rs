//! `/crm/v1/contacts` and `/crm/v1/leads`: list, create, read, update, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_domain::crm::CrmObject;
use herald_domain::email_address::EmailAddress;
use serde_json::{Value, json};

use super::bulk;
use super::wire::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_body, path_id, record_body, slice, stored_record,
};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{CrmRead, CrmWrite};
use crate::service::crm as service;
use crate::state::AppState;

/// Which object a family of routes serves.
pub trait ObjectRoute: Send + Sync + 'static {
    const OBJECT: CrmObject;
}

/// `/crm/v1/contacts`.
pub struct Contacts;
impl ObjectRoute for Contacts {
    const OBJECT: CrmObject = CrmObject::Contact;
}

/// `/crm/v1/leads`.
pub struct Leads;
impl ObjectRoute for Leads {
    const OBJECT: CrmObject = CrmObject::Lead;
}

/// The routes of one object under `base`.
pub fn routes<O: ObjectRoute>(base: &str) -> Router<AppState> {
    Router::new()
        .route(base, get(list::<O>).post(create::<O>))
        .route(&format!("{base}/bulk"), post(bulk::upsert::<O>))
        .route(
            &format!("{base}/{{id}}"),
            get(read::<O>).patch(update::<O>).delete(delete::<O>),
        )
}

/// `?page=&pageSize=&email=`: records in creation order, optionally only one address.
async fn list<O: ObjectRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let email = params
        .get("email")
        .map(EmailAddress::parse)
        .transpose()
        .map_err(|err| ApiError::invalid(format!("email: {err}")))?;
    let records =
        service::list_records(&state, auth.mid, O::OBJECT, email.as_ref(), slice(page)).await?;
    Ok(Json(page_body(page, records, stored_record)))
}

async fn create<O: ObjectRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let changes = record_body(&body)?;
    let created = service::create_record(&state, auth.mid, O::OBJECT, changes).await?;
    Ok((StatusCode::CREATED, Json(stored_record(created))))
}

async fn read<O: ObjectRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = service::read_record(&state, auth.mid, O::OBJECT, path_id(&id)?).await?;
    Ok(Json(stored_record(record)))
}

/// Changes the fields the body names; others stay as they are.
async fn update<O: ObjectRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let changes = record_body(&body)?;
    let updated = service::update_record(&state, auth.mid, O::OBJECT, id, changes).await?;
    Ok(Json(stored_record(updated)))
}

async fn delete<O: ObjectRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    service::delete_record(&state, auth.mid, O::OBJECT, id).await?;
    Ok(Json(json!({"id": id, "deleted": true})))
}
