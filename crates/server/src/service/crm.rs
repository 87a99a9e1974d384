//! The built-in CRM's use cases: campaigns and reports (one generic set of use cases, with
//! a [`TargetRules`] per kind), and Contacts and Leads.

mod records;
mod rules;
mod targets;
mod text;

pub use records::{
    create_record, delete_record, list_records, read_record, update_record, upsert_records,
};
pub use rules::{CampaignInput, ConditionInput, NotComparable, ReportInput, TargetRules};
pub use targets::{
    add_members, create_target, delete_target, list_targets_of, members, read_target,
    remove_members, target_fields, update_target,
};

use herald_domain::salesforce_id::SalesforceId;
use herald_store::{CrmWriteError, RowError};

use crate::service::Error;

/// The refusal of an object that does not exist in this account.
pub(crate) fn not_found(object: &str, id: Option<SalesforceId>) -> Error {
    match id {
        Some(id) => Error::NotFound(format!("No {object} has the Id {id}")),
        None => Error::NotFound(format!("No such {object}")),
    }
}

/// A refused CRM write, in words. `object` names what was not found.
pub(crate) fn write_error(err: CrmWriteError, object: &str, id: Option<SalesforceId>) -> Error {
    match err {
        CrmWriteError::NotFound | CrmWriteError::Row(RowError::NotFound) => not_found(object, id),
        CrmWriteError::Stale => match id {
            Some(id) => Error::stale(format!("The {object} {id}")),
            None => Error::stale(format!("The {object}")),
        },
        CrmWriteError::Row(RowError::ExternalIdTaken) => {
            Error::Conflict(format!("Another {object} has this ExternalId"))
        }
        CrmWriteError::Row(other) => Error::invalid(capitalised(&other.to_string())),
        CrmWriteError::UnknownRecords(_) => Error::invalid(capitalised(&err.to_string())),
        CrmWriteError::Store(err) => err.into(),
    }
}

/// `text` with its first letter in upper case (store messages start in lower case).
pub fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}
