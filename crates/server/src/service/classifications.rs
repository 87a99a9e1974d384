//! The use cases of the three classification kinds (sender profiles, delivery profiles,
//! send classifications), one generic function each over the kind `C`.
//!
//! An object is named by id (digits) or customer key; another account's objects do not
//! exist. An update reads the object, lets the caller compute its new fields from it (a
//! PATCH merges over what it read) and writes them only if the object is still at the
//! version read: else [`Error::Stale`], and nothing changes.

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_store::{Classification, ClassificationError, Listing};

use super::{Error, Result};
use crate::state::AppState;

impl From<ClassificationError> for Error {
    fn from(err: ClassificationError) -> Self {
        match err {
            ClassificationError::NotFound { .. } => Error::NotFound(err.to_string()),
            ClassificationError::UnknownReference { .. } => Error::invalid(err.to_string()),
            ClassificationError::Stale { .. } => Error::Stale(err.to_string()),
            ClassificationError::DuplicateKey { .. }
            | ClassificationError::InUse { .. }
            | ClassificationError::DefaultUndeletable { .. }
            | ClassificationError::DefaultKeyFixed { .. }
            | ClassificationError::DefaultTypeFixed { .. } => Error::Conflict(err.to_string()),
            ClassificationError::Store(cause) => cause.into(),
        }
    }
}

/// One page of the account's objects of kind `C`, oldest first.
pub async fn list<C: Classification>(
    state: &AppState,
    mid: Mid,
    page: PageRequest,
) -> Result<Listing<C>> {
    Ok(state.store.classifications::<C>().list(mid, page).await?)
}

/// The object `id_or_key` names.
pub async fn get<C: Classification>(state: &AppState, mid: Mid, id_or_key: &str) -> Result<C> {
    state
        .store
        .classifications::<C>()
        .find(mid, id_or_key)
        .await?
        .ok_or_else(|| {
            ClassificationError::NotFound {
                kind: C::KIND,
                reference: id_or_key.to_owned(),
            }
            .into()
        })
}

pub async fn create<C: Classification>(state: &AppState, mid: Mid, fields: C::Fields) -> Result<C> {
    let created = state
        .store
        .classifications::<C>()
        .create(mid, fields, state.clock.now())
        .await?;
    Ok(created)
}

/// Replaces the fields of the object `id_or_key` names with what `change` makes of it, if
/// no other write came in between.
pub async fn update<C, E>(
    state: &AppState,
    mid: Mid,
    id_or_key: &str,
    change: impl FnOnce(&C) -> Result<C::Fields, E>,
) -> Result<C, E>
where
    C: Classification,
    E: From<Error>,
{
    let current = get::<C>(state, mid, id_or_key).await?;
    let fields = change(&current)?;
    let meta = current.meta();
    state
        .store
        .classifications::<C>()
        .update(mid, meta.id, meta.version, fields, state.clock.now())
        .await
        .map_err(|err| Error::from(err).into())
}

/// Deletes the object `id_or_key` names and returns it.
pub async fn delete<C: Classification>(state: &AppState, mid: Mid, id_or_key: &str) -> Result<C> {
    let current = get::<C>(state, mid, id_or_key).await?;
    let deleted = state
        .store
        .classifications::<C>()
        .delete(mid, current.meta().id)
        .await?;
    Ok(deleted)
}
