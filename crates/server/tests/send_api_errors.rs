//! Every way the Send API refuses a request, on both backends: each refusal has its
//! documented shape and changes nothing.

mod common;
mod send_support;

use common::TestApp;
use herald_test_support::backend_tests;
use reqwest::Method;
use send_support::{
    Client, LATER, REPORT, definition, now_with_consent, path, refusal, rows, seed, setup,
};
use serde_json::{Value, json};

const CREATING: &str = "Error creating integrated send definition: ";
const SCHEDULING: &str = "Error scheduling integrated send definition: ";

/// Posts a create body and returns the business error's message, asserting that no
/// definition or instance was stored.
async fn refused_create(app: &TestApp, client: &Client<'_>, body: &Value) -> String {
    let before = rows(app).await;
    let (status, answer) = client.post(&path(""), body).await;
    let message = refusal(status, &answer);
    assert_eq!(rows(app).await, before, "{message}");
    message
}

/// A create body with a schedule.
fn scheduled(email_id: i64, schedule: Value) -> Value {
    let mut body = definition("Scheduled", email_id);
    body["Schedule"] = schedule;
    body
}

async fn missing_fields_are_all_named_in_one_message(app: TestApp) {
    let client = Client::new(&app).await;
    for body in [
        json!({}),
        json!({"EmailDefinition": {}}),
        json!({"EmailDefinition": {"Name": "  ", "SendClassificationId": "", "Targets": []}}),
    ] {
        assert_eq!(
            refused_create(&app, &client, &body).await,
            format!(
                "{CREATING}One or more required fields are missing from this email send \
                 definition: Name, EmailId, SendClassificationId, Targets"
            )
        );
    }
    let email = client.welcome_email().await;
    let mut partial = definition("Partial", email);
    partial["EmailDefinition"]
        .as_object_mut()
        .unwrap()
        .remove("Targets");
    assert_eq!(
        refused_create(&app, &client, &partial).await,
        format!(
            "{CREATING}One or more required fields are missing from this email send \
             definition: Targets"
        )
    );
}

async fn unknown_references_are_named(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;

    let mut body = definition("No email", email);
    body["EmailDefinition"]["EmailId"] = json!(999_999);
    assert_eq!(
        refused_create(&app, &client, &body).await,
        format!("{CREATING}Unable to find an email with the EmailId 999999")
    );

    let mut body = definition("No classification", email);
    body["EmailDefinition"]["SendClassificationId"] = json!("Default Promo");
    assert_eq!(
        refused_create(&app, &client, &body).await,
        format!(
            "{CREATING}Unable to find a send classification with the Id or customer key \
             \"Default Promo\": SendClassificationId takes a classification's id or its customer key"
        )
    );
    body["EmailDefinition"]["SendClassificationId"] = json!(987_654);
    assert!(
        refused_create(&app, &client, &body)
            .await
            .contains("\"987654\""),
    );

    let mut body = definition("No report", email);
    body["EmailDefinition"]["Targets"] = json!([
        {"Type": "Report", "Id": REPORT},
        {"Type": "Report", "Id": "00O000000000009"}
    ]);
    assert_eq!(
        refused_create(&app, &client, &body).await,
        format!(
            "{CREATING}Targets[1]: Unable to find a Report with the Id 00O000000000009EAA in \
             the CRM"
        )
    );
    let mut body = definition("No campaign", email);
    body["EmailDefinition"]["Exclusions"] = json!([{"Type": "Campaign", "Id": "701000000000777"}]);
    assert_eq!(
        refused_create(&app, &client, &body).await,
        format!(
            "{CREATING}Exclusions[0]: Unable to find a Campaign with the Id 701000000000777AAA \
             in the CRM"
        )
    );
}

async fn malformed_or_mismatched_target_ids_are_refused(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    for (target, detail) in [
        (
            json!({"Type": "Report", "Id": "123"}),
            "Targets[0]: Id \"123\" is not a Salesforce id: a Salesforce id has 15 or 18 \
             characters, got 3",
        ),
        (
            json!({"Type": "Campaign", "Id": REPORT}),
            "Targets[0]: Id 00O000000000001EAA is not a Campaign: Campaign ids start with 701",
        ),
        (
            json!({"Type": "List", "Id": REPORT}),
            "Targets[0]: Type \"List\" is not supported: use Report or Campaign",
        ),
        (
            json!({"Type": "Report"}),
            "Targets[0]: Id is missing: give the report's or campaign's Salesforce id",
        ),
    ] {
        let mut body = definition("Bad target", email);
        body["EmailDefinition"]["Targets"] = json!([target]);
        assert_eq!(
            refused_create(&app, &client, &body).await,
            format!("{CREATING}{detail}")
        );
    }
}

async fn another_accounts_objects_do_not_exist(app: TestApp) {
    let owner = Client::new(&app).await;
    let email = owner.welcome_email().await;
    let id = owner.create(&definition("Mine", email)).await;
    let instance = owner.schedule(&id, &now_with_consent()).await;
    let (_, classification) = owner
        .get("email/v1/sendClassifications/Default%20Commercial")
        .await;

    let other_mid = app.other_account().await;
    let other = Client::with_scopes(&app, other_mid, "").await;
    let before = rows(&app).await;
    let not_found = |verb: &str| {
        format!(
            "Error {verb} integrated send definition: Unable to find a salesforce email send \
             definition with the Id {id} for mid {other_mid}"
        )
    };
    let (status, body) = other.get(&path(&format!("/{id}"))).await;
    assert_eq!(refusal(status, &body), not_found("retrieving"));
    let (status, body) = other
        .put(
            &path(&format!("/{id}")),
            &json!({"EmailDefinition": {"Name": "Theirs"}}),
        )
        .await;
    assert_eq!(refusal(status, &body), not_found("updating"));
    let (status, body) = other.delete(&path(&format!("/{id}"))).await;
    assert_eq!(refusal(status, &body), not_found("deleting"));
    let (status, body) = other
        .post(&path(&format!("/{id}/schedule")), &now_with_consent())
        .await;
    assert_eq!(refusal(status, &body), not_found("scheduling"));
    let (status, body) = other.get(&path(&format!("/{id}/instance"))).await;
    assert_eq!(refusal(status, &body), not_found("retrieving"));
    for (action, verb) in [
        ("", "retrieving"),
        ("/cancel", "canceling"),
        ("/pause", "pausing"),
        ("/resume", "resuming"),
    ] {
        let (status, body) = other
            .get(&path(&format!("/instance/{instance}{action}")))
            .await;
        assert_eq!(
            refusal(status, &body),
            format!(
                "Error {verb} integrated send definition: Unable to find a salesforce email \
                 send instance with the Id {instance} for mid {other_mid}"
            )
        );
    }
    let (_, listed) = other.get(&path("/instance")).await;
    assert_eq!(listed["Count"], 0);
    let (_, searched) = other.post(&path("/search"), &json!({})).await;
    assert_eq!(searched["Count"], 0);

    // Naming the owner's email or classification from the other account finds nothing.
    seed(&app, other_mid).await;
    let mut body = definition("Borrowed", email);
    body["EmailDefinition"]["EmailId"] = json!(email);
    assert_eq!(
        refused_create(&app, &other, &body).await,
        format!("{CREATING}Unable to find an email with the EmailId {email}")
    );
    let own_email = other.welcome_email().await;
    let mut body = definition("Borrowed", own_email);
    body["EmailDefinition"]["SendClassificationId"] = classification["id"].clone();
    assert!(
        refused_create(&app, &other, &body)
            .await
            .contains("Unable to find a send classification"),
    );
    assert_eq!(rows(&app).await, before);
    assert_eq!(owner.status(&instance).await, "Scheduled");
    let (_, mine) = owner.get(&path(&format!("/{id}"))).await;
    assert_eq!(mine["EmailDefinition"]["Name"], "Mine");
}

async fn ids_that_name_nothing_are_not_found(app: TestApp) {
    let client = Client::new(&app).await;
    let before = rows(&app).await;
    for id in ["99999999", "abc", "0", "-1", "1.5", "99999999999999999999"] {
        let (status, body) = client.get(&path(&format!("/{id}"))).await;
        assert_eq!(
            refusal(status, &body),
            format!(
                "Error retrieving integrated send definition: Unable to find a salesforce \
                 email send definition with the Id {id} for mid 100000001"
            )
        );
        let (status, body) = client.delete(&path(&format!("/{id}"))).await;
        assert!(refusal(status, &body).starts_with("Error deleting"));
        let (status, body) = client
            .post(&path(&format!("/{id}/schedule")), &now_with_consent())
            .await;
        assert!(refusal(status, &body).starts_with(SCHEDULING));
        let (status, body) = client.get(&path(&format!("/instance/{id}"))).await;
        assert!(
            refusal(status, &body)
                .ends_with(&format!("send instance with the Id {id} for mid 100000001"))
        );
        let (status, body) = client.get(&path(&format!("/instance/{id}/cancel"))).await;
        assert!(refusal(status, &body).starts_with("Error canceling"));
    }
    assert_eq!(rows(&app).await, before);
}

async fn bad_schedules_are_refused_and_create_nothing(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    for (schedule, detail) in [
        (
            json!({"ScheduledTime": "tomorrow", "AllRecipientsOptedIn": true}),
            "ScheduledTime \"tomorrow\" is not an ISO-8601 date and time with an offset, such \
             as 2026-12-01T09:00:00-06:00",
        ),
        (
            json!({"ScheduledTime": "2026-11-26T05:59:59-06:00", "AllRecipientsOptedIn": true}),
            "ScheduledTime \"2026-11-26T05:59:59-06:00\" is in the past (it is now \
             2026-11-26T12:00:00Z)",
        ),
        (
            json!({"ScheduledTime": "2026-12-01T09:00:00", "AllRecipientsOptedIn": true}),
            "ScheduledTime \"2026-12-01T09:00:00\" has no UTC offset: give it as ISO-8601 with \
             an offset, such as 2026-12-01T09:00:00-06:00",
        ),
        (
            json!({"StartImmediately": false, "AllRecipientsOptedIn": true}),
            "the Schedule says neither StartImmediately true nor a ScheduledTime: give one of them",
        ),
        (
            json!({}),
            "the Schedule says neither StartImmediately true nor a ScheduledTime: give one of them",
        ),
        (
            json!({"StartImmediately": true, "ScheduledTime": LATER, "AllRecipientsOptedIn": true}),
            "the Schedule says both StartImmediately true and a ScheduledTime: give one of them",
        ),
        (
            json!({"StartImmediately": true}),
            "a commercial send classification needs AllRecipientsOptedIn true: state that the \
             audience consented, or use a transactional classification",
        ),
        (
            json!({"StartImmediately": true, "AllRecipientsOptedIn": false}),
            "a commercial send classification needs AllRecipientsOptedIn true: state that the \
             audience consented, or use a transactional classification",
        ),
    ] {
        // In a one-step create: neither the definition nor an instance is stored.
        assert_eq!(
            refused_create(&app, &client, &scheduled(email, schedule.clone())).await,
            format!("{SCHEDULING}{detail}")
        );
        // In Schedule Send: no instance.
        let id = client.create(&definition("Later", email)).await;
        let before = rows(&app).await;
        let (status, body) = client
            .post(&path(&format!("/{id}/schedule")), &schedule)
            .await;
        assert_eq!(refusal(status, &body), format!("{SCHEDULING}{detail}"));
        assert_eq!(rows(&app).await, before);
    }
    // A definition error wins over a schedule error: nothing is scheduled.
    let mut both = scheduled(email, json!({"StartImmediately": true}));
    both["EmailDefinition"]["Name"] = json!("");
    assert!(
        refused_create(&app, &client, &both)
            .await
            .ends_with("definition: Name")
    );
    // A transactional classification needs no consent statement.
    let mut transactional = scheduled(email, json!({"StartImmediately": true}));
    transactional["EmailDefinition"]["SendClassificationId"] = json!("Default Transactional");
    let (status, created) = client.post(&path(""), &transactional).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["InstanceId"].is_string());
}

async fn schedule_checks_the_references_again(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let (status, campaign) = client
        .post("crm/v1/campaigns", &json!({"name": "Short lived"}))
        .await;
    assert_eq!(status, 201, "{campaign}");
    let short_lived = campaign["id"].as_str().unwrap().to_owned();
    let mut body = definition("Short lived", email);
    body["EmailDefinition"]["Targets"] = json!([{"Type": "Campaign", "Id": short_lived}]);
    let id = client.create(&body).await;
    let (status, deleted) = client
        .delete(&format!("crm/v1/campaigns/{short_lived}"))
        .await;
    assert_eq!(status, 200, "{deleted}");
    let before = rows(&app).await;
    let (status, answer) = client
        .post(&path(&format!("/{id}/schedule")), &now_with_consent())
        .await;
    assert_eq!(
        refusal(status, &answer),
        format!(
            "{SCHEDULING}Targets[0]: Unable to find a Campaign with the Id {short_lived} in the CRM"
        )
    );
    assert_eq!(rows(&app).await, before);
}

async fn updates_are_checked_like_creates_and_change_nothing_when_refused(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Stable", email)).await;
    let (_, before) = client.get(&path(&format!("/{id}"))).await;
    let updating = "Error updating integrated send definition: ";
    for (body, detail) in [
        (
            json!({"EmailDefinition": {"Name": "New"}, "Schedule": {"StartImmediately": true}}),
            "an update cannot carry a Schedule: schedule the definition with POST \
             …/{definitionId}/schedule"
                .to_owned(),
        ),
        (
            json!({"EmailDefinition": {}}),
            "the EmailDefinition gives no field to change".to_owned(),
        ),
        (
            json!({}),
            "the EmailDefinition gives no field to change".to_owned(),
        ),
        (
            json!({"EmailDefinition": {"Name": "", "Targets": []}}),
            "One or more required fields are missing from this email send definition: Name, \
             Targets"
                .to_owned(),
        ),
        (
            json!({"EmailDefinition": {"Name": "New", "EmailId": 424242}}),
            "Unable to find an email with the EmailId 424242".to_owned(),
        ),
        (
            json!({"EmailDefinition": {"SendClassificationId": "Nope"}}),
            "Unable to find a send classification with the Id or customer key \"Nope\": \
             SendClassificationId takes a classification's id or its customer key"
                .to_owned(),
        ),
        (
            json!({"EmailDefinition": {"Exclusions": [{"Type": "Campaign", "Id": "701000000000009"}]}}),
            "Exclusions[0]: Unable to find a Campaign with the Id 701000000000009AAA in the CRM"
                .to_owned(),
        ),
    ] {
        let (status, answer) = client.put(&path(&format!("/{id}")), &body).await;
        assert_eq!(refusal(status, &answer), format!("{updating}{detail}"));
        let (_, after) = client.get(&path(&format!("/{id}"))).await;
        assert_eq!(after, before);
    }
}

async fn a_definition_with_a_live_instance_is_not_deleted(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Busy", email)).await;
    let instance = client.schedule(&id, &now_with_consent()).await;
    let before = rows(&app).await;
    let (status, answer) = client.delete(&path(&format!("/{id}"))).await;
    assert_eq!(
        refusal(status, &answer),
        format!(
            "Error deleting integrated send definition: the definition has an instance that \
             is Scheduled (InstanceId {instance}); cancel it or let it finish before deleting \
             the definition"
        )
    );
    assert_eq!(rows(&app).await, before);
    let (_, paused) = client
        .post(&path(&format!("/instance/{instance}/pause")), &json!({}))
        .await;
    assert_eq!(paused["Status"], "Paused");
    let (status, answer) = client.delete(&path(&format!("/{id}"))).await;
    assert!(refusal(status, &answer).contains("that is Paused"));
    assert_eq!(rows(&app).await, before);
}

async fn paging_out_of_range_is_a_business_error(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Paged", email)).await;
    for (query, detail) in [
        ("page=0", "page must be a whole number from 1, got \"0\""),
        ("page=x", "page must be a whole number from 1, got \"x\""),
        (
            "pageSize=0",
            "pageSize must be a whole number from 1 to 500, got \"0\"",
        ),
        (
            "pagesize=501",
            "pageSize must be a whole number from 1 to 500, got \"501\"",
        ),
        (
            "$pageSize=-2",
            "pageSize must be a whole number from 1 to 500, got \"-2\"",
        ),
    ] {
        let (status, body) = client
            .post(&path(&format!("/search?{query}")), &json!({}))
            .await;
        assert_eq!(
            refusal(status, &body),
            format!("Error searching integrated send definition: {detail}")
        );
        for list in ["/instance".to_owned(), format!("/{id}/instance")] {
            let (status, body) = client.get(&path(&format!("{list}?{query}"))).await;
            assert_eq!(
                refusal(status, &body),
                format!("Error retrieving integrated send definition: {detail}")
            );
        }
    }
}

async fn an_unsupported_integration_type_or_channel_is_named(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Routed", email)).await;
    let before = rows(&app).await;
    let body = definition("Elsewhere", email);
    let requests: Vec<(Method, String, &str)> = vec![
        (Method::POST, String::new(), "creating"),
        (Method::POST, "/search".into(), "searching"),
        (Method::GET, format!("/{id}"), "retrieving"),
        (Method::PUT, format!("/{id}"), "updating"),
        (Method::DELETE, format!("/{id}"), "deleting"),
        (Method::POST, format!("/{id}/schedule"), "scheduling"),
        (Method::GET, format!("/{id}/instance"), "retrieving"),
        (Method::GET, "/instance".into(), "retrieving"),
        (Method::GET, "/instance/70000001".into(), "retrieving"),
        (Method::GET, "/instance/70000001/cancel".into(), "canceling"),
        (Method::POST, "/instance/70000001/pause".into(), "pausing"),
        (Method::GET, "/instance/70000001/resume".into(), "resuming"),
    ];
    for (method, rest, verb) in requests {
        let (status, answer) = client
            .send(
                method.clone(),
                &format!("data/v1/integration/send/dynamics/email{rest}"),
                Some(&body),
            )
            .await;
        assert_eq!(
            refusal(status, &answer),
            format!(
                "Error {verb} integrated send definition: integrationType \"dynamics\" is not \
                 supported: the Send API supports \"salesforce\""
            ),
            "{method} {rest}"
        );
        let (status, answer) = client
            .send(
                method.clone(),
                &format!("data/v1/integration/send/salesforce/sms{rest}"),
                Some(&body),
            )
            .await;
        assert_eq!(
            refusal(status, &answer),
            format!(
                "Error {verb} integrated send definition: channel \"sms\" is not supported: \
                 the Send API supports \"email\""
            ),
            "{method} {rest}"
        );
    }
    assert_eq!(rows(&app).await, before);
}

async fn each_route_needs_its_scope(app: TestApp) {
    let mid = app.first_mid();
    let owner = Client::new(&app).await;
    let email = owner.welcome_email().await;
    let id = owner.create(&definition("Scoped", email)).await;
    let instance = owner.schedule(&id, &now_with_consent()).await;
    let mut clients = Vec::new();
    for scopes in [
        "marketing_cloud_connect_read",
        "marketing_cloud_connect_write",
        "marketing_cloud_connect_send",
        "email_read email_write",
    ] {
        clients.push((scopes, Client::with_scopes(&app, mid, scopes).await));
    }
    let before = rows(&app).await;
    let create = definition("Refused", email);
    let update = json!({"EmailDefinition": {"Name": "Renamed"}});
    let schedule = now_with_consent();
    let empty = json!({});
    let (read, write, send) = (
        "marketing_cloud_connect_read",
        "marketing_cloud_connect_write",
        "marketing_cloud_connect_send",
    );
    let requests: Vec<(Method, String, &Value, &str)> = vec![
        (Method::POST, String::new(), &create, write),
        (Method::PUT, format!("/{id}"), &update, write),
        (Method::DELETE, format!("/{id}"), &empty, write),
        (Method::POST, "/search".into(), &empty, read),
        (Method::GET, format!("/{id}"), &empty, read),
        (Method::GET, format!("/{id}/instance"), &empty, read),
        (Method::GET, "/instance".into(), &empty, read),
        (Method::GET, format!("/instance/{instance}"), &empty, read),
        (Method::POST, format!("/{id}/schedule"), &schedule, send),
        (
            Method::GET,
            format!("/instance/{instance}/pause"),
            &empty,
            send,
        ),
        (
            Method::GET,
            format!("/instance/{instance}/resume"),
            &empty,
            send,
        ),
        (
            Method::GET,
            format!("/instance/{instance}/cancel"),
            &empty,
            send,
        ),
        (
            Method::POST,
            format!("/instance/{instance}/cancel"),
            &empty,
            send,
        ),
    ];
    for (method, rest, body, needed) in requests {
        for (scopes, client) in &clients {
            let (status, answer) = client.send(method.clone(), &path(&rest), Some(body)).await;
            if *scopes == needed {
                assert_ne!(status, 403, "{method} {rest}: {answer}");
                continue;
            }
            assert_eq!(status, 403, "{scopes} {method} {rest}: {answer}");
            assert_eq!(answer["errorcode"], 20002);
            assert!(
                answer["message"].as_str().unwrap().contains(needed),
                "{answer}"
            );
        }
    }
    // Of those, only the writer's create and the sender's schedule stored anything.
    assert_eq!(rows(&app).await, (before.0 + 1, before.1 + 1));

    // The one-step create needs both writing and sending.
    let one_step = scheduled(email, now_with_consent());
    for (scopes, lacking) in [(write, send), (send, write)] {
        let client = Client::with_scopes(&app, mid, scopes).await;
        let (status, answer) = client.post(&path(""), &one_step).await;
        assert_eq!(status, 403, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(lacking),
            "{answer}"
        );
    }
    assert_eq!(rows(&app).await, (before.0 + 1, before.1 + 1));
    let both = Client::with_scopes(&app, mid, &format!("{write} {send}")).await;
    let (status, created) = both.post(&path(""), &one_step).await;
    assert_eq!(status, 201, "{created}");

    let response = app
        .http
        .get(app.url(&path("/instance")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

async fn bodies_that_are_not_json_or_of_the_wrong_type_are_a_400(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Typed", email)).await;
    let before = rows(&app).await;
    for (method, rest) in [
        (Method::POST, String::new()),
        (Method::PUT, format!("/{id}")),
        (Method::POST, format!("/{id}/schedule")),
        (Method::POST, "/search".to_owned()),
    ] {
        for (body, errorcode) in [
            ("{\"EmailDefinition\": {", 10004),
            ("Name=Spring", 10004),
            ("[]", 10001),
            ("{\"EmailDefinition\": {\"Name\": 5}}", 10001),
            ("{\"Schedule\": {\"StartImmediately\": \"yes\"}}", 10001),
            ("{\"StartImmediately\": \"yes\"}", 10001),
            ("{\"Criteria\": {\"Name\": 1}}", 10001),
        ] {
            let (status, answer) = client.raw(method.clone(), &path(&rest), Some(body)).await;
            // Keys a body does not use are ignored, so a few are not errors for every
            // route; the ones that are must be 400s of the right kind.
            if status == 400 {
                assert_eq!(
                    answer["errorcode"], errorcode,
                    "{method} {rest} {body}: {answer}"
                );
                assert!(answer["message"].is_string());
                assert!(answer["documentation"].is_string());
            } else {
                assert_ne!(errorcode, 10004, "{method} {rest} {body}: {answer}");
            }
        }
    }
    let (status, answer) = client.raw(Method::POST, &path(""), Some("")).await;
    assert_eq!((status, answer["errorcode"].clone()), (400, json!(10004)));
    let (status, answer) = client
        .raw(
            Method::POST,
            &path("/search"),
            Some("{\"Criteria\": {\"Nmae\": \"x\"}}"),
        )
        .await;
    assert_eq!((status, answer["errorcode"].clone()), (400, json!(10001)));
    assert_eq!(rows(&app).await, before);
    let (_, found) = client.get(&path(&format!("/{id}"))).await;
    assert_eq!(found["EmailDefinition"]["Name"], "Typed");
}

backend_tests!(setup =>
    missing_fields_are_all_named_in_one_message,
    unknown_references_are_named,
    malformed_or_mismatched_target_ids_are_refused,
    another_accounts_objects_do_not_exist,
    ids_that_name_nothing_are_not_found,
    bad_schedules_are_refused_and_create_nothing,
    schedule_checks_the_references_again,
    updates_are_checked_like_creates_and_change_nothing_when_refused,
    a_definition_with_a_live_instance_is_not_deleted,
    paging_out_of_range_is_a_business_error,
    an_unsupported_integration_type_or_channel_is_named,
    each_route_needs_its_scope,
    bodies_that_are_not_json_or_of_the_wrong_type_are_a_400,
);
