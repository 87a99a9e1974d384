//! The capture outbox: the messages kept instead of sent when no relay is configured.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_store::CapturedMessage;

use super::{Error, Result};
use crate::state::AppState;

/// One page of the account's captured messages (of one send instance, if given), newest
/// first, and how many there are in all.
pub async fn list(
    state: &AppState,
    mid: Mid,
    instance: Option<i64>,
    page: PageRequest,
) -> Result<(i64, Vec<CapturedMessage>)> {
    Ok(state.store.list_captured(mid, instance, page).await?)
}

/// One captured message's MIME, exactly as it would have been sent.
pub async fn raw(state: &AppState, mid: Mid, id: i64) -> Result<Vec<u8>> {
    state
        .store
        .captured_raw(mid, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no captured message has the id {id}")))
}
