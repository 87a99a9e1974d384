//! Response bodies. Ids are strings of digits; `SyncId` and `JobId` are numbers, -1
//! until they exist; times are RFC 3339 in UTC; every body says `IsError`.

use std::fmt;

use herald_domain::paging::PageRequest;
use herald_domain::send::counts::SendCounts;
use herald_domain::send::message::{self, Verb};
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::Target;
use herald_store::{SendDefinition, SendInstance, SendPage};

use super::results::StatisticsView;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A business error, answered with HTTP 200:
/// `{"IsError":true,"Message":"Error <verb> integrated send definition: <detail>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Failure {
    is_error: bool,
    message: String,
}

impl Failure {
    pub fn new(verb: Verb, detail: impl fmt::Display) -> Self {
        Failure::from_message(message::failure(verb, detail))
    }

    /// The failure with a message already whole.
    pub fn from_message(message: String) -> Self {
        Failure {
            is_error: true,
            message,
        }
    }
}

/// Create Definition: `{"DefinitionId","InstanceId"?,"IsError":false}`; `InstanceId`
/// only when the create scheduled too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created {
    definition_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<String>,
    is_error: bool,
}

impl Created {
    pub fn new(definition: &SendDefinition, instance: Option<&SendInstance>) -> Self {
        Created {
            definition_id: definition.id.to_string(),
            instance_id: instance.map(|instance| instance.id.to_string()),
            is_error: false,
        }
    }
}

/// Update and Delete Definition: `{"IsError":false}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Done {
    is_error: bool,
}

impl Done {
    pub fn new() -> Self {
        Done { is_error: false }
    }
}

impl Default for Done {
    fn default() -> Self {
        Self::new()
    }
}

/// Schedule Send: `{"InstanceId","IsError":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Scheduled {
    instance_id: String,
    is_error: bool,
}

impl Scheduled {
    pub fn new(instance: &SendInstance) -> Self {
        Scheduled {
            instance_id: instance.id.to_string(),
            is_error: false,
        }
    }
}

/// Search Definitions: `{"Count","Page","PageSize","Definitions":[…],"IsError":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefinitionList {
    count: i64,
    page: u32,
    page_size: u32,
    definitions: Vec<DefinitionSummary>,
    is_error: bool,
}

impl DefinitionList {
    pub fn new(page: PageRequest, found: &SendPage<SendDefinition>) -> Self {
        DefinitionList {
            count: found.count,
            page: page.page,
            page_size: page.page_size,
            definitions: found.items.iter().map(DefinitionSummary::from).collect(),
            is_error: false,
        }
    }
}

/// One search result: `{"DefinitionId","ExternalKey","Name"}` (`Name` is a Herald
/// addition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefinitionSummary {
    definition_id: String,
    external_key: String,
    name: String,
}

impl From<&SendDefinition> for DefinitionSummary {
    fn from(definition: &SendDefinition) -> Self {
        DefinitionSummary {
            definition_id: definition.id.to_string(),
            external_key: definition.external_key.clone(),
            name: definition.name.clone(),
        }
    }
}

/// Get Definition: `{"EmailDefinition":{…},"IsError":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefinitionFound {
    email_definition: DefinitionView,
    is_error: bool,
}

impl DefinitionFound {
    pub fn new(definition: &SendDefinition) -> Self {
        DefinitionFound {
            email_definition: DefinitionView::from(definition),
            is_error: false,
        }
    }
}

/// A definition as Get Definition shows it: the create body's fields, with the
/// classification as its id (digits) whichever way it was named, plus its ids and dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefinitionView {
    definition_id: String,
    external_key: String,
    name: String,
    description: String,
    email_id: i64,
    send_classification_id: String,
    targets: Vec<TargetView>,
    exclusions: Vec<TargetView>,
    deduplicate_by_email: bool,
    created_date: String,
    modified_date: String,
}

impl From<&SendDefinition> for DefinitionView {
    fn from(definition: &SendDefinition) -> Self {
        DefinitionView {
            definition_id: definition.id.to_string(),
            external_key: definition.external_key.clone(),
            name: definition.name.clone(),
            description: definition.description.clone(),
            email_id: definition.email_id,
            send_classification_id: definition.send_classification_id.to_string(),
            targets: definition.targets.iter().map(TargetView::from).collect(),
            exclusions: definition.exclusions.iter().map(TargetView::from).collect(),
            deduplicate_by_email: definition.deduplicate_by_email,
            created_date: wire_time(definition.created_at),
            modified_date: wire_time(definition.modified_at),
        }
    }
}

/// `{"Type","Name","Id"}`, the id in its 18-character form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetView {
    #[serde(rename = "Type")]
    target_type: &'static str,
    name: String,
    id: String,
}

impl From<&Target> for TargetView {
    fn from(target: &Target) -> Self {
        TargetView {
            target_type: target.target_type.as_str(),
            name: target.name.clone(),
            id: target.id.to_string(),
        }
    }
}

/// Get Instance Status (and the answer to cancel, pause and resume):
/// `{"Status",…,"IsError":false}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceStatusResponse {
    #[serde(flatten)]
    instance: InstanceView,
    /// Herald's engagement statistics (Get Instance Status only).
    #[serde(skip_serializing_if = "Option::is_none")]
    statistics: Option<StatisticsView>,
    is_error: bool,
}

impl InstanceStatusResponse {
    pub fn new(instance: &SendInstance) -> Self {
        InstanceStatusResponse {
            instance: InstanceView::from(instance),
            statistics: None,
            is_error: false,
        }
    }

    /// The response with the instance's engagement statistics.
    pub fn with_statistics(self, statistics: StatisticsView) -> Self {
        InstanceStatusResponse {
            statistics: Some(statistics),
            ..self
        }
    }
}

/// An instance: `Status` (the contract's field) and Herald's extras, which clients may
/// ignore. `ErrorMessage` appears only when the instance has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceView {
    instance_id: String,
    definition_id: String,
    status: InstanceStatus,
    scheduled_time: String,
    started_time: Option<String>,
    completed_time: Option<String>,
    sync_id: i64,
    job_id: i64,
    counts: CountsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

impl From<&SendInstance> for InstanceView {
    fn from(instance: &SendInstance) -> Self {
        InstanceView {
            instance_id: instance.id.to_string(),
            definition_id: instance.definition_id.to_string(),
            status: instance.status,
            scheduled_time: wire_time(instance.scheduled_at),
            started_time: instance.started_at.map(wire_time),
            completed_time: instance.completed_at.map(wire_time),
            sync_id: instance.sync_id.unwrap_or(-1),
            job_id: instance.job_id.unwrap_or(-1),
            counts: CountsView::from(instance.counts),
            error_message: instance.message.clone(),
        }
    }
}

/// `Counts`: recipients by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CountsView {
    targeted: i64,
    excluded: i64,
    suppressed: i64,
    duplicates: i64,
    sent: i64,
    deferred: i64,
    bounced: i64,
    failed: i64,
}

impl From<SendCounts> for CountsView {
    fn from(counts: SendCounts) -> Self {
        CountsView {
            targeted: counts.targeted,
            excluded: counts.excluded,
            suppressed: counts.suppressed,
            duplicates: counts.duplicates,
            sent: counts.sent,
            deferred: counts.deferred,
            bounced: counts.bounced,
            failed: counts.failed,
        }
    }
}

/// Get Instances (all, or by definition):
/// `{"Count","Page","PageSize","Instances":[…],"IsError":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceList {
    count: i64,
    page: u32,
    page_size: u32,
    instances: Vec<InstanceView>,
    is_error: bool,
}

impl InstanceList {
    pub fn new(page: PageRequest, found: &SendPage<SendInstance>) -> Self {
        InstanceList {
            count: found.count,
            page: page.page,
            page_size: page.page_size,
            instances: found.items.iter().map(InstanceView::from).collect(),
            is_error: false,
        }
    }
}

/// A time on the wire: RFC 3339 in UTC (`2026-12-01T15:00:00Z`).
pub fn wire_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::mid::Mid;
    use herald_domain::salesforce_id::SalesforceId;
    use herald_domain::send::target::TargetType;
    use serde_json::{Value, json};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    fn definition() -> SendDefinition {
        SendDefinition {
            id: 10_000_001,
            mid: Mid::from_stored(100_000_001),
            external_key: "7b1c2d3e".into(),
            name: "Demo Definition".into(),
            description: "Spring".into(),
            email_id: 123_456,
            send_classification_id: 55,
            targets: vec![Target {
                target_type: TargetType::Report,
                name: "Contacts".into(),
                id: SalesforceId::parse("00O000000000001").unwrap(),
            }],
            exclusions: vec![],
            deduplicate_by_email: true,
            created_at: NOW,
            modified_at: NOW + time::Duration::minutes(5),
            version: 2,
        }
    }

    fn instance() -> SendInstance {
        let definition = definition();
        SendInstance {
            id: 70_000_001,
            mid: definition.mid,
            definition_id: definition.id,
            status: InstanceStatus::CancelPending,
            email_id: definition.email_id,
            send_classification_id: definition.send_classification_id,
            targets: definition.targets,
            exclusions: definition.exclusions,
            deduplicate_by_email: true,
            all_recipients_opted_in: true,
            scheduled_at: NOW,
            started_at: Some(NOW + time::Duration::seconds(1)),
            completed_at: None,
            sync_id: None,
            job_id: Some(9),
            message: None,
            counts: SendCounts {
                targeted: 10,
                sent: 4,
                ..SendCounts::default()
            },
            created_at: NOW,
            modified_at: NOW,
        }
    }

    fn wire(value: impl Serialize) -> Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn a_failure_is_is_error_and_the_upstream_message() {
        assert_eq!(
            wire(Failure::new(Verb::Deleting, "gone")),
            json!({"IsError": true, "Message": "Error deleting integrated send definition: gone"})
        );
    }

    #[test]
    fn create_shows_the_instance_id_only_when_it_scheduled() {
        let definition = definition();
        assert_eq!(
            wire(Created::new(&definition, None)),
            json!({"DefinitionId": "10000001", "IsError": false})
        );
        assert_eq!(
            wire(Created::new(&definition, Some(&instance()))),
            json!({"DefinitionId": "10000001", "InstanceId": "70000001", "IsError": false})
        );
        assert_eq!(wire(Done::new()), json!({"IsError": false}));
        assert_eq!(
            wire(Scheduled::new(&instance())),
            json!({"InstanceId": "70000001", "IsError": false})
        );
    }

    #[test]
    fn get_definition_echoes_every_field() {
        assert_eq!(
            wire(DefinitionFound::new(&definition())),
            json!({
                "EmailDefinition": {
                    "DefinitionId": "10000001",
                    "ExternalKey": "7b1c2d3e",
                    "Name": "Demo Definition",
                    "Description": "Spring",
                    "EmailId": 123456,
                    "SendClassificationId": "55",
                    "Targets": [{"Type": "Report", "Name": "Contacts", "Id": "00O000000000001EAA"}],
                    "Exclusions": [],
                    "DeduplicateByEmail": true,
                    "CreatedDate": "2026-11-26T12:00:00Z",
                    "ModifiedDate": "2026-11-26T12:05:00Z"
                },
                "IsError": false
            })
        );
    }

    #[test]
    fn search_results_carry_the_paging_and_external_keys() {
        let found = SendPage {
            count: 3,
            items: vec![definition()],
        };
        let page = PageRequest {
            page: 3,
            page_size: 1,
        };
        assert_eq!(
            wire(DefinitionList::new(page, &found)),
            json!({
                "Count": 3, "Page": 3, "PageSize": 1,
                "Definitions": [{"DefinitionId": "10000001", "ExternalKey": "7b1c2d3e", "Name": "Demo Definition"}],
                "IsError": false
            })
        );
    }

    #[test]
    fn instance_status_has_the_status_and_the_extras_with_minus_one_for_missing_ids() {
        assert_eq!(
            wire(InstanceStatusResponse::new(&instance())),
            json!({
                "InstanceId": "70000001",
                "DefinitionId": "10000001",
                "Status": "Cancel Pending",
                "ScheduledTime": "2026-11-26T12:00:00Z",
                "StartedTime": "2026-11-26T12:00:01Z",
                "CompletedTime": null,
                "SyncId": -1,
                "JobId": 9,
                "Counts": {
                    "Targeted": 10, "Excluded": 0, "Suppressed": 0, "Duplicates": 0,
                    "Sent": 4, "Deferred": 0, "Bounced": 0, "Failed": 0
                },
                "IsError": false
            })
        );
        let mut failed = instance();
        failed.status = InstanceStatus::Error;
        failed.message = Some("the email 123456 no longer exists".into());
        let view = wire(InstanceView::from(&failed));
        assert_eq!(view["Status"], "Error");
        assert_eq!(view["ErrorMessage"], "the email 123456 no longer exists");
    }

    #[test]
    fn instance_lists_carry_the_paging() {
        let found = SendPage {
            count: 1,
            items: vec![instance()],
        };
        let page = PageRequest {
            page: 1,
            page_size: 50,
        };
        let list = wire(InstanceList::new(page, &found));
        assert_eq!(list["Count"], 1);
        assert_eq!(list["PageSize"], 50);
        assert_eq!(list["Instances"][0]["InstanceId"], "70000001");
        assert!(list["Instances"][0].get("IsError").is_none());
        assert_eq!(list["IsError"], false);
    }

    #[test]
    fn times_are_written_in_utc() {
        let chicago = datetime!(2026-12-01 09:00 -06:00);
        assert_eq!(wire_time(chicago), "2026-12-01T15:00:00Z");
        assert_eq!(
            wire_time(datetime!(2026-12-01 09:00:00.25 UTC)),
            "2026-12-01T09:00:00.25Z"
        );
    }
}
