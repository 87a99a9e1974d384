//! The settler moves each active instance on when its work is done (`Complete`,
//! `Canceled`), with its counts; the gate loop keeps the gate current on its own, so that
//! a slow settling pass never delays a cancel or pause.

use std::sync::Arc;

use tokio::sync::watch;

use super::Engine;

/// How often counts and statuses are settled: each pass counts every running instance's
/// recipients, so it runs less often than the gate.
const SETTLE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Engine {
    pub(super) async fn settle_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(err) = self.settle_once().await {
                tracing::error!(error = %err, "could not settle send instances");
            }
            if Self::idle_for(&mut shutdown, SETTLE_EVERY).await {
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

    async fn settle_once(&self) -> Result<(), herald_store::StoreError> {
        let store = &self.state.store;
        let active = store.active_instances().await?;
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
            let now = self.state.clock.now();
            if let Some(status) = store.settle_instance(instance.id, now).await?
                && status != instance.status
            {
                tracing::info!(instance = instance.id, status = %status.as_str(), "send instance settled");
            }
        }
        self.plans
            .lock()
            .expect("plan lock poisoned")
            .retain(|id, _| active.iter().any(|a| a.id == *id));
        Ok(())
    }
}
