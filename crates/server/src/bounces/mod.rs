//! Asynchronous bounces: a delivery status notification comes back to a message's VERP
//! envelope sender and is handed to Herald (`POST /herald/v1/bounces`). The VERP address
//! names the message and proves, by its signature, that Herald made it; the notification
//! says whether the failure is permanent (the address is suppressed) or temporary
//! (counted only).

pub mod dsn;
pub mod smtp;

use herald_domain::verp::VerpToken;
use herald_store::{AsyncBounce, BounceRecorded, BouncedMessage};
use serde_json::json;

use crate::state::AppState;
use dsn::{NotANotification, Notification, RecipientReport, Verdict};

/// What a notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A permanent failure: message marked bounced, address suppressed, event appended.
    Hard,
    /// A temporary failure: event appended, nothing suppressed.
    Soft,
    /// A notification of success (delivered, relayed, expanded): nothing recorded.
    NotAFailure,
    /// The message was already marked bounced: nothing changed.
    AlreadyBounced,
    /// The same notification was recorded before: nothing changed.
    Duplicate,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Hard => "hard_bounce",
            Outcome::Soft => "soft_bounce",
            Outcome::NotAFailure => "not_a_failure",
            Outcome::AlreadyBounced => "already_bounced",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// The result of taking one notification in.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub outcome: Outcome,
    pub message: BouncedMessage,
    pub report: RecipientReport,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    NotANotification(#[from] NotANotification),
    #[error(
        "no message sent by Herald matches this notification: it names no valid VERP \
         address (bounces+…), or the message is gone"
    )]
    UnknownMessage,
    #[error(transparent)]
    Store(#[from] herald_store::StoreError),
}

/// Takes a raw notification in: parses it, finds the message through a VERP address
/// that verifies, and records the verdict.
pub async fn ingest(state: &AppState, raw: &[u8]) -> Result<Ingested, IngestError> {
    let notification = Notification::parse(raw)?;
    let message = find_message(state, raw)
        .await?
        .ok_or(IngestError::UnknownMessage)?;
    let (hard, report) = match notification.verdict() {
        Verdict::Hard(report) => (true, report),
        Verdict::Soft(report) => (false, report),
        Verdict::NotAFailure(report) => {
            return Ok(Ingested {
                outcome: Outcome::NotAFailure,
                message,
                report,
            });
        }
    };
    let diagnostic = report
        .diagnostic
        .clone()
        .unwrap_or_else(|| format!("{} {}", report.action, report.status));
    let bounce = AsyncBounce {
        recipient_id: message.recipient_id,
        hard,
        notification_id: notification.message_id.clone(),
        detail: json!({
            "kind": if hard { "hard" } else { "soft" },
            "source": "dsn",
            "action": report.action,
            "status": report.status,
            "diagnostic": report.diagnostic,
            "finalRecipient": report.final_recipient,
        }),
        diagnostic,
    };
    let outcome = match state
        .store
        .record_async_bounce(&bounce, state.clock.now())
        .await?
    {
        BounceRecorded::Recorded { .. } if hard => Outcome::Hard,
        BounceRecorded::Recorded { .. } => Outcome::Soft,
        BounceRecorded::AlreadyBounced => Outcome::AlreadyBounced,
        BounceRecorded::Duplicate => Outcome::Duplicate,
        BounceRecorded::Unknown => return Err(IngestError::UnknownMessage),
    };
    tracing::info!(
        instance = message.instance_id,
        recipient = message.recipient_id,
        outcome = outcome.as_str(),
        status = %report.status,
        "delivery status notification taken in"
    );
    Ok(Ingested {
        outcome,
        message,
        report,
    })
}

/// The message of the first VERP address in the notification that Herald signed for
/// that message's account. An address whose signature fails names nothing: a forged
/// notification cannot suppress anyone.
async fn find_message(state: &AppState, raw: &[u8]) -> Result<Option<BouncedMessage>, IngestError> {
    let text = String::from_utf8_lossy(raw);
    for token in VerpToken::find_all(&text).into_iter().take(10) {
        let Some(message) = state.store.bounced_message(token.recipient_id).await? else {
            continue;
        };
        if message.instance_id == token.instance_id && token.verifies(&state.link_key, message.mid)
        {
            return Ok(Some(message));
        }
    }
    Ok(None)
}
