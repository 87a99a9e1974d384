//! Send classifications and the sender and delivery profiles they use (send-api.md
//! section 4).
//!
//! The three kinds are one [`Classification`] each (its row type), read and written through
//! one generic [`ClassificationStore`]: `store.classifications::<SenderProfile>().find(…)`.
//! A kind's file holds only what is its own: its columns, its decoder and its hooks
//! ([`columns::Columns`]); [`store`] holds the SQL they share. What every object has lives
//! here: [`ObjectMeta`], [`MetaFields`], paging ([`Listing`]), and the refusals of a write
//! ([`ClassificationError`]).
//!
//! Every account has four defaults from its creation ([`defaults`]): they can be updated,
//! but not deleted, and their customer keys never change (the Send API finds them by key).

mod columns;
pub(crate) mod defaults;
mod delivery_profiles;
mod send_classifications;
mod sender_profiles;
mod store;

use std::fmt;

use herald_domain::classification::CustomerKey;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::timestamp::from_millis;
use crate::{Store, StoreError};

pub use defaults::{DEFAULT_COMMERCIAL_KEY, DEFAULT_PROFILE_KEY, DEFAULT_TRANSACTIONAL_KEY};
pub use delivery_profiles::{DeliveryProfile, DeliveryProfileFields, PostalAddress};
pub use send_classifications::{ProfileSummary, SendClassification, SendClassificationFields};
pub use sender_profiles::{SenderProfile, SenderProfileFields};

/// One of the three kinds, as its stored objects' type: [`SenderProfile`],
/// [`DeliveryProfile`] or [`SendClassification`].
pub trait Classification: Clone + Send + Sync + Unpin + 'static {
    /// What a create or update gives, texts already checked.
    type Fields: Send + Sync + 'static;
    /// The kind, for messages.
    const KIND: Kind;
    /// What every object has.
    fn meta(&self) -> &ObjectMeta;
    /// The store's objects of this kind (see [`Store::classifications`]).
    fn of(store: &dyn Store) -> &dyn ClassificationStore<Self>;
}

/// The objects of one kind `C`. A path or a reference names an object by id (a digit
/// string, as the Send API's `SendClassificationId` gives it) or customer key.
#[async_trait::async_trait]
pub trait ClassificationStore<C: Classification>: Send + Sync {
    /// One page of the account's objects, oldest first.
    async fn list(&self, mid: Mid, page: PageRequest) -> Result<Listing<C>, StoreError>;
    /// The object with this id, if the account has it.
    async fn get(&self, mid: Mid, id: i64) -> Result<Option<C>, StoreError>;
    /// The object `id_or_key` names: a digit string is an id, anything else a customer key.
    async fn find(&self, mid: Mid, id_or_key: &str) -> Result<Option<C>, StoreError>;
    async fn create(
        &self,
        mid: Mid,
        fields: C::Fields,
        now: OffsetDateTime,
    ) -> Result<C, ClassificationError>;
    /// Replaces every field of the object with this id, if it is still at `version` (else
    /// [`ClassificationError::Stale`], and nothing changes). A default keeps its customer
    /// key (and a default classification its type).
    async fn update(
        &self,
        mid: Mid,
        id: i64,
        version: i64,
        fields: C::Fields,
        now: OffsetDateTime,
    ) -> Result<C, ClassificationError>;
    /// Deletes the object with this id and returns it; refused for a default and while
    /// another object uses it (a profile: a send classification; a classification: a send
    /// definition or a live send instance).
    async fn delete(&self, mid: Mid, id: i64) -> Result<C, ClassificationError>;
}

impl dyn Store + '_ {
    /// The objects of kind `C`: `store.classifications::<SenderProfile>().find(mid, key)`.
    pub fn classifications<C: Classification>(&self) -> &dyn ClassificationStore<C> {
        C::of(self)
    }
}

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
