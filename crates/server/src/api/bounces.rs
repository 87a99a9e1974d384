//! Bounce ingestion (a Herald extension): `POST /herald/v1/bounces` takes one raw
//! delivery status notification (`Content-Type: message/rfc822`), as a relay's pipe or
//! a mailbox poller hands it over, authenticated by the installation's bounce secret
//! (`Authorization: Bearer $HERALD_BOUNCE_SECRET`). See `crate::bounces`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::api::error::{ApiError, error_body};
use crate::bounces::{IngestError, ingest};
use crate::metrics::Metrics;
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/herald/v1/bounces", post(take))
}

async fn take(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&state, &headers, &body).await {
        Ok(response) | Err(response) => response,
    }
}

async fn handle(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let Some(secret) = &state.config.bounce_secret else {
        return Err(ApiError::NotFound(
            "bounce ingestion is off on this server: set HERALD_BOUNCE_SECRET".into(),
        )
        .into_response());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(presented.as_bytes().ct_eq(secret.expose().as_bytes())) {
        return Err(ApiError::NotAuthorized.into_response());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("message/rfc822") {
        return Err(error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            415,
            &format!(
                "the body must be one raw message with Content-Type: message/rfc822, got {content_type:?}"
            ),
        ));
    }
    let ingested = match ingest(state, body).await {
        Ok(ingested) => ingested,
        Err(err) => {
            let (label, response) = match err {
                IngestError::NotANotification(err) => {
                    ("not_a_notification", ApiError::invalid(err.to_string()))
                }
                IngestError::UnknownMessage => {
                    ("unknown_message", ApiError::NotFound(err.to_string()))
                }
                IngestError::Store(err) => ("error", ApiError::from(err)),
            };
            Metrics::count_in(&state.metrics.bounce_notifications, label);
            return Err(response.into_response());
        }
    };
    let report = &ingested.report;
    Metrics::count_in(
        &state.metrics.bounce_notifications,
        ingested.outcome.as_str(),
    );
    Ok(Json(json!({
        "outcome": ingested.outcome.as_str(),
        "instanceId": ingested.message.instance_id.to_string(),
        "recipientId": ingested.message.recipient_id,
        "action": report.action,
        "status": report.status,
        "diagnostic": report.diagnostic,
    }))
    .into_response())
}
