//! The CRM connector: where a send's audience comes from.
//!
//! The engine sees only [`CrmConnector`]: a target's name, its members as a stream, the
//! fields its records carry, and a way to record an opt-out. [`BuiltinCrm`] reads
//! Herald's own CRM (the store); a connector for a real Salesforce org can implement the
//! same trait (SOQL and report exports, paged the same way) without the engine changing.
//!
//! [`import`] loads Contacts and Leads from CSV files into the built-in CRM
//! (`herald crm import`).

mod builtin;
pub mod demo;
pub mod import;

use futures_util::stream::BoxStream;
use herald_domain::crm::{CrmRecord, TargetRef};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;

pub use builtin::BuiltinCrm;

/// A target as the connector knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    pub target: TargetRef,
    pub name: String,
}

/// What can go wrong reading or writing the CRM.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// The target does not exist for this account (or no longer does).
    #[error("{} {} does not exist", .0.kind, .0.id)]
    UnknownTarget(TargetRef),
    /// No Contact or Lead has this id in this account.
    #[error("no Contact or Lead has the id {0}")]
    UnknownRecord(SalesforceId),
    /// The CRM could not be reached or answered with an error; worth retrying later.
    #[error("the CRM is unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// An audience source. Every call is scoped to one account (`mid`).
#[async_trait::async_trait]
pub trait CrmConnector: Send + Sync {
    /// The target, if it exists.
    async fn target(&self, mid: Mid, target: TargetRef) -> Result<Option<TargetInfo>, CrmError>;

    /// Every member of the target, each once, in a stable order. The stream fetches a
    /// page at a time, so memory stays bounded whatever the audience size; it ends with
    /// [`CrmError::UnknownTarget`] if the target does not exist.
    fn members(&self, mid: Mid, target: TargetRef) -> BoxStream<'_, Result<CrmRecord, CrmError>>;

    /// The field names the target's records carry (standard, then custom), which
    /// personalization strings may use.
    async fn fields(&self, mid: Mid, target: TargetRef) -> Result<Vec<String>, CrmError>;

    /// Sets or clears `HasOptedOutOfEmail` on a Contact or Lead (unsubscribing sets it).
    async fn set_opted_out(
        &self,
        mid: Mid,
        record: SalesforceId,
        opted_out: bool,
    ) -> Result<(), CrmError>;
}
