//! Which instances may hand messages to a relay right now, as this node last saw them.
//! Refreshed by the settler every poll, so a cancel or pause reaches every worker within
//! one poll; an instance the gate does not know is looked up in the store.

use std::collections::HashMap;
use std::sync::RwLock;

use herald_domain::send::status::InstanceStatus;
use herald_store::ActiveInstance;
use tokio::sync::watch;

pub struct Gate {
    statuses: RwLock<HashMap<i64, InstanceStatus>>,
    /// Told of every change, for the sends waiting to be told to stop.
    changes: watch::Sender<()>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            statuses: RwLock::default(),
            changes: watch::Sender::new(()),
        }
    }
}

impl Gate {
    /// Replaces what the gate knows with the store's active instances.
    pub fn refresh(&self, active: &[ActiveInstance]) {
        let statuses = active.iter().map(|a| (a.id, a.status)).collect();
        *self.statuses.write().expect("gate lock poisoned") = statuses;
        self.changes.send_replace(());
    }

    /// Completes once the gate says the instance may not send (paused or being
    /// canceled): what a message waiting for a connection gives up on.
    pub async fn stopped(&self, instance_id: i64) {
        let mut changes = self.changes.subscribe();
        while self.may_send(instance_id) != Some(false) {
            if changes.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// `Some(true)` when the instance is `Sending`, `Some(false)` when it is paused or
    /// being canceled, `None` when the gate has not seen it.
    pub fn may_send(&self, instance_id: i64) -> Option<bool> {
        self.statuses
            .read()
            .expect("gate lock poisoned")
            .get(&instance_id)
            .map(|status| *status == InstanceStatus::Sending)
    }

    pub fn remember(&self, instance_id: i64, status: InstanceStatus) {
        self.statuses
            .write()
            .expect("gate lock poisoned")
            .insert(instance_id, status);
        self.changes.send_replace(());
    }
}
