//! Delivery: claim due recipients, render, sign, hand to the transport, record what
//! happened. No transaction is open while a message is rendered or sent.

use std::sync::Arc;

use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use herald_mail::smtp::Outcome;
use herald_store::{AttemptOutcome, ClaimedRecipient, NewCapturedMessage};
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, watch};

use super::plan::PlanError;
use super::render::{Rendered, render};
use super::transport::Transport;
use super::writer::{Claimed, release};
use super::{Engine, Plan};

impl Engine {
    /// Delivers what the writer claims, each in its own task, until shutdown; then hands
    /// back whatever was claimed but not started.
    pub(super) async fn dispatch_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let Some(mut claimed) = self.claimed.lock().expect("claims lock poisoned").take() else {
            return;
        };
        while !*shutdown.borrow() {
            tokio::select! {
                next = claimed.recv() => match next {
                    Some(Claimed { recipient, slot }) => {
                        let engine = self.clone();
                        tokio::spawn(async move { engine.deliver(recipient, slot).await });
                    }
                    None => return,
                },
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        claimed.close();
        while let Ok(Claimed { recipient, .. }) = claimed.try_recv() {
            release(self.state.store.as_ref(), &self.node, &recipient).await;
        }
    }

    /// Whether the instance may hand messages to a relay now.
    async fn may_send(&self, claimed: &ClaimedRecipient) -> bool {
        let instance_id = claimed.recipient.instance_id;
        if let Some(answer) = self.gate.may_send(instance_id) {
            return answer;
        }
        match self
            .state
            .store
            .get_send_instance(claimed.mid, instance_id)
            .await
        {
            Ok(Some(instance)) => {
                self.gate.remember(instance_id, instance.status);
                instance.status == InstanceStatus::Sending
            }
            _ => false,
        }
    }

    async fn deliver(self: Arc<Self>, claimed: ClaimedRecipient, slot: OwnedSemaphorePermit) {
        let recipient_id = claimed.recipient.id;
        let instance_id = claimed.recipient.instance_id;
        self.state.metrics.in_flight.inc();
        // The attempt's state (11 KB: rendering, limits, SMTP) lives in one allocation of its
        // own; the task tokio spawns and moves around stays small.
        let result = Box::pin(self.try_deliver(&claimed, slot)).await;
        self.state.metrics.in_flight.dec();
        if let Err(err) = result {
            tracing::error!(instance = instance_id, recipient = recipient_id, error = %format!("{err:#}"), "delivery attempt failed; its lease will expire");
        }
    }

    /// Delivers one claimed recipient in `slot`, which goes with the outcome to the writer
    /// (or is given back here when there is no outcome to record).
    async fn try_deliver(
        &self,
        claimed: &ClaimedRecipient,
        slot: OwnedSemaphorePermit,
    ) -> anyhow::Result<()> {
        let store = &self.state.store;
        let recipient = &claimed.recipient;
        if !self.may_send(claimed).await {
            store
                .release_recipient(&self.node, recipient.id, claimed.attempt)
                .await?;
            return Ok(());
        }
        let plan = match self.plan_for(claimed).await {
            Ok(plan) => plan,
            Err(PlanError::Unusable(message)) => {
                let now = self.state.clock.now();
                store
                    .fail_instance(recipient.instance_id, &message, now)
                    .await?;
                return Ok(());
            }
            Err(PlanError::Store(err)) => return Err(err.into()),
        };
        if claimed.maybe_delivered_before {
            tracing::warn!(
                instance = recipient.instance_id,
                recipient = recipient.id,
                "retrying a message whose earlier attempt was never recorded: the relay may deliver it twice"
            );
        }
        let now = self.state.clock.now();
        // Rendering and signing run here, on the async worker: even an RSA signature
        // (~0.3 ms of CPU) is cheaper than a hand-off to the blocking pool, which made RSA
        // sends a third slower (BENCHMARKS.md).
        let rendered = render(&plan, recipient, &self.links, now);
        let rendered = match rendered {
            Ok(rendered) => rendered,
            Err(reason) => {
                let outcome = self.outcome(claimed, RecipientStatus::Failed, reason, None);
                self.state.metrics.count(outcome.status.as_str());
                self.outcomes.record(outcome, slot).await?;
                return Ok(());
            }
        };
        // Its turn under the delivery limits, shared by the cluster (SMTP only).
        let _slot = self
            .wait_for_limits(&plan, claimed, rendered.to.domain())
            .await?;
        // The last moment a cancel or pause can stop this message.
        if !self.may_send(claimed).await {
            store
                .release_recipient(&self.node, recipient.id, claimed.attempt)
                .await?;
            return Ok(());
        }
        let Some(outcome) = self.hand_over(&plan, claimed, rendered).await? else {
            // Stopped while it waited for a connection: nothing went out.
            store
                .release_recipient(&self.node, recipient.id, claimed.attempt)
                .await?;
            return Ok(());
        };
        let captured = matches!(plan.transport, Transport::Capture);
        let label = if captured {
            "captured"
        } else {
            outcome.status.as_str()
        };
        self.state.metrics.count(label);
        // A bounce suppresses the address in the same write.
        if !self.outcomes.record(outcome, slot).await? {
            tracing::warn!(
                instance = recipient.instance_id,
                recipient = recipient.id,
                "the lease ran out before the outcome was recorded"
            );
        }
        Ok(())
    }

    async fn plan_for(&self, claimed: &ClaimedRecipient) -> Result<Arc<Plan>, PlanError> {
        let instance_id = claimed.recipient.instance_id;
        if let Some(plan) = self.cached_plan(instance_id) {
            return Ok(plan);
        }
        let instance = self
            .state
            .store
            .get_send_instance(claimed.mid, instance_id)
            .await?
            .ok_or_else(|| PlanError::Unusable(format!("send instance {instance_id} is gone")))?;
        self.plan(&instance).await
    }

    /// Gives the message to the transport and classifies the answer; `None` when the
    /// instance was canceled or paused, or the lease lost, while the message waited for a
    /// connection.
    async fn hand_over(
        &self,
        plan: &Plan,
        claimed: &ClaimedRecipient,
        rendered: Rendered,
    ) -> anyhow::Result<Option<AttemptOutcome>> {
        match &plan.transport {
            Transport::Capture => {
                let reply = "250 captured in the outbox (no relay configured)".to_owned();
                self.state
                    .store
                    .capture_message(
                        NewCapturedMessage {
                            mid: claimed.mid,
                            instance_id: claimed.recipient.instance_id,
                            recipient_id: claimed.recipient.id,
                            envelope_from: rendered.envelope_from.as_str().to_owned(),
                            rcpt_to: rendered.to.as_str().to_owned(),
                            subject: rendered.subject,
                            raw: rendered.bytes,
                        },
                        self.state.clock.now(),
                    )
                    .await?;
                Ok(Some(self.outcome(
                    claimed,
                    RecipientStatus::Sent,
                    reply,
                    None,
                )))
            }
            Transport::Smtp(pool) => {
                let started = std::time::Instant::now();
                // While it waits for a connection: stopped by a cancel or pause, and its
                // lease kept (given up if lost).
                let stop = async {
                    tokio::select! {
                        () = self.gate.stopped(claimed.recipient.instance_id) => {}
                        () = self.lease_lost(claimed) => {}
                    }
                };
                let result = pool
                    .send_unless(&rendered.envelope_from, &rendered.to, &rendered.bytes, stop)
                    .await;
                let Some(result) = result else {
                    return Ok(None);
                };
                let seconds = started.elapsed().as_secs_f64();
                self.state.metrics.relay_reply_seconds.observe(seconds);
                let outcome = Outcome::of(&result);
                let reply = describe(&outcome);
                Ok(Some(match outcome {
                    Outcome::Accepted { .. } => {
                        self.outcome(claimed, RecipientStatus::Sent, reply, None)
                    }
                    Outcome::Permanent { .. } => {
                        self.outcome(claimed, RecipientStatus::Bounced, reply, None)
                    }
                    Outcome::Transient { .. } => self.deferral(claimed, reply),
                }))
            }
        }
    }

    /// A transient failure: try again later, or give up when the message is too old.
    fn deferral(&self, claimed: &ClaimedRecipient, reply: String) -> AttemptOutcome {
        let now = self.state.clock.now();
        let first = claimed.recipient.first_attempt_at.unwrap_or(now);
        let jitter: f64 = rand::rng().random();
        let attempts = u32::try_from(claimed.attempt).unwrap_or(u32::MAX);
        match self.retry.next_attempt(attempts, first, now, jitter) {
            Some(at) => self.outcome(claimed, RecipientStatus::Deferred, reply, Some(at)),
            None => {
                let reply = format!("gave up after {attempts} attempts: {reply}");
                self.outcome(claimed, RecipientStatus::Failed, reply, None)
            }
        }
    }

    fn outcome(
        &self,
        claimed: &ClaimedRecipient,
        status: RecipientStatus,
        reply: String,
        next_attempt_at: Option<time::OffsetDateTime>,
    ) -> AttemptOutcome {
        AttemptOutcome {
            recipient_id: claimed.recipient.id,
            attempt: claimed.attempt,
            status,
            reply: Some(reply),
            next_attempt_at,
        }
    }
}

/// The relay's answer as kept on the recipient: for an acceptance, the reply as the relay
/// gave it (`250 2.0.0 Ok: queued as …`); for a failure, the description the mail crate
/// gives, which already names the relay, the stage and the reply with its code
/// (`… replied to RCPT TO: 451 4.3.0 …`), or says why there was no reply.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Accepted { code, text, .. } if text.is_empty() => code.to_string(),
        Outcome::Accepted { code, text, .. } => format!("{code} {text}"),
        Outcome::Transient { text, .. } | Outcome::Permanent { text, .. } => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use herald_mail::smtp::{Outcome, SmtpReply};

    use super::describe;

    #[test]
    fn an_acceptance_is_kept_as_the_relay_said_it() {
        let reply = SmtpReply::new(250, "2.0.0 Ok: queued as Q1");
        assert_eq!(
            describe(&Outcome::of_final_reply(&reply)),
            "250 2.0.0 Ok: queued as Q1"
        );
        let bare = SmtpReply::new(250, "");
        assert_eq!(describe(&Outcome::of_final_reply(&bare)), "250");
    }

    #[test]
    fn a_failure_is_described_once_with_its_relay_stage_and_reply() {
        let text = "relay:25 replied to RCPT TO: 451 4.3.0 Try again later";
        let outcome = Outcome::Transient {
            code: Some(451),
            enhanced: SmtpReply::new(451, "4.3.0 Try again later").enhanced,
            text: text.into(),
        };
        assert_eq!(describe(&outcome), text);
    }
}
