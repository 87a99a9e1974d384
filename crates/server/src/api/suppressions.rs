//! The account's suppression list (a Herald extension): addresses that get no commercial
//! mail (unsubscribed, added by hand) or no mail at all (hard bounces).
//!
//! `GET /herald/v1/suppressions?page=&pageSize=`, `POST /herald/v1/suppressions`
//! `{"email","detail"?}`, `GET` and `DELETE /herald/v1/suppressions/{email}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::wire_time::rfc3339;
use herald_store::Suppression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::error::{ApiError, ErrorResponse};
use crate::api::json::ApiJson;
use crate::api::page::{Page, Paging};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{CrmRead, CrmWrite};
use crate::service::suppressions::{self, NewSuppression};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(one, remove))
}

/// An address to suppress.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SuppressionBody {
    /// The address (any case).
    email: String,
    /// Why, in your words (blank is none).
    #[serde(default)]
    #[schema(max_length = 500)]
    detail: Option<String>,
}

/// An entry of the suppression list. (Keys in the order they are written: alphabetical.)
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Suppression)]
pub struct SuppressionView {
    /// When the address was listed (RFC 3339, UTC).
    created_date: String,
    /// Why, as given when it was added by hand; null otherwise.
    detail: Option<String>,
    /// The address in lower case.
    email: String,
    /// `hard_bounce` (no mail at all), `unsubscribe` or `manual` (no commercial mail).
    #[schema(pattern = "^(hard_bounce|unsubscribe|manual)$")]
    reason: &'static str,
}

impl From<Suppression> for SuppressionView {
    fn from(entry: Suppression) -> Self {
        SuppressionView {
            created_date: rfc3339(entry.created_at),
            detail: entry.detail,
            email: entry.email_norm,
            reason: entry.reason.as_str(),
        }
    }
}

/// The answer to a removal.
#[derive(Debug, Serialize, ToSchema)]
struct Unsuppressed {
    /// Always true.
    deleted: bool,
    /// The address taken off the list, in lower case.
    email: String,
}

/// The suppression list, newest first
#[utoipa::path(
    get,
    path = "/herald/v1/suppressions",
    tag = "Suppressions",
    operation_id = "listSuppressions",
    security(("oauth2" = ["list_and_subscribers_read"])),
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<SuppressionView>),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
    )
)]
async fn list(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Page<SuppressionView>>, ApiError> {
    let page = params.page(50, 500)?;
    let (count, entries) = suppressions::list(&state, auth.mid, page).await?;
    let items = entries.into_iter().map(SuppressionView::from).collect();
    Ok(Json(Page::new(count, items, page)))
}

/// Suppress an address (reason manual)
///
/// 201 with the new entry; 200 with the entry as it stands when the address was already
/// listed (its reason is kept: adding by hand never weakens a hard bounce).
#[utoipa::path(
    post,
    path = "/herald/v1/suppressions",
    tag = "Suppressions",
    operation_id = "addSuppression",
    security(("oauth2" = ["list_and_subscribers_write"])),
    request_body = SuppressionBody,
    responses(
        (status = 201, description = "Added", body = SuppressionView),
        (status = 200, description = "Already listed: the entry as it stands (its reason is kept)", body = SuppressionView),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
    )
)]
async fn add(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<SuppressionBody>,
) -> Result<(StatusCode, Json<SuppressionView>), ApiError> {
    let new = NewSuppression {
        email: body.email,
        detail: body.detail,
    };
    let (added, entry) = suppressions::add(&state, auth.mid, new).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry.into())))
}

/// One suppressed address
#[utoipa::path(
    get,
    path = "/herald/v1/suppressions/{email}",
    tag = "Suppressions",
    operation_id = "getSuppression",
    security(("oauth2" = ["list_and_subscribers_read"])),
    params(("email" = String, Path, description = "The address (any case).")),
    responses(
        (status = 200, description = "The entry", body = SuppressionView),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
    )
)]
async fn one(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(email): Path<String>,
) -> Result<Json<SuppressionView>, ApiError> {
    let entry = suppressions::get(&state, auth.mid, &email).await?;
    Ok(Json(entry.into()))
}

/// Take an address off the list
///
/// Mail of every kind may go to the address again.
#[utoipa::path(
    delete,
    path = "/herald/v1/suppressions/{email}",
    tag = "Suppressions",
    operation_id = "removeSuppression",
    security(("oauth2" = ["list_and_subscribers_write"])),
    params(("email" = String, Path, description = "The address (any case).")),
    responses(
        (status = 200, description = "Removed", body = Unsuppressed),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
    )
)]
async fn remove(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(email): Path<String>,
) -> Result<Json<Unsuppressed>, ApiError> {
    let email = suppressions::remove(&state, auth.mid, &email).await?;
    Ok(Json(Unsuppressed {
        deleted: true,
        email,
    }))
}
