//! Campaigns and reports: one set of use cases for both kinds, their differences in
//! [`TargetRules`]; and what every target has (members, fields), and a campaign's member
//! list.

use herald_domain::crm::{CrmRecord, TargetRef};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{Campaigns, MembershipChange, Page, Slice, TargetTable};

use super::{TargetRules, not_found, write_error};
use crate::service::Result;
use crate::state::AppState;

/// A page of campaigns or reports, in creation order.
pub async fn list_targets_of<K: TargetRules>(
    state: &AppState,
    mid: Mid,
    slice: Slice,
) -> Result<Page<K::Saved>> {
    Ok(K::store(&*state.store)
        .list_targets_of(K::default(), mid, slice)
        .await?)
}

/// Creates a campaign or a report.
pub async fn create_target<K: TargetRules>(
    state: &AppState,
    mid: Mid,
    input: K::Input,
) -> Result<K::Saved> {
    let definition = K::create(state, mid, input).await?;
    Ok(K::store(&*state.store)
        .create_target(K::default(), mid, definition, state.clock.now())
        .await?)
}

/// A campaign or a report, with its member count now.
pub async fn read_target<K: TargetRules>(
    state: &AppState,
    mid: Mid,
    id: SalesforceId,
) -> Result<(K::Saved, i64)> {
    let found = current::<K>(state, mid, id).await?;
    let count = state
        .store
        .count_members(mid, target::<K>(id))
        .await?
        .unwrap_or_default();
    Ok((found, count))
}

/// Changes what `input` names of a campaign or a report, if no other write came between
/// reading it and writing it (else [`Error::Stale`], and nothing changes).
pub async fn update_target<K: TargetRules>(
    state: &AppState,
    mid: Mid,
    id: SalesforceId,
    input: K::Input,
) -> Result<K::Saved> {
    let current = current::<K>(state, mid, id).await?;
    let version = K::version(&current);
    let definition = K::update(state, mid, input, current).await?;
    K::store(&*state.store)
        .update_target(
            K::default(),
            mid,
            id,
            version,
            definition,
            state.clock.now(),
        )
        .await
        .map_err(|err| write_error(err, K::KIND.name(), Some(id)))?
        .ok_or_else(|| not_found(K::KIND.name(), Some(id)))
}

/// Deletes a campaign (with its member list; the records stay) or a report.
pub async fn delete_target<K: TargetRules>(
    state: &AppState,
    mid: Mid,
    id: SalesforceId,
) -> Result<()> {
    if !K::store(&*state.store)
        .delete_target(K::default(), mid, id)
        .await?
    {
        return Err(not_found(K::KIND.name(), Some(id)));
    }
    Ok(())
}

/// A page of a target's members (by position), with the member count.
pub async fn members(
    state: &AppState,
    mid: Mid,
    target: TargetRef,
    slice: Slice,
) -> Result<Page<CrmRecord>> {
    state
        .store
        .members_at(mid, target, slice)
        .await?
        .ok_or_else(|| not_found(target.kind.name(), Some(target.id)))
}

/// The standard fields, then the custom ones the target's records have.
pub async fn target_fields(state: &AppState, mid: Mid, target: TargetRef) -> Result<Vec<String>> {
    state
        .store
        .target_fields(mid, target)
        .await?
        .ok_or_else(|| not_found(target.kind.name(), Some(target.id)))
}

/// Adds Contacts and Leads to a campaign; all must exist in this account, or none is added.
pub async fn add_members(
    state: &AppState,
    mid: Mid,
    id: SalesforceId,
    records: &[SalesforceId],
) -> Result<MembershipChange> {
    state
        .store
        .add_campaign_members(mid, id, records, state.clock.now())
        .await
        .map_err(|err| write_error(err, Campaigns::KIND.name(), Some(id)))
}

/// Removes members from a campaign; ids that are not members are ignored.
pub async fn remove_members(
    state: &AppState,
    mid: Mid,
    id: SalesforceId,
    records: &[SalesforceId],
) -> Result<MembershipChange> {
    state
        .store
        .remove_campaign_members(mid, id, records)
        .await
        .map_err(|err| write_error(err, Campaigns::KIND.name(), Some(id)))
}

async fn current<K: TargetRules>(state: &AppState, mid: Mid, id: SalesforceId) -> Result<K::Saved> {
    K::store(&*state.store)
        .get_target(K::default(), mid, id)
        .await?
        .ok_or_else(|| not_found(K::KIND.name(), Some(id)))
}

fn target<K: TargetRules>(id: SalesforceId) -> TargetRef {
    TargetRef { kind: K::KIND, id }
}
