//! The view-online page: one recipient's message rendered again, read-only.

use herald_domain::mid::Mid;
use herald_store::StoreError;

use super::plan::{Plan, PlanError};
use super::render::{Links, view_html};
use super::transport::Transport;
use crate::state::AppState;

/// The HTML of a recipient's message, rendered as it was sent (tracked links, no open
/// pixel); `None` when the instance, the recipient or what the message was made of is
/// gone, or the email has no HTML.
pub async fn view_online(
    state: &AppState,
    mid: Mid,
    instance_id: i64,
    recipient_id: i64,
) -> Result<Option<String>, StoreError> {
    let store = state.store.as_ref();
    let Some(instance) = store.get_send_instance(mid, instance_id).await? else {
        return Ok(None);
    };
    let Some(recipient) = store.find_recipient(mid, instance_id, recipient_id).await? else {
        return Ok(None);
    };
    // Nothing is sent from here: the transport and the bounce domain are never used.
    let plan = match Plan::load(store, &instance, None, |_| Ok(Transport::Capture)).await {
        Ok(plan) => plan,
        Err(PlanError::Unusable(_)) => return Ok(None),
        Err(PlanError::Store(err)) => return Err(err),
    };
    let links = Links {
        key: state.link_key.clone(),
        base: state.config.public_base(),
    };
    // One message: rendered inline, as quick as a page of JSON.
    Ok(view_html(&plan, &recipient, &links, state.clock.now())
        .ok()
        .flatten())
}
