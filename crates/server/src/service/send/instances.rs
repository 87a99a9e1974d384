//! Send instances: status, lists, recipients, and the requests a client makes of a
//! running or waiting send (cancel, and Herald's pause and resume).

use std::collections::HashMap;

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::message::{self, Verb};
use herald_domain::send::status::{InstanceAction, StatusChange};
use herald_store::{EngagementCounts, Recipient, RecipientResults, SendInstance, SendPage};

use super::{Error, definition_id, find_instance, not_found, refused};
use crate::state::AppState;

/// How many times a request re-reads an instance whose status moved under it before
/// giving up (the engine moves instances too).
const ATTEMPTS: usize = 3;

/// Get Instance Status: the instance `id` names, with its engagement counts.
pub async fn instance_status(
    state: &AppState,
    mid: Mid,
    id: &str,
) -> Result<(SendInstance, EngagementCounts), Error> {
    let instance = find_instance(state, mid, Verb::Retrieving, id).await?;
    let engagement = state.store.instance_engagement(mid, instance.id).await?;
    Ok((instance, engagement))
}

/// Get Instances: the account's instances, or those of the definition `definition`
/// names, oldest first. A deleted definition's finished instances are still listed; an
/// id that never had a definition is not found.
pub async fn list_instances(
    state: &AppState,
    mid: Mid,
    definition: Option<&str>,
    page: PageRequest,
) -> Result<SendPage<SendInstance>, Error> {
    let Some(text) = definition else {
        return Ok(state.store.list_send_instances(mid, None, page).await?);
    };
    let verb = Verb::Retrieving;
    let definition = definition_id(verb, mid, text)?;
    let found = state
        .store
        .list_send_instances(mid, Some(definition), page)
        .await?;
    if found.count == 0
        && state
            .store
            .get_send_definition(mid, definition)
            .await?
            .is_none()
    {
        return Err(not_found(verb, message::definition_not_found(text, mid)));
    }
    Ok(found)
}

/// One page of an instance's recipients, each with what it did with the message.
pub struct RecipientsPage {
    /// The recipients on every page.
    pub count: i64,
    pub recipients: Vec<Recipient>,
    /// By recipient id; a recipient with no results has no entry.
    pub results: HashMap<i64, RecipientResults>,
}

/// The recipients of the instance `id` names (only those in `status`, if given), in
/// write order.
pub async fn list_recipients(
    state: &AppState,
    mid: Mid,
    id: &str,
    status: Option<RecipientStatus>,
    page: PageRequest,
) -> Result<RecipientsPage, Error> {
    let instance = find_instance(state, mid, Verb::Retrieving, id).await?;
    let (count, recipients) = state
        .store
        .list_recipients(mid, instance.id, status, page)
        .await?;
    let ids: Vec<i64> = recipients.iter().map(|r| r.id).collect();
    let results = state.store.recipient_results(mid, &ids).await?;
    Ok(RecipientsPage {
        count,
        recipients,
        results,
    })
}

/// Cancel, pause or resume the instance `id` names, with a compare-and-set: read the
/// status, ask the domain where it goes, and move it only if it is still what was read.
/// The engine may move the instance in between; then the request reads it again, up to
/// [`ATTEMPTS`] times. A send that has not started is canceled at once; one that has is
/// `Cancel Pending` until the engine settles it. A paused send resumes to `Sending` if
/// it had started, to `Scheduled` if not. Returns the instance as it is afterwards.
pub async fn request_instance(
    state: &AppState,
    mid: Mid,
    id: &str,
    action: InstanceAction,
) -> Result<SendInstance, Error> {
    let verb = Verb::from(action);
    for _ in 0..ATTEMPTS {
        let current = find_instance(state, mid, verb, id).await?;
        let started = current.started_at.is_some();
        let next = match current
            .status
            .on_request(action, started)
            .map_err(|err| refused(verb, err))?
        {
            StatusChange::Stay => return Ok(current),
            StatusChange::Move(next) => next,
        };
        let moved = state
            .store
            .transition_send_instance(mid, current.id, &[current.status], next, state.clock.now())
            .await?;
        if let Some(moved) = moved {
            return Ok(moved);
        }
    }
    Err(Error::Conflict(message::failure(
        verb,
        message::instance_busy(id),
    )))
}
