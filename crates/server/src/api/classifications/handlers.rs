//! The seven handlers every kind has, generic over its [`Resource`]: each parses, calls
//! one use case of [`crate::service::classifications`] and maps the result.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::resource::Resource;
use super::wire::{self, Deleted, ListReply};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{ClassificationRead, ClassificationWrite};
use crate::service::classifications;
use crate::state::AppState;

pub async fn list<C: Resource>(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    params: Params,
) -> Result<Json<ListReply<C::Out>>, ApiError> {
    let page = wire::page(&params)?;
    let listing = classifications::list::<C>(&state, auth.mid, page).await?;
    Ok(Json(wire::list_reply(page, &listing)))
}

pub async fn get<C: Resource>(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    Path(id): Path<String>,
) -> Result<Json<C::Out>, ApiError> {
    let found = classifications::get::<C>(&state, auth.mid, &id).await?;
    Ok(Json((&found).into()))
}

pub async fn create<C: Resource>(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<C::Out>), ApiError> {
    let fields = C::parse(wire::body(body)?, None)?;
    let created = classifications::create::<C>(&state, auth.mid, fields).await?;
    Ok((StatusCode::CREATED, Json((&created).into())))
}

/// PUT: every field from the body.
pub async fn replace<C: Resource>(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<C::Out>, ApiError> {
    let updated = classifications::update::<C, ApiError>(&state, auth.mid, &id, |current| {
        C::parse(wire::body(body)?, Some(current))
    })
    .await?;
    Ok(Json((&updated).into()))
}

/// PATCH: a JSON merge patch over the object as GET shows it.
pub async fn patch<C: Resource>(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<C::Out>, ApiError> {
    let updated = classifications::update::<C, ApiError>(&state, auth.mid, &id, |current| {
        C::parse(wire::patched(current.shown()?, patch)?, Some(current))
    })
    .await?;
    Ok(Json((&updated).into()))
}

pub async fn delete<C: Resource>(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let deleted = classifications::delete::<C>(&state, auth.mid, &id).await?;
    Ok(Json(deleted.meta().into()))
}
