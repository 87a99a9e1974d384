//! `GET /platform/v1/tokenContext`: who a token belongs to (as Marketing Cloud answers it).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::auth::{AnyToken, Authorized};
use crate::state::AppState;

pub async fn token_context(
    State(state): State<AppState>,
    auth: Authorized<AnyToken>,
) -> Result<Json<Value>, ApiError> {
    let package_name = state
        .store
        .get_package(&auth.client_id)
        .await?
        .map(|package| package.name)
        .unwrap_or_default();
    let base = state.config.public_base();
    Ok(Json(json!({
        "enterprise": {"id": auth.mid},
        "organization": {"id": auth.mid, "enterprise_id": auth.mid},
        "application": {"id": auth.client_id, "name": package_name},
        "scope": auth.scopes.to_string(),
        "rest": {"rest_instance_url": base, "soap_instance_url": base},
    })))
}
