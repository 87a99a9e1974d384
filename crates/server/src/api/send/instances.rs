//! Send instances: status, lists, and the requests a client makes of a running or
//! waiting send (cancel, and Herald's pause and resume).

use axum::Json;
use axum::extract::{Path, State};
use herald_domain::mid::Mid;
use herald_domain::send::ids::parse_id;
use herald_domain::send::message::{self, Verb};
use herald_domain::send::status::{InstanceAction, StatusChange};
use herald_store::SendInstance;

use super::definitions::definition_id;
use super::reply::{OrRefuse, SendResult, check_path, page, refuse};
use super::wire::{InstanceList, InstanceStatusResponse};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{SendRead, SendSchedule};
use crate::state::AppState;

/// How many times a request re-reads an instance whose status moved under it before
/// giving up (the engine moves instances too).
const ATTEMPTS: usize = 3;

/// The instance a path names in account `mid`; another account's is not found.
pub(super) async fn find_instance(
    state: &AppState,
    mid: Mid,
    verb: Verb,
    text: &str,
) -> SendResult<SendInstance> {
    let not_found = || refuse(verb, message::instance_not_found(text, mid));
    let id = parse_id(text).ok_or_else(not_found)?;
    state
        .store
        .get_send_instance(mid, id)
        .await?
        .ok_or_else(not_found)
}

/// `GET …/instance/{instanceId}`: `{"Status",…,"IsError":false}`.
pub async fn status(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
) -> SendResult<Json<InstanceStatusResponse>> {
    let verb = Verb::Retrieving;
    check_path(verb, &integration_type, &channel)?;
    let instance = find_instance(&state, auth.mid, verb, &id).await?;
    let engagement = state
        .store
        .instance_engagement(auth.mid, instance.id)
        .await?;
    Ok(Json(
        InstanceStatusResponse::new(&instance).with_statistics(engagement.into()),
    ))
}

/// `GET …/instance?page=&pageSize=`: every instance of the account, oldest first.
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path((integration_type, channel)): Path<(String, String)>,
    params: Params,
) -> SendResult<Json<InstanceList>> {
    let verb = Verb::Retrieving;
    check_path(verb, &integration_type, &channel)?;
    let page = page(verb, &params)?;
    let found = state
        .store
        .list_send_instances(auth.mid, None, page)
        .await?;
    Ok(Json(InstanceList::new(page, &found)))
}

/// `GET …/{definitionId}/instance?page=&pageSize=`: the definition's instances, oldest
/// first. A deleted definition's finished instances are still listed; an id that never
/// had a definition is not found.
pub async fn list_by_definition(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
    params: Params,
) -> SendResult<Json<InstanceList>> {
    let verb = Verb::Retrieving;
    check_path(verb, &integration_type, &channel)?;
    let page = page(verb, &params)?;
    let definition = definition_id(verb, auth.mid, &id)?;
    let found = state
        .store
        .list_send_instances(auth.mid, Some(definition), page)
        .await?;
    if found.count == 0
        && state
            .store
            .get_send_definition(auth.mid, definition)
            .await?
            .is_none()
    {
        return Err(refuse(verb, message::definition_not_found(&id, auth.mid)));
    }
    Ok(Json(InstanceList::new(page, &found)))
}

/// `GET|POST …/instance/{instanceId}/cancel`: a send that has not started is `Canceled`
/// at once; one that has is `Cancel Pending` until the engine settles it.
pub async fn cancel(
    state: State<AppState>,
    auth: Authorized<SendSchedule>,
    path: Path<(String, String, String)>,
) -> SendResult<Json<InstanceStatusResponse>> {
    request(state, auth, path, InstanceAction::Cancel, Verb::Canceling).await
}

/// `GET|POST …/instance/{instanceId}/pause` (a Herald extension): `Paused` until resumed.
pub async fn pause(
    state: State<AppState>,
    auth: Authorized<SendSchedule>,
    path: Path<(String, String, String)>,
) -> SendResult<Json<InstanceStatusResponse>> {
    request(state, auth, path, InstanceAction::Pause, Verb::Pausing).await
}

/// `GET|POST …/instance/{instanceId}/resume` (a Herald extension): a paused send goes
/// back to `Sending` if it had started, to `Scheduled` if not.
pub async fn resume(
    state: State<AppState>,
    auth: Authorized<SendSchedule>,
    path: Path<(String, String, String)>,
) -> SendResult<Json<InstanceStatusResponse>> {
    request(state, auth, path, InstanceAction::Resume, Verb::Resuming).await
}

/// Applies `action` with a compare-and-set: read the status, ask the domain where it
/// goes, and move it only if it is still what was read. The engine may move the
/// instance in between; then the request reads it again, up to [`ATTEMPTS`] times.
/// Answers with the instance as it is afterwards.
async fn request(
    State(state): State<AppState>,
    auth: Authorized<SendSchedule>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
    action: InstanceAction,
    verb: Verb,
) -> SendResult<Json<InstanceStatusResponse>> {
    check_path(verb, &integration_type, &channel)?;
    for _ in 0..ATTEMPTS {
        let current = find_instance(&state, auth.mid, verb, &id).await?;
        let started = current.started_at.is_some();
        let next = match current.status.on_request(action, started).or_refuse(verb)? {
            StatusChange::Stay => return Ok(Json(InstanceStatusResponse::new(&current))),
            StatusChange::Move(next) => next,
        };
        let moved = state
            .store
            .transition_send_instance(
                auth.mid,
                current.id,
                &[current.status],
                next,
                state.clock.now(),
            )
            .await?;
        if let Some(moved) = moved {
            return Ok(Json(InstanceStatusResponse::new(&moved)));
        }
    }
    Err(refuse(verb, message::instance_busy(&id)))
}
