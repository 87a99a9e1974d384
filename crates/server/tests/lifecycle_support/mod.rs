//! Shared by the subscriber-lifecycle tests: a Herald with the demo account and no relay
//! (messages land in the capture outbox), a send of the demo email to the demo report,
//! and each captured message parsed by Python's `email` package with its links.
#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use herald_domain::clock::Clock;
use herald_domain::paging::PageRequest;
use herald_domain::salesforce_id::SalesforceId;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::{Target, TargetType};
use herald_store::SendInstance;
use herald_test_support::Db;
use serde_json::Value;

use crate::common::{TestApp, spawn_app};
use crate::engine_support::{send, wait_for};

pub use crate::engine_support::DEMO;

pub async fn setup(db: Db) -> Option<TestApp> {
    let app = spawn_app(db).await?;
    herald::demo::seed_and_print(&app.state).await.unwrap();
    Some(app)
}

/// Sends the demo email now to the demo report with `classification` and waits until
/// the instance is complete.
pub async fn send_demo(app: &TestApp, classification: &str) -> SendInstance {
    let report = app
        .scalar("SELECT id FROM crm_reports WHERE mid = 100000002 ORDER BY id LIMIT 1")
        .await;
    let target = Target {
        target_type: TargetType::Report,
        name: "Demo Co".into(),
        id: SalesforceId::parse(&report).unwrap(),
    };
    let store = app.state.store.as_ref();
    let id = send(store, app.clock.now(), classification, &target).await;
    wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(20)).await
}

/// One captured message, as a mail client would see it.
pub struct Message {
    pub recipient_id: i64,
    pub to: String,
    /// The `List-Unsubscribe` URL (commercial mail only).
    pub unsubscribe: Option<String>,
    pub html: String,
}

impl Message {
    /// Every `href` and `src` value in the HTML that starts with `prefix`.
    pub fn urls(&self, prefix: &str) -> Vec<String> {
        let mut found = Vec::new();
        for quoted in self.html.split('"').skip(1).step_by(2) {
            if quoted.starts_with(prefix) {
                found.push(quoted.replace("&amp;", "&"));
            }
        }
        found
    }
}

/// Every message the instance left in the outbox, parsed.
pub async fn messages(app: &TestApp, instance_id: i64) -> Vec<Message> {
    let store = &app.state.store;
    let page = PageRequest {
        page: 1,
        page_size: 500,
    };
    let (_, captured) = store
        .list_captured(DEMO, Some(instance_id), page)
        .await
        .unwrap();
    let mut messages = Vec::new();
    for entry in captured {
        let raw = store.captured_raw(DEMO, entry.id).await.unwrap().unwrap();
        let output = herald_test_support::peers::run_python("parse_message.py", &[], &raw);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
        let html = parsed["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|part| part["content_type"] == "text/html")
            .map(|part| part["content"].as_str().unwrap().to_owned())
            .unwrap_or_default();
        let unsubscribe = parsed["headers"]["list-unsubscribe"][0]
            .as_str()
            .map(|value| value.trim_matches(|c| c == '<' || c == '>').to_owned());
        messages.push(Message {
            recipient_id: entry.recipient_id,
            to: entry.rcpt_to,
            unsubscribe,
            html,
        });
    }
    messages.sort_by_key(|m| m.recipient_id);
    messages
}

/// How many events of `kind` the log holds.
pub async fn events(app: &TestApp, kind: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM events WHERE kind = '{kind}'"
    ))
    .await
    .parse()
    .unwrap()
}

/// A client like a mail provider's: no cookies, no redirects followed.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
