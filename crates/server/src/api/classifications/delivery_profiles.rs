//! `/email/v1/deliveryProfiles`: how messages leave (relays, DKIM key, tracking) and what
//! wraps their content (header, footer, postal address).

use herald_domain::email_address::EmailAddress;
use herald_domain::relay::Relay;
use herald_store::{DeliveryProfile, DeliveryProfileFields, PostalAddress};
use serde::{Deserialize, Serialize};

use super::fields;
use super::resource::Resource;
use super::wire::MetaOut;
use crate::api::error::ApiError;

/// The longest header or footer, in characters.
const CONTENT_MAX: usize = 100_000;
/// The longest part of a postal address, in characters.
const ADDRESS_PART_MAX: usize = 200;
/// The most relays one profile lists.
const RELAYS_MAX: usize = 16;
/// The longest DKIM key id, in characters.
const DKIM_KEY_ID_MAX: usize = 128;

/// A delivery profile as the API shows it; relay passwords are masked.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryProfileOut {
    #[serde(flatten)]
    meta: MetaOut,
    header_html: String,
    footer_html: String,
    footer_text: String,
    address: AddressOut,
    relays: Vec<String>,
    dkim_key_id: Option<String>,
    tracking_enabled: bool,
    bounce_domain: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressOut {
    street: String,
    city: String,
    state: String,
    postal_code: String,
    country: String,
}

impl From<&DeliveryProfile> for DeliveryProfileOut {
    fn from(profile: &DeliveryProfile) -> Self {
        let address = &profile.address;
        DeliveryProfileOut {
            meta: (&profile.meta).into(),
            header_html: profile.header_html.clone(),
            footer_html: profile.footer_html.clone(),
            footer_text: profile.footer_text.clone(),
            address: AddressOut {
                street: address.street.clone(),
                city: address.city.clone(),
                state: address.state.clone(),
                postal_code: address.postal_code.clone(),
                country: address.country.clone(),
            },
            relays: profile.relays.iter().map(Relay::masked).collect(),
            dkim_key_id: profile.dkim_key_id.clone(),
            tracking_enabled: profile.tracking_enabled,
            bounce_domain: profile.bounce_domain.clone(),
        }
    }
}

/// The body of a create or update.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryProfileIn {
    name: String,
    customer_key: Option<String>,
    description: Option<String>,
    header_html: Option<String>,
    footer_html: Option<String>,
    footer_text: Option<String>,
    address: Option<AddressIn>,
    /// `smtp://` or `smtps://` URLs; absent or empty: the server's relay.
    relays: Option<Vec<String>>,
    dkim_key_id: Option<String>,
    /// Absent: true.
    tracking_enabled: Option<bool>,
    /// The domain of the VERP envelope senders; absent or empty: the server's setting.
    bounce_domain: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddressIn {
    street: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

impl Resource for DeliveryProfile {
    type Out = DeliveryProfileOut;
    type In = DeliveryProfileIn;

    /// A masked relay URL keeps the password of the current profile's same relay.
    fn parse(
        body: DeliveryProfileIn,
        current: Option<&Self>,
    ) -> Result<DeliveryProfileFields, ApiError> {
        let known = current.map_or(&[][..], |current| &current.relays);
        let content = |field: &str, text: Option<String>| {
            fields::template(field, text.as_deref().unwrap_or_default(), CONTENT_MAX)
        };
        Ok(DeliveryProfileFields {
            meta: fields::meta(
                &body.name,
                body.customer_key.as_deref(),
                body.description.as_deref(),
            )?,
            header_html: content("headerHtml", body.header_html)?,
            footer_html: content("footerHtml", body.footer_html)?,
            footer_text: content("footerText", body.footer_text)?,
            address: address(body.address.unwrap_or_default())?,
            relays: relays(body.relays.unwrap_or_default(), known)?,
            dkim_key_id: dkim_key_id(body.dkim_key_id.as_deref())?,
            tracking_enabled: body.tracking_enabled.unwrap_or(true),
            bounce_domain: bounce_domain(body.bounce_domain.as_deref())?,
        })
    }
}

/// A mail domain (lower-cased), or `None` for absent or empty.
fn bounce_domain(text: Option<&str>) -> Result<Option<String>, ApiError> {
    let text = text.unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    EmailAddress::parse(&format!("bounces@{text}"))
        .map(|address| Some(address.domain().to_owned()))
        .map_err(|err| ApiError::invalid(format!("bounceDomain: {err}")))
}

fn address(given: AddressIn) -> Result<PostalAddress, ApiError> {
    let part = |field: &str, text: Option<String>| {
        fields::line(field, text.as_deref().unwrap_or_default(), ADDRESS_PART_MAX)
    };
    Ok(PostalAddress {
        street: part("address.street", given.street)?,
        city: part("address.city", given.city)?,
        state: part("address.state", given.state)?,
        postal_code: part("address.postalCode", given.postal_code)?,
        country: part("address.country", given.country)?,
    })
}

fn relays(texts: Vec<String>, known: &[Relay]) -> Result<Vec<Relay>, ApiError> {
    if texts.len() > RELAYS_MAX {
        return Err(ApiError::invalid(format!(
            "relays: at most {RELAYS_MAX} relay URLs, got {}",
            texts.len()
        )));
    }
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let parsed = Relay::parse(text)
                .map_err(|err| ApiError::invalid(format!("relays[{index}]: {err}")))?;
            parsed.unmask(known).ok_or_else(|| {
                ApiError::invalid(format!(
                    "relays[{index}]: the password **** is the mask Herald shows for a stored \
                     password; give the real password (no relay with this scheme, user, host \
                     and port is stored)"
                ))
            })
        })
        .collect()
}

fn dkim_key_id(text: Option<&str>) -> Result<Option<String>, ApiError> {
    let text = text.unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    let fits = text.len() <= DKIM_KEY_ID_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !fits {
        return Err(ApiError::invalid(format!(
            "dkimKeyId: 1 to {DKIM_KEY_ID_MAX} ASCII letters, digits, '.', '_' or '-'"
        )));
    }
    Ok(Some(text.to_owned()))
}
