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
use herald_domain::wire_time::rfc3339;
use herald_store::CapturedMessage;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::error::{ApiError, ErrorResponse};
use crate::api::ids::id_or_not_found;
use crate::api::page::{Page, Paging};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::SendRead;
use crate::service::outbox;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(raw))
}

/// A captured message, without its content. (Keys in the order they are written:
/// alphabetical.)
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Captured {
    /// When it was captured (RFC 3339, UTC).
    created_date: String,
    /// The envelope sender (the VERP return path).
    from: String,
    /// The captured message's id.
    id: i64,
    /// The send instance it belongs to, as a digit string.
    instance_id: String,
    /// The recipient's id within its send instance.
    recipient_id: i64,
    /// The message's size in bytes.
    size: i64,
    /// The subject as sent.
    subject: String,
    /// The envelope recipient.
    to: String,
}

impl From<&CapturedMessage> for Captured {
    fn from(message: &CapturedMessage) -> Self {
        Captured {
            created_date: rfc3339(message.created_at),
            from: message.envelope_from.clone(),
            id: message.id,
            instance_id: message.instance_id.to_string(),
            recipient_id: message.recipient_id,
            size: message.size,
            subject: message.subject.clone(),
            to: message.rcpt_to.clone(),
        }
    }
}

/// A captured message with its raw MIME.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapturedRaw {
    /// The captured message's id.
    id: i64,
    /// The whole message as it would have been sent (bytes that are not UTF-8 replaced).
    raw: String,
}

/// A whole message, `message/rfc822`.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // it only describes the answer; `raw` writes the bytes
struct Mime(Vec<u8>);

/// List captured messages (Herald extension)
///
/// With no relay configured, messages are kept here instead of sent. Newest first.
#[utoipa::path(
    get,
    path = "/herald/v1/outbox",
    tag = "Outbox",
    operation_id = "listOutbox",
    security(("oauth2" = ["marketing_cloud_connect_read"])),
    params(
        ("instanceId" = Option<String>, Query, description = "Only this send instance's messages (a number)."),
        Paging,
    ),
    responses(
        (status = 200, description = "A page of captured messages", body = Page<Captured>),
        (status = 400, response = ErrorResponse),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
    )
)]
async fn list(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    params: Params,
) -> Result<Json<Page<Captured>>, ApiError> {
    let page = params.page(50, 500)?;
    let instance = match params.get("instanceid") {
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::invalid(format!("instanceId must be a number, got {text:?}"))
        })?),
        None => None,
    };
    let (count, messages) = outbox::list(&state, auth.mid, instance, page).await?;
    let items = messages.iter().map(Captured::from).collect();
    Ok(Json(Page::new(count, items, page)))
}

/// One captured message with its raw MIME
#[utoipa::path(
    get,
    path = "/herald/v1/outbox/{id}",
    tag = "Outbox",
    operation_id = "getOutboxMessage",
    security(("oauth2" = ["marketing_cloud_connect_read"])),
    params(("id" = String, Path, description = "A captured message's id.")),
    responses(
        (status = 200, description = "The message", body = CapturedRaw),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
    )
)]
async fn one(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(id): Path<String>,
) -> Result<Json<CapturedRaw>, ApiError> {
    let id = id_or_not_found(&id, "captured message")?;
    let raw = outbox::raw(&state, auth.mid, id).await?;
    Ok(Json(CapturedRaw {
        id,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    }))
}

/// One captured message as message/rfc822
#[utoipa::path(
    get,
    path = "/herald/v1/outbox/{id}/raw",
    tag = "Outbox",
    operation_id = "getOutboxMessageRaw",
    security(("oauth2" = ["marketing_cloud_connect_read"])),
    params(("id" = String, Path, description = "A captured message's id.")),
    responses(
        (status = 200, description = "The message exactly as it would have been sent", content_type = "message/rfc822", body = Mime),
        (status = 401, response = ErrorResponse),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
    )
)]
async fn raw(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_or_not_found(&id, "captured message")?;
    let raw = outbox::raw(&state, auth.mid, id).await?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], raw))
}
