//! Send definitions as clients create and update them: which fields are required, and
//! what each may hold.

use std::fmt;

use super::message;
use super::target::{Target, TargetError, TargetInput};

/// The most characters a definition's `Name` may have.
pub const MAX_NAME: usize = 255;
/// The most characters a definition's `Description` may have.
pub const MAX_DESCRIPTION: usize = 4000;

/// A field a definition cannot do without. The declaration order is the order in which
/// a missing-fields message lists them: `Name, EmailId, SendClassificationId, Targets`
/// (the order of the contract's example body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequiredField {
    Name,
    EmailId,
    SendClassificationId,
    Targets,
}

impl RequiredField {
    /// The field's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequiredField::Name => "Name",
            RequiredField::EmailId => "EmailId",
            RequiredField::SendClassificationId => "SendClassificationId",
            RequiredField::Targets => "Targets",
        }
    }
}

impl fmt::Display for RequiredField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which list of targets a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetList {
    Targets,
    Exclusions,
}

impl fmt::Display for TargetList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetList::Targets => "Targets",
            TargetList::Exclusions => "Exclusions",
        })
    }
}

/// An `EmailDefinition` as the client sent it; `None` is an absent (or null) field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub email_id: Option<i64>,
    /// The classification's id (digits) or customer key, not yet looked up.
    pub send_classification: Option<String>,
    pub targets: Option<Vec<TargetInput>>,
    pub exclusions: Option<Vec<TargetInput>>,
    pub deduplicate_by_email: Option<bool>,
}

/// A complete, valid definition (what Create Definition stores, once the classification
/// is looked up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionSpec {
    pub name: String,
    pub description: String,
    pub email_id: i64,
    /// The classification's id (digits) or customer key, trimmed, not yet looked up.
    pub send_classification: String,
    /// At least one.
    pub targets: Vec<Target>,
    pub exclusions: Vec<Target>,
    pub deduplicate_by_email: bool,
}

/// The valid changes of an update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub email_id: Option<i64>,
    /// The classification's id (digits) or customer key, trimmed, not yet looked up.
    pub send_classification: Option<String>,
    /// At least one when given.
    pub targets: Option<Vec<Target>>,
    /// Replaces the exclusions; an empty list removes them.
    pub exclusions: Option<Vec<Target>>,
    pub deduplicate_by_email: Option<bool>,
}

impl DefinitionInput {
    /// Checks a definition to create. Every missing required field is named in one
    /// error (a blank `Name` or `SendClassificationId` and an empty `Targets` count as
    /// missing); then each value is checked. `Description` defaults to empty,
    /// `Exclusions` to none, `DeduplicateByEmail` to false.
    pub fn into_spec(self) -> Result<DefinitionSpec, DefinitionError> {
        let mut missing = Vec::new();
        let name = require(
            self.name.filter(|name| !blank(name)),
            RequiredField::Name,
            &mut missing,
        );
        let email_id = require(self.email_id, RequiredField::EmailId, &mut missing);
        let send_classification = require(
            self.send_classification.filter(|key| !blank(key)),
            RequiredField::SendClassificationId,
            &mut missing,
        );
        let targets = require(
            self.targets.filter(|list| !list.is_empty()),
            RequiredField::Targets,
            &mut missing,
        );
        let (Some(name), Some(email_id), Some(send_classification), Some(targets)) =
            (name, email_id, send_classification, targets)
        else {
            return Err(DefinitionError::MissingFields(missing));
        };
        Ok(DefinitionSpec {
            name: check_name(name)?,
            description: check_description(self.description.unwrap_or_default())?,
            email_id: check_email_id(email_id)?,
            send_classification: send_classification.trim().to_owned(),
            targets: parse_targets(TargetList::Targets, targets)?,
            exclusions: parse_targets(TargetList::Exclusions, self.exclusions.unwrap_or_default())?,
            deduplicate_by_email: self.deduplicate_by_email.unwrap_or(false),
        })
    }

    /// Checks the fields an update gives. Absent fields stay as they are; a required
    /// field that is given must not be blank or empty (those are named as missing). An
    /// update that gives no field at all is refused.
    pub fn into_changes(self) -> Result<DefinitionChanges, DefinitionError> {
        if self == DefinitionInput::default() {
            return Err(DefinitionError::NothingToChange);
        }
        let blanked = [
            (RequiredField::Name, self.name.as_deref().is_some_and(blank)),
            (
                RequiredField::SendClassificationId,
                self.send_classification.as_deref().is_some_and(blank),
            ),
            (
                RequiredField::Targets,
                self.targets.as_ref().is_some_and(Vec::is_empty),
            ),
        ];
        let missing: Vec<RequiredField> = blanked
            .into_iter()
            .filter_map(|(field, blanked)| blanked.then_some(field))
            .collect();
        if !missing.is_empty() {
            return Err(DefinitionError::MissingFields(missing));
        }
        Ok(DefinitionChanges {
            name: self.name.map(check_name).transpose()?,
            description: self.description.map(check_description).transpose()?,
            email_id: self.email_id.map(check_email_id).transpose()?,
            send_classification: self.send_classification.map(|key| key.trim().to_owned()),
            targets: self
                .targets
                .map(|list| parse_targets(TargetList::Targets, list))
                .transpose()?,
            exclusions: self
                .exclusions
                .map(|list| parse_targets(TargetList::Exclusions, list))
                .transpose()?,
            deduplicate_by_email: self.deduplicate_by_email,
        })
    }
}

/// `value`, noting `field` as missing when it is absent.
fn require<T>(
    value: Option<T>,
    field: RequiredField,
    missing: &mut Vec<RequiredField>,
) -> Option<T> {
    if value.is_none() {
        missing.push(field);
    }
    value
}

fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn check_name(name: String) -> Result<String, DefinitionError> {
    let name = name.trim().to_owned();
    match name.chars().count() {
        length if length > MAX_NAME => Err(DefinitionError::NameTooLong(length)),
        _ => Ok(name),
    }
}

fn check_description(text: String) -> Result<String, DefinitionError> {
    let text = text.trim().to_owned();
    match text.chars().count() {
        length if length > MAX_DESCRIPTION => Err(DefinitionError::DescriptionTooLong(length)),
        _ => Ok(text),
    }
}

fn check_email_id(id: i64) -> Result<i64, DefinitionError> {
    if id <= 0 {
        return Err(DefinitionError::EmailId(id));
    }
    Ok(id)
}

fn parse_targets(
    list: TargetList,
    inputs: Vec<TargetInput>,
) -> Result<Vec<Target>, DefinitionError> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| {
            input
                .parse()
                .map_err(|error| DefinitionError::Target { list, index, error })
        })
        .collect()
}

/// Why a definition (or an update of one) is not acceptable. The `Display` text is the
/// detail of the API's business error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// Listed in [`RequiredField`] order.
    #[error("{}", message::missing_fields(.0))]
    MissingFields(Vec<RequiredField>),
    #[error("Name has {0} characters; the most is {MAX_NAME}")]
    NameTooLong(usize),
    #[error("Description has {0} characters; the most is {MAX_DESCRIPTION}")]
    DescriptionTooLong(usize),
    #[error("EmailId must be a positive whole number (the email's id), got {0}")]
    EmailId(i64),
    /// `index` counts from 0, as in `Targets[0]`.
    #[error("{list}[{index}]: {error}")]
    Target {
        list: TargetList,
        index: usize,
        error: TargetError,
    },
    #[error("the EmailDefinition gives no field to change")]
    NothingToChange,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str) -> TargetInput {
        TargetInput {
            target_type: Some("Report".into()),
            name: Some("Contacts".into()),
            id: Some(id.into()),
        }
    }

    fn complete() -> DefinitionInput {
        DefinitionInput {
            name: Some(" Demo Definition ".into()),
            description: Some("Spring news".into()),
            email_id: Some(123_456),
            send_classification: Some(" Default Commercial ".into()),
            targets: Some(vec![report("00O000000000001")]),
            exclusions: None,
            deduplicate_by_email: None,
        }
    }

    #[test]
    fn a_complete_definition_is_trimmed_and_gets_its_defaults() {
        let spec = complete().into_spec().unwrap();
        assert_eq!(spec.name, "Demo Definition");
        assert_eq!(spec.email_id, 123_456);
        assert_eq!(spec.send_classification, "Default Commercial");
        assert_eq!(spec.targets.len(), 1);
        assert_eq!(spec.targets[0].id.as_str(), "00O000000000001EAA");
        assert!(spec.exclusions.is_empty());
        assert!(!spec.deduplicate_by_email);
    }

    #[test]
    fn every_missing_required_field_is_named_in_contract_order() {
        let refused = DefinitionInput::default().into_spec().unwrap_err();
        assert_eq!(
            refused.to_string(),
            "One or more required fields are missing from this email send definition: \
             Name, EmailId, SendClassificationId, Targets"
        );
        let refused = DefinitionInput {
            name: Some("  ".into()),
            email_id: None,
            ..complete()
        }
        .into_spec()
        .unwrap_err();
        assert_eq!(
            refused,
            DefinitionError::MissingFields(vec![RequiredField::Name, RequiredField::EmailId])
        );
        assert!(
            refused.to_string().ends_with(": Name, EmailId"),
            "{refused}"
        );
    }

    #[test]
    fn an_empty_target_list_or_blank_classification_counts_as_missing() {
        let refused = DefinitionInput {
            send_classification: Some(String::new()),
            targets: Some(vec![]),
            ..complete()
        }
        .into_spec()
        .unwrap_err();
        assert_eq!(
            refused,
            DefinitionError::MissingFields(vec![
                RequiredField::SendClassificationId,
                RequiredField::Targets
            ])
        );
    }

    #[test]
    fn a_bad_target_or_exclusion_is_named_by_its_place() {
        let mut bad = complete();
        bad.targets = Some(vec![
            report("00O000000000001"),
            TargetInput {
                target_type: Some("List".into()),
                ..report("00O000000000002")
            },
        ]);
        assert_eq!(
            bad.into_spec().unwrap_err().to_string(),
            "Targets[1]: Type \"List\" is not supported: use Report or Campaign"
        );
        let mut bad = complete();
        bad.exclusions = Some(vec![report("nope")]);
        assert!(
            bad.into_spec()
                .unwrap_err()
                .to_string()
                .starts_with("Exclusions[0]: Id \"nope\""),
        );
    }

    #[test]
    fn values_out_of_range_are_refused() {
        let mut bad = complete();
        bad.email_id = Some(0);
        assert_eq!(bad.into_spec(), Err(DefinitionError::EmailId(0)));
        let mut bad = complete();
        bad.name = Some("n".repeat(MAX_NAME + 1));
        assert_eq!(
            bad.into_spec(),
            Err(DefinitionError::NameTooLong(MAX_NAME + 1))
        );
        let mut bad = complete();
        bad.description = Some("d".repeat(MAX_DESCRIPTION + 1));
        assert_eq!(
            bad.into_spec(),
            Err(DefinitionError::DescriptionTooLong(MAX_DESCRIPTION + 1))
        );
    }

    #[test]
    fn an_update_changes_only_what_it_gives() {
        let changes = DefinitionInput {
            name: Some("Renamed".into()),
            exclusions: Some(vec![]),
            ..DefinitionInput::default()
        }
        .into_changes()
        .unwrap();
        assert_eq!(
            changes,
            DefinitionChanges {
                name: Some("Renamed".into()),
                exclusions: Some(vec![]),
                ..DefinitionChanges::default()
            }
        );
    }

    #[test]
    fn an_update_cannot_blank_a_required_field_or_change_nothing() {
        let refused = DefinitionInput {
            name: Some(String::new()),
            targets: Some(vec![]),
            ..DefinitionInput::default()
        }
        .into_changes()
        .unwrap_err();
        assert_eq!(
            refused,
            DefinitionError::MissingFields(vec![RequiredField::Name, RequiredField::Targets])
        );
        assert_eq!(
            DefinitionInput::default().into_changes(),
            Err(DefinitionError::NothingToChange)
        );
    }
}
