//! Send classifications: a commercial or transactional type with a sender profile and a
//! delivery profile. The Send API names one per definition (`SendClassificationId`).

use herald_domain::classification::SendClassificationType;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::rows::{Rows, id_param};
use super::{
    ClassificationError, Kind, Listing, MetaFields, ObjectMeta, check_deletable, duplicate_key,
    key_after_update, meta, meta_columns, new_keys, written_or_stale,
};
use crate::send::{SendReference, sends_using};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

const KIND: Kind = Kind::SendClassification;

/// How a classification names one of its profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSummary {
    pub id: i64,
    pub customer_key: String,
    pub name: String,
}

/// A stored send classification. Its profiles are read in full with
/// `get_sender_profile`/`get_delivery_profile` and the ids here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendClassification {
    pub meta: ObjectMeta,
    pub classification_type: SendClassificationType,
    pub sender_profile: ProfileSummary,
    pub delivery_profile: ProfileSummary,
    /// `HonorPublicationListOptOutsForTransactionalSends`.
    pub honor_list_opt_outs: bool,
}

/// A send classification as a create or update gives it. The profiles are named by id or
/// customer key (a digit string is an id) and must belong to the same account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendClassificationFields {
    pub meta: MetaFields,
    pub classification_type: SendClassificationType,
    pub sender_profile: String,
    pub delivery_profile: String,
    pub honor_list_opt_outs: bool,
}

#[async_trait::async_trait]
pub trait SendClassificationStore {
    /// One page of the account's send classifications, oldest first.
    async fn list_send_classifications(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<SendClassification>, StoreError>;
    /// The send classification `id_or_key` names: a digit string is an id (as the Send
    /// API's `SendClassificationId` gives it), anything else a customer key.
    async fn find_send_classification(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<SendClassification>, StoreError>;
    async fn create_send_classification(
        &self,
        mid: Mid,
        fields: SendClassificationFields,
        now: OffsetDateTime,
    ) -> Result<SendClassification, ClassificationError>;
    /// Replaces every field of the classification with this id, if it is still at
    /// `version` (else [`ClassificationError::Stale`], and nothing changes). A default classification
    /// keeps its customer key and type.
    async fn update_send_classification(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: SendClassificationFields,
        now: OffsetDateTime,
    ) -> Result<SendClassification, ClassificationError>;
    /// Deletes the classification with this id and returns it; refused for a default and
    /// while a send definition or a live send instance uses it.
    async fn delete_send_classification(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<SendClassification, ClassificationError>;
}

const ROWS: Rows<SendClassification> = Rows {
    kind: KIND,
    select,
    decode: classification,
};

/// See [`Rows::select`]; with the profiles' keys and names.
fn select(rest: &str) -> String {
    format!(
        "SELECT {}, o.classification_type, o.honor_list_opt_outs,
                s.id AS sender_id, s.customer_key AS sender_key, s.name AS sender_name,
                d.id AS delivery_id, d.customer_key AS delivery_key, d.name AS delivery_name
         FROM send_classifications o
         JOIN sender_profiles s ON s.id = o.sender_profile_id
         JOIN delivery_profiles d ON d.id = o.delivery_profile_id
         WHERE o.mid = $1 {rest}",
        meta_columns("o")
    )
}

fn classification(row: &AnyRow) -> Result<SendClassification, sqlx::Error> {
    let kind: String = row.try_get("classification_type")?;
    Ok(SendClassification {
        meta: meta(row)?,
        classification_type: SendClassificationType::parse(&kind)
            .map_err(|err| sqlx::Error::Decode(err.into()))?,
        sender_profile: ProfileSummary {
            id: row.try_get("sender_id")?,
            customer_key: row.try_get("sender_key")?,
            name: row.try_get("sender_name")?,
        },
        delivery_profile: ProfileSummary {
            id: row.try_get("delivery_id")?,
            customer_key: row.try_get("delivery_key")?,
            name: row.try_get("delivery_name")?,
        },
        honor_list_opt_outs: row.try_get::<i64, _>("honor_list_opt_outs")? != 0,
    })
}

/// The id of the profile of `kind` that `reference` (an id or a customer key) names in
/// account `mid`.
async fn profile_id(
    conn: &mut AnyConnection,
    mid: Mid,
    kind: Kind,
    reference: &str,
) -> Result<i64, ClassificationError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {} WHERE mid = $1 AND (id = $2 OR customer_key = $3)",
        kind.table()
    )))
    .bind(mid.get())
    .bind(id_param(reference))
    .bind(reference.trim())
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| ClassificationError::UnknownReference {
        kind,
        reference: reference.to_owned(),
    })?;
    Ok(row.try_get("id")?)
}

#[async_trait::async_trait]
impl SendClassificationStore for SqlStore {
    async fn list_send_classifications(
        &self,
        mid: Mid,
        page: PageRequest,
    ) -> Result<Listing<SendClassification>, StoreError> {
        ROWS.page(self, mid, page).await
    }

    async fn find_send_classification(
        &self,
        mid: Mid,
        id_or_key: &str,
    ) -> Result<Option<SendClassification>, StoreError> {
        ROWS.find(self, mid, id_or_key).await
    }

    async fn create_send_classification(
        &self,
        mid: Mid,
        fields: SendClassificationFields,
        now: OffsetDateTime,
    ) -> Result<SendClassification, ClassificationError> {
        let (object_id, key) = new_keys(&fields.meta);
        let mut tx = self.write_tx().await?;
        let sender = profile_id(&mut tx, mid, Kind::SenderProfile, &fields.sender_profile).await?;
        let delivery = profile_id(
            &mut tx,
            mid,
            Kind::DeliveryProfile,
            &fields.delivery_profile,
        )
        .await?;
        let id: i64 = sqlx::query(
            "INSERT INTO send_classifications (mid, object_id, customer_key, name, description,
                 classification_type, sender_profile_id, delivery_profile_id,
                 honor_list_opt_outs, is_default, created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10) RETURNING id",
        )
        .bind(mid.get())
        .bind(&object_id)
        .bind(&key)
        .bind(&fields.meta.name)
        .bind(&fields.meta.description)
        .bind(fields.classification_type.name())
        .bind(sender)
        .bind(delivery)
        .bind(i64::from(fields.honor_list_opt_outs))
        .bind(to_millis(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_key(KIND, &key))?
        .try_get(0)?;
        let created = ROWS.current(&mut tx, mid, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update_send_classification(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: SendClassificationFields,
        now: OffsetDateTime,
    ) -> Result<SendClassification, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let current = ROWS.current(&mut tx, mid, id).await?;
        let key = key_after_update(KIND, &current.meta, fields.meta.customer_key.as_ref())?;
        if current.meta.is_default && fields.classification_type != current.classification_type {
            return Err(ClassificationError::DefaultTypeFixed {
                customer_key: current.meta.customer_key,
                expected: current.classification_type,
            });
        }
        let sender = profile_id(&mut tx, mid, Kind::SenderProfile, &fields.sender_profile).await?;
        let delivery = profile_id(
            &mut tx,
            mid,
            Kind::DeliveryProfile,
            &fields.delivery_profile,
        )
        .await?;
        let written = sqlx::query(
            "UPDATE send_classifications SET customer_key = $1, name = $2, description = $3,
                 classification_type = $4, sender_profile_id = $5, delivery_profile_id = $6,
                 honor_list_opt_outs = $7, version = version + 1, modified_at = $8
             WHERE mid = $9 AND id = $10 AND version = $11",
        )
        .bind(&key)
        .bind(&fields.meta.name)
        .bind(&fields.meta.description)
        .bind(fields.classification_type.name())
        .bind(sender)
        .bind(delivery)
        .bind(i64::from(fields.honor_list_opt_outs))
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

    async fn delete_send_classification(
        &self,
        mid: Mid,
        id: i64,
    ) -> Result<SendClassification, ClassificationError> {
        let mut tx = self.write_tx().await?;
        let current = ROWS.current(&mut tx, mid, id).await?;
        check_deletable(KIND, &current.meta)?;
        let users = sends_using(&mut tx, mid, SendReference::SendClassification, id).await?;
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
