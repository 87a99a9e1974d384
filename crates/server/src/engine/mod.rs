//! The send engine: a durable scheduler, audience resolution, delivery workers and the
//! settling of each instance's status and counts. Every node runs all of it; the store's
//! leases decide who does what, so several nodes on one PostgreSQL share the work.
//!
//! Loops:
//! - **scheduler**: claims due instances (and abandoned resolutions) and resolves them;
//! - **writer**: records outcomes and claims due recipients for the slots they free, up
//!   to `workers` in flight, one transaction per batch (`writer.rs`);
//! - **dispatcher**: delivers each recipient the writer claims, in its own task;
//! - **gate**: refreshes which instances may send, every poll;
//! - **settler**: settles statuses and counts, and forgets the plans of finished
//!   instances;
//! - **limits**: gives back and renews the domain slots this node holds (`limits.rs`).

mod deliver;
mod gate;
mod limits;
mod plan;
mod render;
mod resolve;
mod settle;
mod tracking;
mod transport;
mod view;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_domain::retry::RetryPolicy;
use herald_mail::dkim::{DkimError, DkimKey, DkimSigner};
use herald_store::SendInstance;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use crate::state::AppState;
use gate::Gate;
use plan::{Plan, PlanError};
use render::Links;
use transport::Transports;
pub use view::view_online;
use writer::{Claimed, DeliveryWriter};

/// How often idle loops look for work: an instance starts within this of its time.
const POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// How long shutdown waits for messages in flight before leaving them to their leases.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(20);

/// The engine of one node.
pub struct Engine {
    state: AppState,
    node: String,
    lease: time::Duration,
    workers: usize,
    retry: RetryPolicy,
    transports: Transports,
    limits: limits::Limits,
    links: Links,
    plans: Mutex<HashMap<i64, Arc<Plan>>>,
    gate: Gate,
    in_flight: Arc<Semaphore>,
    outcomes: DeliveryWriter,
    /// What the writer claims, until the dispatcher takes it.
    claimed: Mutex<Option<mpsc::Receiver<Claimed>>>,
}

impl Engine {
    pub fn new(state: AppState) -> Arc<Engine> {
        let config = &state.config;
        let default_relays = config.smtp_relay.clone();
        let in_flight = Arc::new(Semaphore::new(config.workers));
        let lease = time::Duration::seconds(config.lease_secs);
        let (outcomes, claimed) = DeliveryWriter::start(
            state.store.clone(),
            state.clock.clone(),
            in_flight.clone(),
            writer::Settings {
                owner: config.node_id.clone(),
                lease,
                // A quarter of the workers: one claim per few messages, not one per message.
                claim_batch: (config.workers / 4).max(1),
                poll: POLL,
            },
        );
        Arc::new(Engine {
            node: config.node_id.clone(),
            // How long a claim (of an instance's resolution or of a recipient) lasts.
            lease,
            workers: config.workers,
            retry: RetryPolicy::default(),
            limits: limits::Limits::new(
                state.store.clone(),
                state.clock.clone(),
                &config.node_id,
                lease,
                limits::Settings {
                    domain_concurrency: config.domain_concurrency,
                    relay_rate: config.relay_rate,
                    domain_rate: config.domain_rate,
                },
            ),
            transports: Transports::new(default_relays, config.relay_connections),
            links: Links {
                key: state.link_key.clone(),
                base: config.public_base(),
            },
            plans: Mutex::new(HashMap::new()),
            gate: Gate::default(),
            in_flight,
            outcomes,
            claimed: Mutex::new(Some(claimed)),
            state,
        })
    }

    /// Runs the engine's loops until `shutdown` turns true, then drains.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        tracing::info!(node = %self.node, workers = self.workers, "send engine started");
        // The limits keeper runs until messages in flight have drained: they may still be
        // waiting for a domain slot another of this node's messages is giving back.
        let (stop_keeper, keeper_stop) = watch::channel(false);
        let keeper = tokio::spawn(self.clone().limits_loop(keeper_stop));
        let mut loops = JoinSet::new();
        loops.spawn(self.clone().schedule_loop(shutdown.clone()));
        loops.spawn(self.clone().dispatch_loop(shutdown.clone()));
        loops.spawn(self.clone().settle_loop(shutdown.clone()));
        loops.spawn(self.clone().gate_loop(shutdown.clone()));
        while loops.join_next().await.is_some() {}
        let drained = tokio::time::timeout(DRAIN, self.in_flight.acquire_many(self.workers as u32));
        if drained.await.is_err() {
            tracing::warn!("shutdown left messages in flight; their leases will expire");
        }
        let _ = stop_keeper.send(true);
        let _ = keeper.await;
        self.limits.release_all().await;
        for pool in self.transports.pools() {
            pool.close().await;
        }
        tracing::info!(node = %self.node, "send engine stopped");
    }

    /// The plan of an instance, loaded once per node.
    async fn plan(&self, instance: &SendInstance) -> Result<Arc<Plan>, PlanError> {
        if let Some(plan) = self.cached_plan(instance.id) {
            return Ok(plan);
        }
        let bounce_domain = self.state.config.bounce_domain.as_deref();
        let mut plan = Plan::load(
            self.state.store.as_ref(),
            instance,
            bounce_domain,
            |relays| self.transports.for_relays(relays),
        )
        .await?;
        plan.signer = self.signer(&plan).await?;
        let plan = Arc::new(plan);
        self.plans
            .lock()
            .expect("plan lock poisoned")
            .insert(instance.id, plan.clone());
        Ok(plan)
    }

    /// The DKIM signer for a plan: the key its delivery profile names (which must exist),
    /// else the newest key of the From domain, else none (unsigned mail).
    async fn signer(&self, plan: &Plan) -> Result<Option<Arc<DkimSigner>>, PlanError> {
        let store = &self.state.store;
        let record =
            match &plan.dkim_key_id {
                Some(id) => Some(store.get_dkim_key(id).await?.ok_or_else(|| {
                    PlanError::Unusable(format!("DKIM key {id} no longer exists"))
                })?),
                None => {
                    store
                        .newest_dkim_key_for(plan.from_address.domain())
                        .await?
                }
            };
        let Some(record) = record else {
            return Ok(None);
        };
        let unusable =
            |err: DkimError| PlanError::Unusable(format!("DKIM key {}: {err}", record.id));
        let key = DkimKey::from_pem(&record.private_pem).map_err(unusable)?;
        let signer = DkimSigner::new(key, &record.domain, &record.selector).map_err(unusable)?;
        Ok(Some(Arc::new(signer)))
    }

    fn cached_plan(&self, instance_id: i64) -> Option<Arc<Plan>> {
        self.plans
            .lock()
            .expect("plan lock poisoned")
            .get(&instance_id)
            .cloned()
    }

    /// Waits `POLL`, or less if shutdown comes first; true when shutting down.
    async fn idle(shutdown: &mut watch::Receiver<bool>) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => *shutdown.borrow(),
            _ = shutdown.changed() => true,
        }
    }

    async fn schedule_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            let now = self.state.clock.now();
            match self
                .state
                .store
                .claim_due_instance(&self.node, now, self.lease)
                .await
            {
                Ok(Some(instance)) => {
                    let lag = (now - instance.scheduled_at).as_seconds_f64();
                    tracing::info!(
                        instance = instance.id,
                        lag_seconds = lag,
                        "send instance started"
                    );
                    self.state
                        .metrics
                        .scheduler_lag_seconds
                        .observe(lag.max(0.0));
                    let engine = self.clone();
                    tokio::spawn(async move { engine.resolve(instance).await });
                    continue;
                }
                Ok(None) => {}
                Err(err) => tracing::error!(error = %err, "could not claim due instances"),
            }
            if Self::idle(&mut shutdown).await {
                return;
            }
        }
    }
}
