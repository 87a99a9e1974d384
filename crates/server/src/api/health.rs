//! Liveness and readiness probes, and the metrics.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(inline, value_type = String, pattern = "^ok$")]
    status: &'static str,
}

/// The answer of `GET /readyz` (keys in the order they are written: alphabetical).
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// Why the process is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
    /// `ready` or `unavailable`.
    status: &'static str,
}

/// Liveness: the process is up
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Operations",
    operation_id = "healthz",
    security(()),
    responses((status = 200, description = "Up", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Prometheus metrics
///
/// Prometheus text format: herald_messages_total{outcome}, herald_queue_depth,
/// herald_in_flight, herald_relay_reply_seconds, herald_scheduler_lag_seconds,
/// herald_smtp_idle_connections, herald_smtp_connections_opened,
/// herald_bounce_notifications_total{outcome}, herald_webhook_deliveries_total{outcome}.
/// (The one route that does not answer JSON.)
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Operations",
    operation_id = "metrics",
    security(()),
    responses((status = 200, description = "The metrics", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// Readiness: the database answers
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "Operations",
    operation_id = "readyz",
    security(()),
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database cannot be reached", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = state.store.backend().name();
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                database,
                message: None,
            }),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Readiness {
                    status: "unavailable",
                    database,
                    message: Some("database unreachable"),
                }),
            )
        }
    }
}
