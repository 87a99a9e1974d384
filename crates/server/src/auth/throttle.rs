//! Throttling of failed token requests, per client id and per source address. Counts live
//! in the database, so the limits hold across every node that shares it.

use std::net::IpAddr;

use herald_store::StoreError;
use time::Duration;

use crate::state::AppState;

/// Client ids longer than this are not real ones; they are counted under their prefix so
/// that a caller cannot grow the table with huge keys.
const MAX_KEY_CLIENT_ID: usize = 64;

fn keys(state: &AppState, client_id: &str, address: IpAddr) -> [(String, i64); 2] {
    let client: String = client_id.chars().take(MAX_KEY_CLIENT_ID).collect();
    [
        (
            format!("client:{client}"),
            state.config.token_failures_per_client,
        ),
        (
            format!("address:{address}"),
            state.config.token_failures_per_address,
        ),
    ]
}

fn window(state: &AppState) -> Duration {
    Duration::seconds(state.config.token_failure_window_secs)
}

/// Seconds to wait before trying again, when this client id or address is over its limit.
pub async fn retry_after(
    state: &AppState,
    client_id: &str,
    address: IpAddr,
) -> Result<Option<i64>, StoreError> {
    let now = state.clock.now();
    let mut wait: Option<i64> = None;
    for (key, limit) in keys(state, client_id, address) {
        let Some(counted) = state.store.auth_failures(&key).await? else {
            continue;
        };
        let reopens = counted.window_start + window(state);
        if counted.failures >= limit && reopens > now {
            let seconds = (reopens - now).whole_seconds().max(1);
            wait = Some(wait.map_or(seconds, |w| w.max(seconds)));
        }
    }
    Ok(wait)
}

/// Counts one failed attempt against the client id and the address.
pub async fn record_failure(
    state: &AppState,
    client_id: &str,
    address: IpAddr,
) -> Result<(), StoreError> {
    let now = state.clock.now();
    for (key, _) in keys(state, client_id, address) {
        state
            .store
            .record_auth_failure(&key, now, window(state))
            .await?;
    }
    Ok(())
}
