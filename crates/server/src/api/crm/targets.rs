//! `GET /crm/v1/targets`, and what reports and campaigns share: member previews and the
//! fields their records carry.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use herald_domain::crm::TargetRef;
use herald_domain::mid::Mid;
use serde_json::{Value, json};

use super::wire::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, not_found, page_body, record, slice};
use crate::api::error::ApiError;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::CrmRead;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/crm/v1/targets", get(list))
}

/// Reports, then campaigns, with their member counts.
async fn list(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let targets = state.store.list_targets(auth.mid, slice(page)).await?;
    Ok(Json(page_body(page, targets, |summary| {
        json!({
            "type": summary.target.kind.name(),
            "id": summary.target.id,
            "name": summary.name,
            "memberCount": summary.member_count,
        })
    })))
}

/// A page of a target's members, with the member count.
pub async fn members(
    state: &AppState,
    mid: Mid,
    target: TargetRef,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let members = state
        .store
        .members_at(mid, target, slice(page))
        .await?
        .ok_or_else(|| not_found(target.kind.name(), Some(target.id)))?;
    Ok(Json(page_body(page, members, record)))
}

/// `{"fields": […]}`: the standard fields, then the custom ones the target's records have.
pub async fn fields(
    state: &AppState,
    mid: Mid,
    target: TargetRef,
) -> Result<Json<Value>, ApiError> {
    let fields = state
        .store
        .target_fields(mid, target)
        .await?
        .ok_or_else(|| not_found(target.kind.name(), Some(target.id)))?;
    Ok(Json(json!({"fields": fields})))
}
