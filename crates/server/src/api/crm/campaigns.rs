//! `/crm/v1/campaigns`: campaigns (the routes every target has, see `kinds.rs`) and their
//! member lists.

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{MethodRouter, get};
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{Campaign, Campaigns, MembershipChange};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::kinds::{self, TargetRoute};
use super::wire::{date, path_id};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::auth::Authorized;
use crate::auth::requirements::CrmWrite;
use crate::service::crm::{self as service, CampaignInput};
use crate::state::AppState;

/// The most member ids one request may carry.
const MAX_MEMBER_IDS: usize = 10_000;

/// Present-but-null stays distinguishable from absent: `Some(None)` clears.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignBody {
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

impl TargetRoute for Campaigns {
    const BASE: &'static str = "/crm/v1/campaigns";
    type Body = CampaignBody;

    fn input(body: CampaignBody) -> CampaignInput {
        CampaignInput {
            name: body.name,
            description: body.description,
        }
    }

    fn wire(campaign: Campaign) -> Value {
        json!({
            "id": campaign.id,
            "name": campaign.name,
            "description": campaign.description,
            "createdDate": date(campaign.created_at),
            "modifiedDate": date(campaign.modified_at),
        })
    }

    fn members_route() -> MethodRouter<AppState> {
        get(kinds::members::<Campaigns>)
            .post(add_members)
            .delete(remove_members)
    }
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
    let change = service::add_members(&state, auth.mid, id, &member_ids(&body)?).await?;
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
    let change = service::remove_members(&state, auth.mid, id, &member_ids(&body)?).await?;
    Ok(Json(membership(change, "removed")))
}

fn membership(change: MembershipChange, verb: &str) -> Value {
    json!({verb: change.changed, "memberCount": change.member_count})
}
