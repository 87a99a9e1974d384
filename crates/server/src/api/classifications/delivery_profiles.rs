//! `/email/v1/deliveryProfiles`: how messages leave (relays, DKIM key, tracking) and what
//! wraps their content (header, footer, postal address).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::relay::Relay;
use herald_store::{DeliveryProfile, DeliveryProfileFields, Kind, PostalAddress};
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
struct DeliveryProfileIn {
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

impl DeliveryProfileIn {
    /// Checks the body; `known` are the profile's current relays, whose passwords a
    /// masked URL keeps.
    fn parse(self, known: &[Relay]) -> Result<DeliveryProfileFields, ApiError> {
        let content = |field: &str, text: Option<String>| {
            fields::template(field, text.as_deref().unwrap_or_default(), CONTENT_MAX)
        };
        Ok(DeliveryProfileFields {
            meta: fields::meta(
                &self.name,
                self.customer_key.as_deref(),
                self.description.as_deref(),
            )?,
            header_html: content("headerHtml", self.header_html)?,
            footer_html: content("footerHtml", self.footer_html)?,
            footer_text: content("footerText", self.footer_text)?,
            address: address(self.address.unwrap_or_default())?,
            relays: relays(self.relays.unwrap_or_default(), known)?,
            dkim_key_id: dkim_key_id(self.dkim_key_id.as_deref())?,
            tracking_enabled: self.tracking_enabled.unwrap_or(true),
            bounce_domain: bounce_domain(self.bounce_domain.as_deref())?,
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

/// The profile the path names (id or customer key) in account `mid`.
async fn find(state: &AppState, mid: Mid, id: &str) -> Result<DeliveryProfile, ApiError> {
    state
        .store
        .find_delivery_profile(mid, id)
        .await?
        .ok_or_else(|| wire::not_found(Kind::DeliveryProfile, id))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    params: Params,
) -> Result<Json<ListReply<DeliveryProfileOut>>, ApiError> {
    let page = wire::page(&params)?;
    let listing = state.store.list_delivery_profiles(auth.mid, page).await?;
    Ok(Json(wire::list_reply(page, &listing)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Authorized<ClassificationRead>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryProfileOut>, ApiError> {
    Ok(Json((&find(&state, auth.mid, &id).await?).into()))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<DeliveryProfileOut>), ApiError> {
    let fields = wire::body::<DeliveryProfileIn>(body)?.parse(&[])?;
    let created = state
        .store
        .create_delivery_profile(auth.mid, fields, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json((&created).into())))
}

pub async fn replace(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<DeliveryProfileOut>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let fields = wire::body::<DeliveryProfileIn>(body)?.parse(&current.relays)?;
    update(&state, &current, fields).await
}

pub async fn patch(
    State(state): State<AppState>,
    auth: Authorized<ClassificationWrite>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<DeliveryProfileOut>, ApiError> {
    let current = find(&state, auth.mid, &id).await?;
    let shown = wire::shown(&DeliveryProfileOut::from(&current))?;
    let fields = wire::patched::<DeliveryProfileIn>(shown, patch)?.parse(&current.relays)?;
    update(&state, &current, fields).await
}

async fn update(
    state: &AppState,
    current: &DeliveryProfile,
    fields: DeliveryProfileFields,
) -> Result<Json<DeliveryProfileOut>, ApiError> {
    let updated = state
        .store
        .update_delivery_profile(
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
        .delete_delivery_profile(auth.mid, current.meta.id)
        .await?;
    Ok(Json((&deleted.meta).into()))
}
