//! A CRM record as a send needs it, whichever connector it came from.

use std::collections::BTreeMap;

use super::CrmObject;
use crate::email_address::EmailAddress;
use crate::salesforce_id::SalesforceId;

/// A Contact or Lead: who to send to, and the fields personalization can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmRecord {
    /// The record's id; its 18-character form is the subscriber key.
    pub id: SalesforceId,
    pub object: CrmObject,
    pub email: EmailAddress,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Set when the person asked for no more email (unsubscribing sets it).
    pub has_opted_out: bool,
    /// The id the record has in the system it was loaded from, if any.
    pub external_id: Option<String>,
    /// Custom fields (`Company__c`), by their canonical names. Empty values are absent.
    pub custom: BTreeMap<String, String>,
}
