//! Search Definitions.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use herald_domain::send::message::Verb;

use super::path::ChannelPath;
use super::reply::{SendResult, page};
use super::wire::{DefinitionList, SearchBody, parse_optional_body};
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::SendRead;
use crate::service::send;
use crate::state::AppState;

/// `POST …/search?page=&pageSize=` with an optional `{"Criteria":{…}}`: the matching
/// definitions, oldest first, a page at a time.
pub async fn search(
    State(state): State<AppState>,
    auth: Authorized<SendRead>,
    Path(path): Path<ChannelPath>,
    params: Params,
    body: Bytes,
) -> SendResult<Json<DefinitionList>> {
    let verb = Verb::Searching;
    path.check(verb)?;
    let page = page(verb, &params)?;
    let body: SearchBody = parse_optional_body(&body)?;
    let found = send::search_definitions(&state, auth.mid, body.into_input(), page).await?;
    Ok(Json(DefinitionList::new(page, &found)))
}
