//! The Send API (contract section 2): definitions, instances, schedule, status, cancel,
//! under `/data/v1/integration/send/{integrationType}/{channel}`.
//!
//! Handlers parse the path and body, call the domain's checks and the store, and answer
//! in Marketing Cloud's shapes ([`wire`], PascalCase). A request the API refuses for a
//! business reason (a missing field, an unknown id, a time in the past, an unsupported
//! `integrationType` or `channel`, a page out of range) is answered with HTTP 200 and
//! `{"IsError":true,"Message":"Error <verb> integrated send definition: <detail>"}`
//! ([`reply`]); a body that is not JSON or of the wrong type is a 400, a missing or
//! insufficient token a 401 or 403.
//!
//! Scopes: reads need `SendRead`, definition writes `SendWrite`, and scheduling,
//! canceling, pausing and resuming `SendSchedule` (a create that carries a `Schedule`
//! needs both `SendWrite` and `SendSchedule`). Instances move from `Scheduled` to
//! `Sending` in the engine, never here.

mod definitions;
mod instances;
mod path;
mod recipients;
mod reply;
mod schedule;
mod search;
pub mod wire;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// Every Send API path starts with this.
pub const PREFIX: &str = "/data/v1/integration/send/{integrationType}/{channel}";

/// The ten endpoints of the contract, plus pause, resume and the recipients list. The literal segments
/// `search` and `instance` win over `{definitionId}`.
pub fn routes() -> Router<AppState> {
    let path = |rest: &str| format!("{PREFIX}{rest}");
    Router::new()
        .route(&path(""), post(definitions::create))
        .route(&path("/search"), post(search::search))
        .route(&path("/instance"), get(instances::list))
        .route(&path("/instance/{instanceId}"), get(instances::status))
        .route(
            &path("/instance/{instanceId}/cancel"),
            get(instances::cancel).post(instances::cancel),
        )
        .route(
            &path("/instance/{instanceId}/recipients"),
            get(recipients::list),
        )
        .route(
            &path("/instance/{instanceId}/pause"),
            get(instances::pause).post(instances::pause),
        )
        .route(
            &path("/instance/{instanceId}/resume"),
            get(instances::resume).post(instances::resume),
        )
        .route(
            &path("/{definitionId}"),
            get(definitions::get)
                .put(definitions::update)
                .delete(definitions::delete),
        )
        .route(&path("/{definitionId}/schedule"), post(schedule::schedule))
        .route(
            &path("/{definitionId}/instance"),
            get(instances::list_by_definition),
        )
}
