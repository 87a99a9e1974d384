//! Event webhook subscriptions: a URL and the event kinds it wants. Delivery is the
//! dispatcher's (`crate::webhooks`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_store::{NewWebhook, Webhook};
use rand::Rng;

use super::{Error, Result};
use crate::state::AppState;

/// The longest URL accepted.
const MAX_URL: usize = 2048;

/// A subscription as asked for.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub url: String,
    /// Event kind names, as `sent` or `bounced`.
    pub events: Vec<String>,
}

fn check_url(text: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid(format!("url {why}, got {text:?}"));
    if text.len() > MAX_URL {
        return Err(Error::invalid(format!(
            "url has at most {MAX_URL} characters"
        )));
    }
    let url = url::Url::parse(text.trim()).map_err(|_| bad("must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("must be an http:// or https:// URL with a host"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    Ok(url.to_string())
}

fn check_kinds(names: &[String]) -> Result<Vec<EventKind>> {
    if names.is_empty() {
        return Err(Error::invalid("events must name at least one event kind"));
    }
    let mut kinds = Vec::new();
    for name in names {
        let kind = EventKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            Error::invalid(format!(
                "unknown event kind {name:?}; known kinds: {}",
                known.join(", ")
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

fn not_found(id: i64) -> Error {
    Error::NotFound(format!("no webhook has the id {id}"))
}

/// Subscribes a URL to event kinds, with a new signing secret (the answer is the only
/// place it is shown).
pub async fn create(state: &AppState, mid: Mid, new: NewSubscription) -> Result<Webhook> {
    let url = check_url(&new.url)?;
    let kinds = check_kinds(&new.events)?;
    let random: [u8; 32] = rand::rng().random();
    let secret = format!("whsec_{}", URL_SAFE_NO_PAD.encode(random));
    let new = NewWebhook {
        mid,
        url,
        kinds,
        secret,
    };
    Ok(state.store.create_webhook(&new, state.clock.now()).await?)
}

/// One page of the account's subscriptions, oldest first, and how many there are.
pub async fn list(state: &AppState, mid: Mid, page: PageRequest) -> Result<(i64, Vec<Webhook>)> {
    Ok(state.store.list_webhooks(mid, page).await?)
}

/// One subscription and where its delivery stands.
pub async fn get(state: &AppState, mid: Mid, id: i64) -> Result<Webhook> {
    state
        .store
        .get_webhook(mid, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Deletes a subscription: its deliveries stop.
pub async fn delete(state: &AppState, mid: Mid, id: i64) -> Result<()> {
    if !state.store.delete_webhook(mid, id).await? {
        return Err(not_found(id));
    }
    Ok(())
}
