//! Event webhooks: the dispatcher that POSTs each event of the log to the subscriptions
//! that want it, signed (`signature`), at least once and in id order per subscription.
//!
//! It runs next to the send engine as its own task with its own HTTP client, so nothing
//! in the send path ever waits for a receiver. Every node runs it; a subscription is
//! delivered by one node at a time, under a lease in the database. A subscription's
//! cursor moves only past events delivered (or not for it), and only through ids known
//! to be visible (`visibility`); a receiver that fails (non-2xx, timeout, refused
//! connection) holds the cursor, and the head event is tried again after an exponential
//! backoff (5 s doubling to 15 min, forever, until the subscription is deleted).

pub mod signature;
mod visibility;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_domain::wire_time::rfc3339;
use herald_store::{Webhook, WebhookEvent};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::metrics::Metrics;
use crate::state::AppState;
use visibility::Gaps;

/// How often the dispatcher looks for subscriptions with work.
const POLL: Duration = Duration::from_millis(250);
/// How long a node's claim on a subscription lasts without progress.
const LEASE: time::Duration = time::Duration::seconds(60);
/// How long a gap in the event ids is waited for before it counts as a rollback.
const VISIBILITY_MARGIN: Duration = Duration::from_secs(10);
/// Connecting to a receiver, and the whole request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Events read per batch, ids scanned for gaps, and batches per claim.
const BATCH: i64 = 100;
const SCAN: i64 = 1000;
const ROUNDS: usize = 10;
/// How long shutdown waits for deliveries in flight.
const DRAIN: Duration = Duration::from_secs(15);

/// The webhook dispatcher of one node.
pub struct Dispatcher {
    state: AppState,
    node: String,
    client: reqwest::Client,
    workers: usize,
    slots: Arc<Semaphore>,
    gaps: Mutex<Gaps>,
}

impl Dispatcher {
    pub fn new(state: AppState) -> anyhow::Result<Arc<Dispatcher>> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let workers = state.config.webhook_workers;
        Ok(Arc::new(Dispatcher {
            node: state.config.node_id.clone(),
            client,
            workers,
            slots: Arc::new(Semaphore::new(workers)),
            gaps: Mutex::default(),
            state,
        }))
    }

    /// Claims subscriptions with work and delivers each in its own task, until
    /// `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let free = self.slots.available_permits();
            if free > 0 {
                let now = self.state.clock.now();
                match self
                    .state
                    .store
                    .claim_webhooks(&self.node, now, LEASE, free as i64)
                    .await
                {
                    Ok(claimed) => {
                        for webhook in claimed {
                            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                                break;
                            };
                            tokio::spawn(self.clone().deliver(webhook, permit));
                        }
                    }
                    Err(err) => tracing::error!(error = %err, "could not claim webhooks"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => break,
            }
        }
        let drained = tokio::time::timeout(DRAIN, self.slots.acquire_many(self.workers as u32));
        if drained.await.is_err() {
            tracing::warn!("shutdown left webhook deliveries in flight; their leases will expire");
        }
    }

    async fn deliver(self: Arc<Self>, webhook: Webhook, _slot: OwnedSemaphorePermit) {
        let id = webhook.id;
        if let Err(err) = self.work(webhook).await {
            tracing::error!(webhook = id, error = %format!("{err:#}"), "webhook delivery failed; its lease will expire");
        }
    }

    /// Delivers the subscription's due events, in order, for a few batches.
    async fn work(&self, webhook: Webhook) -> anyhow::Result<()> {
        let store = &self.state.store;
        let mut cursor = webhook.done_through;
        let mut failures = webhook.failures;
        for _ in 0..ROUNDS {
            let visible = store.event_ids_after(cursor, SCAN).await?;
            let settled = self
                .gaps
                .lock()
                .expect("gap lock poisoned")
                .settled_through(cursor, &visible, Instant::now(), VISIBILITY_MARGIN);
            if settled <= cursor {
                break;
            }
            let events = store
                .webhook_events(webhook.mid, cursor, settled, BATCH)
                .await?;
            let through = match events.last() {
                Some(last) if events.len() as i64 >= BATCH => last.event.id,
                _ => settled,
            };
            for item in events
                .iter()
                .filter(|e| webhook.kinds.contains(&e.event.kind))
            {
                if let Err(reason) = self.post(&webhook, item).await {
                    failures += 1;
                    let retry = self.state.clock.now() + backoff(failures);
                    tracing::warn!(webhook = webhook.id, event = item.event.id, failures, error = %reason, "webhook receiver failed; retrying later");
                    store
                        .webhook_failed(webhook.id, &self.node, &reason, retry)
                        .await?;
                    return Ok(());
                }
                failures = 0;
                let now = self.state.clock.now();
                if !store
                    .advance_webhook(webhook.id, &self.node, item.event.id, 1, now, LEASE)
                    .await?
                {
                    return Ok(()); // another node took it over
                }
            }
            let now = self.state.clock.now();
            if !store
                .advance_webhook(webhook.id, &self.node, through, 0, now, LEASE)
                .await?
            {
                return Ok(());
            }
            cursor = through;
        }
        store.release_webhook(webhook.id, &self.node).await?;
        Ok(())
    }

    /// One signed POST; `Err` says why the receiver did not take it.
    async fn post(&self, webhook: &Webhook, item: &WebhookEvent) -> Result<(), String> {
        let body = serde_json::to_vec(&payload(webhook, item)).expect("JSON values serialize");
        let timestamp = self.state.clock.now().unix_timestamp();
        let response = self
            .client
            .post(&webhook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                "Herald-Signature",
                signature::sign(&webhook.secret, timestamp, &body),
            )
            .header("Herald-Webhook-Id", webhook.id.to_string())
            .header("Herald-Event-Id", item.event.id.to_string())
            .body(body)
            .send()
            .await;
        let outcome = match &response {
            Ok(response) if response.status().is_success() => "delivered",
            _ => "failed",
        };
        Metrics::count_in(&self.state.metrics.webhook_deliveries, outcome);
        match response {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("the receiver answered {}", response.status())),
            Err(err) if err.is_timeout() => {
                Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
            }
            Err(err) if err.is_connect() => Err("could not connect to the receiver".to_owned()),
            // Without the URL: its query string may carry the receiver's own secrets.
            Err(err) => Err(format!("the request failed: {}", err.without_url())),
        }
    }
}

/// What a receiver gets for one event.
fn payload(webhook: &Webhook, item: &WebhookEvent) -> serde_json::Value {
    let event = &item.event;
    json!({
        "id": event.id,
        "type": event.kind.as_str(),
        "createdDate": rfc3339(event.created_at),
        "webhookId": webhook.id.to_string(),
        "mid": event.mid.get(),
        "instanceId": event.instance_id.to_string(),
        "recipientId": event.recipient_id,
        "email": item.email,
        "subscriberKey": item.subscriber_key,
        "detail": event.detail,
    })
}

/// The wait before retrying after `failures` failed attempts in a row: 5 s doubling,
/// at most 15 minutes.
fn backoff(failures: i64) -> time::Duration {
    let doublings = u32::try_from(failures.clamp(1, 9) - 1).unwrap_or(0);
    time::Duration::seconds(5 * 2_i64.pow(doublings)).min(time::Duration::minutes(15))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_from_five_seconds_to_fifteen_minutes() {
        let seconds: Vec<i64> = [1, 2, 3, 8, 9, 50]
            .into_iter()
            .map(|n| backoff(n).whole_seconds())
            .collect();
        assert_eq!(seconds, [5, 10, 20, 640, 900, 900]);
    }
}
