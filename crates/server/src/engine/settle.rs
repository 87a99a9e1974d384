//! The settler moves each active instance on when its work is done (`Complete`,
//! `Canceled`), with its counts; the gate loop keeps the gate current on its own, so that
//! a slow settling pass never delays a cancel or pause.

use std::sync::Arc;

use tokio::sync::watch;

use herald_domain::send::status::InstanceStatus;
use herald_store::ActiveInstance;

use super::Engine;

/// Sending instances are settled every this many polls (once a second): each pass counts
/// all their recipients. Instances being canceled are settled every poll, so `Canceled`
/// is reported within a second of the cancel.
const SENDING_EVERY: u32 = 5;

impl Engine {
    pub(super) async fn settle_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick: u32 = 0;
        loop {
            let all = tick.is_multiple_of(SENDING_EVERY);
            if let Err(err) = self.settle_once(all).await {
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

    /// Settles the instances being canceled (and paused ones); with `all`, the sending
    /// ones too, and the metrics.
    async fn settle_once(&self, all: bool) -> Result<(), herald_store::StoreError> {
        let store = &self.state.store;
        let active = store.active_instances().await?;
        if !all {
            for instance in active
                .iter()
                .filter(|i| i.status != InstanceStatus::Sending)
            {
                self.settle(instance).await?;
            }
            return Ok(());
        }
        let metrics = &self.state.metrics;
        metrics.queue_depth.set(store.pending_recipients().await?);
        let pools = self.transports.pools();
        let idle: usize = pools.iter().map(|p| p.stats().idle_connections).sum();
        let opened: u64 = pools.iter().map(|p| p.stats().connections_opened).sum();
        metrics
            .smtp_idle_connections
            .set(i64::try_from(idle).unwrap_or(i64::MAX));
        metrics
            .smtp_connections_opened
            .set(i64::try_from(opened).unwrap_or(i64::MAX));
        for instance in &active {
            self.settle(instance).await?;
        }
        self.plans
            .lock()
            .expect("plan lock poisoned")
            .retain(|id, _| active.iter().any(|a| a.id == *id));
        Ok(())
    }

    async fn settle(&self, instance: &ActiveInstance) -> Result<(), herald_store::StoreError> {
        let now = self.state.clock.now();
        if let Some(status) = self.state.store.settle_instance(instance.id, now).await?
            && status != instance.status
        {
            tracing::info!(instance = instance.id, status = %status.as_str(), "send instance settled");
        }
        Ok(())
    }
}
