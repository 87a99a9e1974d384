//! `/email/v1/senderProfiles`: who messages are from.

use herald_store::{SenderProfile, SenderProfileFields};
use serde::{Deserialize, Serialize};

use super::fields::{self, HEADER_TEXT_MAX};
use super::resource::Resource;
use super::wire::MetaOut;
use crate::api::error::ApiError;

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
pub struct SenderProfileIn {
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

impl Resource for SenderProfile {
    type Out = SenderProfileOut;
    type In = SenderProfileIn;

    fn parse(body: SenderProfileIn, _: Option<&Self>) -> Result<SenderProfileFields, ApiError> {
        let from_name = fields::required_line("fromName", &body.from_name, HEADER_TEXT_MAX)?;
        Ok(SenderProfileFields {
            meta: fields::meta(
                &body.name,
                body.customer_key.as_deref(),
                body.description.as_deref(),
            )?,
            from_name: fields::template("fromName", &from_name, HEADER_TEXT_MAX)?,
            from_address: fields::email("fromAddress", &body.from_address)?,
            reply_to_address: fields::optional_email(
                "replyToAddress",
                body.reply_to_address.as_deref(),
            )?,
            reply_to_display_name: fields::optional_line(
                "replyToDisplayName",
                body.reply_to_display_name.as_deref(),
                HEADER_TEXT_MAX,
            )?,
        })
    }
}
