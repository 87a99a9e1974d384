//! Schedule Send: one new instance of a definition each time.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use herald_domain::send::message::Verb;

use super::path::DefinitionPath;
use super::reply::SendResult;
use super::wire::{ScheduleBody, Scheduled, parse_optional_body};
use crate::auth::Authorized;
use crate::auth::requirements::SendSchedule;
use crate::service::send;
use crate::state::AppState;

/// `POST …/{definitionId}/schedule` with `{"StartImmediately","ScheduledTime",
/// "AllRecipientsOptedIn"}` (flat, or inside `"Schedule"`): `{"InstanceId","IsError":false}`.
pub async fn schedule(
    State(state): State<AppState>,
    auth: Authorized<SendSchedule>,
    Path(path): Path<DefinitionPath>,
    body: Bytes,
) -> SendResult<Json<Scheduled>> {
    let id = path.id(Verb::Scheduling)?;
    let body: ScheduleBody = parse_optional_body(&body)?;
    let instance = send::schedule_send(&state, auth.mid, &id, body.into_input()).await?;
    Ok(Json(Scheduled::new(&instance)))
}
