//! `POST /crm/v1/{contacts|leads}/bulk`: create or update up to 10,000 records matched on
//! Email or ExternalId. Each row gets a result; rows with errors are not written, the
//! others are (together).

use axum::Json;
use axum::extract::State;
use herald_store::{MatchOn, RowOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

use super::records::ObjectRoute;
use super::wire::record_changes;
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::auth::Authorized;
use crate::auth::requirements::CrmWrite;
use crate::service::crm::{self as service, capitalised};
use crate::state::AppState;

/// The most records one request may carry.
const MAX_RECORDS: usize = 10_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkBody {
    /// `Email` or `ExternalId`.
    match_on: String,
    records: Vec<Value>,
}

fn match_on(text: &str) -> Result<MatchOn, ApiError> {
    MatchOn::parse(text).ok_or_else(|| {
        ApiError::invalid(format!("matchOn must be Email or ExternalId, got {text:?}"))
    })
}

fn failed(index: usize, error: &str) -> Value {
    json!({"index": index, "status": "error", "error": capitalised(error)})
}

pub async fn upsert<O: ObjectRoute>(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<BulkBody>,
) -> Result<Json<Value>, ApiError> {
    let match_on = match_on(&body.match_on)?;
    if body.records.len() > MAX_RECORDS {
        return Err(ApiError::invalid(format!(
            "records: at most {MAX_RECORDS} per request, got {}",
            body.records.len()
        )));
    }
    let mut results: Vec<Value> = Vec::with_capacity(body.records.len());
    let mut rows = Vec::new();
    let mut written = Vec::new();
    for (index, value) in body.records.iter().enumerate() {
        let changes = value
            .as_object()
            .ok_or_else(|| "a record is a JSON object of fields".to_owned())
            .and_then(record_changes);
        match changes {
            Ok(changes) => {
                rows.push(changes);
                written.push(index);
                results.push(Value::Null);
            }
            Err(message) => results.push(failed(index, &message)),
        }
    }
    let outcomes = service::upsert_records(&state, auth.mid, O::OBJECT, match_on, rows).await?;
    let (mut created, mut updated) = (0, 0);
    for (index, outcome) in written.into_iter().zip(outcomes) {
        results[index] = match outcome {
            RowOutcome::Created(id) => {
                created += 1;
                json!({"index": index, "id": id, "status": "created"})
            }
            RowOutcome::Updated(id) => {
                updated += 1;
                json!({"index": index, "id": id, "status": "updated"})
            }
            RowOutcome::Failed(err) => failed(index, &err.to_string()),
        };
    }
    Ok(Json(json!({
        "matchOn": match_on.name(),
        "created": created,
        "updated": updated,
        "failed": results.len() - created - updated,
        "results": results,
    })))
}
