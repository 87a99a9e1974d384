//! Sender profiles: who a message is from, and where replies go.

use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
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

const KIND: Kind = Kind::SenderProfile;

/// A stored sender profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderProfile {
    pub meta: ObjectMeta,
    /// Header-safe text; may hold `%%Name%%` personalization strings.
    pub from_name: String,
    pub from_address: EmailAddress,
    /// `None`: replies go to the from address.
    pub reply_to_address: Option<EmailAddress>,
    /// Header-safe text.
    pub reply_to_display_name: Option<String>,
}

/// A sender profile as a create or update gives it. The caller has checked the texts
/// (header safety, personalization syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderProfileFields {
    pub meta: MetaFields,
    pub from_name: String,
    pub from_address: EmailAddress,
    pub reply_to_address: Option<EmailAddress>,
    pub reply_to_display_name: Option<String>,
}

#[async_trait::async_trait]
pub trait SenderProfileStore {
    /// One page of the account's sender profiles, oldest first.
    async fn list_sender_profiles(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<SenderProfile>, StoreError>;
    /// The sender profile with this id, if the account has it.
    async fn get_sender_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SenderProfile>, StoreError>;
    /// The sender profile `id_or_key` names: a digit string is an id, anything else a
    /// customer key.
    async fn find_sender_profile(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<SenderProfile>, StoreError>;
    async fn create_sender_profile(
        &self,
        mid: Mid,
        fields: SenderProfileFields,
        now: OffsetDateTime,
    ) -> Result<SenderProfile, ClassificationError>;
    /// Replaces every field of the profile with this id, if it is still at `version`
    /// (else [`ClassificationError::Stale`], and nothing changes).
    async fn update_sender_profile(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: SenderProfileFields,
        now: OffsetDateTime,
    ) -> Result<SenderProfile, ClassificationError>;
    /// Deletes the profile with this id and returns it; refused for a default profile and
    /// for one that a send classification uses.
    async fn delete_sender_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<SenderProfile, ClassificationError>;
}

const ROWS: Rows<SenderProfile> = Rows {
    kind: KIND,
    select,
    decode: profile,
};

/// See [`Rows::select`].
fn select(rest: &str) -> String {
    format!(
        "SELECT {}, o.from_name, o.from_address, o.reply_to_address, o.reply_to_display_name
         FROM sender_profiles o WHERE o.mid = $1 {rest}",
        meta_columns("o")
    )
}

fn address(text: String) -> Result<EmailAddress, sqlx::Error> {
    EmailAddress::parse(&text).map_err(|err| sqlx::Error::Decode(err.into()))
}

fn profile(row: &AnyRow) -> Result<SenderProfile, sqlx::Error> {
    Ok(SenderProfile {
        meta: meta(row)?,
        from_name: row.try_get("from_name")?,
        from_address: address(row.try_get("from_address")?)?,
        reply_to_address: row
            .try_get::<Option<String>, _>("reply_to_address")?
            .map(address)
            .transpose()?,
        reply_to_display_name: row.try_get("reply_to_display_name")?,
    })
}

#[async_trait::async_trait]
impl SenderProfileStore for SqlStore {
    async fn list_sender_profiles(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<SenderProfile>, StoreError> {
        ROWS.page(self, mid, page).await
    }

    async fn get_sender_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SenderProfile>, StoreError> {
        Ok(ROWS.by_id(&self.pool, mid, id).await?)
    }

    async fn find_sender_profile(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<SenderProfile>, StoreError> {
        ROWS.find(self, mid, id_or_key).await
    }

    async fn create_sender_profile(
        &self,
        mid: Mid,
        fields: SenderProfileFields,
        now: OffsetDateTime,
    ) -> Result<SenderProfile, ClassificationError> {
        let (object_id, key) = new_keys(&fields.meta);
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO sender_profiles (mid, object_id, customer_key, name, description,
                 from_name, from_address, reply_to_address, reply_to_display_name, is_default,
                 created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10) RETURNING id",
        )
        .bind(mid.get())
        .bind(&object_id)
        .bind(&key)
        .bind(&fields.meta.name)
        .bind(&fields.meta.description)
        .bind(&fields.from_name)
        .bind(fields.from_address.as_str())
        .bind(fields.reply_to_address.as_ref().map(EmailAddress::as_str))
        .bind(fields.reply_to_display_name.as_deref())
        .bind(to_millis(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_key(KIND, &key))?
        .try_get(0)?;
        let created = ROWS.current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update_sender_profile(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: SenderProfileFields,
        now: OffsetDateTime,
    ) -> Result<SenderProfile, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let current = ROWS.current(&mut tx, mid, id).await?;
        let key = key_after_update(KIND, &current.meta, fields.meta.customer_key.as_ref())?;
        let written = sqlx::query(
            "UPDATE sender_profiles SET customer_key = $1, name = $2, description = $3,
                 from_name = $4, from_address = $5, reply_to_address = $6,
                 reply_to_display_name = $7, version = version + 1, modified_at = $8
             WHERE mid = $9 AND id = $10 AND version = $11",
        )
        .bind(&key)
        .bind(&fields.meta.name)
        .bind(&fields.meta.description)
        .bind(&fields.from_name)
        .bind(fields.from_address.as_str())
        .bind(fields.reply_to_address.as_ref().map(EmailAddress::as_str))
        .bind(fields.reply_to_display_name.as_deref())
        .bind(to_millis(now))
        .bind(mid.get())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_key(KIND, &key))?;
        written_or_stale(KIND, &written, &current.meta)?;
        let updated = ROWS.current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_sender_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<SenderProfile, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let current = ROWS.current(&mut tx, mid, id).await?;
        check_deletable(KIND, &current.meta)?;
        let users = classifications_using(&mut tx, mid, "sender_profile_id", id).await?;
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
