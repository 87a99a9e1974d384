//! Event webhooks end to end: subscriptions through `/herald/v1/webhooks`, and the
//! dispatcher delivering the events of real sends (capture outbox) and bounces to a real
//! HTTP receiver: signed, in order, every one at least once, through a receiver outage,
//! and without a hanging receiver ever holding up sending.

mod bounce_support;
mod common;
mod engine_support;
mod webhook_support;

use std::time::{Duration, Instant};

use bounce_support::{audience, bounce, captured, notification, send_and_wait, spawn_capture};
use common::TestApp;
use engine_support::{Audience, DEMO, relay_on, send, spawn_engine, wait_for};
use herald_domain::clock::Clock;
use herald_domain::event::EventKind;
use herald_domain::send::status::InstanceStatus;
use herald_store::NewEvent;
use herald_test_support::peers::{FaultServer, free_port};
use herald_test_support::{Db, backend_tests};
use serde_json::{Value, json};
use webhook_support::{Mode, Receiver, signature_verifies};

const HOOKS: &str = "herald/v1/webhooks";

async fn setup(db: Db) -> Option<TestApp> {
    spawn_capture(db, &[]).await
}

/// A token of the demo account with `scopes`.
async fn token(app: &TestApp, scopes: &str) -> String {
    let package = app.package(DEMO, scopes).await;
    app.token(&package).await
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, common::json_body(response).await)
}

/// Subscribes `url` to `events`; the created subscription (with its secret).
async fn subscribe(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let token = token(app, "webhooks_write").await;
    let (status, created) = call(
        app,
        "POST",
        HOOKS,
        &token,
        Some(json!({"url": url, "events": events})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn webhook(app: &TestApp, id: &Value) -> Value {
    let token = token(app, "webhooks_read").await;
    let (status, body) = call(
        app,
        "GET",
        &format!("{HOOKS}/{}", id.as_str().unwrap()),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits (at most `within`) until the subscription has failed `count` times in a row.
async fn wait_for_failures(app: &TestApp, id: &Value, count: i64, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let body = webhook(app, id).await;
        if body["failedAttempts"].as_i64().unwrap() >= count {
            return body;
        }
        assert!(Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_subscription_is_created_listed_read_and_deleted_its_secret_shown_once(app: TestApp) {
    let write = token(&app, "webhooks_write").await;
    let read = token(&app, "webhooks_read").await;
    let body =
        json!({"url": "https://hooks.example.com/herald", "events": ["Sent", "bounced", "sent"]});
    let (status, created) = call(&app, "POST", HOOKS, &write, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["events"], json!(["sent", "bounced"]));
    assert_eq!(created["url"], "https://hooks.example.com/herald");
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(created["createdDate"], "2026-11-26T12:00:00Z");
    assert_eq!(
        (
            created["delivered"].as_i64(),
            created["failedAttempts"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let id = created["id"].as_str().unwrap();

    let (status, listed) = call(&app, "GET", HOOKS, &read, None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["items"][0]["id"], id);
    assert!(listed["items"][0].get("secret").is_none(), "{listed}");
    let (status, one) = call(&app, "GET", &format!("{HOOKS}/{id}"), &read, None).await;
    assert_eq!(status, 200);
    assert!(one.get("secret").is_none());
    assert_eq!(one["events"], created["events"]);

    let other = app.other_account().await;
    let package = app.package(other, "").await;
    let stranger = app.token(&package).await;
    let (status, _) = call(&app, "GET", &format!("{HOOKS}/{id}"), &stranger, None).await;
    assert_eq!(status, 404, "another account's subscription is absent");
    let (status, _) = call(&app, "DELETE", &format!("{HOOKS}/{id}"), &stranger, None).await;
    assert_eq!(status, 404);

    let (status, deleted) = call(&app, "DELETE", &format!("{HOOKS}/{id}"), &write, None).await;
    assert_eq!(status, 200);
    assert_eq!(deleted, json!({"id": id, "deleted": true}));
    let (status, _) = call(&app, "GET", &format!("{HOOKS}/{id}"), &read, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, "DELETE", &format!("{HOOKS}/{id}"), &write, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, "GET", &format!("{HOOKS}/abc"), &read, None).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("webhooks").await, 0);
}

async fn a_bad_subscription_is_refused_naming_the_problem(app: TestApp) {
    let write = token(&app, "webhooks_write").await;
    let cases = [
        (
            json!({"url": "ftp://hooks.example.com/x", "events": ["sent"]}),
            10003,
            "http",
        ),
        (
            json!({"url": "not a url", "events": ["sent"]}),
            10003,
            "absolute URL",
        ),
        (
            json!({"url": "https://hooks.example.com/#top", "events": ["sent"]}),
            10003,
            "fragment",
        ),
        (
            json!({"url": format!("https://h.example.com/{}", "a".repeat(2100)), "events": ["sent"]}),
            10003,
            "2048",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["sent", "delivered"]}),
            10003,
            "\"delivered\"; known kinds: sent, bounced, opened, clicked, unsubscribed",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": []}),
            10003,
            "at least one",
        ),
        (
            json!({"url": "https://hooks.example.com/"}),
            10002,
            "events",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": "sent"}),
            10001,
            "events",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["sent"], "secret": "mine"}),
            10001,
            "secret",
        ),
    ];
    for (body, errorcode, words) in cases {
        let (status, answer) = call(&app, "POST", HOOKS, &write, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["errorcode"], errorcode, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }
    assert_eq!(app.count("webhooks").await, 0);
}

async fn each_route_needs_its_webhook_scope(app: TestApp) {
    let body = json!({"url": "https://hooks.example.com/", "events": ["sent"]});
    let email = token(&app, "email_read email_write marketing_cloud_connect_read").await;
    let (status, answer) = call(&app, "POST", HOOKS, &email, Some(body.clone())).await;
    assert_eq!((status, answer["errorcode"].as_u64()), (403, Some(20002)));
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("webhooks_write")
    );
    let (status, answer) = call(&app, "GET", HOOKS, &email, None).await;
    assert_eq!(status, 403);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("webhooks_read")
    );
    let read = token(&app, "webhooks_read").await;
    assert_eq!(
        call(&app, "POST", HOOKS, &read, Some(body.clone())).await.0,
        403
    );
    assert_eq!(call(&app, "GET", HOOKS, &read, None).await.0, 200);
    let write = token(&app, "webhooks_write").await;
    assert_eq!(call(&app, "GET", HOOKS, &write, None).await.0, 403);
    let (status, _) = call(&app, "POST", HOOKS, "not-a-token", Some(body)).await;
    assert_eq!(status, 401);
    assert_eq!(app.count("webhooks").await, 0);
}

async fn a_receiver_down_for_a_while_gets_every_event_once_back_in_order_and_signed(app: TestApp) {
    let store = app.state.store.as_ref();
    // Nothing listens at the URL yet.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let created = subscribe(&app, &url, &["sent", "bounced"]).await;
    let (id, secret) = (&created["id"], created["secret"].as_str().unwrap());
    let people = audience(&app, "outage", 10).await;
    let instance = send_and_wait(&app, "Default Commercial", &people).await;

    // Down: the head event is tried, fails, and is tried again after the backoff.
    let failing = wait_for_failures(&app, id, 1, Duration::from_secs(10)).await;
    let error = failing["lastError"].as_str().unwrap();
    assert!(error.contains("could not connect"), "{failing}");
    assert!(failing["nextAttemptDate"].is_string(), "{failing}");
    let receiver = Receiver::start_on(port, Mode::Refuse).await;
    app.clock.advance(time::Duration::seconds(6));
    let refused = wait_for_failures(&app, id, 2, Duration::from_secs(10)).await;
    assert!(
        refused["lastError"].as_str().unwrap().contains("503"),
        "{refused}"
    );
    app.clock.advance(time::Duration::seconds(11));
    wait_for_failures(&app, id, 3, Duration::from_secs(10)).await;
    assert!(receiver.accepted().is_empty());
    // Meanwhile, a bounce and an event kind the subscription does not want.
    let message = &captured(&app, instance).await[3];
    let dsn = notification("postfix_hard", &message.envelope_from, &message.rcpt_to);
    assert_eq!(bounce(&app, dsn).await.1["outcome"], "hard_bounce");
    let opened = NewEvent {
        mid: DEMO,
        instance_id: instance,
        recipient_id: message.recipient_id,
        kind: EventKind::Opened,
        detail: None,
    };
    store.append_event(&opened, app.clock.now()).await.unwrap();

    receiver.switch(Mode::Accept);
    app.clock.advance(time::Duration::minutes(1));
    let delivered = receiver.wait_for(11, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let delivered_after = receiver.accepted();
    assert_eq!(delivered_after.len(), 11, "nothing more, nothing twice");

    let ids: Vec<i64> = delivered
        .iter()
        .map(|d| d.body["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order: {ids:?}");
    let expected: Vec<i64> = store
        .events_after(DEMO, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind != EventKind::Opened)
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, expected, "every sent and bounced event, none other");
    let types: Vec<&str> = delivered
        .iter()
        .map(|d| d.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(types[..10], ["sent"; 10]);
    assert_eq!(types[10], "bounced");
    let bounced = &delivered[10].body;
    assert_eq!(bounced["recipientId"], message.recipient_id);
    assert_eq!(bounced["email"], message.rcpt_to.as_str());
    assert_eq!(bounced["instanceId"], instance.to_string());
    assert_eq!(bounced["detail"]["kind"], "hard");
    assert_eq!(bounced["webhookId"], *id);
    for delivery in &delivered {
        assert!(
            signature_verifies(secret, &delivery.signature, &delivery.raw),
            "{delivery:?}"
        );
        assert!(!signature_verifies(
            "whsec_wrong",
            &delivery.signature,
            &delivery.raw
        ));
        assert_eq!(delivery.event_id, delivery.body["id"].to_string());
        assert_eq!(delivery.body["subscriberKey"].as_str().unwrap().len(), 18);
    }
    let healthy = webhook(&app, id).await;
    assert_eq!(healthy["delivered"], 11);
    assert_eq!(healthy["failedAttempts"], 0);
    assert!(healthy["lastError"].is_null());
    assert!(healthy["lastEventId"].as_i64().unwrap() >= *ids.last().unwrap());
}

async fn a_receiver_that_never_answers_does_not_hold_up_sending(app: TestApp) {
    let store = app.state.store.as_ref();
    let receiver = Receiver::start(Mode::Hang).await;
    let created = subscribe(&app, &receiver.url, &["sent"]).await;
    let people = audience(&app, "hang", 1).await;
    send_and_wait(&app, "Default Commercial", &people).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while receiver.hanging() == 0 {
        assert!(Instant::now() < deadline, "the dispatcher never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The dispatcher waits on the receiver; a send of 200 goes through meanwhile.
    let started = Instant::now();
    let crowd = audience(&app, "crowd", 200).await;
    let id = send(store, app.clock.now(), "Default Commercial", &crowd.target).await;
    let done = wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(30)).await;
    assert_eq!(done.counts.sent, 200);
    let still = webhook(&app, &created["id"]).await;
    assert_eq!(receiver.hanging(), 1, "the first delivery is still held");
    assert_eq!(still["failedAttempts"], 0, "{still}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The dispatcher gives up on it after its timeout and keeps the event for later.
    let failed = wait_for_failures(&app, &created["id"], 1, Duration::from_secs(15)).await;
    assert!(
        failed["lastError"]
            .as_str()
            .unwrap()
            .contains("no answer within 10 s"),
        "{failed}"
    );
    assert!(receiver.accepted().is_empty());
}

async fn a_relays_refusal_reaches_the_webhook_as_a_hard_bounce(db: Db) {
    let server = FaultServer::start(&[]);
    let Some(app) = spawn_engine(db, &relay_on(server.port), 4).await else {
        return;
    };
    let receiver = Receiver::start(Mode::Accept).await;
    subscribe(&app, &receiver.url, &["sent", "bounced"]).await;
    let store = app.state.store.as_ref();
    let locals = ["reject-a".to_owned(), "fine-b".to_owned()];
    let people = Audience::create(store, app.clock.now(), &locals).await;
    let id = send(store, app.clock.now(), "Default Commercial", &people.target).await;
    wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(30)).await;
    let delivered = receiver.wait_for(2, Duration::from_secs(10)).await;
    let by_type = |kind: &str| {
        delivered
            .iter()
            .find(|d| d.body["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} event: {delivered:?}"))
            .body
            .clone()
    };
    let (sent, bounced) = (by_type("sent"), by_type("bounced"));
    assert_eq!(sent["email"], "fine-b@example.org");
    assert_eq!(bounced["email"], "reject-a@example.org");
    assert_eq!(bounced["detail"]["kind"], "hard");
    assert_eq!(bounced["detail"]["source"], "smtp");
    assert!(
        bounced["detail"]["reply"].as_str().unwrap().contains("550"),
        "{bounced}"
    );
}

backend_tests!(setup =>
    a_subscription_is_created_listed_read_and_deleted_its_secret_shown_once,
    a_bad_subscription_is_refused_naming_the_problem,
    each_route_needs_its_webhook_scope,
    a_receiver_down_for_a_while_gets_every_event_once_back_in_order_and_signed,
    a_receiver_that_never_answers_does_not_hold_up_sending,
);

/// Scenarios that start their own Herald (in a module: one `backend_tests!` per module).
mod own_herald {
    use super::*;

    backend_tests!(database => a_relays_refusal_reaches_the_webhook_as_a_hard_bounce);
}

/// A scenario that starts its own Herald.
async fn database(db: Db) -> Option<Db> {
    Some(db)
}

/// On PostgreSQL an event id can become visible after a higher one (its transaction
/// commits later). The cursor must wait for it rather than skip it; an id whose
/// transaction rolled back is given up after the visibility margin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_event_committed_late_is_delivered_in_its_place_not_skipped() {
    use sqlx::{Connection, Row};
    let Some(app) = setup(Db::Postgres).await else {
        return;
    };
    let store = app.state.store.as_ref();
    let receiver = Receiver::start(Mode::Accept).await;
    subscribe(&app, &receiver.url, &["sent", "opened"]).await;
    let people = audience(&app, "late", 1).await;
    let instance = send_and_wait(&app, "Default Commercial", &people).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let recipient = captured(&app, instance).await[0].recipient_id;
    let opened = NewEvent {
        mid: DEMO,
        instance_id: instance,
        recipient_id: recipient,
        kind: EventKind::Opened,
        detail: None,
    };
    let insert = "INSERT INTO events (mid, instance_id, recipient_id, kind, detail, created_at)
                  VALUES ($1, $2, $3, 'opened', '{\"late\":true}', 0) RETURNING id";

    let mut late = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    let mut tx = late.begin().await.unwrap();
    let late_id: i64 = sqlx::query(insert)
        .bind(DEMO.get())
        .bind(instance)
        .bind(recipient)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("id");
    let early_id = store.append_event(&opened, app.clock.now()).await.unwrap();
    assert!(early_id > late_id);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.accepted().len(),
        1,
        "the later id waits for the earlier one"
    );
    tx.commit().await.unwrap();
    let delivered = receiver.wait_for(3, Duration::from_secs(10)).await;
    let ids: Vec<i64> = delivered[1..]
        .iter()
        .map(|d| d.body["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [late_id, early_id]);
    assert_eq!(delivered[1].body["detail"]["late"], true);

    let mut tx = late.begin().await.unwrap();
    let rolled_back: i64 = sqlx::query(insert)
        .bind(DEMO.get())
        .bind(instance)
        .bind(recipient)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("id");
    tx.rollback().await.unwrap();
    let after = store.append_event(&opened, app.clock.now()).await.unwrap();
    assert!(after > rolled_back);
    let started = Instant::now();
    let delivered = receiver.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(delivered[3].body["id"], after);
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "a gap is waited for before it counts as a rollback: {:?}",
        started.elapsed()
    );
}
