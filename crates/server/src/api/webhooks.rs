//! Event webhook subscriptions (a Herald extension): `/herald/v1/webhooks`. A
//! subscription is a URL and the event kinds it wants; its signing secret is shown once,
//! in the answer to the create. Delivery is the dispatcher's (`crate::webhooks`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::wire_time::rfc3339;
use herald_store::Webhook;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::error::{ApiError, ErrorResponse};
use crate::api::ids::id_or_not_found;
use crate::api::json::ApiJson;
use crate::api::page::{Page, Paging};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{WebhookRead, WebhookWrite};
use crate::service::webhooks::{self, NewSubscription};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, remove))
}

/// A subscription to make.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    /// An absolute http:// or https:// URL with a host, no #fragment, at most 2048
    /// characters.
    url: String,
    /// At least one event kind: `sent`, `bounced`, `opened`, `clicked` or `unsubscribed`.
    #[schema(min_items = 1)]
    events: Vec<String>,
}

/// A subscription and where its delivery stands. (Keys in the order they are written:
/// alphabetical.)
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Webhook)]
pub struct WebhookView {
    /// When it was made (RFC 3339, UTC).
    created_date: String,
    /// Events delivered so far.
    delivered: i64,
    /// The event kinds it receives: `sent`, `bounced`, `opened`, `clicked`,
    /// `unsubscribed`.
    events: Vec<&'static str>,
    /// Failed attempts in a row at the event now at the head (0 when healthy).
    failed_attempts: i64,
    /// Its id, as a digit string.
    id: String,
    /// Why the last attempt failed; null when it did not.
    last_error: Option<String>,
    /// Every event with an id up to this one was delivered or is not for this
    /// subscription.
    last_event_id: i64,
    /// When the next attempt is due while the receiver fails (RFC 3339, UTC); null when
    /// none waits.
    next_attempt_date: Option<String>,
    /// Only in the answer to the create: signs every delivery (`Herald-Signature`).
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// Where the events are POSTed.
    url: String,
}

impl WebhookView {
    /// A subscription as any read shows it: without its secret.
    fn shown(webhook: Webhook) -> Self {
        WebhookView {
            created_date: rfc3339(webhook.created_at),
            delivered: webhook.delivered,
            events: webhook.kinds.iter().map(|k| k.as_str()).collect(),
            failed_attempts: webhook.failures,
            id: webhook.id.to_string(),
            last_error: webhook.last_error,
            last_event_id: webhook.done_through,
            next_attempt_date: webhook.next_attempt_at.map(rfc3339),
            secret: None,
            url: webhook.url,
        }
    }
}

/// The answer to a delete.
#[derive(Debug, Serialize, ToSchema)]
struct WebhookDeleted {
    /// Always true.
    deleted: bool,
    /// The deleted subscription's id, as a digit string.
    id: String,
}

/// Subscribe a URL to event kinds (Herald extension)
///
/// Each event of the account of the kinds named is POSTed as JSON to the URL, signed:
/// `Herald-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, t + "." + body)}`. At
/// least once, in event order, retried with backoff while the receiver fails. The
/// subscription receives the events appended after its creation.
#[utoipa::path(
    post,
    path = "/herald/v1/webhooks",
    tag = "Bounces and webhooks",
    operation_id = "createWebhook",
    security(("oauth2" = ["webhooks_write"])),
    request_body = WebhookBody,
    responses(
        (status = 201, description = "Created; the only answer that shows the secret", body = WebhookView),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
    )
)]
async fn create(
    State(state): State<AppState>,
    auth: Authorized<WebhookWrite>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let new = NewSubscription {
        url: body.url,
        events: body.events,
    };
    let mut created = webhooks::create(&state, auth.mid, new).await?;
    let secret = std::mem::take(&mut created.secret);
    let body = WebhookView {
        secret: Some(secret),
        ..WebhookView::shown(created)
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// List event webhook subscriptions (Herald extension)
#[utoipa::path(
    get,
    path = "/herald/v1/webhooks",
    tag = "Bounces and webhooks",
    operation_id = "listWebhooks",
    security(("oauth2" = ["webhooks_read"])),
    params(Paging),
    responses(
        (status = 200, description = "A page of subscriptions, oldest first (never their secrets)", body = Page<WebhookView>),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
    )
)]
async fn list(
    State(state): State<AppState>,
    auth: Authorized<WebhookRead>,
    params: Params,
) -> Result<Json<Page<WebhookView>>, ApiError> {
    let page = params.page(50, 500)?;
    let (count, found) = webhooks::list(&state, auth.mid, page).await?;
    let items = found.into_iter().map(WebhookView::shown).collect();
    Ok(Json(Page::new(count, items, page)))
}

/// One subscription and where its delivery stands
#[utoipa::path(
    get,
    path = "/herald/v1/webhooks/{id}",
    tag = "Bounces and webhooks",
    operation_id = "getWebhook",
    security(("oauth2" = ["webhooks_read"])),
    params(("id" = String, Path, description = "A webhook subscription's id.")),
    responses(
        (status = 200, description = "The subscription (without its secret)", body = WebhookView),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
    )
)]
async fn one(
    State(state): State<AppState>,
    auth: Authorized<WebhookRead>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let id = id_or_not_found(&id, "webhook")?;
    let webhook = webhooks::get(&state, auth.mid, id).await?;
    Ok(Json(WebhookView::shown(webhook)))
}

/// Delete a subscription: its deliveries stop
#[utoipa::path(
    delete,
    path = "/herald/v1/webhooks/{id}",
    tag = "Bounces and webhooks",
    operation_id = "deleteWebhook",
    security(("oauth2" = ["webhooks_write"])),
    params(("id" = String, Path, description = "A webhook subscription's id.")),
    responses(
        (status = 200, description = "Deleted", body = WebhookDeleted),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
    )
)]
async fn remove(
    State(state): State<AppState>,
    auth: Authorized<WebhookWrite>,
    Path(id): Path<String>,
) -> Result<Json<WebhookDeleted>, ApiError> {
    let id = id_or_not_found(&id, "webhook")?;
    webhooks::delete(&state, auth.mid, id).await?;
    Ok(Json(WebhookDeleted {
        deleted: true,
        id: id.to_string(),
    }))
}
