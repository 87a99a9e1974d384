//! The built-in CRM: Contacts and Leads with custom fields, campaigns with members, and
//! reports (saved filters), for one account (MID) at a time.
//!
//! Ids are Salesforce ids minted from global counters (`003…` contacts, `00Q…` leads,
//! `701…` campaigns, `00O…` reports). Custom fields live in a field-values table, so report
//! filters are plain SQL on both backends; a custom field becomes known to an object the
//! first time a record of that object is written with a value for it.
//!
//! Members of a target are read a page at a time in id order (keyset paging), so a send
//! can walk an audience of any size in bounded memory.

mod audience;
mod campaigns;
mod decode;
mod fields;
mod filter_sql;
mod ids;
mod records;
mod reports;
mod target_table;
mod write;

use herald_domain::crm::{CrmObject, CrmRecord, ReportFilter, TargetRef};
use herald_domain::salesforce_id::SalesforceId;
use time::OffsetDateTime;

pub use audience::CrmAudienceStore;
pub use campaigns::{Campaigns, CrmCampaignStore};
pub use records::CrmRecordStore;
pub use reports::Reports;
pub use target_table::{CrmTargetStore, TargetTable};
pub use write::{MatchOn, RowError, RowOutcome};

use crate::StoreError;

/// Everything the built-in CRM keeps.
pub trait CrmStore:
    CrmRecordStore
    + CrmTargetStore<Campaigns>
    + CrmTargetStore<Reports>
    + CrmCampaignStore
    + CrmAudienceStore
{
}

impl<T> CrmStore for T where
    T: CrmRecordStore
        + CrmTargetStore<Campaigns>
        + CrmTargetStore<Reports>
        + CrmCampaignStore
        + CrmAudienceStore
{
}

/// The most custom fields one object can have in one account.
pub const MAX_CUSTOM_FIELDS: usize = 500;
/// The most records a member page holds (larger requests get this many).
pub const MAX_MEMBER_PAGE: u32 = 1000;

/// A record with the times Herald keeps about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub record: CrmRecord,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    /// Incremented by every write (an update, an upsert, an import, an opt-out); an
    /// update names the version it read.
    pub version: i64,
}

/// One page of a longer list, with the length of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub count: i64,
    pub items: Vec<T>,
}

/// Where a page starts: after `offset` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub offset: u64,
    pub limit: u32,
}

/// A campaign: a named list of Contacts and Leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: SalesforceId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    /// Incremented by every update; an update names the version it read.
    pub version: i64,
}

/// What defines a campaign (its members aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDefinition {
    pub name: String,
    pub description: Option<String>,
}

/// A report: the records of one object that match a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: SalesforceId,
    pub name: String,
    pub object: CrmObject,
    pub filter: ReportFilter,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    /// Incremented by every update; an update names the version it read.
    pub version: i64,
}

/// What defines a report. The filter's custom fields must be known to `object` (see
/// `ReportFilter::resolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDefinition {
    pub name: String,
    pub object: CrmObject,
    pub filter: ReportFilter,
}

/// A target as listed to clients: what it is, its name and how many members it has now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSummary {
    pub target: TargetRef,
    pub name: String,
    pub member_count: i64,
}

/// The result of adding or removing campaign members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipChange {
    /// Members actually added or removed (ones already in, or already out, do not count).
    pub changed: u64,
    pub member_count: i64,
}

/// Why a single-record or campaign write was refused.
#[derive(Debug, thiserror::Error)]
pub enum CrmWriteError {
    /// No such object in this account.
    #[error("not found")]
    NotFound,
    /// The object changed since the version the write named; nothing was written.
    #[error("changed since it was read")]
    Stale,
    /// The write breaks a rule (a duplicate ExternalId, no Email, …).
    #[error(transparent)]
    Row(RowError),
    /// Ids that name no Contact or Lead of this account.
    #[error("no Contact or Lead has these ids: {}", list_ids(.0))]
    UnknownRecords(Vec<SalesforceId>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CrmWriteError {
    fn from(err: sqlx::Error) -> Self {
        CrmWriteError::Store(err.into())
    }
}

/// At most ten ids, then how many more.
fn list_ids(ids: &[SalesforceId]) -> String {
    let mut text = ids
        .iter()
        .take(10)
        .map(SalesforceId::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > 10 {
        text.push_str(&format!(" and {} more", ids.len() - 10));
    }
    text
}
