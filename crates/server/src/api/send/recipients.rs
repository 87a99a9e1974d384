//! `GET …/instance/{instanceId}/recipients?page=&pageSize=&status=` (a Herald extension):
//! every recipient of a send with its outcome and what it did with the message (opens,
//! clicks, unsubscribe, bounce), in the Send API's shapes.

use axum::Json;
use axum::extract::{Path, State};
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::message::Verb;
use herald_store::{Recipient, RecipientResults};
use serde::Serialize;

use super::instances::find_instance;
use super::reply::{SendResult, check_path, page, refuse};
use super::wire::{ResultsView, wire_time};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::SendRead;
use crate::state::AppState;

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
    fn new(recipient: &Recipient, results: Option<&RecipientResults>) -> Self {
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

pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path((integration_type, channel, id)): Path<(String, String, String)>,
    params: Params,
) -> SendResult<Json<RecipientList>> {
    let verb = Verb::Retrieving;
    check_path(verb, &integration_type, &channel)?;
    let page = page(verb, &params)?;
    let status = match params.get("status") {
        None | Some("") => None,
        Some(text) => Some(RecipientStatus::parse(text).ok_or_else(|| {
            let known: Vec<&str> = RecipientStatus::ALL.iter().map(|s| s.as_str()).collect();
            refuse(
                verb,
                format!("status {text:?} is not one of: {}", known.join(", ")),
            )
        })?),
    };
    let instance = find_instance(&state, auth.mid, verb, &id).await?;
    let (count, recipients) = state
        .store
        .list_recipients(auth.mid, instance.id, status, page)
        .await?;
    let ids: Vec<i64> = recipients.iter().map(|r| r.id).collect();
    let results = state.store.recipient_results(auth.mid, &ids).await?;
    Ok(Json(RecipientList {
        count,
        page: page.page,
        page_size: page.page_size,
        recipients: recipients
            .iter()
            .map(|r| RecipientOutcome::new(r, results.get(&r.id)))
            .collect(),
        is_error: false,
    }))
}
