//! The Send API over HTTP, on both backends: the contract's examples, the seed's three
//! steps, and each endpoint doing its job. (Refusals: `send_api_errors.rs`; instance
//! requests: `send_api_instances.rs`.)

mod common;
mod send_support;

use common::TestApp;
use herald_test_support::backend_tests;
use reqwest::Method;
use send_support::{
    CAMPAIGN, Client, LATER, REPORT, definition, now_with_consent, path, refusal, rows, setup,
};
use serde_json::{Value, json};

/// The contract's example body, verbatim (send-api.md section 2).
const CONTRACT_EXAMPLE: &str = r#"{ "EmailDefinition": { "Name": "Demo Definition", "Description": "…", "EmailId": 123456,
    "SendClassificationId": "123456",
    "Targets": [ { "Type": "Report", "Name": "Contacts", "Id": "00O000000000001AAA" } ] },
  "Schedule": { "StartImmediately": true, "AllRecipientsOptedIn": true } }"#;

async fn the_contracts_example_body_is_answered_in_the_documented_shapes(app: TestApp) {
    let client = Client::new(&app).await;
    // Verbatim, its target id carries the wrong checksum suffix: 00O000000000001 calls
    // for EAA. That is refused before anything else, naming the suffix it needs.
    let (status, body) = client
        .raw(Method::POST, &path(""), Some(CONTRACT_EXAMPLE))
        .await;
    assert_eq!(
        refusal(status, &body),
        "Error creating integrated send definition: Targets[0]: Id \"00O000000000001AAA\" is \
         not a Salesforce id: the last 3 characters of an 18-character Salesforce id must be \
         \"EAA\" to match its first 15, got \"AAA\""
    );
    // With the id corrected, its email 123456 does not exist in this account.
    let corrected = CONTRACT_EXAMPLE.replace("00O000000000001AAA", REPORT);
    let (status, body) = client.raw(Method::POST, &path(""), Some(&corrected)).await;
    assert_eq!(
        refusal(status, &body),
        "Error creating integrated send definition: Unable to find an email with the EmailId 123456"
    );
    assert_eq!(rows(&app).await, (0, 0));
    // With the account's own email and classification it is the one-step create.
    let email = client.welcome_email().await;
    let (_, classification) = client
        .get("email/v1/sendClassifications/Default%20Commercial")
        .await;
    let own = corrected.replace("123456,", &format!("{email},")).replace(
        "\"123456\"",
        &format!("\"{}\"", classification["id"].as_str().unwrap()),
    );
    let (status, created) = client.raw(Method::POST, &path(""), Some(&own)).await;
    assert_eq!(status, 201, "{created}");
    let keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["DefinitionId", "InstanceId", "IsError"]);
    assert_eq!(created["DefinitionId"], "10000001");
    assert_eq!(created["InstanceId"], "70000001");
    assert_eq!(created["IsError"], false);
    assert_eq!(rows(&app).await, (1, 1));
    assert_eq!(client.status("70000001").await, "Scheduled");
}

async fn the_seeds_three_steps_create_schedule_and_read_the_status(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    // 1. Create the send definition.
    let (status, created) = client
        .post(
            &path(""),
            &json!({"EmailDefinition": {
                "Name": "Welcome", "EmailId": email, "SendClassificationId": "Default Commercial",
                "Targets": [{"Type": "Report", "Name": "Contacts at Demo Co", "Id": REPORT}]}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created,
        json!({"DefinitionId": "10000001", "IsError": false})
    );
    // 2. Schedule it.
    let (status, scheduled) = client
        .post(&path("/10000001/schedule"), &now_with_consent())
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        scheduled,
        json!({"InstanceId": "70000001", "IsError": false})
    );
    // 3. Read the instance's status.
    let (status, instance) = client.get(&path("/instance/70000001")).await;
    assert_eq!(status, 200);
    assert_eq!(
        instance,
        json!({
            "InstanceId": "70000001",
            "DefinitionId": "10000001",
            "Status": "Scheduled",
            "ScheduledTime": "2026-11-26T12:00:00Z",
            "StartedTime": null,
            "CompletedTime": null,
            "SyncId": -1,
            "JobId": -1,
            "Counts": {"Targeted": 0, "Excluded": 0, "Suppressed": 0, "Duplicates": 0,
                       "Sent": 0, "Deferred": 0, "Bounced": 0, "Failed": 0},
            "Statistics": {"UniqueOpens": 0, "Opens": 0, "UniqueClicks": 0, "Clicks": 0,
                           "Unsubscribes": 0, "Bounced": 0, "SoftBounced": 0,
                           "BounceRate": 0.0},
            "IsError": false
        })
    );
}

async fn a_definition_is_read_back_updated_and_deleted(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Spring", email)).await;
    let (_, classification) = client
        .get("email/v1/sendClassifications/Default%20Commercial")
        .await;
    let (status, found) = client.get(&path(&format!("/{id}"))).await;
    assert_eq!(status, 200);
    assert_eq!(found["IsError"], false);
    let view = &found["EmailDefinition"];
    assert_eq!(view["DefinitionId"], id.as_str());
    assert_eq!(view["Name"], "Spring");
    assert_eq!(view["Description"], "A test send");
    assert_eq!(view["EmailId"], email);
    // Named by customer key, shown by id.
    assert_eq!(view["SendClassificationId"], classification["id"]);
    assert_eq!(
        view["Targets"],
        json!([{"Type": "Report", "Name": "Contacts at Demo Co", "Id": REPORT}])
    );
    assert_eq!(
        view["Exclusions"],
        json!([{"Type": "Campaign", "Name": "Demo Launch", "Id": CAMPAIGN}])
    );
    assert_eq!(view["DeduplicateByEmail"], false);
    assert_eq!(view["CreatedDate"], "2026-11-26T12:00:00Z");
    let external_key = view["ExternalKey"].as_str().unwrap();
    let parsed = uuid::Uuid::parse_str(external_key).unwrap();
    assert_eq!(parsed.get_version_num(), 4);

    // An update changes what it gives: a new name, the transactional classification (by
    // id, as a number), the campaign instead of the report (15-character id), no
    // exclusions.
    let (_, transactional) = client
        .get("email/v1/sendClassifications/Default%20Transactional")
        .await;
    let transactional_id: i64 = transactional["id"].as_str().unwrap().parse().unwrap();
    app.clock.advance(time::Duration::minutes(5));
    let (status, updated) = client
        .put(
            &path(&format!("/{id}")),
            &json!({"EmailDefinition": {
                "Name": "Spring, revised", "SendClassificationId": transactional_id,
                "Targets": [{"Type": "Campaign", "Id": &CAMPAIGN[..15]}], "Exclusions": [],
                "DeduplicateByEmail": true}}),
        )
        .await;
    assert_eq!((status, updated), (200, json!({"IsError": false})));
    let (_, found) = client.get(&path(&format!("/{id}"))).await;
    let view = &found["EmailDefinition"];
    assert_eq!(view["Name"], "Spring, revised");
    assert_eq!(view["Description"], "A test send");
    assert_eq!(view["EmailId"], email);
    assert_eq!(view["SendClassificationId"], transactional["id"]);
    assert_eq!(
        view["Targets"],
        json!([{"Type": "Campaign", "Name": "", "Id": CAMPAIGN}])
    );
    assert_eq!(view["Exclusions"], json!([]));
    assert_eq!(view["DeduplicateByEmail"], true);
    assert_eq!(view["ExternalKey"], external_key);
    assert_eq!(view["CreatedDate"], "2026-11-26T12:00:00Z");
    assert_eq!(view["ModifiedDate"], "2026-11-26T12:05:00Z");

    let (status, deleted) = client.delete(&path(&format!("/{id}"))).await;
    assert_eq!((status, deleted), (200, json!({"IsError": false})));
    let (status, gone) = client.get(&path(&format!("/{id}"))).await;
    assert_eq!(
        refusal(status, &gone),
        format!(
            "Error retrieving integrated send definition: Unable to find a salesforce email \
             send definition with the Id {id} for mid 100000001"
        )
    );
    assert_eq!(rows(&app).await, (0, 0));
}

/// Searches with `criteria` and the query string `query`; returns `Count` and the ids
/// on the page.
async fn search(client: &Client<'_>, criteria: Value, query: &str) -> (i64, Vec<String>) {
    let (status, found) = client
        .post(
            &path(&format!("/search{query}")),
            &json!({"Criteria": criteria}),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["IsError"], false, "{found}");
    let ids = found["Definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DefinitionId"].as_str().unwrap().to_owned())
        .collect();
    (found["Count"].as_i64().unwrap(), ids)
}

async fn search_matches_names_and_target_ids_with_and_or_a_page_at_a_time(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let spring_sale = client.create(&definition("Spring Sale", email)).await;
    let mut news = definition("Spring News", email);
    news["EmailDefinition"]["Targets"] = json!([{"Type": "Campaign", "Id": CAMPAIGN}]);
    let spring_news = client.create(&news).await;
    let autumn = client.create(&definition("Autumn", email)).await;
    let all = vec![spring_sale.clone(), spring_news.clone(), autumn.clone()];
    assert_eq!(search(&client, json!({}), "").await, (3, all.clone()));
    assert_eq!(
        search(&client, json!({"Name": "SPRING"}), "").await,
        (2, vec![spring_sale.clone(), spring_news.clone()])
    );
    let report_15 = &REPORT[..15];
    assert_eq!(
        search(
            &client,
            json!({"Name": "spring", "SubscriberListId": report_15}),
            ""
        )
        .await,
        (1, vec![spring_sale.clone()])
    );
    assert_eq!(
        search(
            &client,
            json!({"Operation": "and", "Name": "spring", "SubscriberListId": REPORT}),
            ""
        )
        .await,
        (1, vec![spring_sale.clone()])
    );
    assert_eq!(
        search(
            &client,
            json!({"Operation": "or", "Name": "autumn", "SubscriberListId": CAMPAIGN}),
            ""
        )
        .await,
        (2, vec![spring_news.clone(), autumn.clone()])
    );
    // Paging: Count is every match; a page past the last is empty.
    assert_eq!(
        search(&client, json!({}), "?page=2&pageSize=2").await,
        (3, vec![autumn.clone()])
    );
    assert_eq!(
        search(&client, json!({}), "?$page=1&$pagesize=2").await,
        (3, vec![spring_sale.clone(), spring_news.clone()])
    );
    assert_eq!(
        search(&client, json!({}), "?page=9&pageSize=2").await,
        (3, vec![])
    );
    // As the contract's table writes it, with empty values: the defaults.
    let (status, found) = client
        .raw(Method::POST, &path("/search?page=&pageSize="), None)
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["Page"], 1);
    assert_eq!(found["PageSize"], 50);
    assert_eq!(found["Count"], 3);
    let first = &found["Definitions"][0];
    assert_eq!(first["DefinitionId"], spring_sale.as_str());
    assert!(first["ExternalKey"].as_str().unwrap().len() == 36);
}

async fn each_schedule_makes_one_instance_and_the_lists_show_them(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let mut one_step = definition("One step", email);
    one_step["Schedule"] = json!({"ScheduledTime": LATER, "AllRecipientsOptedIn": true});
    let (status, created) = client.post(&path(""), &one_step).await;
    assert_eq!(status, 201, "{created}");
    let first_definition = created["DefinitionId"].as_str().unwrap().to_owned();
    let first_instance = created["InstanceId"].as_str().unwrap().to_owned();

    let repeated = client.create(&definition("Repeated", email)).await;
    let mut instances = Vec::new();
    for body in [
        now_with_consent(),
        json!({"StartImmediately": false, "ScheduledTime": LATER, "AllRecipientsOptedIn": true}),
        json!({"Schedule": {"ScheduledTime": "2026-12-24T18:00:00Z", "AllRecipientsOptedIn": true}}),
    ] {
        instances.push(client.schedule(&repeated, &body).await);
    }
    let distinct: std::collections::BTreeSet<&String> = instances.iter().collect();
    assert_eq!(distinct.len(), 3);
    assert_eq!(rows(&app).await, (2, 4));

    let (_, one) = client
        .get(&path(&format!("/instance/{first_instance}")))
        .await;
    assert_eq!(one["ScheduledTime"], "2026-12-01T15:00:00Z");
    let (_, last) = client
        .get(&path(&format!("/instance/{}", instances[2])))
        .await;
    assert_eq!(last["ScheduledTime"], "2026-12-24T18:00:00Z");
    assert_eq!(last["DefinitionId"], repeated.as_str());

    let (status, all) = client.get(&path("/instance")).await;
    assert_eq!(status, 200);
    assert_eq!(all["Count"], 4);
    assert_eq!(all["Page"], 1);
    assert_eq!(all["PageSize"], 50);
    assert_eq!(all["IsError"], false);
    assert_eq!(all["Instances"][0]["InstanceId"], first_instance.as_str());
    assert_eq!(all["Instances"][0]["Status"], "Scheduled");
    let (_, paged) = client.get(&path("/instance?page=2&pageSize=3")).await;
    assert_eq!(paged["Count"], 4);
    assert_eq!(paged["Instances"].as_array().unwrap().len(), 1);
    assert_eq!(paged["Instances"][0]["InstanceId"], instances[2].as_str());

    let (status, by_definition) = client
        .get(&path(&format!("/{repeated}/instance?pagesize=2")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_definition["Count"], 3);
    assert_eq!(by_definition["PageSize"], 2);
    let listed: Vec<&str> = by_definition["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [instances[0].as_str(), instances[1].as_str()]);
    let (_, none_yet) = client
        .get(&path(&format!("/{first_definition}/instance")))
        .await;
    assert_eq!(none_yet["Count"], 1);
}

async fn a_definition_without_instances_lists_none_and_a_deleted_ones_finished_stay(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let quiet = client.create(&definition("Quiet", email)).await;
    let (status, empty) = client.get(&path(&format!("/{quiet}/instance"))).await;
    assert_eq!(status, 200);
    assert_eq!(empty["Count"], 0);
    assert_eq!(empty["Instances"], json!([]));

    let done = client.create(&definition("Done", email)).await;
    let instance = client.schedule(&done, &now_with_consent()).await;
    let (_, canceled) = client
        .get(&path(&format!("/instance/{instance}/cancel")))
        .await;
    assert_eq!(canceled["Status"], "Canceled");
    let (status, deleted) = client.delete(&path(&format!("/{done}"))).await;
    assert_eq!((status, deleted), (200, json!({"IsError": false})));
    assert_eq!(client.status(&instance).await, "Canceled");
    let (status, listed) = client.get(&path(&format!("/{done}/instance"))).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["Count"], 1);
    assert_eq!(listed["Instances"][0]["InstanceId"], instance.as_str());
}

async fn repeated_slashes_and_letter_case_of_the_route_are_accepted(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Spring", email)).await;
    let (status, found) = client
        .get(&format!("/data/v1/integration/send/Salesforce/EMAIL/{id}"))
        .await;
    assert_eq!(status, 200, "{found}");
    let response = app
        .http
        .get(format!(
            "{}/data/v1/integration/send/salesforce/email/{id}",
            app.base
        ))
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["EmailDefinition"]["Name"], "Spring");
}

async fn an_email_or_classification_a_definition_uses_is_not_deleted(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let (status, custom) = client
        .post(
            "email/v1/sendClassifications",
            &json!({"name": "Launch", "customerKey": "Launch",
                    "sendClassificationType": "Operational",
                    "senderProfile": "Default", "deliveryProfile": "Default"}),
        )
        .await;
    assert_eq!(status, 201, "{custom}");
    let mut body = definition("Launch mail", email);
    body["EmailDefinition"]["SendClassificationId"] = json!("Launch");
    let id = client.create(&body).await;

    let (status, refused) = client
        .delete(&format!("asset/v1/content/assets/{email}"))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        refused["message"],
        format!(
            "the email {email} is used by send definition {id} \"Launch mail\": \
             change or delete them first"
        )
    );
    let (status, refused) = client.delete("email/v1/sendClassifications/Launch").await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains(&format!("send definition {id} \"Launch mail\"")),
        "{refused}"
    );
    assert_eq!(app.count("assets").await, 1);

    let (status, _) = client.delete(&path(&format!("/{id}"))).await;
    assert_eq!(status, 200);
    let (status, _) = client.delete("email/v1/sendClassifications/Launch").await;
    assert_eq!(status, 200);
    let (status, deleted) = client
        .delete(&format!("asset/v1/content/assets/{email}"))
        .await;
    assert_eq!(status, 200, "{deleted}");
}

async fn two_concurrent_updates_never_lose_one_silently(app: TestApp) {
    let client = Client::new(&app).await;
    let email = client.welcome_email().await;
    let id = client.create(&definition("Racing", email)).await;
    let at = path(&format!("/{id}"));
    let mut refused = 0;
    for round in 0..8 {
        let name = format!("Name {round}");
        let description = format!("Description {round}");
        let renamed = json!({"EmailDefinition": {"Name": name}});
        let described = json!({"EmailDefinition": {"Description": description}});
        let ((first, one), (second, other)) =
            tokio::join!(client.put(&at, &renamed), client.put(&at, &described));
        let (_, now) = client.get(&at).await;
        for (status, body, key, value) in [
            (first, &one, "Name", &name),
            (second, &other, "Description", &description),
        ] {
            if status == 200 {
                assert_eq!(body, &json!({"IsError": false}), "round {round}");
            }
            let stored = &now["EmailDefinition"][key];
            refused += usize::from(common::check_concurrent_write(
                round, status, body, stored, value,
            ));
        }
        assert!(first == 200 || second == 200, "round {round}: both refused");
    }
    eprintln!("{refused} of 16 concurrent updates were refused as stale");
}

backend_tests!(setup =>
    two_concurrent_updates_never_lose_one_silently,
    the_contracts_example_body_is_answered_in_the_documented_shapes,
    the_seeds_three_steps_create_schedule_and_read_the_status,
    a_definition_is_read_back_updated_and_deleted,
    search_matches_names_and_target_ids_with_and_or_a_page_at_a_time,
    each_schedule_makes_one_instance_and_the_lists_show_them,
    a_definition_without_instances_lists_none_and_a_deleted_ones_finished_stay,
    repeated_slashes_and_letter_case_of_the_route_are_accepted,
    an_email_or_classification_a_definition_uses_is_not_deleted,
);
