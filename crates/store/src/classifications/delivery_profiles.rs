//! Delivery profiles: how a message leaves (relays, DKIM key, tracking) and what wraps its
//! content (header, footer, the sender's postal address).

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::relay::Relay;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::rows::Rows;
use super::{
    ClassificationError, Kind, Listing, MetaFields, ObjectMeta, check_deletable,
    classifications_using, duplicate_key, key_after_update, meta, meta_columns, new_keys,
    written_or_stale,
};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

const KIND: Kind = Kind::DeliveryProfile;

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

#[async_trait::async_trait]
pub trait DeliveryProfileStore {
    /// One page of the account's delivery profiles, oldest first.
    async fn list_delivery_profiles(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<DeliveryProfile>, StoreError>;
    /// The delivery profile with this id, if the account has it.
    async fn get_delivery_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<DeliveryProfile>, StoreError>;
    /// The delivery profile `id_or_key` names: a digit string is an id, anything else a
    /// customer key.
    async fn find_delivery_profile(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<DeliveryProfile>, StoreError>;
    async fn create_delivery_profile(
        &self,
        mid: Mid,
        fields: DeliveryProfileFields,
        now: OffsetDateTime,
    ) -> Result<DeliveryProfile, ClassificationError>;
    /// Replaces every field of the profile with this id, if it is still at `version`
    /// (else [`ClassificationError::Stale`], and nothing changes).
    async fn update_delivery_profile(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: DeliveryProfileFields,
        now: OffsetDateTime,
    ) -> Result<DeliveryProfile, ClassificationError>;
    /// Deletes the profile with this id and returns it; refused for a default profile and
    /// for one that a send classification uses.
    async fn delete_delivery_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<DeliveryProfile, ClassificationError>;
}

const ROWS: Rows<DeliveryProfile> = Rows {
    kind: KIND,
    select,
    decode: profile,
};

/// See [`Rows::select`].
fn select(rest: &str) -> String {
    format!(
        "SELECT {}, o.header_html, o.footer_html, o.footer_text, o.street, o.city, o.state,
                o.postal_code, o.country, o.relays, o.dkim_key_id, o.tracking_enabled,
                o.bounce_domain
         FROM delivery_profiles o WHERE o.mid = $1 {rest}",
        meta_columns("o")
    )
}

/// Relay URLs are stored one per line: a parsed URL never holds a line break.
fn relays_column(relays: &[Relay]) -> String {
    relays
        .iter()
        .map(Relay::expose)
        .collect::<Vec<_>>()
        .join("\n")
}

fn profile(row: &AnyRow) -> Result<DeliveryProfile, sqlx::Error> {
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

#[async_trait::async_trait]
impl DeliveryProfileStore for SqlStore {
    async fn list_delivery_profiles(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<DeliveryProfile>, StoreError> {
        ROWS.page(self, mid, page).await
    }

    async fn get_delivery_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<DeliveryProfile>, StoreError> {
        Ok(ROWS.by_id(&self.pool, mid, id).await?)
    }

    async fn find_delivery_profile(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<DeliveryProfile>, StoreError> {
        ROWS.find(self, mid, id_or_key).await
    }

    async fn create_delivery_profile(
        &self,
        mid: Mid,
        fields: DeliveryProfileFields,
        now: OffsetDateTime,
    ) -> Result<DeliveryProfile, ClassificationError> {
        let (object_id, key) = new_keys(&fields.meta);
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO delivery_profiles (mid, object_id, customer_key, name, description,
                 header_html, footer_html, footer_text, street, city, state, postal_code,
                 country, relays, dkim_key_id, tracking_enabled, bounce_domain, is_default,
                 created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 $18, 0, $17, $17)
             RETURNING id",
        )
        .bind(mid.get())
        .bind(&object_id)
        .bind(&key)
        .bind(&fields.meta.name)
        .bind(&fields.meta.description)
        .bind(&fields.header_html)
        .bind(&fields.footer_html)
        .bind(&fields.footer_text)
        .bind(&fields.address.street)
        .bind(&fields.address.city)
        .bind(&fields.address.state)
        .bind(&fields.address.postal_code)
        .bind(&fields.address.country)
        .bind(relays_column(&fields.relays))
        .bind(fields.dkim_key_id.as_deref())
        .bind(i64::from(fields.tracking_enabled))
        .bind(to_millis(now))
        .bind(fields.bounce_domain.as_deref())
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_key(KIND, &key))?
        .try_get(0)?;
        let created = ROWS.current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update_delivery_profile(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: DeliveryProfileFields,
        now: OffsetDateTime,
    ) -> Result<DeliveryProfile, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let current = ROWS.current(&mut tx, mid, id).await?;
        let key = key_after_update(KIND, &current.meta, fields.meta.customer_key.as_ref())?;
        let written = sqlx::query(
            "UPDATE delivery_profiles SET customer_key = $1, name = $2, description = $3,
                 header_html = $4, footer_html = $5, footer_text = $6, street = $7, city = $8,
                 state = $9, postal_code = $10, country = $11, relays = $12,
                 dkim_key_id = $13, tracking_enabled = $14, version = version + 1, modified_at = $15,
                 bounce_domain = $18
             WHERE mid = $16 AND id = $17 AND version = $19",
        )
        .bind(&key)
        .bind(&fields.meta.name)
        .bind(&fields.meta.description)
        .bind(&fields.header_html)
        .bind(&fields.footer_html)
        .bind(&fields.footer_text)
        .bind(&fields.address.street)
        .bind(&fields.address.city)
        .bind(&fields.address.state)
        .bind(&fields.address.postal_code)
        .bind(&fields.address.country)
        .bind(relays_column(&fields.relays))
        .bind(fields.dkim_key_id.as_deref())
        .bind(i64::from(fields.tracking_enabled))
        .bind(to_millis(now))
        .bind(mid.get())
        .bind(id)
        .bind(fields.bounce_domain.as_deref())
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_key(KIND, &key))?;
        written_or_stale(KIND, &written, &current.meta)?;
        let updated = ROWS.current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_delivery_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<DeliveryProfile, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let current = ROWS.current(&mut tx, mid, id).await?;
        check_deletable(KIND, &current.meta)?;
        let users = classifications_using(&mut tx, mid, "delivery_profile_id", id).await?;
        if !users.is_empty() {
            return Err(ClassificationError::InUse {
                kind: KIND,
                name: current.meta.name,
                users,
            });
        }
        ROWS.delete(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(current)
    }
}
