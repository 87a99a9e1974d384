//! `/email/v1/sendClassifications`: commercial (Marketing) or transactional (Operational),
//! with a sender profile and a delivery profile.

use herald_domain::classification::SendClassificationType;
use herald_store::{ProfileSummary, SendClassification, SendClassificationFields};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields;
use super::resource::Resource;
use super::wire::{self, MetaOut};
use crate::api::error::ApiError;

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
pub struct SendClassificationIn {
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

impl Resource for SendClassification {
    type Out = SendClassificationOut;
    type In = SendClassificationIn;

    fn parse(
        body: SendClassificationIn,
        _: Option<&Self>,
    ) -> Result<SendClassificationFields, ApiError> {
        Ok(SendClassificationFields {
            meta: fields::meta(
                &body.name,
                body.customer_key.as_deref(),
                body.description.as_deref(),
            )?,
            classification_type: SendClassificationType::parse(&body.send_classification_type)
                .map_err(|err| ApiError::invalid(err.to_string()))?,
            sender_profile: reference("senderProfile", &body.sender_profile)?,
            delivery_profile: reference("deliveryProfile", &body.delivery_profile)?,
            honor_list_opt_outs: body
                .honor_publication_list_opt_outs_for_transactional_sends
                .unwrap_or(false),
        })
    }

    /// With the profiles as plain ids, so that a patch naming one by customer key replaces
    /// the reference instead of merging into it (where the current id would win).
    fn shown(&self) -> Result<Value, ApiError> {
        let mut shown = wire::shown(&SendClassificationOut::from(self))?;
        if let Some(object) = shown.as_object_mut() {
            object.insert(
                "senderProfile".into(),
                self.sender_profile.id.to_string().into(),
            );
            object.insert(
                "deliveryProfile".into(),
                self.delivery_profile.id.to_string().into(),
            );
        }
        Ok(shown)
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
