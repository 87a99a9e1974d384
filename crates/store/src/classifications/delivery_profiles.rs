//! Delivery profiles: how a message leaves (relays, DKIM key, tracking) and what wraps its
//! content (header, footer, the sender's postal address).

use herald_domain::mid::Mid;
use herald_domain::relay::Relay;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::columns::Columns;
use super::{
    Classification, ClassificationError, ClassificationStore, Kind, MetaFields, ObjectMeta,
    classifications_using, meta,
};
use crate::Store;
use crate::sql::Bind;

/// The sender's physical mailing address, shown in footers (`%%Member_Addr%%`,
/// `%%Member_City%%`, …). Empty parts are empty strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostalAddress {
    pub street: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
}

/// A stored delivery profile. Relay URLs hold their passwords: mask them before they
/// leave Herald ([`Relay::masked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryProfile {
    pub meta: ObjectMeta,
    /// HTML put before each HTML body; may hold personalization strings.
    pub header_html: String,
    /// HTML put after each HTML body; may hold personalization strings.
    pub footer_html: String,
    /// Text put after each text body; may hold personalization strings.
    pub footer_text: String,
    pub address: PostalAddress,
    /// The relays to deliver through; empty means the server's relay (`HERALD_SMTP_RELAY`).
    pub relays: Vec<Relay>,
    /// The DKIM key that signs messages; `None` means unsigned.
    pub dkim_key_id: Option<String>,
    /// Whether opens and clicks are tracked.
    pub tracking_enabled: bool,
    /// The domain of the VERP envelope senders; `None`: the server's, else the From domain.
    pub bounce_domain: Option<String>,
}

/// A delivery profile as a create or update gives it, texts already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryProfileFields {
    pub meta: MetaFields,
    pub header_html: String,
    pub footer_html: String,
    pub footer_text: String,
    pub address: PostalAddress,
    pub relays: Vec<Relay>,
    pub dkim_key_id: Option<String>,
    pub tracking_enabled: bool,
    pub bounce_domain: Option<String>,
}

impl Classification for DeliveryProfile {
    type Fields = DeliveryProfileFields;
    const KIND: Kind = Kind::DeliveryProfile;

    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn of(store: &dyn Store) -> &dyn ClassificationStore<Self> {
        store
    }
}

impl Columns for DeliveryProfile {
    const SELECT: &'static str = ", o.header_html, o.footer_html, o.footer_text, o.street, o.city,
         o.state, o.postal_code, o.country, o.relays, o.dkim_key_id, o.tracking_enabled,
         o.bounce_domain";
    const JOINS: &'static str = "";

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let relays: String = row.try_get("relays")?;
        Ok(DeliveryProfile {
            meta: meta(row)?,
            header_html: row.try_get("header_html")?,
            footer_html: row.try_get("footer_html")?,
            footer_text: row.try_get("footer_text")?,
            address: PostalAddress {
                street: row.try_get("street")?,
                city: row.try_get("city")?,
                state: row.try_get("state")?,
                postal_code: row.try_get("postal_code")?,
                country: row.try_get("country")?,
            },
            relays: relays
                .lines()
                .map(|line| Relay::parse(line).map_err(|err| sqlx::Error::Decode(err.into())))
                .collect::<Result<_, _>>()?,
            dkim_key_id: row.try_get("dkim_key_id")?,
            tracking_enabled: row.try_get::<i64, _>("tracking_enabled")? != 0,
            bounce_domain: row.try_get("bounce_domain")?,
        })
    }

    fn meta_fields(fields: &DeliveryProfileFields) -> &MetaFields {
        &fields.meta
    }

    async fn written(
        _: &mut AnyConnection,
        _: Mid,
        fields: &DeliveryProfileFields,
        _: Option<&Self>,
    ) -> Result<Vec<(&'static str, Bind)>, ClassificationError> {
        let address = &fields.address;
        Ok(vec![
            ("header_html", fields.header_html.as_str().into()),
            ("footer_html", fields.footer_html.as_str().into()),
            ("footer_text", fields.footer_text.as_str().into()),
            ("street", address.street.as_str().into()),
            ("city", address.city.as_str().into()),
            ("state", address.state.as_str().into()),
            ("postal_code", address.postal_code.as_str().into()),
            ("country", address.country.as_str().into()),
            ("relays", relays_column(&fields.relays).into()),
            ("dkim_key_id", fields.dkim_key_id.clone().into()),
            (
                "tracking_enabled",
                i64::from(fields.tracking_enabled).into(),
            ),
            ("bounce_domain", fields.bounce_domain.clone().into()),
        ])
    }

    async fn users(
        conn: &mut AnyConnection,
        mid: Mid,
        id: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        classifications_using(conn, mid, "delivery_profile_id", id).await
    }
}

/// Relay URLs are stored one per line: a parsed URL never holds a line break.
fn relays_column(relays: &[Relay]) -> String {
    relays
        .iter()
        .map(Relay::expose)
        .collect::<Vec<_>>()
        .join("\n")
}
