//! `/email/v1/senderProfiles`, `/email/v1/deliveryProfiles` and
//! `/email/v1/sendClassifications` over HTTP, on both backends.

mod common;

use common::{TestApp, json_body, spawn_app};
use herald_domain::mid::Mid;
use herald_store::DeliveryProfile;
use herald_test_support::{Db, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

const SENDERS: &str = "email/v1/senderProfiles";
const DELIVERIES: &str = "email/v1/deliveryProfiles";
const CLASSIFICATIONS: &str = "email/v1/sendClassifications";

/// A client of one account holding a token with some scopes.
struct Client<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Client<'a> {
    /// `scopes` "" means all of them.
    async fn new(app: &'a TestApp, mid: Mid, scopes: &str) -> Client<'a> {
        let package = app.package(mid, scopes).await;
        let token = app.token(&package).await;
        Client { app, token }
    }

    async fn raw(&self, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, json_body(response).await)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        self.raw(method, path, body.as_deref()).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an object, asserting 201, and returns it.
    async fn create(&self, path: &str, body: Value) -> Value {
        let (status, created) = self.post(path, body).await;
        assert_eq!(status, 201, "{created}");
        created
    }
}

fn at(path: &str, id: &Value) -> String {
    format!("{path}/{}", id.as_str().expect("ids are strings"))
}

fn sender_body(key: &str) -> Value {
    json!({
        "name": "Newsletter",
        "customerKey": key,
        "description": "Monthly news",
        "fromName": "%%FirstName%% at Acme",
        "fromAddress": "news@acme.example",
        "replyToAddress": "help@acme.example",
        "replyToDisplayName": "Acme Help",
    })
}

fn delivery_body(key: &str) -> Value {
    json!({
        "name": "Bulk",
        "customerKey": key,
        "headerHtml": "<p>Hello</p>",
        "footerHtml": "<p>%%Member_Addr%%, %%Member_City%%</p>",
        "footerText": "%%Member_Addr%%",
        "address": {"street": "1 Main St", "city": "Springfield", "state": "IL",
                    "postalCode": "62701", "country": "US"},
        "relays": ["smtps://user:hunter2@relay.acme.example:465", "smtp://backup.acme.example?tls=required"],
        "dkimKeyId": "acme-2026",
        "trackingEnabled": false,
        "bounceDomain": "Bounces.Acme.Example",
    })
}

fn classification_body(key: &str, sender: Value, delivery: Value) -> Value {
    json!({
        "name": "Receipts",
        "customerKey": key,
        "sendClassificationType": "Operational",
        "senderProfile": sender,
        "deliveryProfile": delivery,
        "honorPublicationListOptOutsForTransactionalSends": true,
    })
}

/// Asserts a 400 with `errorcode` whose message mentions `needle`.
fn assert_bad_request(reply: &(u16, Value), errorcode: u32, needle: &str) {
    let (status, body) = reply;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["errorcode"], errorcode, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

/// Row counts of the three tables, to prove a refused request changed nothing.
async fn counts(app: &TestApp) -> [i64; 3] {
    [
        app.count("sender_profiles").await,
        app.count("delivery_profiles").await,
        app.count("send_classifications").await,
    ]
}

async fn a_new_account_starts_with_the_four_defaults(app: TestApp) {
    let other = app.other_account().await;
    let client = Client::new(&app, other, "email_read").await;
    let (status, senders) = client.get(SENDERS).await;
    assert_eq!(status, 200);
    assert_eq!(senders["count"], 1);
    assert_eq!(senders["page"], 1);
    assert_eq!(senders["pageSize"], 50);
    let sender = &senders["items"][0];
    assert_eq!(sender["customerKey"], "Default");
    assert_eq!(sender["name"], "Default");
    assert_eq!(sender["fromName"], "Other");
    assert_eq!(sender["fromAddress"], "no-reply@example.com");
    assert_eq!(sender["isDefault"], true);
    assert!(sender["id"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(sender["createdDate"], "2026-11-26T12:00:00Z");
    let (_, deliveries) = client.get(DELIVERIES).await;
    assert_eq!(deliveries["count"], 1);
    assert_eq!(deliveries["items"][0]["relays"], json!([]));
    assert_eq!(deliveries["items"][0]["trackingEnabled"], true);
    let (_, classifications) = client.get(CLASSIFICATIONS).await;
    assert_eq!(classifications["count"], 2);
    let items = classifications["items"].as_array().unwrap();
    let summary: Vec<_> = items
        .iter()
        .map(|c| {
            (
                c["customerKey"].clone(),
                c["sendClassificationType"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("Default Commercial"), json!("Marketing")),
            (json!("Default Transactional"), json!("Operational"))
        ]
    );
    for item in items {
        assert_eq!(
            item["senderProfile"],
            json!({"id": sender["id"], "customerKey": "Default", "name": "Default"})
        );
        assert_eq!(item["deliveryProfile"]["customerKey"], "Default");
    }
    let (status, by_key) = client
        .get(&format!("{CLASSIFICATIONS}/Default%20Commercial"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_key, items[0]);
}

async fn a_sender_profile_is_created_read_updated_patched_and_deleted(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "email_read email_write").await;
    let created = client.create(SENDERS, sender_body("news")).await;
    assert_eq!(created["customerKey"], "news");
    assert_eq!(created["fromName"], "%%FirstName%% at Acme");
    assert_eq!(created["replyToAddress"], "help@acme.example");
    assert_eq!(created["isDefault"], false);
    assert!(uuid::Uuid::parse_str(created["objectID"].as_str().unwrap()).is_ok());
    let path = at(SENDERS, &created["id"]);
    assert_eq!(client.get(&path).await, (200, created.clone()));
    assert_eq!(
        client.get(&format!("{SENDERS}/news")).await,
        (200, created.clone())
    );
    let (_, listed) = client.get(SENDERS).await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["items"][1], created);

    // PUT replaces everything; a GET's read-only keys may come back and are ignored.
    let mut replaced = created.clone();
    replaced["fromName"] = json!("Acme News");
    replaced["replyToAddress"] = Value::Null;
    replaced["replyToDisplayName"] = Value::Null;
    let (status, updated) = client.put(&path, replaced).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["fromName"], "Acme News");
    assert_eq!(updated["replyToAddress"], Value::Null);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["objectID"], created["objectID"]);

    // PATCH changes only what it names.
    app.clock.advance(time::Duration::minutes(10));
    let (status, patched) = client
        .patch(&path, json!({"fromAddress": "Letters@Acme.Example"}))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["fromAddress"], "Letters@acme.example");
    assert_eq!(patched["fromName"], "Acme News");
    assert_eq!(patched["customerKey"], "news");
    assert_eq!(patched["modifiedDate"], "2026-11-26T12:10:00Z");
    assert_eq!(patched["createdDate"], "2026-11-26T12:00:00Z");

    let (status, deleted) = client.delete(&path).await;
    assert_eq!(status, 200);
    assert_eq!(
        deleted,
        json!({"id": created["id"], "customerKey": "news", "deleted": true})
    );
    assert_eq!(client.get(&path).await.0, 404);
    assert_eq!(app.count("sender_profiles").await, 1);
}

async fn a_customer_key_is_generated_when_absent(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let mut body = sender_body("x");
    body.as_object_mut().unwrap().remove("customerKey");
    let created = client.create(SENDERS, body).await;
    assert_eq!(created["customerKey"], created["objectID"]);
}

async fn a_delivery_profile_never_shows_a_relay_password(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let created = client.create(DELIVERIES, delivery_body("bulk")).await;
    assert_eq!(
        created["relays"],
        json!([
            "smtps://user:****@relay.acme.example:465",
            "smtp://backup.acme.example?tls=required"
        ])
    );
    assert_eq!(created["address"]["postalCode"], "62701");
    assert_eq!(created["dkimKeyId"], "acme-2026");
    assert_eq!(created["trackingEnabled"], false);
    assert_eq!(created["bounceDomain"], "bounces.acme.example");
    let path = at(DELIVERIES, &created["id"]);
    let (_, read) = client.get(&path).await;
    assert!(!read.to_string().contains("hunter2"), "{read}");
    let (_, listed) = client.get(DELIVERIES).await;
    assert!(!listed.to_string().contains("hunter2"));

    // Sending back what a GET showed keeps the stored password.
    let (status, _) = client.put(&path, read.clone()).await;
    assert_eq!(status, 200);
    let (status, patched) = client
        .patch(&path, json!({"address": {"city": "Shelbyville"}}))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["address"]["city"], "Shelbyville");
    assert_eq!(patched["address"]["street"], "1 Main St");
    let stored = app
        .state
        .store
        .classifications::<DeliveryProfile>()
        .find(app.first_mid(), "bulk")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.relays[0].expose(),
        "smtps://user:hunter2@relay.acme.example:465"
    );

    // A mask for a relay Herald does not know is refused.
    let mut moved = read;
    moved["relays"] = json!(["smtps://user:****@elsewhere.example:465"]);
    assert_bad_request(&client.put(&path, moved).await, 10003, "relays[0]");
    let (status, relays) = client.patch(&path, json!({"relays": []})).await;
    assert_eq!((status, &relays["relays"]), (200, &json!([])));
    let (status, cleared) = client.patch(&path, json!({"bounceDomain": null})).await;
    assert_eq!((status, &cleared["bounceDomain"]), (200, &Value::Null));
}

async fn a_send_classification_names_its_profiles_by_id_or_customer_key(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let sender = client.create(SENDERS, sender_body("news")).await;
    let delivery = client.create(DELIVERIES, delivery_body("bulk")).await;
    let created = client
        .create(
            CLASSIFICATIONS,
            classification_body("receipts", sender["id"].clone(), json!("bulk")),
        )
        .await;
    assert_eq!(created["sendClassificationType"], "Operational");
    assert_eq!(
        created["senderProfile"],
        json!({"id": sender["id"], "customerKey": "news", "name": "Newsletter"})
    );
    assert_eq!(
        created["deliveryProfile"],
        json!({"id": delivery["id"], "customerKey": "bulk", "name": "Bulk"})
    );
    assert_eq!(
        created["honorPublicationListOptOutsForTransactionalSends"],
        true
    );
    let path = at(CLASSIFICATIONS, &created["id"]);

    // Numbers and objects work too; a GET's body goes back as a PUT unchanged.
    let numeric: i64 = sender["id"].as_str().unwrap().parse().unwrap();
    let other = client
        .create(
            CLASSIFICATIONS,
            classification_body("other", json!(numeric), json!({"customerKey": "Default"})),
        )
        .await;
    assert_eq!(other["senderProfile"]["customerKey"], "news");
    assert_eq!(other["deliveryProfile"]["customerKey"], "Default");
    let (_, read) = client.get(&path).await;
    let (status, again) = client.put(&path, read.clone()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["senderProfile"], read["senderProfile"]);

    let (status, patched) = client
        .patch(
            &path,
            json!({"senderProfile": {"customerKey": "Default"}, "sendClassificationType": "marketing"}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["senderProfile"]["customerKey"], "Default");
    assert_eq!(patched["deliveryProfile"]["customerKey"], "bulk");
    assert_eq!(patched["sendClassificationType"], "Marketing");

    let (status, deleted) = client.delete(&path).await;
    assert_eq!((status, deleted["deleted"].clone()), (200, json!(true)));
    assert_eq!(app.count("send_classifications").await, 3);
}

async fn the_defaults_can_be_updated_but_not_deleted_rekeyed_or_retyped(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let (status, updated) = client
        .patch(
            &format!("{SENDERS}/Default"),
            json!({"fromAddress": "hello@acme.example"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["fromAddress"], "hello@acme.example");
    let before = counts(&app).await;
    for path in [
        format!("{SENDERS}/Default"),
        format!("{DELIVERIES}/Default"),
        format!("{CLASSIFICATIONS}/Default%20Commercial"),
        format!("{CLASSIFICATIONS}/Default%20Transactional"),
    ] {
        let (status, body) = client.delete(&path).await;
        assert_eq!(status, 409, "{path}: {body}");
        assert_eq!(body["errorcode"], 10006);
        assert!(
            body["message"].as_str().unwrap().contains("default"),
            "{body}"
        );
    }
    let (status, body) = client
        .patch(
            &format!("{SENDERS}/Default"),
            json!({"customerKey": "Mine"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = client
        .patch(
            &format!("{CLASSIFICATIONS}/Default%20Commercial"),
            json!({"sendClassificationType": "Operational"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Marketing"),
        "{body}"
    );
    assert_eq!(counts(&app).await, before);
    let (_, commercial) = client
        .get(&format!("{CLASSIFICATIONS}/Default%20Commercial"))
        .await;
    assert_eq!(commercial["sendClassificationType"], "Marketing");
    assert_eq!(client.get(&format!("{SENDERS}/Mine")).await.0, 404);
}

async fn a_profile_in_use_cannot_be_deleted(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let sender = client.create(SENDERS, sender_body("news")).await;
    let delivery = client.create(DELIVERIES, delivery_body("bulk")).await;
    client
        .create(
            CLASSIFICATIONS,
            classification_body("receipts", json!("news"), json!("bulk")),
        )
        .await;
    let before = counts(&app).await;
    for path in [at(SENDERS, &sender["id"]), at(DELIVERIES, &delivery["id"])] {
        let (status, body) = client.delete(&path).await;
        assert_eq!(status, 409, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("send classification \"Receipts\""),
            "{message}"
        );
    }
    assert_eq!(counts(&app).await, before);
}

async fn unknown_ids_and_another_accounts_ids_are_not_found(app: TestApp) {
    let other = app.other_account().await;
    let theirs = Client::new(&app, other, "").await;
    let their_sender = theirs.create(SENDERS, sender_body("theirs")).await;
    let (_, their_classifications) = theirs.get(CLASSIFICATIONS).await;
    let client = Client::new(&app, app.first_mid(), "").await;
    let before = counts(&app).await;
    let their_classification = &their_classifications["items"][0]["id"];
    for path in [
        format!("{SENDERS}/999999"),
        format!("{SENDERS}/theirs"),
        at(SENDERS, &their_sender["id"]),
        format!("{DELIVERIES}/nope"),
        at(CLASSIFICATIONS, their_classification),
        format!("{CLASSIFICATIONS}/99999999999999999999"),
    ] {
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(sender_body("x"))),
            (Method::PATCH, Some(json!({}))),
            (Method::DELETE, None),
        ] {
            let (status, reply) = client.call(method.clone(), &path, body).await;
            assert_eq!(status, 404, "{method} {path}: {reply}");
            assert_eq!(reply["errorcode"], 10005);
        }
    }
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        theirs.get(&at(SENDERS, &their_sender["id"])).await.1,
        their_sender
    );
}

async fn a_duplicate_customer_key_is_a_conflict(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let first = client.create(SENDERS, sender_body("news")).await;
    let second = client.create(SENDERS, sender_body("letters")).await;
    let before = counts(&app).await;
    let (status, body) = client.post(SENDERS, sender_body("news")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains("\"news\""));
    let (status, _) = client
        .patch(&at(SENDERS, &second["id"]), json!({"customerKey": "news"}))
        .await;
    assert_eq!(status, 409);
    let (status, _) = client.post(DELIVERIES, delivery_body("Default")).await;
    assert_eq!(status, 409);
    assert_eq!(counts(&app).await, before);
    assert_eq!(client.get(&at(SENDERS, &first["id"])).await.1, first);
    assert_eq!(client.get(&at(SENDERS, &second["id"])).await.1, second);
}

async fn invalid_sender_profiles_are_refused_and_change_nothing(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let existing = client.create(SENDERS, sender_body("news")).await;
    let path = at(SENDERS, &existing["id"]);
    let before = counts(&app).await;
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"fromAddress": "not-an-address"}),
            10003,
            "fromAddress",
        ),
        (json!({"fromAddress": "a@localhost"}), 10003, "fromAddress"),
        (json!({"replyToAddress": "help@"}), 10003, "replyToAddress"),
        (
            json!({"fromName": "Acme\r\nBcc: all@example.com"}),
            10003,
            "fromName",
        ),
        (json!({"fromName": "Acme\nNews"}), 10003, "line breaks"),
        (
            json!({"replyToDisplayName": "Help\r\nX-Spam: no"}),
            10003,
            "replyToDisplayName",
        ),
        (json!({"name": "A\nB"}), 10003, "name"),
        (json!({"name": "  "}), 10003, "name"),
        (json!({"fromName": "%%FirstName"}), 10003, "fromName"),
        (json!({"fromName": ""}), 10003, "fromName"),
        (json!({"customerKey": "12345"}), 10003, "customerKey"),
        (json!({"customerKey": "a\tb"}), 10003, "customerKey"),
        (json!({"fromAddress": null}), 10002, "fromAddress"),
        (json!({"fromName": 7}), 10001, "fromName"),
        (json!({"fromname": "typo"}), 10001, "fromname"),
    ];
    for (change, errorcode, needle) in cases {
        let mut body = sender_body("fresh");
        for (key, value) in change.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        assert_bad_request(&client.post(SENDERS, body.clone()).await, errorcode, needle);
        assert_bad_request(&client.put(&path, body).await, errorcode, needle);
        if errorcode == 10003 {
            assert_bad_request(&client.patch(&path, change).await, errorcode, needle);
        }
    }
    assert_bad_request(
        &client.raw(Method::POST, SENDERS, Some("{\"name\":")).await,
        10004,
        "JSON",
    );
    assert_bad_request(
        &client.raw(Method::PUT, &path, Some("[1]")).await,
        10001,
        "",
    );
    assert_eq!(counts(&app).await, before);
    assert_eq!(client.get(&path).await.1, existing);
}

async fn invalid_delivery_profiles_are_refused_and_change_nothing(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    let existing = client.create(DELIVERIES, delivery_body("bulk")).await;
    let path = at(DELIVERIES, &existing["id"]);
    let before = counts(&app).await;
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"relays": ["http://relay.example"]}),
            10003,
            "relays[0]",
        ),
        (
            json!({"relays": ["smtp://ok.example", "smtp://"]}),
            10003,
            "relays[1]",
        ),
        (
            json!({"relays": ["smtp://relay.example/path"]}),
            10003,
            "relays[0]",
        ),
        (json!({"relays": ["relay.example:25"]}), 10003, "relays[0]"),
        (
            json!({"relays": ["smtp://relay.example:99999"]}),
            10003,
            "relays[0]",
        ),
        (json!({"relays": "smtp://relay.example"}), 10001, "relays"),
        (
            json!({"relays": ["smtp://relay.example?bogus=1"]}),
            10003,
            "relays[0]",
        ),
        (
            json!({"relays": ["smtps://relay.example?tls=required"]}),
            10003,
            "relays[0]",
        ),
        (
            json!({"address": {"street": "1 Main St\r\nBcc: x"}}),
            10003,
            "address.street",
        ),
        (json!({"address": {"zip": "1"}}), 10001, "zip"),
        (
            json!({"footerHtml": "<p>%%Member_Addr</p>"}),
            10003,
            "footerHtml",
        ),
        (json!({"dkimKeyId": "two words"}), 10003, "dkimKeyId"),
        (json!({"trackingEnabled": "yes"}), 10001, "trackingEnabled"),
        (json!({"bounceDomain": "no_dot"}), 10003, "bounceDomain"),
        (
            json!({"bounceDomain": "a@b.example"}),
            10003,
            "bounceDomain",
        ),
    ];
    for (change, errorcode, needle) in cases {
        let mut body = delivery_body("fresh");
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        assert_bad_request(
            &client.post(DELIVERIES, body.clone()).await,
            errorcode,
            needle,
        );
        assert_bad_request(&client.put(&path, body).await, errorcode, needle);
    }
    let error = client
        .post(
            DELIVERIES,
            json!({"name": "X", "relays": ["ftp://u:hunter2@h.example"]}),
        )
        .await;
    assert!(!error.1.to_string().contains("hunter2"), "{}", error.1);
    assert_eq!(counts(&app).await, before);
    assert_eq!(client.get(&path).await.1, existing);
}

async fn invalid_send_classifications_are_refused_and_change_nothing(app: TestApp) {
    let other = app.other_account().await;
    let theirs = Client::new(&app, other, "").await;
    let their_sender = theirs.create(SENDERS, sender_body("theirs")).await;
    let client = Client::new(&app, app.first_mid(), "").await;
    let existing = client
        .create(
            CLASSIFICATIONS,
            classification_body("receipts", json!("Default"), json!("Default")),
        )
        .await;
    let path = at(CLASSIFICATIONS, &existing["id"]);
    let before = counts(&app).await;
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"sendClassificationType": "Commercial"}),
            10003,
            "Commercial",
        ),
        (
            json!({"sendClassificationType": 1}),
            10001,
            "sendClassificationType",
        ),
        (json!({"senderProfile": "nope"}), 10003, "sender profile"),
        (json!({"senderProfile": "999999"}), 10003, "sender profile"),
        (
            json!({"senderProfile": their_sender["id"]}),
            10003,
            "sender profile",
        ),
        (
            json!({"deliveryProfile": "theirs"}),
            10003,
            "delivery profile",
        ),
        (json!({"deliveryProfile": []}), 10003, "deliveryProfile"),
        (
            json!({"deliveryProfile": {"name": "Default"}}),
            10003,
            "deliveryProfile",
        ),
        (json!({"senderProfile": -4}), 10003, "senderProfile"),
        (
            json!({"honorPublicationListOptOutsForTransactionalSends": "yes"}),
            10001,
            "honor",
        ),
    ];
    for (change, errorcode, needle) in cases {
        let mut body = classification_body("fresh", json!("Default"), json!("Default"));
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        assert_bad_request(
            &client.post(CLASSIFICATIONS, body.clone()).await,
            errorcode,
            needle,
        );
        assert_bad_request(&client.put(&path, body).await, errorcode, needle);
    }
    let mut missing = classification_body("fresh", json!("Default"), json!("Default"));
    missing.as_object_mut().unwrap().remove("senderProfile");
    assert_bad_request(
        &client.post(CLASSIFICATIONS, missing).await,
        10002,
        "senderProfile",
    );
    assert_eq!(counts(&app).await, before);
    assert_eq!(client.get(&path).await.1, existing);
}

async fn lists_page_and_refuse_page_sizes_out_of_range(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "").await;
    for key in ["a", "b", "c"] {
        client.create(SENDERS, sender_body(key)).await;
    }
    let (status, page) = client.get(&format!("{SENDERS}?$page=2&$pageSize=2")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            page["count"].clone(),
            page["page"].clone(),
            page["pageSize"].clone()
        ),
        (json!(4), json!(2), json!(2))
    );
    let keys: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["customerKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["b", "c"]);
    let (_, lower) = client.get(&format!("{SENDERS}?$pagesize=1&$page=4")).await;
    assert_eq!(lower["items"][0]["customerKey"], "c");
    let (_, beyond) = client.get(&format!("{SENDERS}?$page=9")).await;
    assert_eq!(beyond["items"], json!([]));
    for path in [SENDERS, DELIVERIES, CLASSIFICATIONS] {
        for query in [
            "$pagesize=0",
            "$pagesize=501",
            "$pageSize=ten",
            "$page=0",
            "$page=-1",
        ] {
            let reply = client.get(&format!("{path}?{query}")).await;
            assert_bad_request(&reply, 10003, "page");
        }
        let (status, _) = client.get(&format!("{path}?$pagesize=500")).await;
        assert_eq!(status, 200);
    }
}

async fn the_wrong_scope_is_forbidden_and_changes_nothing(app: TestApp) {
    let writer = Client::new(&app, app.first_mid(), "").await;
    let sender = writer.create(SENDERS, sender_body("news")).await;
    let path = at(SENDERS, &sender["id"]);
    let before = counts(&app).await;
    let no_read = Client::new(
        &app,
        app.first_mid(),
        "saved_content_read saved_content_write",
    )
    .await;
    for path in [SENDERS, DELIVERIES, CLASSIFICATIONS] {
        let (status, body) = no_read.get(path).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["errorcode"], 20002);
    }
    let reader = Client::new(&app, app.first_mid(), "email_read").await;
    assert_eq!(reader.get(&path).await.0, 200);
    let writes = [
        reader.post(SENDERS, sender_body("other")).await,
        reader.put(&path, sender_body("news")).await,
        reader.patch(&path, json!({"fromName": "X"})).await,
        reader.delete(&path).await,
        reader.post(DELIVERIES, delivery_body("bulk")).await,
        reader
            .delete(&format!("{CLASSIFICATIONS}/Default%20Commercial"))
            .await,
    ];
    for (status, body) in writes {
        assert_eq!(status, 403, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("email_write"),
            "{body}"
        );
    }
    let anonymous = Client {
        app: &app,
        token: "not-a-token".into(),
    };
    assert_eq!(anonymous.get(SENDERS).await.0, 401);
    assert_eq!(counts(&app).await, before);
    assert_eq!(writer.get(&path).await.1, sender);
}

async fn the_demo_sender_and_address_look_real(app: TestApp) {
    herald::demo::seed_and_print(&app.state).await.unwrap();
    let accounts = app.state.store.list_accounts().await.unwrap();
    let demo = accounts.last().unwrap().mid;
    let client = Client::new(&app, demo, "email_read").await;
    let (_, sender) = client.get(&format!("{SENDERS}/Default")).await;
    assert_eq!(sender["fromName"], "Herald Demo");
    assert_eq!(sender["fromAddress"], "demo@herald.example");
    let (_, delivery) = client.get(&format!("{DELIVERIES}/Default")).await;
    assert_eq!(delivery["address"]["city"], "Springfield");
    assert_eq!(delivery["address"]["country"], "US");
}

async fn two_concurrent_patches_never_lose_one_silently(app: TestApp) {
    let client = Client::new(&app, app.first_mid(), "email_read email_write").await;
    let created = client.create(SENDERS, sender_body("news")).await;
    let path = at(SENDERS, &created["id"]);
    let mut refused = 0;
    for round in 0..8 {
        let name = format!("Name {round}");
        let display = format!("Display {round}");
        let ((first, one), (second, other)) = tokio::join!(
            client.patch(&path, json!({"fromName": name})),
            client.patch(&path, json!({"replyToDisplayName": display})),
        );
        let (_, now) = client.get(&path).await;
        for (status, body, key, value) in [
            (first, &one, "fromName", &name),
            (second, &other, "replyToDisplayName", &display),
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
    a_new_account_starts_with_the_four_defaults,
    a_sender_profile_is_created_read_updated_patched_and_deleted,
    a_customer_key_is_generated_when_absent,
    a_delivery_profile_never_shows_a_relay_password,
    a_send_classification_names_its_profiles_by_id_or_customer_key,
    the_defaults_can_be_updated_but_not_deleted_rekeyed_or_retyped,
    a_profile_in_use_cannot_be_deleted,
    unknown_ids_and_another_accounts_ids_are_not_found,
    a_duplicate_customer_key_is_a_conflict,
    invalid_sender_profiles_are_refused_and_change_nothing,
    invalid_delivery_profiles_are_refused_and_change_nothing,
    invalid_send_classifications_are_refused_and_change_nothing,
    lists_page_and_refuse_page_sizes_out_of_range,
    the_wrong_scope_is_forbidden_and_changes_nothing,
    the_demo_sender_and_address_look_real,
);
