//! Schedule Send: one new instance of a definition each time.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use herald_domain::send::message::{self, Verb};

use super::definitions::find_definition;
use super::references::References;
use super::reply::{OrRefuse, SendResult, check_path, refuse};
use super::wire::{ScheduleBody, Scheduled, parse_optional_body};
use crate::auth::Authorized;
use crate::auth::requirements::SendSchedule;
use crate::state::AppState;

/// `POST …/{definitionId}/schedule` with `{"StartImmediately","ScheduledTime",
/// "AllRecipientsOptedIn"}` (flat, or inside `"Schedule"`): `{"InstanceId","IsError":false}`.
///
/// The definition's email, classification and targets are checked again, since any may
/// have been deleted after the definition was saved; a commercial classification needs
/// `AllRecipientsOptedIn: true`.
pub async fn schedule(
    State(state): State<AppState>,
    auth: Authorized<SendSchedule>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
    body: Bytes,
) -> SendResult<Json<Scheduled>> {
    let verb = Verb::Scheduling;
    check_path(verb, &integration_type, &channel)?;
    let body: ScheduleBody = parse_optional_body(&body)?;
    let definition = find_definition(&state, auth.mid, verb, &id).await?;
    let now = state.clock.now();
    let schedule = body
        .into_input()
        .and_then(|input| input.parse(now))
        .or_refuse(verb)?;
    let classification_key = definition.send_classification_id.to_string();
    let classification = References {
        email_id: definition.email_id,
        send_classification: &classification_key,
        targets: &definition.targets,
        exclusions: &definition.exclusions,
    }
    .check(&state, auth.mid, verb)
    .await?;
    schedule
        .check_consent(classification.classification_type.is_commercial())
        .or_refuse(verb)?;
    let instance = state
        .store
        .schedule_send_definition(auth.mid, definition.id, schedule, now)
        .await?
        .ok_or_else(|| refuse(verb, message::definition_not_found(&id, auth.mid)))?;
    Ok(Json(Scheduled::new(&instance)))
}
