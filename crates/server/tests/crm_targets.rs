//! `/crm/v1/reports`, `/crm/v1/campaigns` and `/crm/v1/targets`, on both backends.

mod common;
mod crm_support;

use common::{TestApp, spawn_app};
use crm_support::{Client, error_message};
use herald_test_support::{Db, backend_tests};
use serde_json::{Value, json};

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

const STANDARD_FIELDS: [&str; 6] = [
    "Id",
    "Email",
    "FirstName",
    "LastName",
    "HasOptedOutOfEmail",
    "ExternalId",
];

/// Five contacts, three at Acme (one opted out), and a lead with its own custom field.
async fn audience(crm: &Client<'_>) -> Vec<String> {
    let records = json!([
        {"Email": "ann@acme.example", "FirstName": "Ann", "Company__c": "Acme"},
        {"Email": "bob@acme.example", "FirstName": "Bob", "Company__c": "ACME"},
        {"Email": "cid@acme.example", "FirstName": "Cid", "Company__c": "Acme", "HasOptedOutOfEmail": true},
        {"Email": "dee@beta.example", "FirstName": "Dee", "Company__c": "Beta"},
        {"Email": "eve@example.com", "FirstName": "Eve"},
    ]);
    let (status, answer) = crm
        .post(
            "crm/v1/contacts/bulk",
            &json!({"matchOn": "Email", "records": records}),
        )
        .await;
    assert_eq!(status, 200);
    crm.create(
        "leads",
        json!({"Email": "lee@example.com", "Source__c": "Web"}),
    )
    .await;
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["id"].as_str().unwrap().to_owned())
        .collect()
}

fn emails(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["Email"].as_str().unwrap())
        .collect()
}

async fn a_report_selects_records_by_its_conditions_and_previews_them(app: TestApp) {
    let crm = Client::new(&app).await;
    audience(&crm).await;
    let (status, report) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "Acme, still subscribed", "object": "Contact", "logic": "and",
            "conditions": [
                {"field": "company__c", "operator": "equals", "value": "acme"},
                {"field": "HasOptedOutOfEmail", "operator": "equals", "value": false},
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let id = report["id"].as_str().unwrap();
    assert!(id.starts_with("00O"));
    assert_eq!(
        report["conditions"][0],
        json!({"field": "Company__c", "operator": "equals", "value": "acme"})
    );
    assert_eq!(report["conditions"][1]["value"], "false");
    let (_, read) = crm.get(&format!("crm/v1/reports/{}", &id[..15])).await;
    assert_eq!(read["memberCount"], 2);
    assert_eq!(read["name"], "Acme, still subscribed");
    let (status, members) = crm
        .get(&format!("crm/v1/reports/{id}/members?pageSize=1&page=2"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (members["count"].clone(), members["pageSize"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(emails(&members), ["bob@acme.example"]);
    assert_eq!(members["items"][0]["Company__c"], "ACME");
    let (_, fields) = crm.get(&format!("crm/v1/reports/{id}/fields")).await;
    let mut expected: Vec<&str> = STANDARD_FIELDS.to_vec();
    expected.push("Company__c");
    assert_eq!(fields, json!({"fields": expected}));
    let (status, body) = crm
        .get(&format!("crm/v1/reports/{id}/members?page=0"))
        .await;
    error_message(status, &body, 400, 10003);
}

async fn or_logic_and_every_operator_shape_are_accepted(app: TestApp) {
    let crm = Client::new(&app).await;
    audience(&crm).await;
    let (status, report) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "Either", "object": "contact", "logic": "OR", "conditions": [
                {"field": "Company__c", "operator": "isEmpty"},
                {"field": "FirstName", "operator": "startsWith", "value": "d"},
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(
        (report["object"].clone(), report["logic"].clone()),
        (json!("Contact"), json!("or"))
    );
    assert_eq!(report["conditions"][0]["value"], Value::Null);
    let id = report["id"].as_str().unwrap();
    let (_, members) = crm.get(&format!("crm/v1/reports/{id}/members")).await;
    assert_eq!(emails(&members), ["dee@beta.example", "eve@example.com"]);
}

async fn a_report_on_an_unknown_field_is_refused_naming_it_and_the_known_fields(app: TestApp) {
    let crm = Client::new(&app).await;
    audience(&crm).await;
    let (status, body) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "Typo", "object": "Contact", "conditions": [
                {"field": "Compny__c", "operator": "equals", "value": "Acme"}]}),
        )
        .await;
    let message = error_message(status, &body, 400, 10003);
    assert!(message.contains("\"Compny__c\""), "{message}");
    assert!(message.contains("Email, FirstName"), "{message}");
    assert!(message.contains("Company__c"), "{message}");
    // A lead's field is not a contact's.
    let (status, body) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "Wrong object", "object": "Contact", "conditions": [
                {"field": "Source__c", "operator": "isNotEmpty"}]}),
        )
        .await;
    error_message(status, &body, 400, 10003);
    assert_eq!(app.count("crm_reports").await, 0);
}

async fn bad_operators_logic_objects_values_and_names_are_refused(app: TestApp) {
    let crm = Client::new(&app).await;
    let condition = |field: &str, operator: &str, value: Value| json!({"name": "R", "object": "Contact", "conditions": [{"field": field, "operator": operator, "value": value}]});
    let cases = [
        (
            condition("Email", "like", json!("a")),
            10003,
            "unknown operator \"like\"",
        ),
        (
            condition("Email", "contains", json!("")),
            10003,
            "needs a value",
        ),
        (
            condition("Email", "isEmpty", json!("x")),
            10003,
            "takes no value",
        ),
        (
            condition("Email", "equals", json!(["a"])),
            10003,
            "conditions[0].value",
        ),
        (
            condition("HasOptedOutOfEmail", "contains", json!("t")),
            10003,
            "true or false",
        ),
        (
            condition("Id", "equals", json!("003000000000001AAB")),
            10003,
            "valid 15- or 18-character id",
        ),
        (
            condition("Phone", "equals", json!("1")),
            10003,
            "unknown field \"Phone\"",
        ),
        (
            json!({"name": "R", "object": "Contact", "logic": "xor"}),
            10003,
            "unknown logic",
        ),
        (
            json!({"name": "R", "object": "Account"}),
            10003,
            "Contact, Lead",
        ),
        (json!({"name": "R"}), 10002, "object"),
        (json!({"object": "Contact"}), 10002, "name"),
        (
            json!({"name": " ", "object": "Contact"}),
            10003,
            "name cannot be empty",
        ),
        (
            json!({"name": "A\r\nB", "object": "Contact"}),
            10003,
            "line breaks",
        ),
        (
            json!({"name": "R", "object": "Contact", "filter": []}),
            10001,
            "filter",
        ),
        (
            json!({"name": "R", "object": "Contact", "conditions": [{"field": "Email"}]}),
            10002,
            "operator",
        ),
    ];
    for (body, errorcode, expected) in cases {
        let (status, answer) = crm.post("crm/v1/reports", &body).await;
        let message = error_message(status, &answer, 400, errorcode);
        assert!(message.contains(expected), "{message} / {expected}");
    }
    let many = vec![json!({"field": "Email", "operator": "contains", "value": "a"}); 21];
    let (status, answer) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "R", "object": "Contact", "conditions": many}),
        )
        .await;
    error_message(status, &answer, 400, 10003);
    assert_eq!(app.count("crm_reports").await, 0);
    assert_eq!(app.count("crm_report_conditions").await, 0);
}

async fn a_report_can_be_changed_checked_as_a_whole_and_deleted(app: TestApp) {
    let crm = Client::new(&app).await;
    audience(&crm).await;
    let (_, report) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "Acme", "object": "Contact", "conditions": [
                {"field": "Company__c", "operator": "equals", "value": "Acme"}]}),
        )
        .await;
    let path = format!("crm/v1/reports/{}", report["id"].as_str().unwrap());
    let (status, renamed) = crm.patch(&path, &json!({"name": "Acme people"})).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["conditions"], report["conditions"]);
    // The Contact field does not exist on Lead: the whole report is refused.
    let (status, body) = crm.patch(&path, &json!({"object": "Lead"})).await;
    let message = error_message(status, &body, 400, 10003);
    assert!(message.contains("on Lead"), "{message}");
    let (status, leads) = crm
        .patch(
            &path,
            &json!({"object": "Lead", "conditions": [], "logic": "or"}),
        )
        .await;
    assert_eq!(status, 200, "{leads}");
    let (_, read) = crm.get(&path).await;
    assert_eq!(
        (read["object"].clone(), read["memberCount"].clone()),
        (json!("Lead"), json!(1))
    );
    assert_eq!(read["name"], "Acme people");
    let (status, deleted) = crm.delete(&path).await;
    assert_eq!((status, deleted["deleted"].clone()), (200, json!(true)));
    assert_eq!(crm.get(&path).await.0, 404);
    assert_eq!(crm.delete(&path).await.0, 404);
    assert_eq!(app.count("crm_report_conditions").await, 0);
}

async fn campaigns_collect_contacts_and_leads(app: TestApp) {
    let crm = Client::new(&app).await;
    let contacts = audience(&crm).await;
    let lead = crm
        .create("leads", json!({"Email": "lead2@example.com"}))
        .await;
    let (status, campaign) = crm
        .post(
            "crm/v1/campaigns",
            &json!({"name": "Spring", "description": "Launch\nmail"}),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap();
    assert!(id.starts_with("701"));
    let members_path = format!("crm/v1/campaigns/{}/members", &id[..15]);
    let ids = json!({"ids": [&contacts[0][..15], contacts[3], lead, contacts[0]]});
    let (status, added) = crm.post(&members_path, &ids).await;
    assert_eq!(
        (status, added),
        (200, json!({"added": 3, "memberCount": 3}))
    );
    let (_, again) = crm
        .post(&members_path, &json!({"ids": [contacts[3]]}))
        .await;
    assert_eq!(again, json!({"added": 0, "memberCount": 3}));
    let (_, members) = crm.get(&members_path).await;
    assert_eq!(
        emails(&members),
        ["ann@acme.example", "dee@beta.example", "lead2@example.com"]
    );
    assert_eq!(members["items"][2]["attributes"]["type"], "Lead");
    let (_, read) = crm.get(&format!("crm/v1/campaigns/{id}")).await;
    assert_eq!(read["memberCount"], 3);
    assert_eq!(read["description"], "Launch\nmail");
    let (_, fields) = crm.get(&format!("crm/v1/campaigns/{id}/fields")).await;
    let mut expected: Vec<&str> = STANDARD_FIELDS.to_vec();
    expected.extend(["Company__c", "Source__c"]);
    assert_eq!(fields, json!({"fields": expected}));
    let (status, removed) = crm
        .delete_with(&members_path, &json!({"ids": [contacts[0], contacts[1]]}))
        .await;
    assert_eq!(
        (status, removed),
        (200, json!({"removed": 1, "memberCount": 2}))
    );
    let (status, changed) = crm
        .patch(
            &format!("crm/v1/campaigns/{id}"),
            &json!({"description": null}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["name"].clone(), changed["description"].clone()),
        (json!("Spring"), Value::Null)
    );
    let (_, listed) = crm.get("crm/v1/campaigns").await;
    assert_eq!(listed["count"], 1);
    let (status, _) = crm.delete(&format!("crm/v1/campaigns/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(app.count("crm_campaign_members").await, 0);
    assert_eq!(app.count("crm_records").await, 7);
}

async fn campaign_members_must_be_valid_ids_of_this_accounts_records(app: TestApp) {
    let crm = Client::new(&app).await;
    let contact = crm
        .create("contacts", json!({"Email": "a@example.com"}))
        .await;
    let other_mid = app.other_account().await;
    let other = Client::with_scopes(&app, other_mid, "").await;
    let foreign = other
        .create("contacts", json!({"Email": "b@example.com"}))
        .await;
    let (_, campaign) = crm.post("crm/v1/campaigns", &json!({"name": "C"})).await;
    let path = format!(
        "crm/v1/campaigns/{}/members",
        campaign["id"].as_str().unwrap()
    );
    let (status, body) = crm.post(&path, &json!({"ids": [contact, foreign]})).await;
    let message = error_message(status, &body, 400, 10003);
    assert!(
        message.contains(&foreign) && !message.contains(&contact),
        "{message}"
    );
    let (status, body) = crm
        .post(&path, &json!({"ids": ["003000000000001AAB"]}))
        .await;
    let message = error_message(status, &body, 400, 10003);
    assert!(message.starts_with("ids[0]:"), "{message}");
    let (status, body) = crm.post(&path, &json!({"ids": "x"})).await;
    error_message(status, &body, 400, 10001);
    let too_many = vec![contact.clone(); 10_001];
    let (status, body) = crm.post(&path, &json!({"ids": too_many})).await;
    error_message(status, &body, 400, 10003);
    assert_eq!(app.count("crm_campaign_members").await, 0);
    assert_eq!(other.post(&path, &json!({"ids": [foreign]})).await.0, 404);
    assert_eq!(other.get(&path).await.0, 404);
    assert_eq!(
        other.delete_with(&path, &json!({"ids": [foreign]})).await.0,
        404
    );
    assert_eq!(app.count("crm_campaign_members").await, 0);
}

async fn targets_list_reports_then_campaigns_with_member_counts(app: TestApp) {
    let crm = Client::new(&app).await;
    let contacts = audience(&crm).await;
    let (_, campaign) = crm.post("crm/v1/campaigns", &json!({"name": "Two"})).await;
    let campaign_id = campaign["id"].as_str().unwrap();
    crm.post(
        &format!("crm/v1/campaigns/{campaign_id}/members"),
        &json!({"ids": [contacts[0], contacts[1]]}),
    )
    .await;
    let (_, report) = crm
        .post(
            "crm/v1/reports",
            &json!({"name": "All leads", "object": "Lead"}),
        )
        .await;
    let (status, targets) = crm.get("crm/v1/targets").await;
    assert_eq!(status, 200);
    assert_eq!(targets["count"], 2);
    assert_eq!(
        targets["items"],
        json!([
            {"type": "Report", "id": report["id"], "name": "All leads", "memberCount": 1},
            {"type": "Campaign", "id": campaign_id, "name": "Two", "memberCount": 2},
        ])
    );
    let (_, second) = crm.get("crm/v1/targets?page=2&pageSize=1").await;
    assert_eq!(second["items"][0]["type"], "Campaign");
    let (status, body) = crm.get("crm/v1/targets?pageSize=1000").await;
    error_message(status, &body, 400, 10003);
    let other_mid = app.other_account().await;
    let other = Client::with_scopes(&app, other_mid, "list_and_subscribers_read").await;
    assert_eq!(other.get("crm/v1/targets").await.1["count"], 0);
}

async fn another_accounts_reports_and_campaigns_do_not_exist(app: TestApp) {
    let crm = Client::new(&app).await;
    let (_, report) = crm
        .post("crm/v1/reports", &json!({"name": "R", "object": "Contact"}))
        .await;
    let (_, campaign) = crm.post("crm/v1/campaigns", &json!({"name": "C"})).await;
    let other_mid = app.other_account().await;
    let other = Client::with_scopes(&app, other_mid, "").await;
    for base in [
        format!("crm/v1/reports/{}", report["id"].as_str().unwrap()),
        format!("crm/v1/campaigns/{}", campaign["id"].as_str().unwrap()),
    ] {
        for path in [
            base.clone(),
            format!("{base}/members"),
            format!("{base}/fields"),
        ] {
            let (status, body) = other.get(&path).await;
            error_message(status, &body, 404, 10005);
        }
        assert_eq!(other.patch(&base, &json!({"name": "Mine"})).await.0, 404);
        assert_eq!(other.delete(&base).await.0, 404);
        let (_, mine) = crm.get(&base).await;
        assert_eq!(mine["name"].as_str().unwrap().len(), 1);
    }
    // A campaign id is not a report id, and unknown ids are not found.
    let campaign_as_report = format!("crm/v1/reports/{}", campaign["id"].as_str().unwrap());
    assert_eq!(crm.get(&campaign_as_report).await.0, 404);
    assert_eq!(crm.get("crm/v1/campaigns/701000000000999").await.0, 404);
    let (status, body) = crm.get("crm/v1/reports/00O000000000001AAA").await;
    error_message(status, &body, 400, 10003);
}

async fn writing_reports_and_campaigns_needs_the_crm_write_scope(app: TestApp) {
    let reader = Client::with_scopes(&app, app.first_mid(), "list_and_subscribers_read").await;
    let (status, body) = reader.post("crm/v1/campaigns", &json!({"name": "C"})).await;
    error_message(status, &body, 403, 20002);
    let (status, body) = reader
        .post("crm/v1/reports", &json!({"name": "R", "object": "Lead"}))
        .await;
    error_message(status, &body, 403, 20002);
    let none = Client::with_scopes(&app, app.first_mid(), "email_write").await;
    assert_eq!(none.get("crm/v1/targets").await.0, 403);
    assert_eq!(none.get("crm/v1/reports").await.0, 403);
    assert_eq!(app.count("crm_campaigns").await, 0);
    assert_eq!(app.count("crm_reports").await, 0);
}

async fn campaign_names_are_checked(app: TestApp) {
    let crm = Client::new(&app).await;
    let cases = [
        (json!({"name": "A\nB"}), 10003),
        (json!({"name": "x".repeat(81)}), 10003),
        (json!({"name": "C", "description": "a\u{0}b"}), 10003),
        (json!({"description": "no name"}), 10002),
        (json!({"name": 5}), 10001),
    ];
    for (body, errorcode) in cases {
        let (status, answer) = crm.post("crm/v1/campaigns", &body).await;
        error_message(status, &answer, 400, errorcode);
    }
    assert_eq!(app.count("crm_campaigns").await, 0);
}

backend_tests!(setup =>
    a_report_selects_records_by_its_conditions_and_previews_them,
    or_logic_and_every_operator_shape_are_accepted,
    a_report_on_an_unknown_field_is_refused_naming_it_and_the_known_fields,
    bad_operators_logic_objects_values_and_names_are_refused,
    a_report_can_be_changed_checked_as_a_whole_and_deleted,
    campaigns_collect_contacts_and_leads,
    campaign_members_must_be_valid_ids_of_this_accounts_records,
    targets_list_reports_then_campaigns_with_member_counts,
    another_accounts_reports_and_campaigns_do_not_exist,
    writing_reports_and_campaigns_needs_the_crm_write_scope,
    campaign_names_are_checked,
);
