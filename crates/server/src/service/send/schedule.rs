//! Schedule Send: one new instance of a definition each time.

use herald_domain::mid::Mid;
use herald_domain::send::message::{self, Verb};
use herald_domain::send::schedule::{ScheduleError, ScheduleInput};
use herald_store::SendInstance;

use super::references::References;
use super::{Error, find_definition, not_found, refused};
use crate::state::AppState;

/// Schedules the definition `id` names with `schedule` (as the client sent it, or why
/// it could not be read, refused once the definition is found). The definition's email,
/// classification and targets are checked again, since any may have been deleted after
/// the definition was saved; a commercial classification needs the schedule's consent.
pub async fn schedule_send(
    state: &AppState,
    mid: Mid,
    id: &str,
    schedule: Result<ScheduleInput, ScheduleError>,
) -> Result<SendInstance, Error> {
    let verb = Verb::Scheduling;
    let definition = find_definition(state, mid, verb, id).await?;
    let now = state.clock.now();
    let schedule = schedule
        .and_then(|input| input.parse(now))
        .map_err(|err| refused(verb, err))?;
    let classification_key = definition.send_classification_id.to_string();
    let classification = References {
        email_id: definition.email_id,
        send_classification: &classification_key,
        targets: &definition.targets,
        exclusions: &definition.exclusions,
    }
    .check(state, mid, verb)
    .await?;
    schedule
        .check_consent(classification.classification_type.is_commercial())
        .map_err(|err| refused(verb, err))?;
    state
        .store
        .schedule_send_definition(mid, definition.id, schedule, now)
        .await?
        .ok_or_else(|| not_found(verb, message::definition_not_found(id, mid)))
}
