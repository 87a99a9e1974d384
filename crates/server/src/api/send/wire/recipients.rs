//! The recipients listing (a Herald extension): every recipient of a send with its
//! outcome and what it did with the message.

use herald_store::{Recipient, RecipientResults};
use serde::Serialize;

use super::{ResultsView, wire_time};

/// One recipient's outcome.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipientOutcome {
    pub recipient_id: String,
    /// The CRM record's 18-character id.
    pub subscriber_key: String,
    pub email_address: String,
    /// queued, deferred, sent, bounced, failed, excluded, suppressed, duplicate, canceled.
    pub status: &'static str,
    pub attempts: i64,
    /// The relay's last reply (or why the recipient was not sent).
    pub last_reply: Option<String>,
    pub first_attempt_time: Option<String>,
    pub next_attempt_time: Option<String>,
    pub completed_time: Option<String>,
    /// What happened after the message was sent (sent, bounced, opens, clicks,
    /// unsubscribe), from the event log.
    #[serde(flatten)]
    pub results: ResultsView,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipientList {
    pub count: i64,
    pub page: u32,
    pub page_size: u32,
    pub recipients: Vec<RecipientOutcome>,
    pub is_error: bool,
}

impl RecipientOutcome {
    pub fn new(recipient: &Recipient, results: Option<&RecipientResults>) -> Self {
        RecipientOutcome {
            recipient_id: recipient.id.to_string(),
            subscriber_key: recipient.record_id.clone(),
            email_address: recipient.email.clone(),
            status: recipient.status.as_str(),
            attempts: recipient.attempts,
            last_reply: recipient.last_reply.clone(),
            first_attempt_time: recipient.first_attempt_at.map(wire_time),
            next_attempt_time: recipient.next_attempt_at.map(wire_time),
            completed_time: recipient.completed_at.map(wire_time),
            results: results.map(ResultsView::from).unwrap_or_default(),
        }
    }
}
