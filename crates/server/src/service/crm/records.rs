//! Contacts and Leads: list, create, read, update, delete, and batch upserts.

use herald_domain::crm::{CrmObject, RecordChanges};
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{MatchOn, Page, RowOutcome, Slice, StoredRecord};

use super::{not_found, write_error};
use crate::service::Result;
use crate::state::AppState;

/// Records of `object` in creation order, optionally only those with `email`.
pub async fn list_records(
    state: &AppState,
    mid: Mid,
    object: CrmObject,
    email: Option<&EmailAddress>,
    slice: Slice,
) -> Result<Page<StoredRecord>> {
    Ok(state.store.list_records(mid, object, email, slice).await?)
}

/// Creates a record; `changes` must carry an Email.
pub async fn create_record(
    state: &AppState,
    mid: Mid,
    object: CrmObject,
    changes: RecordChanges,
) -> Result<StoredRecord> {
    state
        .store
        .create_record(mid, object, changes, state.clock.now())
        .await
        .map_err(|err| write_error(err, object.name(), None))
}

pub async fn read_record(
    state: &AppState,
    mid: Mid,
    object: CrmObject,
    id: SalesforceId,
) -> Result<StoredRecord> {
    state
        .store
        .get_record(mid, object, id)
        .await?
        .ok_or_else(|| not_found(object.name(), Some(id)))
}

/// Changes the fields `changes` names; the others stay as they are. Written only if no
/// other write came since the record was read (else [`Error::Stale`](crate::service::Error),
/// and nothing changes).
pub async fn update_record(
    state: &AppState,
    mid: Mid,
    object: CrmObject,
    id: SalesforceId,
    changes: RecordChanges,
) -> Result<StoredRecord> {
    let current = read_record(state, mid, object, id).await?;
    state
        .store
        .update_record(mid, object, id, current.version, changes, state.clock.now())
        .await
        .map_err(|err| write_error(err, object.name(), Some(id)))
}

pub async fn delete_record(
    state: &AppState,
    mid: Mid,
    object: CrmObject,
    id: SalesforceId,
) -> Result<()> {
    if !state.store.delete_record(mid, object, id).await? {
        return Err(not_found(object.name(), Some(id)));
    }
    Ok(())
}

/// Creates or updates records matched on `match_on`, one outcome per row in order; rows
/// that break a rule are not written, the others are (together).
pub async fn upsert_records(
    state: &AppState,
    mid: Mid,
    object: CrmObject,
    match_on: MatchOn,
    rows: Vec<RecordChanges>,
) -> Result<Vec<RowOutcome>> {
    Ok(state
        .store
        .upsert_records(mid, object, match_on, rows, state.clock.now())
        .await?)
}
