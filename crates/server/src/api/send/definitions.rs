//! Create, get, update and delete a send definition.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::send::message::{self, Verb};

use super::path::{ChannelPath, DefinitionPath};
use super::reply::{SendResult, refuse};
use super::wire::{Created, DefinitionBody, DefinitionFound, Done};
use crate::api::json;
use crate::auth::Authorized;
use crate::auth::requirements::{SendRead, SendSchedule, SendWrite};
use crate::service::send;
use crate::state::AppState;

/// `POST …`: 201 `{"DefinitionId","IsError":false}`. With a `Schedule` it is the
/// one-step create, which also needs `SendSchedule`: the definition and its first
/// instance are stored together (`"InstanceId"` in the answer), or neither is.
pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<SendWrite>,
    Path(path): Path<ChannelPath>,
    body: Bytes,
) -> SendResult<(StatusCode, Json<Created>)> {
    path.check(Verb::Creating)?;
    let mut body: DefinitionBody = json::parse(&body)?;
    if body.schedule.is_some() {
        auth.require::<SendSchedule>()?;
    }
    let input = body.definition_input();
    let schedule = body.schedule.map(|fields| fields.into_input());
    let (definition, instance) = send::create_definition(&state, auth.mid, input, schedule).await?;
    let created = Created::new(&definition, instance.as_ref());
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET …/{definitionId}`: `{"EmailDefinition":{…},"IsError":false}`.
pub async fn get(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(path): Path<DefinitionPath>,
) -> SendResult<Json<DefinitionFound>> {
    let id = path.id(Verb::Retrieving)?;
    let definition = send::get_definition(&state, auth.mid, &id).await?;
    Ok(Json(DefinitionFound::new(&definition)))
}

/// `PUT …/{definitionId}`: changes the fields the body gives (the others stay);
/// `{"IsError":false}`. Instances already scheduled keep what they were scheduled with.
pub async fn update(
    State(state): State<AppState>,
    auth: Authorized<SendWrite>,
    Path(path): Path<DefinitionPath>,
    body: Bytes,
) -> SendResult<Json<Done>> {
    let verb = Verb::Updating;
    let id = path.id(verb)?;
    let mut body: DefinitionBody = json::parse(&body)?;
    if body.schedule.is_some() {
        return Err(refuse(verb, message::schedule_on_update()));
    }
    send::update_definition(&state, auth.mid, &id, body.definition_input()).await?;
    Ok(Json(Done::new()))
}

/// `DELETE …/{definitionId}`: `{"IsError":false}`; refused while one of its instances
/// is live. Its finished instances stay readable.
pub async fn delete(
    State(state): State<AppState>,
    auth: Authorized<SendWrite>,
    Path(path): Path<DefinitionPath>,
) -> SendResult<Json<Done>> {
    let id = path.id(Verb::Deleting)?;
    send::delete_definition(&state, auth.mid, &id).await?;
    Ok(Json(Done::new()))
}
