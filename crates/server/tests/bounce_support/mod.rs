//! Shared by the bounce and webhook tests: a Herald that keeps mail in the capture outbox
//! and takes bounces with a known secret, the VERP addresses its messages left with, and
//! delivery status notifications made from the fixtures in `fixtures/dsn`.
#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use crate::common::{TestApp, spawn_app_with};
use crate::engine_support::{Audience, DEMO, locals, send, wait_for};
use herald_domain::clock::Clock;
use herald_domain::paging::PageRequest;
use herald_domain::send::status::InstanceStatus;
use herald_store::CapturedMessage;
use herald_test_support::Db;
use serde_json::Value;

/// The bounce secret of the test servers.
pub const SECRET: &str = "test-bounce-secret-0123456789";

/// A Herald with the demo seeded, no relay (the capture outbox) and bounce ingestion on.
pub async fn spawn_capture(db: Db, more: &[(&str, &str)]) -> Option<TestApp> {
    let mut settings = vec![("HERALD_BOUNCE_SECRET", SECRET)];
    settings.extend_from_slice(more);
    let app = spawn_app_with(db, &settings).await?;
    herald::demo::seed_and_print(&app.state).await.unwrap();
    Some(app)
}

/// Contacts `<prefix>0…` at example.org, made for this test.
pub async fn audience(app: &TestApp, prefix: &str, count: usize) -> Audience {
    let store = app.state.store.as_ref();
    Audience::create(store, app.clock.now(), &locals(prefix, 0, count)).await
}

/// Sends the demo email to `audience` with `classification` and waits until complete.
pub async fn send_and_wait(app: &TestApp, classification: &str, audience: &Audience) -> i64 {
    let store = app.state.store.as_ref();
    let id = send(store, app.clock.now(), classification, &audience.target).await;
    wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(30)).await;
    id
}

/// The messages of an instance in the capture outbox.
pub async fn captured(app: &TestApp, instance_id: i64) -> Vec<CapturedMessage> {
    let page = PageRequest {
        page: 1,
        page_size: 1000,
    };
    let (_, items) = app
        .state
        .store
        .list_captured(DEMO, Some(instance_id), page)
        .await
        .unwrap();
    items
}

/// A notification made from the fixture `name`, returning a message sent with the
/// envelope sender `verp` to `rcpt`.
pub fn notification(name: &str, verp: &str, rcpt: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/dsn/{name}.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .replace("{VERP}", verp)
        .replace("{RCPT}", rcpt)
        .into_bytes()
}

/// Posts a raw message to the bounce endpoint; the status and JSON body.
pub async fn post_bounce(
    app: &TestApp,
    body: Vec<u8>,
    secret: Option<&str>,
    content_type: &str,
) -> (u16, Value) {
    let mut request = app
        .http
        .post(app.url("herald/v1/bounces"))
        .header("content-type", content_type)
        .body(body);
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Posts a notification the way a relay's pipe does.
pub async fn bounce(app: &TestApp, body: Vec<u8>) -> (u16, Value) {
    post_bounce(app, body, Some(SECRET), "message/rfc822").await
}
