//! The texts of the Send API's business errors (answered with HTTP 200 and
//! `{"IsError":true,"Message":…}`).
//!
//! Every message is `Error <verb> integrated send definition: <detail>`, as upstream
//! writes them; [`failure`] builds it from a [`Verb`] and a detail. The details that
//! upstream documents are reproduced word for word ([`definition_not_found`],
//! [`missing_fields`]); Herald's own follow their style.

use std::fmt;

use super::definition::{RequiredField, TargetList};
use super::status::{InstanceAction, InstanceStatus};
use super::target::Target;
use crate::mid::Mid;

/// What the failed request was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Create Definition.
    Creating,
    /// Get Definition, Get Instance Status, Get Instances (by definition).
    Retrieving,
    /// Update Definition.
    Updating,
    /// Delete Definition.
    Deleting,
    /// Schedule Send (and the schedule inside a create).
    Scheduling,
    /// Cancel Instance.
    Canceling,
    /// Search Definitions.
    Searching,
    /// Pause Instance (a Herald extension).
    Pausing,
    /// Resume Instance (a Herald extension).
    Resuming,
}

impl Verb {
    /// The word in the message: `creating`, `retrieving`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Creating => "creating",
            Verb::Retrieving => "retrieving",
            Verb::Updating => "updating",
            Verb::Deleting => "deleting",
            Verb::Scheduling => "scheduling",
            Verb::Canceling => "canceling",
            Verb::Searching => "searching",
            Verb::Pausing => "pausing",
            Verb::Resuming => "resuming",
        }
    }
}

impl From<InstanceAction> for Verb {
    /// What a request of an instance is doing.
    fn from(action: InstanceAction) -> Self {
        match action {
            InstanceAction::Cancel => Verb::Canceling,
            InstanceAction::Pause => Verb::Pausing,
            InstanceAction::Resume => Verb::Resuming,
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Error <verb> integrated send definition: <detail>`.
pub fn failure(verb: Verb, detail: impl fmt::Display) -> String {
    format!("Error {verb} integrated send definition: {detail}")
}

/// Upstream's text for a definition id that does not exist for this MID. `id` is shown
/// as the client wrote it (it may not even be a number).
pub fn definition_not_found(id: &str, mid: Mid) -> String {
    format!("Unable to find a salesforce email send definition with the Id {id} for mid {mid}")
}

/// The same for an instance id (Herald's text, in upstream's style).
pub fn instance_not_found(id: &str, mid: Mid) -> String {
    format!("Unable to find a salesforce email send instance with the Id {id} for mid {mid}")
}

/// Upstream's text for missing required fields, listed in the order given.
pub fn missing_fields(fields: &[RequiredField]) -> String {
    let names: Vec<&str> = fields.iter().map(|field| field.as_str()).collect();
    format!(
        "One or more required fields are missing from this email send definition: {}",
        names.join(", ")
    )
}

/// A definition cannot be deleted while one of its instances has work ahead.
pub fn definition_in_use(instance_id: i64, status: InstanceStatus) -> String {
    format!(
        "the definition has an instance that is {status} (InstanceId {instance_id}); \
         cancel it or let it finish before deleting the definition"
    )
}

/// An update body that carries a `Schedule`: updating never schedules.
pub fn schedule_on_update() -> String {
    "an update cannot carry a Schedule: schedule the definition with \
     POST …/{definitionId}/schedule"
        .to_owned()
}

/// A classification named by id or customer key that this MID does not have.
pub fn classification_not_found(key: &str) -> String {
    format!(
        "Unable to find a send classification with the Id or customer key {key:?}: \
         SendClassificationId takes a classification's id or its customer key"
    )
}

/// An `EmailId` that names no email of this MID.
pub fn email_not_found(email_id: i64) -> String {
    format!("Unable to find an email with the EmailId {email_id}")
}

/// A target or exclusion that the CRM does not have (for this MID). `index` counts from
/// 0, as in `Targets[0]`.
pub fn target_not_found(list: TargetList, index: usize, target: &Target) -> String {
    format!(
        "{list}[{index}]: Unable to find a {} with the Id {} in the CRM",
        target.target_type, target.id
    )
}

/// The CRM could not be asked whether a target exists; nothing was changed.
pub fn crm_unavailable(list: TargetList, index: usize, target: &Target) -> String {
    format!(
        "{list}[{index}]: the CRM could not be reached to look up the {} with the Id {}; \
         try again later",
        target.target_type, target.id
    )
}

/// An instance whose status kept changing under a cancel, pause or resume (the engine
/// moved it each time the request tried): nothing was changed.
pub fn instance_busy(instance_id: &str) -> String {
    format!(
        "the send instance {instance_id} changed status while the request was applied; \
         read its status and try again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce_id::SalesforceId;
    use crate::send::target::TargetType;

    fn mid() -> Mid {
        Mid::from_stored(100_000_001)
    }

    #[test]
    fn a_failure_names_the_verb_then_the_detail() {
        assert_eq!(
            failure(Verb::Creating, "oops"),
            "Error creating integrated send definition: oops"
        );
        let verbs = [
            Verb::Creating,
            Verb::Retrieving,
            Verb::Updating,
            Verb::Deleting,
            Verb::Scheduling,
            Verb::Canceling,
            Verb::Searching,
            Verb::Pausing,
            Verb::Resuming,
        ];
        let words: Vec<&str> = verbs.iter().map(|verb| verb.as_str()).collect();
        assert_eq!(
            words,
            [
                "creating",
                "retrieving",
                "updating",
                "deleting",
                "scheduling",
                "canceling",
                "searching",
                "pausing",
                "resuming"
            ]
        );
    }

    #[test]
    fn not_found_is_upstreams_text_with_the_id_as_given() {
        assert_eq!(
            failure(Verb::Retrieving, definition_not_found("42", mid())),
            "Error retrieving integrated send definition: Unable to find a salesforce email \
             send definition with the Id 42 for mid 100000001"
        );
        assert_eq!(
            definition_not_found("abc", mid()),
            "Unable to find a salesforce email send definition with the Id abc for mid 100000001"
        );
        assert_eq!(
            instance_not_found("7", mid()),
            "Unable to find a salesforce email send instance with the Id 7 for mid 100000001"
        );
    }

    #[test]
    fn missing_fields_are_listed_comma_separated() {
        assert_eq!(
            missing_fields(&[RequiredField::Name, RequiredField::EmailId]),
            "One or more required fields are missing from this email send definition: Name, EmailId"
        );
        assert_eq!(
            missing_fields(&[RequiredField::Targets]),
            "One or more required fields are missing from this email send definition: Targets"
        );
    }

    #[test]
    fn a_definition_in_use_names_the_instance_and_its_status() {
        assert_eq!(
            definition_in_use(70_000_001, InstanceStatus::CancelPending),
            "the definition has an instance that is Cancel Pending (InstanceId 70000001); \
             cancel it or let it finish before deleting the definition"
        );
    }

    #[test]
    fn an_update_with_a_schedule_points_to_the_schedule_route() {
        assert_eq!(
            failure(Verb::Updating, schedule_on_update()),
            "Error updating integrated send definition: an update cannot carry a Schedule: \
             schedule the definition with POST …/{definitionId}/schedule"
        );
    }

    #[test]
    fn a_missing_target_is_named_by_its_place_type_and_id() {
        let target = Target {
            target_type: TargetType::Campaign,
            name: "Launch".into(),
            id: SalesforceId::parse("701000000000001").unwrap(),
        };
        assert_eq!(
            target_not_found(TargetList::Exclusions, 1, &target),
            "Exclusions[1]: Unable to find a Campaign with the Id 701000000000001AAA in the CRM"
        );
        assert!(
            crm_unavailable(TargetList::Targets, 0, &target)
                .starts_with("Targets[0]: the CRM could not be reached"),
        );
    }

    #[test]
    fn lookups_that_fail_name_what_was_asked_for() {
        assert_eq!(
            classification_not_found("Default Promo"),
            "Unable to find a send classification with the Id or customer key \"Default Promo\": \
             SendClassificationId takes a classification's id or its customer key"
        );
        assert_eq!(
            email_not_found(9),
            "Unable to find an email with the EmailId 9"
        );
    }
}
