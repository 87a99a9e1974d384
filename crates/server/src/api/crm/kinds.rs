//! The routes campaigns and reports share, written once: list, create, read (with the
//! member count), update, delete, members and fields. What differs (the path, the body,
//! the wire shape) are the hooks of [`TargetRoute`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use herald_domain::crm::TargetRef;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::wire::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_body, path_id, record, slice};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{CrmRead, CrmWrite};
use crate::service::crm::{self as service, TargetRules};
use crate::state::AppState;

/// One kind of target on the wire.
pub trait TargetRoute: TargetRules {
    /// Where its routes are, as `/crm/v1/campaigns`.
    const BASE: &'static str;
    /// The body of a create or an update.
    type Body: DeserializeOwned + Send + 'static;

    /// What a body asks for.
    fn input(body: Self::Body) -> Self::Input;

    /// An object as clients see it.
    fn wire(saved: Self::Saved) -> Value;

    /// The methods of `{BASE}/{id}/members`: reading them, for every kind.
    fn members_route() -> MethodRouter<AppState> {
        get(members::<Self>)
    }
}

/// The routes of one kind of target.
pub fn routes<K: TargetRoute>() -> Router<AppState> {
    Router::new()
        .route(K::BASE, get(list::<K>).post(create::<K>))
        .route(
            &format!("{}/{{id}}", K::BASE),
            get(read::<K>).patch(update::<K>).delete(delete::<K>),
        )
        .route(&format!("{}/{{id}}/members", K::BASE), K::members_route())
        .route(&format!("{}/{{id}}/fields", K::BASE), get(fields::<K>))
}

async fn list<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let found = service::list_targets_of::<K>(&state, auth.mid, slice(page)).await?;
    Ok(Json(page_body(page, found, K::wire)))
}

async fn create<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<K::Body>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = service::create_target::<K>(&state, auth.mid, K::input(body)).await?;
    Ok((StatusCode::CREATED, Json(K::wire(created))))
}

/// The object with its current member count.
async fn read<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (found, count) = service::read_target::<K>(&state, auth.mid, path_id(&id)?).await?;
    let mut body = K::wire(found);
    body["memberCount"] = json!(count);
    Ok(Json(body))
}

/// Changes what the body names; the rest stays as it is.
async fn update<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<K::Body>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let updated = service::update_target::<K>(&state, auth.mid, id, K::input(body)).await?;
    Ok(Json(K::wire(updated)))
}

async fn delete<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    service::delete_target::<K>(&state, auth.mid, id).await?;
    Ok(Json(json!({"id": id, "deleted": true})))
}

/// `?page=&pageSize=`: a page of the members, with their count.
pub async fn members<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let target = TargetRef {
        kind: K::KIND,
        id: path_id(&id)?,
    };
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let members = service::members(&state, auth.mid, target, slice(page)).await?;
    Ok(Json(page_body(page, members, record)))
}

/// `{"fields": […]}`: the standard fields, then the custom ones the members have.
async fn fields<K: TargetRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let target = TargetRef {
        kind: K::KIND,
        id: path_id(&id)?,
    };
    let fields = service::target_fields(&state, auth.mid, target).await?;
    Ok(Json(json!({"fields": fields})))
}
