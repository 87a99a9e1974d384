//! The audience of a send definition: CRM reports and campaigns, named by Salesforce id.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crm::{TargetKind, TargetRef};
use crate::salesforce_id::{CAMPAIGN_PREFIX, InvalidSalesforceId, REPORT_PREFIX, SalesforceId};

/// The most characters a target's `Name` (a label the client chooses) may have.
pub const MAX_TARGET_NAME: usize = 255;

/// What kind of CRM object a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetType {
    /// A saved report over contacts and leads (ids start with `00O`).
    Report,
    /// A campaign whose members are contacts and leads (ids start with `701`).
    Campaign,
}

impl TargetType {
    /// The wire text: `Report` or `Campaign`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Report => "Report",
            TargetType::Campaign => "Campaign",
        }
    }

    /// Reads `Report` or `Campaign`, in any letter case, blanks around ignored.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let text = text.trim();
        [TargetType::Report, TargetType::Campaign]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| TargetError::UnknownType(text.to_owned()))
    }

    /// The Salesforce key prefix every id of this kind starts with.
    pub fn key_prefix(self) -> &'static str {
        match self {
            TargetType::Report => REPORT_PREFIX,
            TargetType::Campaign => CAMPAIGN_PREFIX,
        }
    }
}

impl fmt::Display for TargetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One report or campaign a definition sends to (or excludes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub target_type: TargetType,
    /// The client's label for it; may be empty.
    pub name: String,
    pub id: SalesforceId,
}

impl Target {
    /// The target as the CRM connector names it.
    pub fn crm_ref(&self) -> TargetRef {
        let kind = match self.target_type {
            TargetType::Report => TargetKind::Report,
            TargetType::Campaign => TargetKind::Campaign,
        };
        TargetRef { kind, id: self.id }
    }
}

/// A target as the client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetInput {
    pub target_type: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
}

impl TargetInput {
    /// Checks the target: a known `Type`, a Salesforce `Id` (15 or 18 characters) of that
    /// kind, and a `Name` of at most [`MAX_TARGET_NAME`] characters (absent means empty).
    pub fn parse(self) -> Result<Target, TargetError> {
        let target_type = match self.target_type.as_deref().map(str::trim) {
            None | Some("") => return Err(TargetError::MissingType),
            Some(text) => TargetType::parse(text)?,
        };
        let id = match self.id.as_deref().map(str::trim) {
            None | Some("") => return Err(TargetError::MissingId),
            Some(text) => SalesforceId::parse(text).map_err(|error| TargetError::InvalidId {
                id: text.to_owned(),
                error,
            })?,
        };
        if id.key_prefix() != target_type.key_prefix() {
            return Err(TargetError::WrongKind { target_type, id });
        }
        let name = self.name.unwrap_or_default().trim().to_owned();
        let length = name.chars().count();
        if length > MAX_TARGET_NAME {
            return Err(TargetError::NameTooLong(length));
        }
        Ok(Target {
            target_type,
            name,
            id,
        })
    }
}

/// Why a target is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("Type is missing: use Report or Campaign")]
    MissingType,
    #[error("Type {0:?} is not supported: use Report or Campaign")]
    UnknownType(String),
    #[error("Id is missing: give the report's or campaign's Salesforce id")]
    MissingId,
    #[error("Id {id:?} is not a Salesforce id: {error}")]
    InvalidId {
        id: String,
        error: InvalidSalesforceId,
    },
    #[error(
        "Id {id} is not a {target_type}: {target_type} ids start with {}",
        target_type.key_prefix()
    )]
    WrongKind {
        target_type: TargetType,
        id: SalesforceId,
    },
    #[error("Name has {0} characters; the most is {MAX_TARGET_NAME}")]
    NameTooLong(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(target_type: &str, name: &str, id: &str) -> TargetInput {
        TargetInput {
            target_type: Some(target_type.into()),
            name: Some(name.into()),
            id: Some(id.into()),
        }
    }

    #[test]
    fn a_report_target_keeps_its_label_and_the_18_character_id() {
        let target = input("Report", " Contacts ", "00O000000000001")
            .parse()
            .unwrap();
        assert_eq!(target.target_type, TargetType::Report);
        assert_eq!(target.name, "Contacts");
        assert_eq!(target.id.as_str(), "00O000000000001EAA");
        assert_eq!(
            target.id,
            SalesforceId::parse("00O000000000001EAA").unwrap()
        );
    }

    #[test]
    fn the_type_is_read_in_any_case_and_anything_else_names_both_types() {
        assert_eq!(TargetType::parse("campaign"), Ok(TargetType::Campaign));
        assert_eq!(TargetType::parse(" REPORT "), Ok(TargetType::Report));
        let refused = TargetType::parse("List").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Type \"List\" is not supported: use Report or Campaign"
        );
    }

    #[test]
    fn missing_type_or_id_is_named() {
        let no_type = TargetInput {
            target_type: None,
            ..input("", "", "00O000000000001")
        };
        assert_eq!(no_type.parse(), Err(TargetError::MissingType));
        assert_eq!(
            input("Report", "x", "  ").parse(),
            Err(TargetError::MissingId)
        );
    }

    #[test]
    fn a_malformed_id_is_refused_with_the_reason() {
        let refused = input("Report", "", "00O-bad").parse().unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Id \"00O-bad\" is not a Salesforce id: a Salesforce id has 15 or 18 characters, got 7"
        );
    }

    #[test]
    fn the_contracts_example_id_is_refused_with_the_suffix_it_needs() {
        // send-api.md's example body writes 00O000000000001AAA; its first 15 characters
        // call for the suffix EAA, and Salesforce never issues an id with another one.
        let refused = input("Report", "", "00O000000000001AAA")
            .parse()
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .ends_with("must be \"EAA\" to match its first 15, got \"AAA\""),
            "{refused}"
        );
    }

    #[test]
    fn an_id_of_another_kind_of_record_is_refused() {
        let refused = input("Campaign", "", "00O000000000001")
            .parse()
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Id 00O000000000001EAA is not a Campaign: Campaign ids start with 701"
        );
        assert!(input("Campaign", "", "701000000000001").parse().is_ok());
    }

    #[test]
    fn a_label_may_be_absent_but_not_too_long() {
        let unnamed = TargetInput {
            name: None,
            ..input("Campaign", "", "701000000000001")
        };
        assert_eq!(unnamed.parse().unwrap().name, "");
        let long = "n".repeat(MAX_TARGET_NAME + 1);
        assert_eq!(
            input("Campaign", &long, "701000000000001").parse(),
            Err(TargetError::NameTooLong(MAX_TARGET_NAME + 1))
        );
    }

    #[test]
    fn a_target_names_the_same_kind_and_id_to_the_crm() {
        let report = input("Report", "", "00O000000000001").parse().unwrap();
        assert_eq!(report.crm_ref(), TargetRef::report(report.id));
        let campaign = input("Campaign", "", "701000000000001").parse().unwrap();
        assert_eq!(campaign.crm_ref(), TargetRef::campaign(campaign.id));
    }

    #[test]
    fn a_target_is_stored_as_json_with_its_canonical_id() {
        let target = input("Report", "Contacts", "00O000000000001")
            .parse()
            .unwrap();
        let json = serde_json::to_string(&target).unwrap();
        assert_eq!(
            json,
            r#"{"type":"Report","name":"Contacts","id":"00O000000000001EAA"}"#
        );
        assert_eq!(serde_json::from_str::<Target>(&json).unwrap(), target);
    }
}
