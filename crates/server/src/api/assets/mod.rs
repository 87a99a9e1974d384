//! Emails as Content Builder assets (send-api.md section 3): list, query, get, create,
//! replace, patch and delete under `/asset/v1/content/assets`.
//!
//! Reads need `EmailRead`, writes `EmailWrite`. Everything is scoped to the token's MID.
//! A duplicate customer key is a 409, and so is deleting an email that a send definition
//! (or a live send instance) uses; a deleted asset answers 200 with a JSON body.

mod demo;
mod wire;

pub use demo::seed_demo;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_domain::asset_query::{
    AssetQuery, DEFAULT_PAGE_SIZE, FieldSelection, MAX_PAGE_SIZE, QueryBody, QueryError,
};
use herald_domain::mid::Mid;
use herald_store::{Asset, AssetDeleteError, AssetUpdate, AssetWriteError};
use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{EmailRead, EmailWrite};
use crate::state::AppState;
use wire::AssetBody;

/// The asset routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/asset/v1/content/assets", get(list).post(create))
        .route("/asset/v1/content/assets/query", post(query))
        .route(
            "/asset/v1/content/assets/{id}",
            get(read).put(replace).patch(patch).delete(remove),
        )
}

fn query_error(err: QueryError) -> ApiError {
    ApiError::invalid(err.to_string())
}

fn write_error(err: AssetWriteError) -> ApiError {
    match err {
        AssetWriteError::DuplicateCustomerKey(_) => ApiError::Conflict(err.to_string()),
        AssetWriteError::Store(err) => err.into(),
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Asset {id} not found"))
}

/// An id from the path: a whole number.
fn asset_id(text: &str) -> Result<i64, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::invalid(format!("an asset id is a whole number, got {text:?}")))
}

/// `GET /asset/v1/content/assets?$page&$pagesize&$orderBy&$filter&$fields`
async fn list(
    State(state): State<AppState>,
    auth: Authorized<EmailRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let query = AssetQuery::from_params(params.get("filter"), params.get("orderby"), page)
        .map_err(query_error)?;
    let fields = params
        .get("fields")
        .map(FieldSelection::parse)
        .unwrap_or_default();
    let found = state.store.list_assets(auth.mid, &query).await?;
    Ok(Json(wire::list(&found, page, &fields)))
}

/// `POST /asset/v1/content/assets/query`
async fn query(
    State(state): State<AppState>,
    auth: Authorized<EmailRead>,
    ApiJson(body): ApiJson<QueryBody>,
) -> Result<Json<Value>, ApiError> {
    let (query, fields) = body.into_query().map_err(query_error)?;
    let found = state.store.list_assets(auth.mid, &query).await?;
    Ok(Json(wire::list(&found, query.page, &fields)))
}

/// The asset `id` (as the path gives it) of `mid`, or a 404.
async fn existing(state: &AppState, mid: Mid, id: &str) -> Result<Asset, ApiError> {
    let id = asset_id(id)?;
    state
        .store
        .get_asset(mid, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// `GET /asset/v1/content/assets/{id}`
async fn read(
    State(state): State<AppState>,
    auth: Authorized<EmailRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let asset = existing(&state, auth.mid, &id).await?;
    Ok(Json(wire::item(&asset, &FieldSelection::all())))
}

/// `POST /asset/v1/content/assets`: 201 with the new asset.
async fn create(
    State(state): State<AppState>,
    auth: Authorized<EmailWrite>,
    ApiJson(body): ApiJson<AssetBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new = body.into_new(auth.mid, state.clock.now(), || {
        uuid::Uuid::new_v4().to_string()
    })?;
    let asset = state.store.create_asset(new).await.map_err(write_error)?;
    Ok((
        StatusCode::CREATED,
        Json(wire::item(&asset, &FieldSelection::all())),
    ))
}

/// `PUT /asset/v1/content/assets/{id}`
async fn replace(
    State(state): State<AppState>,
    auth: Authorized<EmailWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssetBody>,
) -> Result<Json<Value>, ApiError> {
    let asset = existing(&state, auth.mid, &id).await?;
    let update = body.into_replacement(&asset, state.clock.now())?;
    save(&state, auth.mid, asset.id, update).await
}

/// `PATCH /asset/v1/content/assets/{id}`
async fn patch(
    State(state): State<AppState>,
    auth: Authorized<EmailWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssetBody>,
) -> Result<Json<Value>, ApiError> {
    let asset = existing(&state, auth.mid, &id).await?;
    let update = body.into_patch(&asset, state.clock.now())?;
    save(&state, auth.mid, asset.id, update).await
}

/// Stores an update and answers with the asset as saved.
async fn save(
    state: &AppState,
    mid: Mid,
    id: i64,
    update: AssetUpdate,
) -> Result<Json<Value>, ApiError> {
    let asset = state
        .store
        .update_asset(mid, id, update)
        .await
        .map_err(write_error)?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(wire::item(&asset, &FieldSelection::all())))
}

/// `DELETE /asset/v1/content/assets/{id}`: 200 `{"id","deleted":true}`; 409 naming the
/// send definitions and live send instances while any of them sends this email.
async fn remove(
    State(state): State<AppState>,
    auth: Authorized<EmailWrite>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = asset_id(&id)?;
    let deleted = state
        .store
        .delete_asset(auth.mid, id)
        .await
        .map_err(|err| match err {
            AssetDeleteError::InUse { .. } => ApiError::Conflict(err.to_string()),
            AssetDeleteError::Store(err) => err.into(),
        })?;
    if !deleted {
        return Err(not_found(id));
    }
    Ok(Json(json!({"id": id, "deleted": true})))
}
