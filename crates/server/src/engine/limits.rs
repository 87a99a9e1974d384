//! Limits on how hard the cluster pushes: messages in flight per recipient domain, and
//! messages per second per relay and per recipient domain. They hold across every node
//! on the database, through the store ([`herald_store::LimitStore`]):
//! - a rate is a token bucket in the database; a node takes a grant of up to a tenth of a
//!   second's tokens in one statement, spends it locally (spaced evenly by a pacer), and
//!   asks again when it runs out;
//! - a domain's concurrency is a set of leased slot rows; a node claims a slot per message
//!   in flight and reuses it for the next messages to the domain. A node that finds every
//!   slot held says it wants one (for [`WANT`], renewed while it waits); while another
//!   node wants a domain's slots, a node gives back those that have carried [`MIN_USES`]
//!   messages over at least [`HOLD`] (its turn) and those unused for [`LINGER`]. While no
//!   one else wants them it keeps its slots, and gives one back only once it has been
//!   unused for [`IDLE`]: a domain no other node waits for costs no slot claims, whatever
//!   its traffic. A dead node's slots come free when their lease (the engine's lease)
//!   runs out.
//!
//! The relay's connection limit is its pool size, per node (`transport.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_domain::clock::Clock;
use herald_store::{ClaimedRecipient, Rate, Store};
use tokio::sync::{Notify, watch};

use super::Engine;
use super::plan::Plan;
use super::transport::Transport;

/// While another node wants a domain's slots, a slot is given back once it has been held
/// this long…
const HOLD: Duration = Duration::from_secs(5);
/// …and has carried this many messages…
const MIN_USES: u32 = 10;
/// …or has been unused this long.
const LINGER: Duration = Duration::from_secs(1);
/// How long an unused slot stays with the node while no other node wants it.
const IDLE: Duration = Duration::from_secs(30);
/// How long a node's want of a slot lasts; it is said again once half of it has passed.
const WANT: Duration = Duration::from_secs(1);
/// How often the keeper gives back slots and a waiter asks for a slot again.
const TICK: Duration = Duration::from_millis(50);
/// How long to wait before asking again when the database could not be reached.
const RETRY: Duration = Duration::from_secs(1);

/// Spaces events to at most `per_second`, shared by every caller of one key on this node.
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

/// One rate limit: the cluster's bucket, the tokens this node holds, its pacer.
struct Bucket {
    name: String,
    rate: Rate,
    tokens: Mutex<i64>,
    waiting: AtomicI64,
    /// One caller at a time asks the database for more.
    refill: tokio::sync::Mutex<()>,
    pacer: Pacer,
}

impl Bucket {
    fn take_local(&self) -> bool {
        let mut tokens = self.tokens.lock().expect("bucket lock poisoned");
        if *tokens > 0 {
            *tokens -= 1;
            true
        } else {
            false
        }
    }

    /// Waits for a token of the cluster's bucket, then for this node's pacer.
    async fn take(&self, store: &dyn Store, clock: &dyn Clock) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        while !self.take_local() {
            let _refill = self.refill.lock().await;
            if self.take_local() {
                break;
            }
            let want = self
                .waiting
                .load(Ordering::Relaxed)
                .clamp(1, self.rate.burst);
            match store
                .take_tokens(&self.name, self.rate, want, clock.now())
                .await
            {
                Ok(grant) if grant.granted > 0 => {
                    *self.tokens.lock().expect("bucket lock poisoned") += grant.granted;
                }
                Ok(grant) => tokio::time::sleep(grant.wait.max(Duration::from_millis(1))).await,
                Err(err) => {
                    tracing::warn!(limit = %self.name, error = %err, "could not take tokens; waiting");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        self.pacer.wait().await;
    }
}

/// A slot this node holds in the database.
struct Held {
    number: i64,
    since: Instant,
    uses: u32,
}

impl Held {
    /// Whether this node has had its turn with the slot.
    fn done(&self) -> bool {
        self.uses >= MIN_USES && self.since.elapsed() >= HOLD
    }
}

#[derive(Default)]
struct SlotState {
    /// Held, not in use, with when each was last put down.
    idle: Vec<(Held, Instant)>,
    /// In use, or being claimed.
    busy: usize,
    /// Held long enough while another node wants them: to give back.
    returning: Vec<i64>,
    /// Until when this node's want of a slot lasts, as last said to the database.
    wanting_until: Option<Instant>,
}

/// One domain's concurrency slots as this node holds them.
struct DomainSlots {
    name: String,
    state: Mutex<SlotState>,
    freed: Notify,
    /// Whether another node wanted a slot at the keeper's last look.
    wanted: AtomicBool,
}

impl DomainSlots {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().expect("slot lock poisoned")
    }

    fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed)
    }

    /// What the keeper should give back now: while another node wants them, slots held
    /// long enough and slots unused for a while; slots unused for long in any case.
    fn to_give_back(&self) -> Vec<i64> {
        let wanted = self.wanted();
        let mut state = self.state();
        let mut back = std::mem::take(&mut state.returning);
        state.idle.retain(|(held, idle_since)| {
            let unused = idle_since.elapsed();
            let keep = unused < IDLE && !(wanted && (unused >= LINGER || held.done()));
            if !keep {
                back.push(held.number);
            }
            keep
        });
        back
    }

    fn holds_any(&self) -> bool {
        let state = self.state();
        state.busy > 0 || !state.idle.is_empty()
    }

    /// Whether this node's want should be said (again) to the database now; if so, it
    /// counts as said.
    fn want_due(&self) -> bool {
        let mut state = self.state();
        let now = Instant::now();
        let due = state
            .wanting_until
            .is_none_or(|until| until < now + WANT / 2);
        if due {
            state.wanting_until = Some(now + WANT);
        }
        due
    }

    fn is_empty(&self) -> bool {
        let state = self.state();
        state.busy == 0 && state.idle.is_empty() && state.returning.is_empty()
    }
}

/// Held while a message is being handed to a relay: its recipient domain's slot.
pub struct Slot {
    domain: Arc<DomainSlots>,
    held: Option<Held>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(mut held) = self.held.take() else {
            return;
        };
        held.uses += 1;
        {
            let mut state = self.domain.state();
            state.busy -= 1;
            if held.done() && self.domain.wanted() {
                state.returning.push(held.number);
            } else {
                state.idle.push((held, Instant::now()));
            }
        }
        self.domain.freed.notify_one();
    }
}

/// The delivery limits; a rate of 0 means unlimited.
pub struct Limits {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    node: String,
    lease: time::Duration,
    domain_concurrency: usize,
    relay_rate: u32,
    domain_rate: u32,
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
    domains: Mutex<HashMap<String, Arc<DomainSlots>>>,
}

/// The per-node settings of [`Limits`].
pub struct Settings {
    pub domain_concurrency: usize,
    pub relay_rate: u32,
    pub domain_rate: u32,
}

impl Limits {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        node: &str,
        lease: time::Duration,
        settings: Settings,
    ) -> Self {
        Limits {
            store,
            clock,
            node: node.to_owned(),
            lease,
            domain_concurrency: settings.domain_concurrency.max(1),
            relay_rate: settings.relay_rate,
            domain_rate: settings.domain_rate,
            buckets: Mutex::new(HashMap::new()),
            domains: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a message to `domain` through `relay` may go, and holds its slot.
    pub async fn acquire(&self, relay: &str, domain: &str) -> Slot {
        let slot = self.domain_slot(domain).await;
        if self.domain_rate > 0 {
            let bucket = self.bucket(&format!("domain:{domain}"), self.domain_rate);
            bucket.take(self.store.as_ref(), self.clock.as_ref()).await;
        }
        if self.relay_rate > 0 {
            let bucket = self.bucket(&format!("relay:{relay}"), self.relay_rate);
            bucket.take(self.store.as_ref(), self.clock.as_ref()).await;
        }
        slot
    }

    fn bucket(&self, name: &str, per_second: u32) -> Arc<Bucket> {
        self.buckets
            .lock()
            .expect("limits lock poisoned")
            .entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(Bucket {
                    name: name.to_owned(),
                    rate: Rate {
                        per_second: i64::from(per_second),
                        // A tenth of a second's tokens: few statements per message, and
                        // a cluster never more than that ahead of the rate.
                        burst: i64::from(per_second / 10).max(1),
                    },
                    tokens: Mutex::new(0),
                    waiting: AtomicI64::new(0),
                    refill: tokio::sync::Mutex::new(()),
                    pacer: Pacer::new(per_second),
                })
            })
            .clone()
    }

    async fn domain_slot(&self, domain: &str) -> Slot {
        let name = format!("domain:{domain}");
        let slots = self
            .domains
            .lock()
            .expect("limits lock poisoned")
            .entry(name.clone())
            .or_insert_with(|| {
                Arc::new(DomainSlots {
                    name,
                    state: Mutex::new(SlotState::default()),
                    freed: Notify::new(),
                    wanted: AtomicBool::new(false),
                })
            })
            .clone();
        loop {
            let claim = {
                let mut state = slots.state();
                if let Some((held, _)) = state.idle.pop() {
                    state.busy += 1;
                    return Slot {
                        domain: slots.clone(),
                        held: Some(held),
                    };
                }
                // This node alone never goes past the limit, whatever the database says.
                let claim = state.busy < self.domain_concurrency;
                if claim {
                    state.busy += 1;
                }
                claim
            };
            if claim {
                let limit = self.domain_concurrency as i64;
                let now = self.clock.now();
                let claimed = self
                    .store
                    .claim_slot(&slots.name, limit, &self.node, now, self.lease)
                    .await;
                match claimed {
                    Ok(Some(number)) => {
                        return Slot {
                            domain: slots.clone(),
                            held: Some(Held {
                                number,
                                since: Instant::now(),
                                uses: 0,
                            }),
                        };
                    }
                    Ok(None) => {
                        slots.state().busy -= 1;
                        self.want(&slots).await;
                    }
                    Err(err) => {
                        slots.state().busy -= 1;
                        tracing::warn!(limit = %slots.name, error = %err, "could not claim a slot; waiting");
                        tokio::time::sleep(RETRY).await;
                    }
                }
            }
            // A slot of this node coming free, or another node's, seen at the next ask.
            let _ = tokio::time::timeout(TICK, slots.freed.notified()).await;
        }
    }

    /// Tells the other nodes that this one waits for a slot of `slots`' domain (once per
    /// half a [`WANT`], however many messages wait).
    async fn want(&self, slots: &DomainSlots) {
        if !slots.want_due() {
            return;
        }
        let until = self.clock.now() + WANT;
        if let Err(err) = self.store.want_slot(&slots.name, &self.node, until).await {
            tracing::warn!(limit = %slots.name, error = %err, "could not say that this node waits for a slot");
        }
    }

    /// The domains whose slots other nodes want, if this node holds any slots to give.
    async fn wanted_elsewhere(&self, domains: &[Arc<DomainSlots>]) -> HashSet<String> {
        if !domains.iter().any(|slots| slots.holds_any()) {
            return HashSet::new();
        }
        match self.store.slots_wanted(&self.node, self.clock.now()).await {
            Ok(names) => names.into_iter().collect(),
            Err(err) => {
                tracing::warn!(error = %err, "could not read which slots other nodes want");
                HashSet::new()
            }
        }
    }

    /// Gives back every slot this node holds (at shutdown, once messages have drained).
    pub async fn release_all(&self) {
        if let Err(err) = self.store.release_all_slots(&self.node).await {
            tracing::warn!(error = %err, "could not give domain slots back; their lease will expire");
        }
    }

    /// Gives back the slots other nodes want that were held long enough or unused, and
    /// those unused for long; renews the others' leases when due, and forgets domains this
    /// node holds nothing of.
    async fn keep(&self, renewed_at: &mut Instant) {
        let domains: Vec<Arc<DomainSlots>> = self
            .domains
            .lock()
            .expect("limits lock poisoned")
            .values()
            .cloned()
            .collect();
        let wanted = self.wanted_elsewhere(&domains).await;
        for slots in &domains {
            slots
                .wanted
                .store(wanted.contains(&slots.name), Ordering::Relaxed);
            let back = slots.to_give_back();
            if back.is_empty() {
                continue;
            }
            if let Err(err) = self
                .store
                .release_slots(&self.node, &slots.name, &back)
                .await
            {
                tracing::warn!(limit = %slots.name, error = %err, "could not give slots back; their lease will expire");
            }
        }
        let holding = domains.iter().any(|slots| !slots.is_empty());
        let lease = Duration::try_from(self.lease).unwrap_or(Duration::from_secs(60));
        if holding && renewed_at.elapsed() >= lease / 3 {
            let until = self.clock.now() + self.lease;
            match self.store.renew_slots(&self.node, until).await {
                Ok(_) => *renewed_at = Instant::now(),
                Err(err) => {
                    tracing::warn!(error = %err, "could not renew the leases of domain slots")
                }
            }
        }
        // Without this pass's own references, a domain no message holds or waits for
        // counts one reference: the map's.
        drop(domains);
        self.domains
            .lock()
            .expect("limits lock poisoned")
            .retain(|_, slots| Arc::strong_count(slots) > 1 || !slots.is_empty());
    }
}

impl Engine {
    /// Keeps this node's domain slots (see [`Limits`]) until `stop`.
    pub(super) async fn limits_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut renewed_at = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            self.limits.keep(&mut renewed_at).await;
        }
    }

    /// Waits for the message's turn under the delivery limits (SMTP only) and holds its
    /// slot. While it waits, the recipient's lease is extended every quarter of a lease,
    /// so that no other node takes the recipient over; if one did already, the message is
    /// not sent. (The wait itself is never abandoned half-way: a slot being claimed must
    /// be either held or given back.)
    pub(super) async fn wait_for_limits(
        &self,
        plan: &Plan,
        claimed: &ClaimedRecipient,
        domain: &str,
    ) -> anyhow::Result<Option<Slot>> {
        let Transport::Smtp(pool) = &plan.transport else {
            return Ok(None);
        };
        let relay = self.transports.name_of(pool);
        let every = Duration::try_from(self.lease).unwrap_or(Duration::from_secs(60)) / 4;
        let acquire = self.limits.acquire(&relay, domain);
        tokio::pin!(acquire);
        let mut lost = false;
        let slot = loop {
            tokio::select! {
                slot = &mut acquire => break slot,
                _ = tokio::time::sleep(every), if !lost => {
                    lost = !self.extend_lease(claimed).await;
                }
            }
        };
        anyhow::ensure!(
            !lost,
            "the recipient's lease was lost while the message waited for its turn under the \
             delivery limits; it is another attempt's now"
        );
        Ok(Some(slot))
    }

    /// Extends the recipient's lease every quarter of a lease, for a message waiting for
    /// a relay connection; completes only if the lease was lost (another attempt's now).
    pub(super) async fn lease_lost(&self, claimed: &ClaimedRecipient) {
        let every = Duration::try_from(self.lease).unwrap_or(Duration::from_secs(60)) / 4;
        loop {
            tokio::time::sleep(every).await;
            if !self.extend_lease(claimed).await {
                return;
            }
        }
    }

    /// Extends a claimed recipient's lease; false only when it is no longer this node's
    /// (a database error is logged and counts as kept: the next extension tries again).
    async fn extend_lease(&self, claimed: &ClaimedRecipient) -> bool {
        let until = self.state.clock.now() + self.lease;
        let recipient = claimed.recipient.id;
        let store = &self.state.store;
        match store
            .extend_recipient_lease(&self.node, recipient, claimed.attempt, until)
            .await
        {
            Ok(kept) => kept,
            Err(err) => {
                tracing::warn!(recipient, error = %err, "could not extend a lease");
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use herald_domain::clock::SystemClock;
    use herald_test_support::{Db, TestDatabase};

    use super::*;

    /// Two nodes' limits on one database.
    async fn two_nodes(settings: fn() -> Settings) -> (TestDatabase, Limits, Limits) {
        let db = TestDatabase::create(Db::Sqlite).await.unwrap();
        let store = herald_store::open(&db.url).await.unwrap();
        let node = |name: &str| {
            let lease = time::Duration::seconds(10);
            Limits::new(
                store.clone(),
                Arc::new(SystemClock),
                name,
                lease,
                settings(),
            )
        };
        let (a, b) = (node("node-a"), node("node-b"));
        (db, a, b)
    }

    fn concurrency(n: usize) -> Settings {
        Settings {
            domain_concurrency: n,
            relay_rate: 0,
            domain_rate: 0,
        }
    }

    #[tokio::test]
    async fn a_domain_never_has_more_messages_in_flight_than_its_limit_across_nodes() {
        let (_db, a, b) = two_nodes(|| concurrency(2)).await;
        let (a, b) = (Arc::new(a), Arc::new(b));
        let first = a.acquire("r", "example.com").await;
        let _second = b.acquire("r", "example.com").await;
        let third = tokio::spawn({
            let b = b.clone();
            async move { b.acquire("r", "example.com").await }
        });
        let _other_domain = b.acquire("r", "other.com").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(!third.is_finished(), "a third message to the domain waits");
        drop(first);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            !third.is_finished(),
            "the other node keeps a slot it just used for its next message"
        );
        tokio::time::sleep(LINGER).await;
        a.keep(&mut Instant::now()).await;
        tokio::time::timeout(Duration::from_secs(1), third)
            .await
            .expect("it goes once the other node gives the unused slot back")
            .unwrap();
    }

    /// Makes `slot` one that has had its turn (held for `HOLD`, carried `MIN_USES`).
    fn had_its_turn(slot: &mut Slot) {
        let held = slot.held.as_mut().expect("a held slot");
        held.since = Instant::now() - HOLD;
        held.uses = MIN_USES;
    }

    /// Whether `node` could claim the domain's only slot in the database now.
    async fn free_for(limits: &Limits, node: &str) -> bool {
        let now = limits.clock.now();
        let claimed = limits
            .store
            .claim_slot("domain:example.com", 1, node, now, limits.lease)
            .await
            .unwrap();
        claimed.is_some()
    }

    #[tokio::test]
    async fn a_node_keeps_its_slots_while_no_other_node_wants_them() {
        let (_db, a, _b) = two_nodes(|| concurrency(1)).await;
        let mut slot = a.acquire("r", "example.com").await;
        had_its_turn(&mut slot);
        a.keep(&mut Instant::now()).await;
        drop(slot);
        tokio::time::sleep(LINGER).await;
        a.keep(&mut Instant::now()).await;
        assert!(
            !free_for(&a, "node-c").await,
            "a slot that had its turn and went unused for a while is still held"
        );
        let again = tokio::time::timeout(Duration::from_millis(20), a.acquire("r", "example.com"));
        drop(again.await.expect("the node goes on using it"));
    }

    #[tokio::test]
    async fn a_slot_that_had_its_turn_goes_to_another_node_that_wants_it() {
        let (_db, a, b) = two_nodes(|| concurrency(1)).await;
        let b = Arc::new(b);
        let mut slot = a.acquire("r", "example.com").await;
        had_its_turn(&mut slot);
        let waiting = tokio::spawn({
            let b = b.clone();
            async move { b.acquire("r", "example.com").await }
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.keep(&mut Instant::now()).await;
        drop(slot);
        a.keep(&mut Instant::now()).await;
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the waiting node gets the slot once it is given back")
            .unwrap();
    }

    #[tokio::test]
    async fn a_node_reuses_its_slot_without_asking_the_database_again() {
        let (_db, a, b) = two_nodes(|| concurrency(1)).await;
        drop(a.acquire("r", "example.com").await);
        let again = tokio::time::timeout(Duration::from_millis(20), a.acquire("r", "example.com"));
        let again = again.await.expect("the idle slot is reused at once");
        let elsewhere =
            tokio::time::timeout(Duration::from_millis(200), b.acquire("r", "example.com"));
        assert!(elsewhere.await.is_err(), "the other node finds no slot");
        drop(again);
    }

    #[tokio::test]
    async fn a_relay_rate_holds_across_nodes() {
        let (_db, a, b) = two_nodes(|| Settings {
            domain_concurrency: 100,
            relay_rate: 50,
            domain_rate: 0,
        })
        .await;
        let (a, b) = (Arc::new(a), Arc::new(b));
        let started = Instant::now();
        let mut sends = tokio::task::JoinSet::new();
        for n in 0..60 {
            let node = if n % 2 == 0 { a.clone() } else { b.clone() };
            sends.spawn(async move { node.acquire("relay", &format!("d{n}.example")).await });
        }
        while let Some(slot) = sends.join_next().await {
            drop(slot.unwrap());
        }
        // 60 messages at 50 a second, of which the first 5 (the burst) need not wait.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(1_080), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }

    #[tokio::test]
    async fn a_domain_rate_holds_across_nodes_and_other_domains_do_not_wait() {
        let (_db, a, b) = two_nodes(|| Settings {
            domain_concurrency: 100,
            relay_rate: 0,
            domain_rate: 20,
        })
        .await;
        let started = Instant::now();
        for n in 0..12 {
            let node = if n % 2 == 0 { &a } else { &b };
            drop(node.acquire("relay", "slow.example").await);
        }
        let elapsed = started.elapsed();
        // Twelve messages at 20 a second, the first two (the burst) at once.
        assert!(elapsed >= Duration::from_millis(480), "{elapsed:?}");
        let other = Instant::now();
        drop(b.acquire("relay", "fast.example").await);
        assert!(
            other.elapsed() < Duration::from_millis(100),
            "{:?}",
            other.elapsed()
        );
    }
}
