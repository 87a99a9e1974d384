//! The outcome writer: one task per node that records delivery outcomes in batches.
//! Whatever outcomes queue up while a batch is being written go into the next one (group
//! commit), so a busy node commits once per batch and an idle one still writes each
//! outcome at once. A delivery waits until its outcome is written before it lets go of its
//! slot, so a crash can lose at most the outcomes of the messages in flight.

use std::sync::Arc;

use herald_domain::clock::Clock;
use herald_store::{AttemptOutcome, Store};
use tokio::sync::{mpsc, oneshot};

/// The most outcomes written in one transaction.
const MAX_BATCH: usize = 256;

struct Pending {
    outcome: AttemptOutcome,
    done: oneshot::Sender<Result<bool, String>>,
}

/// Where deliveries hand their outcomes.
#[derive(Clone)]
pub struct OutcomeWriter {
    queue: mpsc::Sender<Pending>,
}

impl OutcomeWriter {
    /// Starts the writer task for `owner` (the node whose leases the outcomes quote).
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, owner: String) -> Self {
        let (queue, incoming) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(store, clock, owner, incoming));
        OutcomeWriter { queue }
    }

    /// Records `outcome`; false if the lease was lost first (nothing was written).
    pub async fn record(&self, outcome: AttemptOutcome) -> anyhow::Result<bool> {
        let (done, written) = oneshot::channel();
        self.queue
            .send(Pending { outcome, done })
            .await
            .map_err(|_| anyhow::anyhow!("the outcome writer has stopped"))?;
        written
            .await
            .map_err(|_| anyhow::anyhow!("the outcome writer has stopped"))?
            .map_err(|err| anyhow::anyhow!("recording outcomes failed: {err}"))
    }
}

/// Runs until every `OutcomeWriter` handle is dropped.
async fn write_batches(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    owner: String,
    mut incoming: mpsc::Receiver<Pending>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (outcomes, waiting): (Vec<AttemptOutcome>, Vec<_>) = batch
            .drain(..)
            .map(|pending| (pending.outcome, pending.done))
            .unzip();
        let result = store.record_outcomes(&owner, &outcomes, clock.now()).await;
        for (outcome, done) in outcomes.iter().zip(waiting) {
            let answer = match &result {
                Ok(applied) => Ok(applied.contains(&outcome.recipient_id)),
                Err(err) => Err(err.to_string()),
            };
            // The delivery may have given up waiting (shutdown); its lease covers it.
            let _ = done.send(answer);
        }
    }
}
