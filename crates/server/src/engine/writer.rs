//! The delivery writer: one task per node that makes all of its delivery writes. Each
//! turn records the outcomes that queued up since the last one (group commit) and claims
//! due recipients for the slots they free, in one transaction, so a busy node commits once
//! per batch of messages and its writes never wait for each other. What it claims goes to
//! the dispatcher with a slot (a permit of the engine's `in_flight`) already taken.
//!
//! A delivery hands its slot over with its outcome, and the writer holds it until the
//! outcome is written (then gives it to a recipient it claimed), so the messages whose
//! outcomes a crash can lose never number more than the slots.

use std::sync::Arc;
use std::time::Duration;

use herald_domain::clock::Clock;
use herald_store::{AttemptOutcome, ClaimedRecipient, DeliveryTurn, Store};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

/// The most outcomes written in one transaction.
const MAX_BATCH: usize = 256;
/// How many times a batch of outcomes that could not be written is tried again, and the
/// pause before the first retry (growing by as much each time: 6 s in all).
const RECORD_RETRIES: u32 = 3;
const RECORD_PAUSE: Duration = Duration::from_secs(1);

struct Pending {
    outcome: AttemptOutcome,
    slot: OwnedSemaphorePermit,
    done: oneshot::Sender<Result<bool, String>>,
}

/// A recipient claimed for delivery, with the slot it will be delivered in.
pub struct Claimed {
    pub recipient: ClaimedRecipient,
    pub slot: OwnedSemaphorePermit,
}

/// What the writer needs to know of its node.
pub struct Settings {
    /// The node whose leases the claims take and the outcomes quote.
    pub owner: String,
    /// How long a claim lasts.
    pub lease: time::Duration,
    /// The fewest free slots worth a turn of its own (one that records nothing).
    pub claim_batch: usize,
    /// How long to wait before claiming again when nothing was due.
    pub poll: Duration,
}

/// Where deliveries hand their outcomes.
#[derive(Clone)]
pub struct DeliveryWriter {
    queue: mpsc::Sender<Pending>,
}

impl DeliveryWriter {
    /// Starts the writer task; the receiver gets what it claims. Once the receiver is
    /// closed the writer stops claiming (and hands back whatever it could not pass on),
    /// but goes on recording outcomes until every `DeliveryWriter` handle is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        slots: Arc<Semaphore>,
        settings: Settings,
    ) -> (Self, mpsc::Receiver<Claimed>) {
        let (queue, incoming) = mpsc::channel(MAX_BATCH * 4);
        let (claims, claimed) = mpsc::channel(slots.available_permits().max(1));
        let writer = Writer {
            store,
            clock,
            slots,
            settings,
            claims,
        };
        tokio::spawn(writer.run(incoming));
        (DeliveryWriter { queue }, claimed)
    }

    /// Records `outcome`, delivered in `slot`; false if the lease was lost first (nothing
    /// was written).
    pub async fn record(
        &self,
        outcome: AttemptOutcome,
        slot: OwnedSemaphorePermit,
    ) -> anyhow::Result<bool> {
        let (done, written) = oneshot::channel();
        self.queue
            .send(Pending {
                outcome,
                slot,
                done,
            })
            .await
            .map_err(|_| anyhow::anyhow!("the delivery writer has stopped"))?;
        written
            .await
            .map_err(|_| anyhow::anyhow!("the delivery writer has stopped"))?
            .map_err(|err| anyhow::anyhow!("recording outcomes failed: {err}"))
    }
}

struct Writer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    slots: Arc<Semaphore>,
    settings: Settings,
    claims: mpsc::Sender<Claimed>,
}

impl Writer {
    async fn run(self, mut incoming: mpsc::Receiver<Pending>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // When claiming may start again after a claim found nothing (more) due.
        let mut next_claim = Instant::now();
        loop {
            let claiming = !self.claims.is_closed();
            let worth_a_turn =
                claiming && self.slots.available_permits() >= self.settings.claim_batch;
            if batch.is_empty() && !(worth_a_turn && Instant::now() >= next_claim) {
                // Nothing to do yet: wait for outcomes, for claiming to be due again, or a
                // poll (slots also come free without an outcome: a paused send's release).
                let wake = if worth_a_turn {
                    next_claim
                } else {
                    Instant::now() + self.settings.poll
                };
                tokio::select! {
                    received = incoming.recv_many(&mut batch, MAX_BATCH) => {
                        if received == 0 {
                            return;
                        }
                    }
                    _ = tokio::time::sleep_until(wake) => continue,
                }
            }
            // Whatever else is already queued joins this turn.
            let room = MAX_BATCH - batch.len();
            if room > 0 && !incoming.is_empty() {
                incoming.recv_many(&mut batch, room).await;
            }
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut waiting = Vec::with_capacity(batch.len());
            let mut slots = Vec::with_capacity(batch.len());
            for pending in batch.drain(..) {
                outcomes.push(pending.outcome);
                waiting.push(pending.done);
                slots.push(pending.slot);
            }
            // The slots free now, and those the outcomes came with.
            let limit = if claiming && Instant::now() >= next_claim {
                self.slots.available_permits() + slots.len()
            } else {
                0
            };
            let turn = self.turn(&outcomes, limit).await;
            for (outcome, done) in outcomes.iter().zip(waiting) {
                let answer = match &turn {
                    Ok(turn) => Ok(turn.applied.contains(&outcome.recipient_id)),
                    Err(err) => Err(err.to_string()),
                };
                // The delivery may have given up waiting (shutdown); its lease covers it.
                let _ = done.send(answer);
            }
            match turn {
                Ok(turn) => {
                    if limit > 0 && turn.claimed.len() < limit {
                        next_claim = Instant::now() + self.settings.poll;
                    }
                    self.hand_over(turn.claimed, slots).await;
                }
                Err(err) => {
                    tracing::error!(error = %err, "could not record outcomes or claim recipients");
                    next_claim = Instant::now() + self.settings.poll;
                }
            }
        }
    }

    /// One transaction: the outcomes, then up to `limit` claims. Should it fail, the
    /// outcomes are tried again alone, a few times over a few seconds (a database locked
    /// or restarting): an outcome given up on means its message is sent again once the
    /// lease runs out.
    async fn turn(
        &self,
        outcomes: &[AttemptOutcome],
        limit: usize,
    ) -> Result<DeliveryTurn, herald_store::StoreError> {
        let owner = &self.settings.owner;
        let lease = self.settings.lease;
        let now = self.clock.now();
        let mut result = self
            .store
            .record_and_claim(owner, outcomes, now, lease, limit as i64)
            .await;
        if outcomes.is_empty() {
            return result;
        }
        for attempt in 1..=RECORD_RETRIES {
            let Err(err) = &result else {
                break;
            };
            tracing::warn!(error = %err, attempt, "writing outcomes failed; trying them again alone");
            tokio::time::sleep(RECORD_PAUSE * attempt).await;
            let now = self.clock.now();
            result = self
                .store
                .record_and_claim(owner, outcomes, now, lease, 0)
                .await;
        }
        result
    }

    /// Passes each claimed recipient on with a slot: one the outcomes came with, else a
    /// free one (the claim asked for no more than there are).
    async fn hand_over(
        &self,
        claimed: Vec<ClaimedRecipient>,
        mut slots: Vec<OwnedSemaphorePermit>,
    ) {
        for recipient in claimed {
            let slot = match slots.pop() {
                Some(slot) => slot,
                None => match self.slots.clone().acquire_owned().await {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            if let Err(refused) = self.claims.send(Claimed { recipient, slot }).await {
                // The dispatcher has stopped (shutdown): the recipient goes back untouched.
                release(
                    self.store.as_ref(),
                    &self.settings.owner,
                    &refused.0.recipient,
                )
                .await;
            }
        }
    }
}

/// Hands a claimed recipient that was never started back untouched (shutdown).
pub(super) async fn release(store: &dyn Store, owner: &str, claimed: &ClaimedRecipient) {
    let released = store
        .release_recipient(owner, claimed.recipient.id, claimed.attempt)
        .await;
    if let Err(err) = released {
        tracing::warn!(recipient = claimed.recipient.id, error = %err, "could not hand back a claimed recipient; its lease will expire");
    }
}
