//! `/email/v1/sendClassifications`: commercial (Marketing) or transactional (Operational),
//! with a sender profile and a delivery profile.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::classification::SendClassificationType;
use herald_domain::mid::Mid;
use herald_store::{Kind, ProfileSummary, SendClassification, SendClassificationFields};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fields;
use super::wire::{self, Deleted, ListReply, MetaOut};
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::query::Params;
use crate::auth::Authorized;
use crate::auth::requirements::{ClassificationRead, ClassificationWrite};
use crate::state::AppState;

/// A send classification as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendClassificationOut {
    #[serde(flatten)]
    meta: MetaOut,
    /// `Marketing` or `Operational`.
    send_classification_type: &'static str,
    sender_profile: ProfileRef,
    delivery_profile: ProfileRef,
    honor_publication_list_opt_outs_for_transactional_sends: bool,
}

/// How a classification shows one of its profiles.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileRef {
    id: String,
    customer_key: String,
    name: String,
}

impl From<&ProfileSummary> for ProfileRef {
    fn from(profile: &ProfileSummary) -> Self {
        ProfileRef {
            id: profile.id.to_string(),
            customer_key: profile.customer_key.clone(),
            name: profile.name.clone(),
        }
    }
}

impl From<&SendClassification> for SendClassificationOut {
    fn from(classification: &SendClassification) -> Self {
        SendClassificationOut {
            meta: (&classification.meta).into(),
            send_classification_type: classification.classification_type.name(),
            sender_profile: (&classification.sender_profile).into(),
            delivery_profile: (&classification.delivery_profile).into(),
            honor_publication_list_opt_outs_for_transactional_sends: classification
                .honor_list_opt_outs,
        }
    }
}

/// The body of a create or update.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendClassificationIn {
    name: String,
    customer_key: Option<String>,
    description: Option<String>,
    send_classification_type: String,
    /// An id or customer key: see [`reference`].
    sender_profile: Value,
    delivery_profile: Value,
    /// Absent: false.
    honor_publication_list_opt_outs_for_transactional_sends: Option<bool>,
}

impl SendClassificationIn {
    fn parse(self) -> Result<SendClassificationFields, ApiError> {
        Ok(SendClassificationFields {
            meta: fields::meta(
                &self.name,
                self.customer_key.as_deref(),
                self.description.as_deref(),
            )?,
            classification_type: SendClassificationType::parse(&self.send_classification_type)
                .map_err(|err| ApiError::invalid(err.to_string()))?,
            sender_profile: reference("senderProfile", &self.sender_profile)?,
            delivery_profile: reference("deliveryProfile", &self.delivery_profile)?,
            honor_list_opt_outs: self
                .honor_publication_list_opt_outs_for_transactional_sends
                .unwrap_or(false),
        })
    }
}

/// A profile named in a body: its id (`"123"` or `123`), its customer key (`"Default"`),
/// or an object with either (`{"id": "123"}`, `{"customerKey": "Default"}`, as a GET shows
/// it; the id wins when both are there).
fn reference(field: &str, value: &Value) -> Result<String, ApiError> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Value::Number(number) if number.is_u64() => Ok(number.to_string()),
        Value::Object(object) => match (object.get("id"), object.get("customerKey")) {
            (Some(id @ (Value::String(_) | Value::Number(_))), _) => reference(field, id),
            (None | Some(Value::Null), Some(key @ Value::String(_))) => reference(field, key),
            _ => Err(bad_reference(field)),
        },
        _ => Err(bad_reference(field)),
    }
}

fn bad_reference(field: &str) -> ApiError {
    ApiError::invalid(format!(
        "{field}: name the profile by id or customerKey, as \"123\", \"Default\", \
         {{\"id\": \"123\"}} or {{\"customerKey\": \"Default\"}}"
    ))
}

/// The classification the path names (id or customer key) in account `mid`.
async fn find(state: &AppState, mid: Mid, id: &str) -> Result<SendClassification, ApiError> {
    state
        .store
        .find_send_classification(mid, id)
        .await?
        .ok_or_else(|| wire::not_found(Kind::SendClassification, id))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    params: Params,
) -> Result<Json<ListReply<SendClassificationOut>>, ApiError> {
    let page = wire::page(&params)?;
    let listing = state
        .store
        .list_send_classifications(auth.mid, page)
        .await?;
    Ok(Json(wire::list_reply(page, &listing)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    Path(id): Path<String>,
) -> Result<Json<SendClassificationOut>, ApiError> {
    Ok(Json((&find(&state, auth.mid, &id).await?).into()))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<SendClassificationOut>), ApiError> {
    let fields = wire::body::<SendClassificationIn>(body)?.parse()?;
    let created = state
        .store
        .create_send_classification(auth.mid, fields, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json((&created).into())))
}

pub async fn replace(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<SendClassificationOut>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let fields = wire::body::<SendClassificationIn>(body)?.parse()?;
    update(&state, &current, fields).await
}

pub async fn patch(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<SendClassificationOut>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let mut shown = wire::shown(&SendClassificationOut::from(&current))?;
    // Profiles as plain ids, so that a patch naming one by customer key replaces the
    // reference instead of merging into it (where the current id would win).
    if let Some(object) = shown.as_object_mut() {
        object.insert(
            "senderProfile".into(),
            current.sender_profile.id.to_string().into(),
        );
        object.insert(
            "deliveryProfile".into(),
            current.delivery_profile.id.to_string().into(),
        );
    }
    let fields = wire::patched::<SendClassificationIn>(shown, patch)?.parse()?;
    update(&state, &current, fields).await
}

async fn update(
    state: &AppState,
    current: &SendClassification,
    fields: SendClassificationFields,
) -> Result<Json<SendClassificationOut>, ApiError> {
    let updated = state
        .store
        .update_send_classification(
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
        .delete_send_classification(auth.mid, current.meta.id)
        .await?;
    Ok(Json((&deleted.meta).into()))
}
