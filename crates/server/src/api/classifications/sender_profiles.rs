//! `/email/v1/senderProfiles`: who messages are from.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::mid::Mid;
use herald_store::{Kind, SenderProfile, SenderProfileFields};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fields::{self, HEADER_TEXT_MAX};
use super::wire::{self, Deleted, ListReply, MetaOut};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{ClassificationRead, ClassificationWrite};
use crate::state::AppState;

/// A sender profile as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderProfileOut {
    #[serde(flatten)]
    meta: MetaOut,
    from_name: String,
    from_address: String,
    reply_to_address: Option<String>,
    reply_to_display_name: Option<String>,
}

impl From<&SenderProfile> for SenderProfileOut {
    fn from(profile: &SenderProfile) -> Self {
        SenderProfileOut {
            meta: (&profile.meta).into(),
            from_name: profile.from_name.clone(),
            from_address: profile.from_address.to_string(),
            reply_to_address: profile.reply_to_address.as_ref().map(ToString::to_string),
            reply_to_display_name: profile.reply_to_display_name.clone(),
        }
    }
}

/// The body of a create or update.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SenderProfileIn {
    name: String,
    customer_key: Option<String>,
    description: Option<String>,
    /// Header-safe; may hold `%%Name%%` personalization strings.
    from_name: String,
    from_address: String,
    /// Absent, null or empty: replies go to the from address.
    reply_to_address: Option<String>,
    reply_to_display_name: Option<String>,
}

impl SenderProfileIn {
    fn parse(self) -> Result<SenderProfileFields, ApiError> {
        let from_name = fields::required_line("fromName", &self.from_name, HEADER_TEXT_MAX)?;
        Ok(SenderProfileFields {
            meta: fields::meta(
                &self.name,
                self.customer_key.as_deref(),
                self.description.as_deref(),
            )?,
            from_name: fields::template("fromName", &from_name, HEADER_TEXT_MAX)?,
            from_address: fields::email("fromAddress", &self.from_address)?,
            reply_to_address: fields::optional_email(
                "replyToAddress",
                self.reply_to_address.as_deref(),
            )?,
            reply_to_display_name: fields::optional_line(
                "replyToDisplayName",
                self.reply_to_display_name.as_deref(),
                HEADER_TEXT_MAX,
            )?,
        })
    }
}

/// The profile the path names (id or customer key) in account `mid`.
async fn find(state: &AppState, mid: Mid, id: &str) -> Result<SenderProfile, ApiError> {
    state
        .store
        .find_sender_profile(mid, id)
        .await?
        .ok_or_else(|| wire::not_found(Kind::SenderProfile, id))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    params: Params,
) -> Result<Json<ListReply<SenderProfileOut>>, ApiError> {
    let page = wire::page(&params)?;
    let listing = state.store.list_sender_profiles(auth.mid, page).await?;
    Ok(Json(wire::list_reply(page, &listing)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    Path(id): Path<String>,
) -> Result<Json<SenderProfileOut>, ApiError> {
    Ok(Json((&find(&state, auth.mid, &id).await?).into()))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<SenderProfileOut>), ApiError> {
    let fields = wire::body::<SenderProfileIn>(body)?.parse()?;
    let created = state
        .store
        .create_sender_profile(auth.mid, fields, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json((&created).into())))
}

pub async fn replace(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<SenderProfileOut>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let fields = wire::body::<SenderProfileIn>(body)?.parse()?;
    update(&state, &current, fields).await
}

pub async fn patch(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<SenderProfileOut>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let shown = wire::shown(&SenderProfileOut::from(&current))?;
    let fields = wire::patched::<SenderProfileIn>(shown, patch)?.parse()?;
    update(&state, &current, fields).await
}

async fn update(
    state: &AppState,
    current: &SenderProfile,
    fields: SenderProfileFields,
) -> Result<Json<SenderProfileOut>, ApiError> {
    let updated = state
        .store
        .update_sender_profile(
            current.meta.mid,
            current.meta.id,
            current.meta.version,
            fields,
            state.clock.now(),
        )
        .await?;
    Ok(Json((&updated).into()))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let deleted = state
        .store
        .delete_sender_profile(auth.mid, current.meta.id)
        .await?;
    Ok(Json((&deleted.meta).into()))
}
