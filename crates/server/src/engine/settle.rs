//! The settler: keeps the gate current and moves each active instance on when its work
//! is done (`Complete`, `Canceled`), with its counts.

use std::sync::Arc;

use tokio::sync::watch;

use super::Engine;

impl Engine {
    pub(super) async fn settle_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(err) = self.settle_once().await {
                tracing::error!(error = %err, "could not settle send instances");
            }
            if Self::idle(&mut shutdown).await {
                return;
            }
        }
    }

    async fn settle_once(&self) -> Result<(), herald_store::StoreError> {
        let store = &self.state.store;
        let active = store.active_instances().await?;
        self.gate.refresh(&active);
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
