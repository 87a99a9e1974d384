//! Create, get, update and delete a send definition.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::mid::Mid;
use herald_domain::send::ids::parse_id;
use herald_domain::send::message::{self, Verb};
use herald_store::{
    DeleteDefinitionError, NewSendDefinition, SendDefinition, SendDefinitionChanges,
};

use super::references::References;
use super::reply::{OrRefuse, SendResult, check_path, refuse};
use super::wire::{Created, DefinitionBody, DefinitionFound, Done};
use crate::api::json;
use crate::auth::Authorized;
use crate::auth::requirements::{SendRead, SendSchedule, SendWrite};
use crate::state::AppState;

/// The id a path names, or the upstream not-found error when the text cannot name one.
pub fn definition_id(verb: Verb, mid: Mid, text: &str) -> SendResult<i64> {
    parse_id(text).ok_or_else(|| refuse(verb, message::definition_not_found(text, mid)))
}

/// The definition a path names in account `mid`; another account's is not found.
pub async fn find_definition(
    state: &AppState,
    mid: Mid,
    verb: Verb,
    text: &str,
) -> SendResult<SendDefinition> {
    let id = definition_id(verb, mid, text)?;
    state
        .store
        .get_send_definition(mid, id)
        .await?
        .ok_or_else(|| refuse(verb, message::definition_not_found(text, mid)))
}

/// `POST …`: 201 `{"DefinitionId","IsError":false}`. With a `Schedule` it is the
/// one-step create, which also needs `SendSchedule`: the definition and its first
/// instance are stored together (`"InstanceId"` in the answer), or neither is.
pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<SendWrite>,
    Path((integration_type, channel)): Path<(String, String)>,
    body: Bytes,
) -> SendResult<(StatusCode, Json<Created>)> {
    let verb = Verb::Creating;
    check_path(verb, &integration_type, &channel)?;
    let mut body: DefinitionBody = json::parse(&body)?;
    if body.schedule.is_some() {
        auth.require::<SendSchedule>()?;
    }
    let spec = body.definition_input().into_spec().or_refuse(verb)?;
    let now = state.clock.now();
    let schedule = body
        .schedule
        .map(|fields| fields.into_input().parse(now))
        .transpose()
        .or_refuse(Verb::Scheduling)?;
    let classification = References {
        email_id: spec.email_id,
        send_classification: &spec.send_classification,
        targets: &spec.targets,
        exclusions: &spec.exclusions,
    }
    .check(&state, auth.mid, verb)
    .await?;
    let new = NewSendDefinition {
        mid: auth.mid,
        external_key: uuid::Uuid::new_v4().to_string(),
        name: spec.name,
        description: spec.description,
        email_id: spec.email_id,
        send_classification_id: classification.meta.id,
        targets: spec.targets,
        exclusions: spec.exclusions,
        deduplicate_by_email: spec.deduplicate_by_email,
        created_at: now,
    };
    let created = match schedule {
        None => Created::new(&state.store.create_send_definition(new).await?, None),
        Some(schedule) => {
            schedule
                .check_consent(classification.classification_type.is_commercial())
                .or_refuse(Verb::Scheduling)?;
            let (definition, instance) = state
                .store
                .create_send_definition_and_instance(new, schedule)
                .await?;
            Created::new(&definition, Some(&instance))
        }
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET …/{definitionId}`: `{"EmailDefinition":{…},"IsError":false}`.
pub async fn get(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
) -> SendResult<Json<DefinitionFound>> {
    let verb = Verb::Retrieving;
    check_path(verb, &integration_type, &channel)?;
    let definition = find_definition(&state, auth.mid, verb, &id).await?;
    Ok(Json(DefinitionFound::new(&definition)))
}

/// `PUT …/{definitionId}`: changes the fields the body gives (the others stay);
/// `{"IsError":false}`. Instances already scheduled keep what they were scheduled with.
pub async fn update(
    State(state): State<AppState>,
    auth: Authorized<SendWrite>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
    body: Bytes,
) -> SendResult<Json<Done>> {
    let verb = Verb::Updating;
    check_path(verb, &integration_type, &channel)?;
    let mut body: DefinitionBody = json::parse(&body)?;
    if body.schedule.is_some() {
        return Err(refuse(verb, message::schedule_on_update()));
    }
    let current = find_definition(&state, auth.mid, verb, &id).await?;
    let changes = body.definition_input().into_changes().or_refuse(verb)?;
    // The definition as it will be must be sendable, whichever fields changed.
    let classification_key = changes
        .send_classification
        .clone()
        .unwrap_or_else(|| current.send_classification_id.to_string());
    let classification = References {
        email_id: changes.email_id.unwrap_or(current.email_id),
        send_classification: &classification_key,
        targets: changes.targets.as_deref().unwrap_or(&current.targets),
        exclusions: changes.exclusions.as_deref().unwrap_or(&current.exclusions),
    }
    .check(&state, auth.mid, verb)
    .await?;
    let changes = SendDefinitionChanges {
        send_classification_id: changes
            .send_classification
            .is_some()
            .then_some(classification.meta.id),
        name: changes.name,
        description: changes.description,
        email_id: changes.email_id,
        targets: changes.targets,
        exclusions: changes.exclusions,
        deduplicate_by_email: changes.deduplicate_by_email,
    };
    state
        .store
        .update_send_definition(auth.mid, current.id, changes, state.clock.now())
        .await?
        .ok_or_else(|| refuse(verb, message::definition_not_found(&id, auth.mid)))?;
    Ok(Json(Done::new()))
}

/// `DELETE …/{definitionId}`: `{"IsError":false}`; refused while one of its instances
/// is live. Its finished instances stay readable.
pub async fn delete(
    State(state): State<AppState>,
    auth: Authorized<SendWrite>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
) -> SendResult<Json<Done>> {
    let verb = Verb::Deleting;
    check_path(verb, &integration_type, &channel)?;
    let number = definition_id(verb, auth.mid, &id)?;
    match state.store.delete_send_definition(auth.mid, number).await {
        Ok(()) => Ok(Json(Done::new())),
        Err(DeleteDefinitionError::NotFound) => {
            Err(refuse(verb, message::definition_not_found(&id, auth.mid)))
        }
        Err(DeleteDefinitionError::InUse {
            instance_id,
            status,
        }) => Err(refuse(
            verb,
            message::definition_in_use(instance_id, status),
        )),
        Err(DeleteDefinitionError::Store(err)) => Err(err.into()),
    }
}
