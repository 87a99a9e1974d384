//! The account's suppression list: addresses that get no commercial mail (unsubscribed,
//! added by hand) or no mail at all (hard bounces).

use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::SuppressionReason;
use herald_store::Suppression;

use super::{Error, Result};
use crate::state::AppState;

/// The longest `detail` kept.
const MAX_DETAIL: usize = 500;

/// An address to suppress by hand, as given.
#[derive(Debug, Clone)]
pub struct NewSuppression {
    pub email: String,
    /// Why, in the operator's words; blank is none.
    pub detail: Option<String>,
}

/// The list's key for an address: valid, in lower case.
fn address(text: &str) -> Result<String> {
    EmailAddress::parse(text.trim())
        .map(|address| address.normalized())
        .map_err(|err| Error::invalid(format!("email {text:?} is not a valid address: {err}")))
}

fn not_listed(email: &str) -> Error {
    Error::NotFound(format!("{email} is not on the suppression list"))
}

/// One page of the list, newest first, and how many entries there are in all.
pub async fn list(
    state: &AppState,
    mid: Mid,
    page: PageRequest,
) -> Result<(i64, Vec<Suppression>)> {
    Ok(state.store.list_suppressions(mid, page).await?)
}

/// Suppresses an address (reason manual). Answers whether it was added, and the entry as
/// it stands: an address already listed keeps its reason (adding by hand never weakens a
/// hard bounce).
pub async fn add(state: &AppState, mid: Mid, new: NewSuppression) -> Result<(bool, Suppression)> {
    let email = address(&new.email)?;
    let detail = new.detail.filter(|d| !d.trim().is_empty());
    if detail
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DETAIL)
    {
        return Err(Error::invalid(format!(
            "detail is longer than {MAX_DETAIL} characters"
        )));
    }
    let now = state.clock.now();
    let added = state
        .store
        .suppress(
            mid,
            &email,
            SuppressionReason::Manual,
            detail.as_deref(),
            now,
        )
        .await?;
    Ok((added, get(state, mid, &email).await?))
}

/// The entry of an address (in any case).
pub async fn get(state: &AppState, mid: Mid, email: &str) -> Result<Suppression> {
    let email = address(email)?;
    state
        .store
        .get_suppression(mid, &email)
        .await?
        .ok_or_else(|| not_listed(&email))
}

/// Takes an address off the list: mail of every kind may go there again. Answers the
/// address as the list keys it.
pub async fn remove(state: &AppState, mid: Mid, email: &str) -> Result<String> {
    let email = address(email)?;
    if !state.store.unsuppress(mid, &email).await? {
        return Err(not_listed(&email));
    }
    Ok(email)
}
