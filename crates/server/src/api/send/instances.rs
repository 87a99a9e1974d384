//! Send instances: status, lists, and the requests a client makes of a running or
//! waiting send (cancel, and Herald's pause and resume).

use axum::Json;
use axum::extract::{Path, State};
use herald_domain::send::message::Verb;
use herald_domain::send::status::InstanceAction;

use super::path::{ChannelPath, DefinitionPath, InstancePath};
use super::reply::{SendResult, page};
use super::wire::{InstanceList, InstanceStatusResponse};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{SendRead, SendSchedule};
use crate::service::send;
use crate::state::AppState;

/// `GET …/instance/{instanceId}`: `{"Status",…,"IsError":false}`.
pub async fn status(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(path): Path<InstancePath>,
) -> SendResult<Json<InstanceStatusResponse>> {
    let id = path.id(Verb::Retrieving)?;
    let (instance, engagement) = send::instance_status(&state, auth.mid, &id).await?;
    Ok(Json(
        InstanceStatusResponse::new(&instance).with_statistics(engagement.into()),
    ))
}

/// `GET …/instance?page=&pageSize=`: every instance of the account, oldest first.
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(path): Path<ChannelPath>,
    params: Params,
) -> SendResult<Json<InstanceList>> {
    let verb = Verb::Retrieving;
    path.check(verb)?;
    let page = page(verb, &params)?;
    let found = send::list_instances(&state, auth.mid, None, page).await?;
    Ok(Json(InstanceList::new(page, &found)))
}

/// `GET …/{definitionId}/instance?page=&pageSize=`: the definition's instances, oldest
/// first. A deleted definition's finished instances are still listed; an id that never
/// had a definition is not found.
pub async fn list_by_definition(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(path): Path<DefinitionPath>,
    params: Params,
) -> SendResult<Json<InstanceList>> {
    let verb = Verb::Retrieving;
    let id = path.id(verb)?;
    let page = page(verb, &params)?;
    let found = send::list_instances(&state, auth.mid, Some(&id), page).await?;
    Ok(Json(InstanceList::new(page, &found)))
}

/// `GET|POST …/instance/{instanceId}/cancel`: a send that has not started is `Canceled`
/// at once; one that has is `Cancel Pending` until the engine settles it.
pub async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<SendSchedule>,
    Path(path): Path<InstancePath>,
) -> SendResult<Json<InstanceStatusResponse>> {
    request(&state, &auth, path, InstanceAction::Cancel).await
}

/// `GET|POST …/instance/{instanceId}/pause` (a Herald extension): `Paused` until resumed.
pub async fn pause(
    State(state): State<AppState>,
    auth: Authorized<SendSchedule>,
    Path(path): Path<InstancePath>,
) -> SendResult<Json<InstanceStatusResponse>> {
    request(&state, &auth, path, InstanceAction::Pause).await
}

/// `GET|POST …/instance/{instanceId}/resume` (a Herald extension): a paused send goes
/// back to `Sending` if it had started, to `Scheduled` if not.
pub async fn resume(
    State(state): State<AppState>,
    auth: Authorized<SendSchedule>,
    Path(path): Path<InstancePath>,
) -> SendResult<Json<InstanceStatusResponse>> {
    request(&state, &auth, path, InstanceAction::Resume).await
}

/// Applies `action` and answers with the instance as it is afterwards.
async fn request(
    state: &AppState,
    auth: &Authorized<SendSchedule>,
    path: InstancePath,
    action: InstanceAction,
) -> SendResult<Json<InstanceStatusResponse>> {
    let id = path.id(Verb::from(action))?;
    let instance = send::request_instance(state, auth.mid, &id, action).await?;
    Ok(Json(InstanceStatusResponse::new(&instance)))
}
