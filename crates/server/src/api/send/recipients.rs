//! `GET …/instance/{instanceId}/recipients?page=&pageSize=&status=` (a Herald extension):
//! every recipient of a send with its outcome and what it did with the message (opens,
//! clicks, unsubscribe, bounce), in the Send API's shapes.

use axum::Json;
use axum::extract::{Path, State};
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::message::Verb;

use super::path::InstancePath;
use super::reply::{SendResult, page, refuse};
use super::wire::{RecipientList, RecipientOutcome};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::SendRead;
use crate::service::send;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(path): Path<InstancePath>,
    params: Params,
) -> SendResult<Json<RecipientList>> {
    let verb = Verb::Retrieving;
    let id = path.id(verb)?;
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
    let found = send::list_recipients(&state, auth.mid, &id, status, page).await?;
    Ok(Json(RecipientList {
        count: found.count,
        page: page.page,
        page_size: page.page_size,
        recipients: found
            .recipients
            .iter()
            .map(|r| RecipientOutcome::new(r, found.results.get(&r.id)))
            .collect(),
        is_error: false,
    }))
}
