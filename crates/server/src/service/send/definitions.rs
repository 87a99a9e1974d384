//! Create, read, update, delete and search send definitions.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::send::criteria::CriteriaInput;
use herald_domain::send::definition::DefinitionInput;
use herald_domain::send::message::{self, Verb};
use herald_domain::send::schedule::ScheduleInput;
use herald_store::{
    DeleteDefinitionError, NewSendDefinition, SendDefinition, SendDefinitionChanges, SendInstance,
    SendPage, UpdateDefinitionError,
};

use super::references::References;
use super::{Error, definition_id, find_definition, not_found, refused};
use crate::state::AppState;

/// Create Definition: stores the definition `input` describes once its email,
/// classification, targets and exclusions are found in the account. With a `schedule`
/// it is the one-step create: the definition and its first instance are stored
/// together (and returned), or neither is; a commercial classification needs the
/// schedule's consent.
pub async fn create_definition(
    state: &AppState,
    mid: Mid,
    input: DefinitionInput,
    schedule: Option<ScheduleInput>,
) -> Result<(SendDefinition, Option<SendInstance>), Error> {
    let verb = Verb::Creating;
    let spec = input.into_spec().map_err(|err| refused(verb, err))?;
    let now = state.clock.now();
    let schedule = schedule
        .map(|input| input.parse(now))
        .transpose()
        .map_err(|err| refused(Verb::Scheduling, err))?;
    let classification = References {
        email_id: spec.email_id,
        send_classification: &spec.send_classification,
        targets: &spec.targets,
        exclusions: &spec.exclusions,
    }
    .check(state, mid, verb)
    .await?;
    let new = NewSendDefinition {
        mid,
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
    let Some(schedule) = schedule else {
        return Ok((state.store.create_send_definition(new).await?, None));
    };
    schedule
        .check_consent(classification.classification_type.is_commercial())
        .map_err(|err| refused(Verb::Scheduling, err))?;
    let (definition, instance) = state
        .store
        .create_send_definition_and_instance(new, schedule)
        .await?;
    Ok((definition, Some(instance)))
}

/// Get Definition: the definition `id` names.
pub async fn get_definition(state: &AppState, mid: Mid, id: &str) -> Result<SendDefinition, Error> {
    find_definition(state, mid, Verb::Retrieving, id).await
}

/// Update Definition: changes the fields `input` gives (the others stay), once the
/// definition as it will be is found sendable, whichever fields changed. Instances
/// already scheduled keep what they were scheduled with. The write happens only if the
/// definition is still the one read: one changed in between is [`Error::Stale`], and
/// nothing is written.
pub async fn update_definition(
    state: &AppState,
    mid: Mid,
    id: &str,
    input: DefinitionInput,
) -> Result<SendDefinition, Error> {
    let verb = Verb::Updating;
    let current = find_definition(state, mid, verb, id).await?;
    let changes = input.into_changes().map_err(|err| refused(verb, err))?;
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
    .check(state, mid, verb)
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
    let now = state.clock.now();
    match state
        .store
        .update_send_definition(mid, current.id, current.version, changes, now)
        .await
    {
        Ok(Some(updated)) => Ok(updated),
        Ok(None) => Err(not_found(verb, message::definition_not_found(id, mid))),
        Err(UpdateDefinitionError::Stale { .. }) => {
            Err(Error::stale(format_args!("the send definition {id:?}")))
        }
        Err(UpdateDefinitionError::Store(err)) => Err(err.into()),
    }
}

/// Delete Definition: refused while one of its instances is live; its finished
/// instances stay readable.
pub async fn delete_definition(state: &AppState, mid: Mid, id: &str) -> Result<(), Error> {
    let verb = Verb::Deleting;
    let number = definition_id(verb, mid, id)?;
    match state.store.delete_send_definition(mid, number).await {
        Ok(()) => Ok(()),
        Err(DeleteDefinitionError::NotFound) => {
            Err(not_found(verb, message::definition_not_found(id, mid)))
        }
        Err(DeleteDefinitionError::InUse {
            instance_id,
            status,
        }) => Err(Error::Conflict(message::failure(
            verb,
            message::definition_in_use(instance_id, status),
        ))),
        Err(DeleteDefinitionError::Store(err)) => Err(err.into()),
    }
}

/// Search Definitions: the definitions that match `criteria`, oldest first, a page at a
/// time.
pub async fn search_definitions(
    state: &AppState,
    mid: Mid,
    criteria: CriteriaInput,
    page: PageRequest,
) -> Result<SendPage<SendDefinition>, Error> {
    let criteria = criteria
        .parse()
        .map_err(|err| refused(Verb::Searching, err))?;
    Ok(state
        .store
        .search_send_definitions(mid, &criteria, page)
        .await?)
}
