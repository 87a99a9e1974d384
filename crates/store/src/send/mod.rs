//! The Send API's records: send definitions and their instances.
//!
//! A definition is what to send (an email, a classification, targets and exclusions); an
//! instance is one scheduled run of it. Scheduling copies the definition into the
//! instance, so editing the definition later changes no instance, and a finished
//! instance stays readable after its definition is deleted.
//!
//! Ids come from sequences shared by all accounts; every query also filters by MID, so
//! another account's ids do not exist.

mod definitions;
mod instances;
pub(crate) mod rows;
mod users;

use herald_domain::mid::Mid;
use herald_domain::send::counts::SendCounts;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::Target;
use time::OffsetDateTime;

use crate::StoreError;

pub use definitions::SendDefinitionStore;
pub use instances::SendInstanceStore;
pub(crate) use users::{SendReference, sends_using};

/// What it takes to create a definition (the classification already looked up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSendDefinition {
    pub mid: Mid,
    /// A key unique within the MID (the caller picks a UUID): `ExternalKey` on the wire.
    pub external_key: String,
    pub name: String,
    pub description: String,
    pub email_id: i64,
    pub send_classification_id: i64,
    pub targets: Vec<Target>,
    pub exclusions: Vec<Target>,
    pub deduplicate_by_email: bool,
    pub created_at: OffsetDateTime,
}

/// A stored send definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendDefinition {
    pub id: i64,
    pub mid: Mid,
    pub external_key: String,
    pub name: String,
    pub description: String,
    pub email_id: i64,
    pub send_classification_id: i64,
    pub targets: Vec<Target>,
    pub exclusions: Vec<Target>,
    pub deduplicate_by_email: bool,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    /// Incremented by every update; an update names the version it read.
    pub version: i64,
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendDefinitionChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub email_id: Option<i64>,
    pub send_classification_id: Option<i64>,
    pub targets: Option<Vec<Target>>,
    pub exclusions: Option<Vec<Target>>,
    pub deduplicate_by_email: Option<bool>,
}

/// A stored send instance: one scheduled run of a definition, with a copy of what it
/// sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendInstance {
    pub id: i64,
    pub mid: Mid,
    /// The definition it was scheduled from (which may since have been deleted).
    pub definition_id: i64,
    pub status: InstanceStatus,
    pub email_id: i64,
    pub send_classification_id: i64,
    pub targets: Vec<Target>,
    pub exclusions: Vec<Target>,
    pub deduplicate_by_email: bool,
    pub all_recipients_opted_in: bool,
    /// When it may start (its creation time for an immediate send).
    pub scheduled_at: OffsetDateTime,
    /// When it first became `Sending`.
    pub started_at: Option<OffsetDateTime>,
    /// When it reached a final status.
    pub completed_at: Option<OffsetDateTime>,
    pub sync_id: Option<i64>,
    pub job_id: Option<i64>,
    /// Why it is in `Error`.
    pub message: Option<String>,
    pub counts: SendCounts,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
}

/// One page of a list, with the number of items on all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPage<T> {
    pub count: i64,
    pub items: Vec<T>,
}

/// Why a definition was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteDefinitionError {
    /// No such definition for this MID.
    #[error("send definition not found")]
    NotFound,
    /// One of its instances still has work ahead (a status in [`InstanceStatus::LIVE`]);
    /// this is the oldest such instance.
    #[error("send definition has a live instance {instance_id} ({status})")]
    InUse {
        instance_id: i64,
        status: InstanceStatus,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a definition was not updated.
#[derive(Debug, thiserror::Error)]
pub enum UpdateDefinitionError {
    /// It changed since the caller read it (its version moved on); nothing was written.
    #[error("send definition {id} is no longer at version {version}")]
    Stale { id: i64, version: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for UpdateDefinitionError {
    fn from(err: sqlx::Error) -> Self {
        UpdateDefinitionError::Store(err.into())
    }
}

impl From<sqlx::Error> for DeleteDefinitionError {
    fn from(err: sqlx::Error) -> Self {
        DeleteDefinitionError::Store(err.into())
    }
}
