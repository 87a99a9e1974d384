//! The CRM connector the engine reads audiences through, over the built-in CRM, and the
//! demo audience. Both backends.

mod common;
mod crm_support;

use std::collections::HashSet;

use common::{TestApp, spawn_app};
use crm_support::Client;
use futures_util::TryStreamExt;
use herald::crm::CrmError;
use herald_domain::clock::Clock;
use herald_domain::crm::{
    Condition, CrmObject, CrmRecord, FieldInput, Logic, RecordChanges, ReportFilter, TargetRef,
};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{CampaignDefinition, Campaigns, MatchOn, ReportDefinition, Reports, RowOutcome};
use herald_test_support::{Db, backend_tests};
use serde_json::json;

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

/// Loads `count` contacts into `mid`; contact `n` has `Tier__c` = `n % 4`.
async fn load_contacts(app: &TestApp, mid: Mid, count: usize) -> Vec<SalesforceId> {
    let mut ids = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(2000) {
        let rows = batch
            .iter()
            .map(|n| {
                let mut changes = RecordChanges::default();
                let email = format!("person{n}@example.com");
                changes.set("Email", FieldInput::Text(&email)).unwrap();
                changes
                    .set("FirstName", FieldInput::Text(&format!("P{n}")))
                    .unwrap();
                changes
                    .set("Tier__c", FieldInput::Number(&(n % 4).to_string()))
                    .unwrap();
                changes
            })
            .collect();
        let outcomes = app
            .state
            .store
            .upsert_records(
                mid,
                CrmObject::Contact,
                MatchOn::Email,
                rows,
                app.clock.now(),
            )
            .await
            .unwrap();
        for outcome in outcomes {
            let RowOutcome::Created(id) = outcome else {
                panic!("{outcome:?}")
            };
            ids.push(id);
        }
    }
    ids
}

async fn all_members(
    app: &TestApp,
    mid: Mid,
    target: TargetRef,
) -> Result<Vec<CrmRecord>, CrmError> {
    app.state.crm.members(mid, target).try_collect().await
}

/// Ids in stream order, asserting none repeats.
fn ids_once(records: &[CrmRecord]) -> Vec<SalesforceId> {
    let ids: Vec<SalesforceId> = records.iter().map(|record| record.id).collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "a member came twice"
    );
    ids
}

async fn a_report_of_thousands_streams_each_matching_record_exactly_once(app: TestApp) {
    let mid = app.first_mid();
    // 4,000 contacts: the 3,000 outside tier 2 fill exactly six pages of 500.
    let ids = load_contacts(&app, mid, 4000).await;
    let known = app
        .state
        .store
        .custom_fields(mid, CrmObject::Contact)
        .await
        .unwrap();
    let filter = ReportFilter::new(
        Logic::And,
        vec![Condition::parse("Tier__c", "notEquals", Some("2")).unwrap()],
    )
    .unwrap()
    .resolve(CrmObject::Contact, &known)
    .unwrap();
    let report = app
        .state
        .store
        .create_target(
            Reports,
            mid,
            ReportDefinition {
                name: "Not tier 2".into(),
                object: CrmObject::Contact,
                filter,
            },
            app.clock.now(),
        )
        .await
        .unwrap();
    let target = TargetRef::report(report.id);
    let records = all_members(&app, mid, target).await.unwrap();
    let expected: Vec<SalesforceId> = ids
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 4 != 2)
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(expected.len(), 3000);
    assert_eq!(ids_once(&records), expected);
    let sample = &records[1];
    assert_eq!(sample.email.as_str(), "person1@example.com");
    assert_eq!(sample.first_name.as_deref(), Some("P1"));
    assert_eq!(sample.custom["Tier__c"], "1");
    let info = app.state.crm.target(mid, target).await.unwrap().unwrap();
    assert_eq!(info.name, "Not tier 2");
    let fields = app.state.crm.fields(mid, target).await.unwrap();
    assert_eq!(fields.last().map(String::as_str), Some("Tier__c"));
}

async fn a_campaign_streams_its_members_across_a_partial_last_page(app: TestApp) {
    let mid = app.first_mid();
    let ids = load_contacts(&app, mid, 2600).await;
    let lead = app
        .state
        .store
        .create_record(
            mid,
            CrmObject::Lead,
            {
                let mut changes = RecordChanges::default();
                changes
                    .set("Email", FieldInput::Text("lead@example.com"))
                    .unwrap();
                changes
            },
            app.clock.now(),
        )
        .await
        .unwrap()
        .record
        .id;
    let mut chosen: Vec<SalesforceId> = ids.iter().copied().skip(3).step_by(2).collect();
    chosen.push(lead);
    let campaign = app
        .state
        .store
        .create_target(
            Campaigns,
            mid,
            CampaignDefinition {
                name: "Odd ones".into(),
                description: None,
            },
            app.clock.now(),
        )
        .await
        .unwrap();
    app.state
        .store
        .add_campaign_members(mid, campaign.id, &chosen, app.clock.now())
        .await
        .unwrap();
    let records = all_members(&app, mid, TargetRef::campaign(campaign.id))
        .await
        .unwrap();
    assert_eq!(records.len(), 1300);
    // Contacts (003…) come before leads (00Q…) in id order.
    assert_eq!(ids_once(&records), chosen);
    assert_eq!(records.last().unwrap().object, CrmObject::Lead);
}

async fn unknown_targets_and_records_are_errors_not_empty_audiences(app: TestApp) {
    let mid = app.first_mid();
    let crm = Client::new(&app).await;
    let id = crm
        .create("contacts", json!({"Email": "a@example.com"}))
        .await;
    let id = SalesforceId::parse(&id).unwrap();
    let (_, campaign) = crm.post("crm/v1/campaigns", &json!({"name": "C"})).await;
    let campaign =
        TargetRef::campaign(SalesforceId::parse(campaign["id"].as_str().unwrap()).unwrap());
    let other = app.other_account().await;
    assert_eq!(app.state.crm.target(other, campaign).await.unwrap(), None);
    let error = all_members(&app, other, campaign).await.unwrap_err();
    assert!(
        matches!(error, CrmError::UnknownTarget(target) if target == campaign),
        "{error}"
    );
    assert!(matches!(
        app.state.crm.fields(other, campaign).await,
        Err(CrmError::UnknownTarget(_))
    ));
    assert!(all_members(&app, mid, campaign).await.unwrap().is_empty());
    assert!(matches!(
        app.state.crm.set_opted_out(other, id, true).await,
        Err(CrmError::UnknownRecord(unknown)) if unknown == id
    ));
    app.state.crm.set_opted_out(mid, id, true).await.unwrap();
    let (_, record) = crm.get(&format!("crm/v1/contacts/{id}")).await;
    assert_eq!(record["HasOptedOutOfEmail"], true);
}

async fn the_demo_audience_has_contacts_leads_a_report_and_a_campaign(app: TestApp) {
    let mid = app.other_account().await;
    herald::crm::demo::seed(app.state.store.as_ref(), mid, app.clock.now())
        .await
        .unwrap();
    let crm = Client::with_scopes(&app, mid, "").await;
    let (_, contacts) = crm.get("crm/v1/contacts?pageSize=500").await;
    let (_, leads) = crm.get("crm/v1/leads").await;
    assert_eq!(
        (contacts["count"].clone(), leads["count"].clone()),
        (json!(30), json!(20))
    );
    let first = &contacts["items"][0];
    assert_eq!(first["Email"], "ada.lovelace@demo.herald.example");
    assert_eq!(first["Company__c"], "Demo Co");
    let opted_out = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| record["HasOptedOutOfEmail"] == true)
        .count();
    assert!((1..10).contains(&opted_out), "{opted_out}");
    let (_, targets) = crm.get("crm/v1/targets").await;
    let summary: Vec<(String, String, i64)> = targets["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap().to_owned(),
                t["name"].as_str().unwrap().to_owned(),
                t["memberCount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Report".to_owned(), "Contacts at Demo Co".to_owned(), 10),
            ("Campaign".to_owned(), "Demo Launch".to_owned(), 10),
        ]
    );
}

backend_tests!(setup =>
    a_report_of_thousands_streams_each_matching_record_exactly_once,
    a_campaign_streams_its_members_across_a_partial_last_page,
    unknown_targets_and_records_are_errors_not_empty_audiences,
    the_demo_audience_has_contacts_leads_a_report_and_a_campaign,
);
