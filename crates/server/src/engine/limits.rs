//! Limits on how hard this node pushes: messages in flight per recipient domain, and
//! messages per second per relay and per recipient domain (a pacer spacing sends evenly).
//! The relay's connection limit is its pool size (`transport.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Spaces events to at most `per_second`, shared by every caller of one key.
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(per_second: u32) -> Self {
        Pacer {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this caller's turn.
    async fn wait(&self) {
        let turn = {
            let mut next = self.next.lock().expect("pacer lock poisoned");
            let now = Instant::now();
            let turn = (*next).max(now);
            *next = turn + self.interval;
            turn
        };
        tokio::time::sleep_until(turn.into()).await;
    }
}

/// The node's delivery limits; `None` or 0 means unlimited.
pub struct Limits {
    domain_concurrency: usize,
    relay_rate: Option<u32>,
    domain_rate: Option<u32>,
    domains: Mutex<HashMap<String, Arc<Semaphore>>>,
    relay_pacers: Mutex<HashMap<String, Arc<Pacer>>>,
    domain_pacers: Mutex<HashMap<String, Arc<Pacer>>>,
}

/// Held while a message is being handed to a relay.
pub struct Slot {
    _domain: OwnedSemaphorePermit,
}

fn pacer(map: &Mutex<HashMap<String, Arc<Pacer>>>, key: &str, rate: u32) -> Arc<Pacer> {
    map.lock()
        .expect("limits lock poisoned")
        .entry(key.to_owned())
        .or_insert_with(|| Arc::new(Pacer::new(rate)))
        .clone()
}

impl Limits {
    pub fn new(domain_concurrency: usize, relay_rate: u32, domain_rate: u32) -> Self {
        Limits {
            domain_concurrency: domain_concurrency.max(1),
            relay_rate: (relay_rate > 0).then_some(relay_rate),
            domain_rate: (domain_rate > 0).then_some(domain_rate),
            domains: Mutex::new(HashMap::new()),
            relay_pacers: Mutex::new(HashMap::new()),
            domain_pacers: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a message to `domain` through `relay` may go, and holds its slot.
    pub async fn acquire(&self, relay: &str, domain: &str) -> Slot {
        let semaphore = self
            .domains
            .lock()
            .expect("limits lock poisoned")
            .entry(domain.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.domain_concurrency)))
            .clone();
        let permit = semaphore
            .acquire_owned()
            .await
            .expect("domain semaphores are never closed");
        if let Some(rate) = self.domain_rate {
            pacer(&self.domain_pacers, domain, rate).wait().await;
        }
        if let Some(rate) = self.relay_rate {
            pacer(&self.relay_pacers, relay, rate).wait().await;
        }
        Slot { _domain: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_domain_never_has_more_messages_in_flight_than_its_limit() {
        let limits = Arc::new(Limits::new(2, 0, 0));
        let first = limits.acquire("r", "example.com").await;
        let _second = limits.acquire("r", "example.com").await;
        let third = tokio::spawn({
            let limits = limits.clone();
            async move { limits.acquire("r", "example.com").await }
        });
        let _other_domain = limits.acquire("r", "other.com").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third message to the domain waits");
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), third)
            .await
            .expect("it goes once a slot is free")
            .unwrap();
    }

    #[tokio::test]
    async fn a_rate_spaces_messages_evenly() {
        let limits = Limits::new(100, 50, 0);
        let started = Instant::now();
        for _ in 0..11 {
            limits.acquire("relay", "example.com").await;
        }
        // Ten intervals of 20 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(195),
            "{:?}",
            started.elapsed()
        );
    }
}
