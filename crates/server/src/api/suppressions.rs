//! The account's suppression list (a Herald extension): addresses that get no commercial
//! mail (unsubscribed, added by hand) or no mail at all (hard bounces).
//!
//! `GET /herald/v1/suppressions?page=&pageSize=`, `POST /herald/v1/suppressions`
//! `{"email","detail"?}`, `GET` and `DELETE /herald/v1/suppressions/{email}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use herald_domain::email_address::EmailAddress;
use herald_domain::recipient::SuppressionReason;
use herald_store::Suppression;
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{CrmRead, CrmWrite};
use crate::state::AppState;

/// The longest `detail` kept.
const MAX_DETAIL: usize = 500;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/herald/v1/suppressions", get(list).post(add))
        .route("/herald/v1/suppressions/{email}", get(one).delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSuppression {
    email: String,
    #[serde(default)]
    detail: Option<String>,
}

fn item(entry: &Suppression) -> Value {
    json!({
        "email": entry.email_norm,
        "reason": entry.reason.as_str(),
        "detail": entry.detail,
        "createdDate": entry.created_at.format(&Rfc3339).unwrap_or_default(),
    })
}

/// The list's key for an address: valid, in lower case.
fn address(text: &str) -> Result<String, ApiError> {
    EmailAddress::parse(text.trim())
        .map(|address| address.normalized())
        .map_err(|err| ApiError::invalid(format!("email {text:?} is not a valid address: {err}")))
}

fn not_listed(email: &str) -> ApiError {
    ApiError::NotFound(format!("{email} is not on the suppression list"))
}

async fn list(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(50, 500)?;
    let (count, entries) = state.store.list_suppressions(auth.mid, page).await?;
    let items: Vec<Value> = entries.iter().map(item).collect();
    Ok(Json(
        json!({"count": count, "page": page.page, "pageSize": page.page_size, "items": items}),
    ))
}

/// 201 with the new entry; 200 with the entry as it stands when the address was already
/// listed (its reason is kept: adding by hand never weakens a hard bounce).
async fn add(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<NewSuppression>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email = address(&body.email)?;
    let detail = body.detail.filter(|d| !d.trim().is_empty());
    if detail
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DETAIL)
    {
        return Err(ApiError::invalid(format!(
            "detail is longer than {MAX_DETAIL} characters"
        )));
    }
    let now = state.clock.now();
    let added = state
        .store
        .suppress(
            auth.mid,
            &email,
            SuppressionReason::Manual,
            detail.as_deref(),
            now,
        )
        .await?;
    let entry = state
        .store
        .get_suppression(auth.mid, &email)
        .await?
        .ok_or_else(|| not_listed(&email))?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(item(&entry))))
}

async fn one(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let email = address(&email)?;
    let entry = state
        .store
        .get_suppression(auth.mid, &email)
        .await?
        .ok_or_else(|| not_listed(&email))?;
    Ok(Json(item(&entry)))
}

/// Takes an address off the list: mail of every kind may go there again.
async fn remove(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let email = address(&email)?;
    if !state.store.unsuppress(auth.mid, &email).await? {
        return Err(not_listed(&email));
    }
    Ok(Json(json!({"email": email, "deleted": true})))
}
