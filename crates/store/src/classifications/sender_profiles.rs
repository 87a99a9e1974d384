//! Sender profiles: who a message is from, and where replies go.

use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Row};
use time::OffsetDateTime;

use super::{
    ClassificationError, Kind, Listing, MetaFields, ObjectMeta, check_deletable,
    classifications_using, count, duplicate_key, id_param, key_after_update, limit_offset, meta,
    meta_columns, new_object_id,
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
    /// Replaces every field of the profile with this id.
    async fn update_sender_profile(
        &self,
        mid: Mid,
        id: i64,
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

/// The profiles of account `$1`, narrowed and ordered by `rest`.
fn select(rest: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT {}, p.from_name, p.from_address, p.reply_to_address, p.reply_to_display_name
         FROM sender_profiles p WHERE p.mid = $1 {rest}",
        meta_columns("p")
    ))
}

fn by_id(mid: Mid, id: i64) -> sqlx::query::Query<'static, Any, AnyArguments> {
    sqlx::query(select("AND p.id = $2"))
        .bind(mid.get())
        .bind(id)
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

fn not_found(id: i64) -> ClassificationError {
    ClassificationError::NotFound {
        kind: KIND,
        reference: id.to_string(),
    }
}

#[async_trait::async_trait]
impl SenderProfileStore for SqlStore {
    async fn list_sender_profiles(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<SenderProfile>, StoreError> {
        let total = count(self, KIND, mid).await?;
        let (limit, offset) = limit_offset(page);
        let rows = sqlx::query(select("ORDER BY p.id LIMIT $2 OFFSET $3"))
            .bind(mid.get())
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        Ok(Listing {
            total,
            items: rows.iter().map(profile).collect::<Result<_, _>>()?,
        })
    }

    async fn get_sender_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<Option<SenderProfile>, StoreError> {
        let row = by_id(mid, id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(profile).transpose()?)
    }

    async fn find_sender_profile(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<SenderProfile>, StoreError> {
        let row = sqlx::query(select("AND (p.id = $2 OR p.customer_key = $3)"))
            .bind(mid.get())
            .bind(id_param(id_or_key))
            .bind(id_or_key.trim())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(profile).transpose()?)
    }

    async fn create_sender_profile(
        &self,
        mid: Mid,
        fields: SenderProfileFields,
        now: OffsetDateTime,
    ) -> Result<SenderProfile, ClassificationError> {
        let object_id = new_object_id();
        let key = fields
            .meta
            .customer_key
            .as_ref()
            .map_or(object_id.clone(), |key| key.as_str().to_owned());
        let mut tx = self.pool.begin_with(self.begin_write()).await?;
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
        let created = by_id(mid, id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(profile(&created)?)
    }

    async fn update_sender_profile(
        &self,
        mid: Mid,
        id: i64,
        fields: SenderProfileFields,
        now: OffsetDateTime,
    ) -> Result<SenderProfile, ClassificationError> {
        let mut tx = self.pool.begin_with(self.begin_write()).await?;
        let current = by_id(mid, id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found(id))?;
        let key = key_after_update(KIND, &meta(&current)?, fields.meta.customer_key.as_ref())?;
        sqlx::query(
            "UPDATE sender_profiles SET customer_key = $1, name = $2, description = $3,
                 from_name = $4, from_address = $5, reply_to_address = $6,
                 reply_to_display_name = $7, modified_at = $8
             WHERE mid = $9 AND id = $10",
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
        .execute(&mut *tx)
        .await
        .map_err(duplicate_key(KIND, &key))?;
        let updated = by_id(mid, id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(profile(&updated)?)
    }

    async fn delete_sender_profile(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<SenderProfile, ClassificationError> {
        let mut tx = self.pool.begin_with(self.begin_write()).await?;
        let current = by_id(mid, id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found(id))?;
        let current = profile(&current)?;
        check_deletable(KIND, &current.meta)?;
        let users = classifications_using(&mut tx, mid, "sender_profile_id", id).await?;
        if !users.is_empty() {
            return Err(ClassificationError::InUse {
                kind: KIND,
                name: current.meta.name,
                users,
            });
        }
        sqlx::query("DELETE FROM sender_profiles WHERE mid = $1 AND id = $2")
            .bind(mid.get())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(current)
    }
}
