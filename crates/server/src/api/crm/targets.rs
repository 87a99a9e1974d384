//! `GET /crm/v1/targets`: every report and campaign, with their member counts.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::wire::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_body, slice};
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
