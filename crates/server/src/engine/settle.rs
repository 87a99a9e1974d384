//! The settler moves each active instance on when its work is done (`Complete`,
//! `Canceled`), with its counts; the gate loop keeps the gate current on its own, so that
//! a slow settling pass never delays a cancel or pause.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use herald_domain::send::status::InstanceStatus;
use herald_store::{ActiveInstance, StoreError};

use super::Engine;

/// Sending and paused instances are looked at every this many polls (once a second).
/// Instances being canceled are settled every poll, so `Canceled` is reported within a
/// second of the cancel.
const SENDING_EVERY: u32 = 5;

/// A settling pass counts every recipient of the instance, which takes longer as the send
/// grows (~60 ms for 100k recipients on PostgreSQL): an instance is counted again once
/// this many times its last count's duration has passed (at least a second, at most
/// `MAX_COUNT_INTERVAL`), so counting takes at most a twentieth of the settler's time.
/// An instance found with nothing pending is settled at once, whenever it was counted.
const COUNT_COST_FACTOR: u32 = 20;
const MAX_COUNT_INTERVAL: Duration = Duration::from_secs(15);

/// What the settler knows of an instance from its last count.
#[derive(Debug, Clone, Copy)]
struct Counted {
    /// When the instance is to be counted again.
    next: Instant,
    /// Recipients pending at the last count (the queue depth's share of it).
    pending: i64,
}

type CountedInstances = HashMap<i64, Counted>;

impl Engine {
    pub(super) async fn settle_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick: u32 = 0;
        let mut counted = CountedInstances::new();
        loop {
            let all = tick.is_multiple_of(SENDING_EVERY);
            if let Err(err) = self.settle_once(all, &mut counted).await {
                tracing::error!(error = %err, "could not settle send instances");
            }
            tick = tick.wrapping_add(1);
            if Self::idle(&mut shutdown).await {
                return;
            }
        }
    }

    /// Refreshes the gate every poll: a cancel or pause written by any node reaches this
    /// node's workers within one poll (and the query's time).
    pub(super) async fn gate_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.state.store.active_instances().await {
                Ok(active) => self.gate.refresh(&active),
                Err(err) => tracing::error!(error = %err, "could not refresh the gate"),
            }
            if Self::idle(&mut shutdown).await {
                return;
            }
        }
    }

    /// Settles the instances being canceled; with `all`, the sending and paused ones that
    /// are due (or have nothing pending any more), and the metrics.
    async fn settle_once(
        &self,
        all: bool,
        counted: &mut CountedInstances,
    ) -> Result<(), StoreError> {
        let store = &self.state.store;
        let active = store.active_instances().await?;
        counted.retain(|id, _| active.iter().any(|a| a.id == *id));
        for instance in &active {
            let due = match instance.status {
                InstanceStatus::CancelPending => true,
                _ if !all => false,
                _ => match counted.get(&instance.id) {
                    Some(last) if Instant::now() < last.next => {
                        instance.status == InstanceStatus::Sending
                            && !store.has_pending_recipients(instance.id).await?
                    }
                    _ => true,
                },
            };
            if due {
                self.settle(instance, counted).await?;
            }
        }
        if !all {
            return Ok(());
        }
        let metrics = &self.state.metrics;
        metrics
            .queue_depth
            .set(counted.values().map(|c| c.pending).sum());
        let pools = self.transports.pools();
        let idle: usize = pools.iter().map(|p| p.stats().idle_connections).sum();
        let opened: u64 = pools.iter().map(|p| p.stats().connections_opened).sum();
        metrics
            .smtp_idle_connections
            .set(i64::try_from(idle).unwrap_or(i64::MAX));
        metrics
            .smtp_connections_opened
            .set(i64::try_from(opened).unwrap_or(i64::MAX));
        self.plans
            .lock()
            .expect("plan lock poisoned")
            .retain(|id, _| active.iter().any(|a| a.id == *id));
        Ok(())
    }

    async fn settle(
        &self,
        instance: &ActiveInstance,
        counted: &mut CountedInstances,
    ) -> Result<(), StoreError> {
        let now = self.state.clock.now();
        let started = Instant::now();
        let Some(settled) = self.state.store.settle_instance(instance.id, now).await? else {
            return Ok(());
        };
        let interval = (started.elapsed() * COUNT_COST_FACTOR)
            .clamp(Duration::from_secs(1), MAX_COUNT_INTERVAL);
        counted.insert(
            instance.id,
            Counted {
                next: started + interval,
                pending: settled.pending,
            },
        );
        if settled.status != instance.status {
            tracing::info!(instance = instance.id, status = %settled.status.as_str(), "send instance settled");
        }
        Ok(())
    }
}
