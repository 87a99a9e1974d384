//! The capture outbox (a Herald extension): with no relay configured, the messages a send
//! would have delivered, exactly as they would have left.
//!
//! `GET /herald/v1/outbox?instanceId=&page=&pageSize=`, `GET /herald/v1/outbox/{id}`
//! (with the raw MIME as a string) and `GET /herald/v1/outbox/{id}/raw` (the message
//! itself, `message/rfc822`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::api::error::ApiError;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::SendRead;
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/herald/v1/outbox", get(list))
        .route("/herald/v1/outbox/{id}", get(one))
        .route("/herald/v1/outbox/{id}/raw", get(raw))
}

fn message_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("no captured message has the id {text:?}")))
}

async fn list(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(50, 500)?;
    let instance = match params.get("instanceid") {
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::invalid(format!("instanceId must be a number, got {text:?}"))
        })?),
        None => None,
    };
    let (count, messages) = state.store.list_captured(auth.mid, instance, page).await?;
    let items: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "instanceId": m.instance_id.to_string(), "recipientId": m.recipient_id,
                "from": m.envelope_from, "to": m.rcpt_to, "subject": m.subject, "size": m.size,
                "createdDate": m.created_at.format(&Rfc3339).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(
        json!({"count": count, "page": page.page, "pageSize": page.page_size, "items": items}),
    ))
}

async fn one(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = message_id(&id)?;
    let raw = state
        .store
        .captured_raw(auth.mid, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no captured message has the id {id}")))?;
    Ok(Json(
        json!({"id": id, "raw": String::from_utf8_lossy(&raw)}),
    ))
}

async fn raw(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = message_id(&id)?;
    let raw = state
        .store
        .captured_raw(auth.mid, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no captured message has the id {id}")))?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], raw))
}
