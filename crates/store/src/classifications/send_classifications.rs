//! Send classifications: a commercial or transactional type with a sender profile and a
//! delivery profile. The Send API names one per definition (`SendClassificationId`).

use herald_domain::classification::SendClassificationType;
use herald_domain::mid::Mid;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::columns::Columns;
use super::store::id_param;
use super::{
    Classification, ClassificationError, ClassificationStore, Kind, MetaFields, ObjectMeta, meta,
};
use crate::Store;
use crate::send::{SendReference, sends_using};
use crate::sql::Bind;

/// How a classification names one of its profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSummary {
    pub id: i64,
    pub customer_key: String,
    pub name: String,
}

/// A stored send classification. Its profiles are read in full with
/// `store.classifications::<SenderProfile>().get(…)` (and of `DeliveryProfile`) and the
/// ids here.
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

impl Classification for SendClassification {
    type Fields = SendClassificationFields;
    const KIND: Kind = Kind::SendClassification;

    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn of(store: &dyn Store) -> &dyn ClassificationStore<Self> {
        store
    }
}

impl Columns for SendClassification {
    /// With the profiles' keys and names.
    const SELECT: &'static str = ", o.classification_type, o.honor_list_opt_outs,
         s.id AS sender_id, s.customer_key AS sender_key, s.name AS sender_name,
         d.id AS delivery_id, d.customer_key AS delivery_key, d.name AS delivery_name";
    const JOINS: &'static str = "JOIN sender_profiles s ON s.id = o.sender_profile_id
         JOIN delivery_profiles d ON d.id = o.delivery_profile_id";

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let kind: String = row.try_get("classification_type")?;
        let profile = |prefix: &str| -> Result<ProfileSummary, sqlx::Error> {
            Ok(ProfileSummary {
                id: row.try_get(format!("{prefix}_id").as_str())?,
                customer_key: row.try_get(format!("{prefix}_key").as_str())?,
                name: row.try_get(format!("{prefix}_name").as_str())?,
            })
        };
        Ok(SendClassification {
            meta: meta(row)?,
            classification_type: SendClassificationType::parse(&kind)
                .map_err(|err| sqlx::Error::Decode(err.into()))?,
            sender_profile: profile("sender")?,
            delivery_profile: profile("delivery")?,
            honor_list_opt_outs: row.try_get::<i64, _>("honor_list_opt_outs")? != 0,
        })
    }

    fn meta_fields(fields: &SendClassificationFields) -> &MetaFields {
        &fields.meta
    }

    /// Refuses to retype a default; the profiles must be the account's.
    async fn written(
        conn: &mut AnyConnection,
        mid: Mid,
        fields: &SendClassificationFields,
        current: Option<&Self>,
    ) -> Result<Vec<(&'static str, Bind)>, ClassificationError> {
        if let Some(current) = current.filter(|current| current.meta.is_default)
            && fields.classification_type != current.classification_type
        {
            return Err(ClassificationError::DefaultTypeFixed {
                customer_key: current.meta.customer_key.clone(),
                expected: current.classification_type,
            });
        }
        let sender = profile_id(conn, mid, Kind::SenderProfile, &fields.sender_profile).await?;
        let delivery =
            profile_id(conn, mid, Kind::DeliveryProfile, &fields.delivery_profile).await?;
        Ok(vec![
            (
                "classification_type",
                fields.classification_type.name().into(),
            ),
            ("sender_profile_id", sender.into()),
            ("delivery_profile_id", delivery.into()),
            (
                "honor_list_opt_outs",
                i64::from(fields.honor_list_opt_outs).into(),
            ),
        ])
    }

    async fn users(
        conn: &mut AnyConnection,
        mid: Mid,
        id: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sends_using(conn, mid, SendReference::SendClassification, id).await
    }
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
