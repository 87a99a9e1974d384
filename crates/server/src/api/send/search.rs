//! Search Definitions.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use herald_domain::send::message::Verb;

use super::reply::{OrRefuse, SendResult, check_path, page};
use super::wire::{DefinitionList, SearchBody, parse_optional_body};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::SendRead;
use crate::state::AppState;

/// `POST …/search?page=&pageSize=` with an optional `{"Criteria":{…}}`: the matching
/// definitions, oldest first, a page at a time.
pub async fn search(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path((integration_type, channel)): Path<(String, String)>,
    params: Params,
    body: Bytes,
) -> SendResult<Json<DefinitionList>> {
    let verb = Verb::Searching;
    check_path(verb, &integration_type, &channel)?;
    let page = page(verb, &params)?;
    let body: SearchBody = parse_optional_body(&body)?;
    let criteria = body.into_input().parse().or_refuse(verb)?;
    let found = state
        .store
        .search_send_definitions(auth.mid, &criteria, page)
        .await?;
    Ok(Json(DefinitionList::new(page, &found)))
}
