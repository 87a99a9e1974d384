//! Send classifications and the sender and delivery profiles they use (send-api.md
//! section 4).
//!
//! Each of the three kinds has its own sub-trait and file. What they share lives here: the
//! columns every object has ([`ObjectMeta`], [`MetaFields`]), paging ([`Listing`]), and the
//! refusals of a write ([`ClassificationError`]).
//!
//! Every account has four defaults from its creation ([`defaults`]): they can be updated,
//! but not deleted, and their customer keys never change (the Send API finds them by key).

pub(crate) mod defaults;
mod delivery_profiles;
mod rows;
mod send_classifications;
mod sender_profiles;

use std::fmt;

use herald_domain::classification::CustomerKey;
use herald_domain::mid::Mid;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::StoreError;
use crate::timestamp::from_millis;

pub use defaults::{DEFAULT_COMMERCIAL_KEY, DEFAULT_PROFILE_KEY, DEFAULT_TRANSACTIONAL_KEY};
pub use delivery_profiles::{
    DeliveryProfile, DeliveryProfileFields, DeliveryProfileStore, PostalAddress,
};
pub use send_classifications::{
    ProfileSummary, SendClassification, SendClassificationFields, SendClassificationStore,
};
pub use sender_profiles::{SenderProfile, SenderProfileFields, SenderProfileStore};

/// The three kinds of objects, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SenderProfile,
    DeliveryProfile,
    SendClassification,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::SenderProfile => "sender profile",
            Kind::DeliveryProfile => "delivery profile",
            Kind::SendClassification => "send classification",
        })
    }
}

impl Kind {
    /// The table that holds objects of this kind.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::SenderProfile => "sender_profiles",
            Kind::DeliveryProfile => "delivery_profiles",
            Kind::SendClassification => "send_classifications",
        }
    }
}

/// What every sender profile, delivery profile and send classification has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Unique across accounts; shown on the wire as a digit string.
    pub id: i64,
    pub mid: Mid,
    /// A UUID.
    pub object_id: String,
    /// Unique per account and kind; never only digits.
    pub customer_key: String,
    pub name: String,
    pub description: String,
    /// One of the four objects every account starts with.
    pub is_default: bool,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    /// Incremented by every update; an update names the version it read.
    pub version: i64,
}

/// The shared fields of a create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFields {
    /// `None`: the object id on create, the current key on update.
    pub customer_key: Option<CustomerKey>,
    pub name: String,
    pub description: String,
}

/// One page of a list, and how many objects there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// Why a write was refused. The messages are fit for clients.
#[derive(Debug, thiserror::Error)]
pub enum ClassificationError {
    #[error("there is no {kind} {reference:?} in this account")]
    NotFound { kind: Kind, reference: String },
    #[error("a {kind} with customerKey {customer_key:?} exists already in this account")]
    DuplicateKey { kind: Kind, customer_key: String },
    #[error(
        "the {kind} {name:?} is in use by {users}: change or delete them first",
        users = users.join(", ")
    )]
    InUse {
        kind: Kind,
        name: String,
        /// Each user named with its kind, as in `send classification "Spring"`.
        users: Vec<String>,
    },
    #[error(
        "the {kind} {customer_key:?} is one of the account's defaults: it can be updated but not deleted"
    )]
    DefaultUndeletable { kind: Kind, customer_key: String },
    #[error(
        "the customerKey of the default {kind} {customer_key:?} cannot change: the Send API finds it by that key"
    )]
    DefaultKeyFixed { kind: Kind, customer_key: String },
    #[error("the default send classification {customer_key:?} stays {expected}")]
    DefaultTypeFixed {
        customer_key: String,
        expected: herald_domain::classification::SendClassificationType,
    },
    #[error(
        "the {kind} {reference:?} was changed by another request since it was read; read it again and retry the change"
    )]
    Stale { kind: Kind, reference: String },
    #[error("there is no {kind} with id or customerKey {reference:?} in this account")]
    UnknownReference { kind: Kind, reference: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ClassificationError {
    fn from(err: sqlx::Error) -> Self {
        ClassificationError::Store(err.into())
    }
}

/// The columns of [`ObjectMeta`], as `alias.column`, for SELECT lists.
pub(crate) fn meta_columns(alias: &str) -> String {
    [
        "id",
        "mid",
        "object_id",
        "customer_key",
        "name",
        "description",
        "is_default",
        "created_at",
        "modified_at",
        "version",
    ]
    .map(|column| format!("{alias}.{column}"))
    .join(", ")
}

pub(crate) fn meta(row: &AnyRow) -> Result<ObjectMeta, sqlx::Error> {
    Ok(ObjectMeta {
        id: row.try_get("id")?,
        mid: Mid::from_stored(row.try_get("mid")?),
        object_id: row.try_get("object_id")?,
        customer_key: row.try_get("customer_key")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        is_default: row.try_get::<i64, _>("is_default")? != 0,
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
        version: row.try_get("version")?,
    })
}

/// A new object id, which is also the customer key when none is given.
pub(crate) fn new_object_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The object id and customer key of an object about to be created.
pub(crate) fn new_keys(meta: &MetaFields) -> (String, String) {
    let object_id = new_object_id();
    let key = meta
        .customer_key
        .as_ref()
        .map_or_else(|| object_id.clone(), |key| key.as_str().to_owned());
    (object_id, key)
}

/// Maps a unique-key violation to [`ClassificationError::DuplicateKey`].
pub(crate) fn duplicate_key(
    kind: Kind,
    customer_key: &str,
) -> impl Fn(sqlx::Error) -> ClassificationError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ClassificationError::DuplicateKey {
                kind,
                customer_key: customer_key.to_owned(),
            }
        }
        _ => err.into(),
    }
}

/// The customer key an update leaves in place: the new one, or the current one; a default
/// object's key never changes.
/// Refuses an update that wrote no row: the object (read as `meta` in the same
/// transaction) moved past the version the update named.
pub(crate) fn written_or_stale(
    kind: Kind,
    written: &sqlx::any::AnyQueryResult,
    meta: &ObjectMeta,
) -> Result<(), ClassificationError> {
    if written.rows_affected() == 0 {
        return Err(ClassificationError::Stale {
            kind,
            reference: meta.customer_key.clone(),
        });
    }
    Ok(())
}

pub(crate) fn key_after_update(
    kind: Kind,
    current: &ObjectMeta,
    requested: Option<&CustomerKey>,
) -> Result<String, ClassificationError> {
    match requested {
        Some(key) if key.as_str() != current.customer_key => {
            if current.is_default {
                return Err(ClassificationError::DefaultKeyFixed {
                    kind,
                    customer_key: current.customer_key.clone(),
                });
            }
            Ok(key.as_str().to_owned())
        }
        _ => Ok(current.customer_key.clone()),
    }
}

/// Refuses to delete a default object.
pub(crate) fn check_deletable(kind: Kind, current: &ObjectMeta) -> Result<(), ClassificationError> {
    if current.is_default {
        return Err(ClassificationError::DefaultUndeletable {
            kind,
            customer_key: current.customer_key.clone(),
        });
    }
    Ok(())
}

/// The send classifications whose `column` (`sender_profile_id` or `delivery_profile_id`)
/// is `id`, named for [`ClassificationError::InUse`]: `send classification "A"`.
pub(crate) async fn classifications_using(
    conn: &mut AnyConnection,
    mid: Mid,
    column: &'static str,
    id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT name FROM send_classifications WHERE mid = $1 AND {column} = $2 ORDER BY name, id"
    )))
    .bind(mid.get())
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let name: String = row.try_get("name")?;
            Ok(format!("{} {name:?}", Kind::SendClassification))
        })
        .collect()
}
