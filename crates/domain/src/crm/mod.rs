//! The CRM audience as every connector sees it: Contacts and Leads, the targets (reports
//! and campaigns) a send points at, the fields records carry, and report filters.
//!
//! Field names follow Salesforce: standard fields (`Email`, `FirstName`, …) and custom
//! fields whose API names end in `__c`. Names are compared without regard to case, as
//! Salesforce does; text values in filters too.

mod changes;
mod field;
mod filter;
mod object;
mod record;

pub use changes::{FieldInput, FieldProblem, RecordChanges, RecordFieldError};
pub use field::{CustomFieldName, FieldName, InvalidFieldName, StandardField, fold};
pub use filter::{Condition, FilterError, Logic, MAX_CONDITIONS, Operator, ReportFilter};
pub use object::{CrmObject, TargetKind, TargetRef, UnknownName};
pub use record::CrmRecord;
