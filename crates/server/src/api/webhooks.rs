//! Event webhook subscriptions (a Herald extension): `/herald/v1/webhooks`. A
//! subscription is a URL and the event kinds it wants; its signing secret is shown once,
//! in the answer to the create. Delivery is the dispatcher's (`crate::webhooks`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_domain::event::EventKind;
use herald_store::{NewWebhook, Webhook};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{WebhookRead, WebhookWrite};
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/herald/v1/webhooks", get(list).post(create))
        .route("/herald/v1/webhooks/{id}", get(one).delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    url: String,
    events: Vec<String>,
}

/// The longest URL accepted.
const MAX_URL: usize = 2048;

fn check_url(text: &str) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::invalid(format!("url {why}, got {text:?}"));
    if text.len() > MAX_URL {
        return Err(ApiError::invalid(format!(
            "url has at most {MAX_URL} characters"
        )));
    }
    let url = url::Url::parse(text.trim()).map_err(|_| bad("must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("must be an http:// or https:// URL with a host"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    Ok(url.to_string())
}

fn check_kinds(names: &[String]) -> Result<Vec<EventKind>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::invalid(
            "events must name at least one event kind",
        ));
    }
    let mut kinds = Vec::new();
    for name in names {
        let kind = EventKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::invalid(format!(
                "unknown event kind {name:?}; known kinds: {}",
                known.join(", ")
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

fn webhook_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("no webhook has the id {text:?}")))
}

fn wire(webhook: &Webhook) -> Value {
    let date = |at: time::OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
    json!({
        "id": webhook.id.to_string(),
        "url": webhook.url,
        "events": webhook.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "createdDate": date(webhook.created_at),
        "lastEventId": webhook.done_through,
        "delivered": webhook.delivered,
        "failedAttempts": webhook.failures,
        "lastError": webhook.last_error,
        "nextAttemptDate": webhook.next_attempt_at.map(date),
    })
}

async fn create(
    State(state): State<AppState>,
    auth: Authorized<WebhookWrite>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let url = check_url(&body.url)?;
    let kinds = check_kinds(&body.events)?;
    let random: [u8; 32] = rand::rng().random();
    let secret = format!("whsec_{}", URL_SAFE_NO_PAD.encode(random));
    let new = NewWebhook {
        mid: auth.mid,
        url,
        kinds,
        secret,
    };
    let created = state.store.create_webhook(&new, state.clock.now()).await?;
    let mut body = wire(&created);
    body["secret"] = created.secret.clone().into();
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(
    State(state): State<AppState>,
    auth: Authorized<WebhookRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(50, 500)?;
    let (count, items) = state.store.list_webhooks(auth.mid, page).await?;
    let items: Vec<Value> = items.iter().map(wire).collect();
    Ok(Json(
        json!({"count": count, "page": page.page, "pageSize": page.page_size, "items": items}),
    ))
}

async fn one(
    State(state): State<AppState>,
    auth: Authorized<WebhookRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = webhook_id(&id)?;
    let webhook = state
        .store
        .get_webhook(auth.mid, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook has the id {id}")))?;
    Ok(Json(wire(&webhook)))
}

async fn remove(
    State(state): State<AppState>,
    auth: Authorized<WebhookWrite>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = webhook_id(&id)?;
    if !state.store.delete_webhook(auth.mid, id).await? {
        return Err(ApiError::NotFound(format!("no webhook has the id {id}")));
    }
    Ok(Json(json!({"id": id.to_string(), "deleted": true})))
}
