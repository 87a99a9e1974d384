//! The kinds of CRM records and of send targets, and how their ids start.

use std::fmt;

use crate::salesforce_id::{
    CAMPAIGN_PREFIX, CONTACT_PREFIX, LEAD_PREFIX, REPORT_PREFIX, SalesforceId,
};

/// A name that is not one of the accepted values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be one of {accepted}, got {given:?}")]
pub struct UnknownName {
    pub what: &'static str,
    pub accepted: &'static str,
    pub given: String,
}

/// The kind of a CRM record that can receive email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CrmObject {
    Contact,
    Lead,
}

impl CrmObject {
    /// Both kinds, in a stable order.
    pub const ALL: [CrmObject; 2] = [CrmObject::Contact, CrmObject::Lead];

    /// The Salesforce object name (`Contact`, `Lead`).
    pub fn name(self) -> &'static str {
        match self {
            CrmObject::Contact => "Contact",
            CrmObject::Lead => "Lead",
        }
    }

    /// Parses `Contact` or `Lead`, in any case.
    pub fn parse(text: &str) -> Result<Self, UnknownName> {
        CrmObject::ALL
            .into_iter()
            .find(|object| object.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownName {
                what: "object",
                accepted: "Contact, Lead",
                given: text.to_owned(),
            })
    }

    /// The key prefix of this kind's ids (`003` for Contact, `00Q` for Lead).
    pub fn key_prefix(self) -> &'static str {
        match self {
            CrmObject::Contact => CONTACT_PREFIX,
            CrmObject::Lead => LEAD_PREFIX,
        }
    }
}

impl fmt::Display for CrmObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a send can target: a report (a saved filter) or a campaign (a member list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    Report,
    Campaign,
}

impl TargetKind {
    /// The name clients use (`Targets[].Type` in the Send API).
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Report => "Report",
            TargetKind::Campaign => "Campaign",
        }
    }

    /// Parses `Report` or `Campaign`, in any case.
    pub fn parse(text: &str) -> Result<Self, UnknownName> {
        [TargetKind::Report, TargetKind::Campaign]
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownName {
                what: "target type",
                accepted: "Report, Campaign",
                given: text.to_owned(),
            })
    }

    /// The key prefix of this kind's ids (`00O` for reports, `701` for campaigns).
    pub fn key_prefix(self) -> &'static str {
        match self {
            TargetKind::Report => REPORT_PREFIX,
            TargetKind::Campaign => CAMPAIGN_PREFIX,
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One target of a send: its kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetRef {
    pub kind: TargetKind,
    pub id: SalesforceId,
}

impl TargetRef {
    /// A report target.
    pub fn report(id: SalesforceId) -> Self {
        TargetRef {
            kind: TargetKind::Report,
            id,
        }
    }

    /// A campaign target.
    pub fn campaign(id: SalesforceId) -> Self {
        TargetRef {
            kind: TargetKind::Campaign,
            id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_target_kinds_parse_in_any_case_and_refuse_others_by_name() {
        assert_eq!(CrmObject::parse("lead"), Ok(CrmObject::Lead));
        assert_eq!(CrmObject::parse(" CONTACT "), Ok(CrmObject::Contact));
        assert_eq!(
            CrmObject::parse("Account").unwrap_err().to_string(),
            "object must be one of Contact, Lead, got \"Account\""
        );
        assert_eq!(TargetKind::parse("campaign"), Ok(TargetKind::Campaign));
        assert!(TargetKind::parse("List").is_err());
    }
}
