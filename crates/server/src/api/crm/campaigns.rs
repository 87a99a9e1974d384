//! `/crm/v1/campaigns`: campaigns and their members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use herald_domain::crm::TargetRef;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{Campaign, MembershipChange};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::wire::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, date, not_found, page_body, path_id, slice, write_error,
};
use super::{targets, text};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{CrmRead, CrmWrite};
use crate::state::AppState;

/// The most member ids one request may carry.
const MAX_MEMBER_IDS: usize = 10_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/v1/campaigns", get(list).post(create))
        .route(
            "/crm/v1/campaigns/{id}",
            get(read).patch(update).delete(delete),
        )
        .route(
            "/crm/v1/campaigns/{id}/members",
            get(members).post(add_members).delete(remove_members),
        )
        .route("/crm/v1/campaigns/{id}/fields", get(fields))
}

/// Present-but-null stays distinguishable from absent: `Some(None)` clears.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CampaignBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersBody {
    /// Contact and Lead ids, 15 or 18 characters.
    ids: Vec<String>,
}

fn campaign(campaign: Campaign) -> Value {
    json!({
        "id": campaign.id,
        "name": campaign.name,
        "description": campaign.description,
        "createdDate": date(campaign.created_at),
        "modifiedDate": date(campaign.modified_at),
    })
}

async fn list(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = params.page(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let campaigns = state.store.list_campaigns(auth.mid, slice(page)).await?;
    Ok(Json(page_body(page, campaigns, campaign)))
}

async fn create(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = body.name.ok_or_else(|| ApiError::BadRequest {
        errorcode: 10002,
        message: "Missing field: name".into(),
    })?;
    let name = text::name(&name)?;
    let description = text::description(body.description.flatten().as_deref())?;
    let created = state
        .store
        .create_campaign(auth.mid, &name, description.as_deref(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(campaign(created))))
}

/// The campaign with its current member count.
async fn read(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let found = state
        .store
        .get_campaign(auth.mid, id)
        .await?
        .ok_or_else(|| not_found("Campaign", Some(id)))?;
    let count = state
        .store
        .count_members(auth.mid, TargetRef::campaign(id))
        .await?
        .unwrap_or_default();
    let mut body = campaign(found);
    body["memberCount"] = json!(count);
    Ok(Json(body))
}

async fn update(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let existing = state
        .store
        .get_campaign(auth.mid, id)
        .await?
        .ok_or_else(|| not_found("Campaign", Some(id)))?;
    let name = match body.name {
        Some(name) => text::name(&name)?,
        None => existing.name,
    };
    let description = match body.description {
        Some(description) => text::description(description.as_deref())?,
        None => existing.description,
    };
    let updated = state
        .store
        .update_campaign(
            auth.mid,
            id,
            &name,
            description.as_deref(),
            state.clock.now(),
        )
        .await?
        .ok_or_else(|| not_found("Campaign", Some(id)))?;
    Ok(Json(campaign(updated)))
}

/// Deletes the campaign and its member list; the records stay.
async fn delete(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    if !state.store.delete_campaign(auth.mid, id).await? {
        return Err(not_found("Campaign", Some(id)));
    }
    Ok(Json(json!({"id": id, "deleted": true})))
}

async fn members(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let target = TargetRef::campaign(path_id(&id)?);
    targets::members(&state, auth.mid, target, &params).await
}

async fn fields(
    State(state): State<AppState>,
    auth: Authorized<CrmRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    targets::fields(&state, auth.mid, TargetRef::campaign(path_id(&id)?)).await
}

/// The ids of a members body, each checked.
fn member_ids(body: &MembersBody) -> Result<Vec<SalesforceId>, ApiError> {
    if body.ids.len() > MAX_MEMBER_IDS {
        return Err(ApiError::invalid(format!(
            "ids: at most {MAX_MEMBER_IDS} per request, got {}",
            body.ids.len()
        )));
    }
    body.ids
        .iter()
        .enumerate()
        .map(|(index, text)| {
            SalesforceId::parse(text)
                .map_err(|err| ApiError::invalid(format!("ids[{index}]: {err}")))
        })
        .collect()
}

/// Adds Contacts and Leads; all must exist in this account, or none is added.
async fn add_members(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembersBody>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let ids = member_ids(&body)?;
    let change = state
        .store
        .add_campaign_members(auth.mid, id, &ids, state.clock.now())
        .await
        .map_err(|err| write_error(err, "Campaign", Some(id)))?;
    Ok(Json(membership(change, "added")))
}

/// Removes members; ids that are not members are ignored.
async fn remove_members(
    State(state): State<AppState>,
    auth: Authorized<CrmWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembersBody>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id)?;
    let ids = member_ids(&body)?;
    let change = state
        .store
        .remove_campaign_members(auth.mid, id, &ids)
        .await
        .map_err(|err| write_error(err, "Campaign", Some(id)))?;
    Ok(Json(membership(change, "removed")))
}

fn membership(change: MembershipChange, verb: &str) -> Value {
    json!({verb: change.changed, "memberCount": change.member_count})
}
