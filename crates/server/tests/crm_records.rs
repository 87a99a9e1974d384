//! `/crm/v1/contacts` and `/crm/v1/leads`, with their bulk upserts, on both backends.

mod common;
mod crm_support;

use common::{TestApp, spawn_app};
use crm_support::{Client, error_message};
use herald_test_support::{Db, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

async fn a_contact_is_created_read_in_either_id_form_updated_and_deleted(app: TestApp) {
    let crm = Client::new(&app).await;
    let (status, created) = crm
        .post(
            "crm/v1/contacts",
            &json!({"Email": "Ann@Example.com", "FirstName": "Ann", "Company__c": "Acme",
                    "HasOptedOutOfEmail": false, "ExternalId": 42}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["Id"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("003"));
    assert_eq!(created["attributes"]["type"], "Contact");
    assert_eq!(created["Email"], "Ann@example.com");
    assert_eq!(created["LastName"], Value::Null);
    assert_eq!(created["ExternalId"], "42");
    assert_eq!(created["Company__c"], "Acme");
    assert_eq!(created["CreatedDate"], "2026-11-26T12:00:00Z");
    let (status, by_long) = crm.get(&format!("crm/v1/contacts/{id}")).await;
    assert_eq!(status, 200);
    let (_, by_short) = crm.get(&format!("crm/v1/contacts/{}", &id[..15])).await;
    assert_eq!(by_long, by_short);
    assert_eq!(by_long, created);
    let (status, updated) = crm
        .patch(
            &format!("crm/v1/contacts/{}", &id[..15]),
            &json!({"LastName": "Lee", "Company__c": null, "hasoptedoutofemail": true}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["FirstName"], "Ann");
    assert_eq!(updated["LastName"], "Lee");
    assert_eq!(updated["HasOptedOutOfEmail"], true);
    assert!(updated.get("Company__c").is_none(), "{updated}");
    let (status, deleted) = crm.delete(&format!("crm/v1/contacts/{id}")).await;
    assert_eq!((status, deleted), (200, json!({"id": id, "deleted": true})));
    let (status, _) = crm.get(&format!("crm/v1/contacts/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("crm_records").await, 0);
    assert_eq!(app.count("crm_field_values").await, 0);
}

async fn leads_live_apart_from_contacts(app: TestApp) {
    let crm = Client::new(&app).await;
    let lead = crm
        .create("leads", json!({"Email": "lead@example.com"}))
        .await;
    assert!(lead.starts_with("00Q"));
    let (_, contacts) = crm.get("crm/v1/contacts").await;
    assert_eq!(contacts["count"], 0);
    let (_, leads) = crm.get("crm/v1/leads").await;
    assert_eq!(leads["count"], 1);
    assert_eq!(leads["items"][0]["attributes"]["type"], "Lead");
    // A lead's id names no contact.
    let (status, body) = crm.get(&format!("crm/v1/contacts/{lead}")).await;
    let message = error_message(status, &body, 404, 10005);
    assert!(message.contains(&lead), "{message}");
}

async fn records_are_listed_in_pages_and_filtered_by_email(app: TestApp) {
    let crm = Client::new(&app).await;
    for name in ["ann", "bob", "cid"] {
        crm.create("contacts", json!({"Email": format!("{name}@example.com")}))
            .await;
    }
    crm.create("contacts", json!({"Email": "BOB@example.com"}))
        .await;
    let (status, page) = crm.get("crm/v1/contacts?page=2&pageSize=3").await;
    assert_eq!(status, 200);
    assert_eq!(page["count"], 4);
    assert_eq!(
        (page["page"].clone(), page["pageSize"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["Email"], "BOB@example.com");
    let (_, beyond) = crm.get("crm/v1/contacts?$page=9&$pagesize=3").await;
    assert_eq!(beyond["items"], json!([]));
    let (_, bobs) = crm.get("crm/v1/contacts?email=Bob@Example.com").await;
    assert_eq!(bobs["count"], 2);
}

async fn paging_out_of_range_and_a_bad_email_filter_are_refused(app: TestApp) {
    let crm = Client::new(&app).await;
    for query in [
        "page=0",
        "page=x",
        "pageSize=0",
        "pageSize=501",
        "email=nobody",
    ] {
        let (status, body) = crm.get(&format!("crm/v1/contacts?{query}")).await;
        error_message(status, &body, 400, 10003);
    }
}

async fn an_invalid_or_missing_email_is_refused_and_nothing_is_written(app: TestApp) {
    let crm = Client::new(&app).await;
    let (status, body) = crm
        .post("crm/v1/contacts", &json!({"FirstName": "Ann"}))
        .await;
    let message = error_message(status, &body, 400, 10003);
    assert!(message.contains("Email"), "{message}");
    for email in [
        json!("ann@localhost"),
        json!("ann"),
        json!(""),
        json!(null),
        json!(5),
    ] {
        let (status, body) = crm.post("crm/v1/contacts", &json!({"Email": email})).await;
        let message = error_message(status, &body, 400, 10003);
        assert!(message.starts_with("Email:"), "{message}");
    }
    assert_eq!(app.count("crm_records").await, 0);
    let id = crm
        .create("contacts", json!({"Email": "ann@example.com"}))
        .await;
    let (status, body) = crm
        .patch(&format!("crm/v1/contacts/{id}"), &json!({"Email": null}))
        .await;
    error_message(status, &body, 400, 10003);
    let (_, unchanged) = crm.get(&format!("crm/v1/contacts/{id}")).await;
    assert_eq!(unchanged["Email"], "ann@example.com");
}

async fn line_breaks_in_names_are_refused_and_change_nothing(app: TestApp) {
    let crm = Client::new(&app).await;
    let (status, body) = crm
        .post(
            "crm/v1/contacts",
            &json!({"Email": "ann@example.com", "FirstName": "Ann\r\nBcc: all@example.com"}),
        )
        .await;
    let message = error_message(status, &body, 400, 10003);
    assert!(message.starts_with("FirstName:"), "{message}");
    assert_eq!(app.count("crm_records").await, 0);
    let id = crm
        .create(
            "contacts",
            json!({"Email": "ann@example.com", "LastName": "Lee"}),
        )
        .await;
    let (status, body) = crm
        .patch(
            &format!("crm/v1/contacts/{id}"),
            &json!({"LastName": "Lee\nX"}),
        )
        .await;
    error_message(status, &body, 400, 10003);
    let (_, unchanged) = crm.get(&format!("crm/v1/contacts/{id}")).await;
    assert_eq!(unchanged["LastName"], "Lee");
}

async fn unknown_and_read_only_fields_wrong_types_and_bad_json_are_refused(app: TestApp) {
    let crm = Client::new(&app).await;
    let cases = [
        (
            json!({"Email": "a@example.com", "Phone": "1"}),
            "Phone: unknown field",
        ),
        (
            json!({"Email": "a@example.com", "Id": "003000000000001"}),
            "Id: this field is set by Herald",
        ),
        (
            json!({"Email": "a@example.com", "Bad Name__c": "x"}),
            "invalid custom field name",
        ),
        (
            json!({"Email": "a@example.com", "HasOptedOutOfEmail": "maybe"}),
            "expected true or false",
        ),
        (
            json!({"Email": "a@example.com", "Tags__c": ["a"]}),
            "Tags__c: expected",
        ),
        (
            json!({"Email": "a@example.com", "email": "b@example.com"}),
            "given twice",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = crm.post("crm/v1/contacts", &body).await;
        let message = error_message(status, &answer, 400, 10003);
        assert!(message.contains(expected), "{message} / {expected}");
    }
    let (status, body) = crm.post("crm/v1/contacts", &json!(["Email"])).await;
    error_message(status, &body, 400, 10001);
    let (status, body) = crm
        .send_raw(Method::POST, "crm/v1/contacts", "{\"Email\":")
        .await;
    error_message(status, &body, 400, 10004);
    assert_eq!(app.count("crm_records").await, 0);
}

async fn a_duplicate_external_id_is_a_conflict_and_changes_nothing(app: TestApp) {
    let crm = Client::new(&app).await;
    crm.create(
        "contacts",
        json!({"Email": "a@example.com", "ExternalId": "X-1"}),
    )
    .await;
    let second = crm
        .create("contacts", json!({"Email": "b@example.com"}))
        .await;
    let (status, body) = crm
        .post(
            "crm/v1/contacts",
            &json!({"Email": "c@example.com", "ExternalId": "x-1"}),
        )
        .await;
    let message = error_message(status, &body, 409, 10006);
    assert!(message.contains("ExternalId"), "{message}");
    let (status, body) = crm
        .patch(
            &format!("crm/v1/contacts/{second}"),
            &json!({"ExternalId": "X-1"}),
        )
        .await;
    error_message(status, &body, 409, 10006);
    assert_eq!(app.count("crm_records").await, 2);
    // Another object may reuse it.
    crm.create(
        "leads",
        json!({"Email": "c@example.com", "ExternalId": "X-1"}),
    )
    .await;
}

async fn unknown_ids_other_accounts_ids_and_malformed_ids_are_told_apart(app: TestApp) {
    let crm = Client::new(&app).await;
    let id = crm
        .create("contacts", json!({"Email": "a@example.com"}))
        .await;
    let other_mid = app.other_account().await;
    let other = Client::with_scopes(&app, other_mid, "").await;
    let path = format!("crm/v1/contacts/{id}");
    assert_eq!(other.get(&path).await.0, 404);
    assert_eq!(other.patch(&path, &json!({"FirstName": "X"})).await.0, 404);
    assert_eq!(other.delete(&path).await.0, 404);
    assert_eq!(other.get("crm/v1/contacts").await.1["count"], 0);
    let (_, unchanged) = crm.get(&path).await;
    assert_eq!(unchanged["FirstName"], Value::Null);
    let unknown = "003000000000999";
    assert_eq!(crm.get(&format!("crm/v1/contacts/{unknown}")).await.0, 404);
    assert_eq!(
        crm.delete(&format!("crm/v1/contacts/{unknown}")).await.0,
        404
    );
    let (status, body) = crm.get(&format!("crm/v1/contacts/{}AAB", &id[..15])).await;
    let message = error_message(status, &body, 400, 10003);
    assert!(message.contains("must be"), "{message}");
    for malformed in ["0030000000001", "003-00000000001"] {
        let (status, body) = crm.get(&format!("crm/v1/contacts/{malformed}")).await;
        error_message(status, &body, 400, 10003);
    }
    assert_eq!(app.count("crm_records").await, 1);
}

async fn reads_need_the_crm_read_scope_and_writes_the_crm_write_scope(app: TestApp) {
    let mid = app.first_mid();
    let none = Client::with_scopes(&app, mid, "email_read").await;
    let reader = Client::with_scopes(&app, mid, "list_and_subscribers_read").await;
    let body = json!({"Email": "a@example.com"});
    let (status, answer) = none.get("crm/v1/contacts").await;
    error_message(status, &answer, 403, 20002);
    assert_eq!(reader.get("crm/v1/leads").await.0, 200);
    for client in [&none, &reader] {
        let (status, answer) = client.post("crm/v1/contacts", &body).await;
        error_message(status, &answer, 403, 20002);
        let bulk = json!({"matchOn": "Email", "records": [body.clone()]});
        let (status, answer) = client.post("crm/v1/leads/bulk", &bulk).await;
        error_message(status, &answer, 403, 20002);
    }
    assert_eq!(app.count("crm_records").await, 0);
    let response = app
        .http
        .get(app.url("crm/v1/contacts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

async fn a_bulk_upsert_writes_the_good_rows_and_says_what_became_of_each(app: TestApp) {
    let crm = Client::new(&app).await;
    let existing = crm
        .create("contacts", json!({"Email": "ann@example.com"}))
        .await;
    let records = json!([
        {"Email": "new@example.com", "FirstName": "New", "Company__c": "Acme"},
        {"Email": "ANN@example.com", "LastName": "Lee"},
        {"Email": "not-an-address"},
        {"FirstName": "No email"},
        "not an object",
        {"Email": "x@example.com", "Phone": "1"},
        {"Email": "dup@example.com"},
        {"Email": "Dup@example.com"},
        {"Email": "crlf@example.com", "FirstName": "A\r\nB"},
    ]);
    let (status, answer) = crm
        .post(
            "crm/v1/contacts/bulk",
            &json!({"matchOn": "Email", "records": records}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["matchOn"], "Email");
    assert_eq!(
        (
            answer["created"].clone(),
            answer["updated"].clone(),
            answer["failed"].clone()
        ),
        (json!(1), json!(1), json!(7))
    );
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 9);
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], index, "{result}");
    }
    assert_eq!(results[0]["status"], "created");
    assert_eq!(
        results[1],
        json!({"index": 1, "id": existing, "status": "updated"})
    );
    let errors: Vec<&str> = results[2..]
        .iter()
        .map(|result| {
            assert_eq!(result["status"], "error", "{result}");
            assert!(result.get("id").is_none());
            result["error"].as_str().unwrap()
        })
        .collect();
    assert!(errors[0].starts_with("Email:"), "{}", errors[0]);
    assert!(errors[1].contains("needs an Email"), "{}", errors[1]);
    assert!(errors[2].contains("JSON object"), "{}", errors[2]);
    assert!(errors[3].starts_with("Phone:"), "{}", errors[3]);
    assert!(errors[4].contains("same Email"), "{}", errors[4]);
    assert!(errors[5].contains("same Email"), "{}", errors[5]);
    assert!(errors[6].starts_with("FirstName:"), "{}", errors[6]);
    assert_eq!(app.count("crm_records").await, 2);
    let new_id = results[0]["id"].as_str().unwrap();
    let (_, new) = crm.get(&format!("crm/v1/contacts/{new_id}")).await;
    assert_eq!(new["Company__c"], "Acme");
    let (_, ann) = crm.get(&format!("crm/v1/contacts/{existing}")).await;
    assert_eq!(
        (ann["Email"].clone(), ann["LastName"].clone()),
        (json!("ANN@example.com"), json!("Lee"))
    );
}

async fn a_bulk_upsert_matches_on_external_id_and_checks_its_request(app: TestApp) {
    let crm = Client::new(&app).await;
    let existing = crm
        .create(
            "leads",
            json!({"Email": "a@example.com", "ExternalId": "L-1"}),
        )
        .await;
    let body = json!({"matchOn": "externalid", "records": [
        {"ExternalId": "l-1", "FirstName": "Updated"},
        {"ExternalId": "L-2", "Email": "b@example.com"},
        {"Email": "c@example.com"},
    ]});
    let (status, answer) = crm.post("crm/v1/leads/bulk", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["matchOn"], "ExternalId");
    assert_eq!(answer["results"][0]["id"], existing.as_str());
    assert_eq!(answer["results"][1]["status"], "created");
    assert_eq!(answer["results"][2]["status"], "error");
    let refused = [
        (json!({"matchOn": "Phone", "records": []}), 10003),
        (json!({"records": []}), 10002),
        (json!({"matchOn": "Email", "records": {}}), 10001),
        (
            json!({"matchOn": "Email", "records": [], "extra": 1}),
            10001,
        ),
        (
            json!({"matchOn": "Email", "records": vec![json!({"Email": "z@example.com"}); 10_001]}),
            10003,
        ),
    ];
    for (body, errorcode) in refused {
        let (status, answer) = crm.post("crm/v1/leads/bulk", &body).await;
        error_message(status, &answer, 400, errorcode);
    }
    assert_eq!(app.count("crm_records").await, 2);
}

async fn two_concurrent_patches_never_lose_one_silently(app: TestApp) {
    let crm = Client::new(&app).await;
    let id = crm
        .create("contacts", json!({"Email": "ann@example.com"}))
        .await;
    let path = format!("crm/v1/contacts/{id}");
    let mut refused = 0;
    for round in 0..8 {
        let first_name = format!("First {round}");
        let last_name = format!("Last {round}");
        let (first_body, last_body) = (
            json!({"FirstName": first_name}),
            json!({"LastName": last_name}),
        );
        let ((first, one), (second, other)) =
            tokio::join!(crm.patch(&path, &first_body), crm.patch(&path, &last_body),);
        let (_, now) = crm.get(&path).await;
        for (status, body, key, value) in [
            (first, &one, "FirstName", &first_name),
            (second, &other, "LastName", &last_name),
        ] {
            refused += usize::from(common::check_concurrent_write(
                round, status, body, &now[key], value,
            ));
        }
        assert!(first == 200 || second == 200, "round {round}: both refused");
    }
    eprintln!("{refused} of 16 concurrent PATCHes were refused as stale");
}

backend_tests!(setup =>
    two_concurrent_patches_never_lose_one_silently,
    a_contact_is_created_read_in_either_id_form_updated_and_deleted,
    leads_live_apart_from_contacts,
    records_are_listed_in_pages_and_filtered_by_email,
    paging_out_of_range_and_a_bad_email_filter_are_refused,
    an_invalid_or_missing_email_is_refused_and_nothing_is_written,
    line_breaks_in_names_are_refused_and_change_nothing,
    unknown_and_read_only_fields_wrong_types_and_bad_json_are_refused,
    a_duplicate_external_id_is_a_conflict_and_changes_nothing,
    unknown_ids_other_accounts_ids_and_malformed_ids_are_told_apart,
    reads_need_the_crm_read_scope_and_writes_the_crm_write_scope,
    a_bulk_upsert_writes_the_good_rows_and_says_what_became_of_each,
    a_bulk_upsert_matches_on_external_id_and_checks_its_request,
);
