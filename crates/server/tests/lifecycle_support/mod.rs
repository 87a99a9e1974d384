//! Shared by the subscriber-lifecycle tests: a Herald with the demo account and no relay
//! (messages land in the capture outbox), a send of the demo email to the demo report,
//! and each captured message parsed by Python's `email` package with its links.
#![allow(dead_code)] // each test binary uses a different part

use std::time::{Duration, Instant};

use herald_domain::clock::Clock;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::salesforce_id::SalesforceId;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::{Target, TargetType};
use herald_store::{NewSendDefinition, SendInstance};
use herald_test_support::Db;
use serde_json::Value;

use crate::common::{TestApp, spawn_app};

pub const DEMO: Mid = Mid::from_stored(100_000_002);

pub async fn setup(db: Db) -> Option<TestApp> {
    let app = spawn_app(db).await?;
    herald::demo::seed_and_print(&app.state).await.unwrap();
    Some(app)
}

/// Sends the demo email now to the demo report with `classification` and waits until
/// the instance is complete.
pub async fn send_demo(app: &TestApp, classification: &str) -> SendInstance {
    let email_id: i64 = app
        .scalar("SELECT id FROM assets WHERE mid = 100000002 AND customer_key = 'welcome'")
        .await
        .parse()
        .unwrap();
    let report = app
        .scalar("SELECT id FROM crm_reports WHERE mid = 100000002 ORDER BY id LIMIT 1")
        .await;
    let store = &app.state.store;
    let classification = store
        .find_send_classification(DEMO, classification)
        .await
        .unwrap()
        .unwrap();
    let now = app.clock.now();
    let definition = NewSendDefinition {
        mid: DEMO,
        external_key: format!("lifecycle-{}", uuid::Uuid::new_v4()),
        name: "Lifecycle test".into(),
        description: String::new(),
        email_id,
        send_classification_id: classification.meta.id,
        targets: vec![Target {
            target_type: TargetType::Report,
            name: "Demo Co".into(),
            id: SalesforceId::parse(&report).unwrap(),
        }],
        exclusions: vec![],
        deduplicate_by_email: false,
        created_at: now,
    };
    let schedule = Schedule {
        start_at: now,
        all_recipients_opted_in: true,
    };
    let (_, instance) = store
        .create_send_definition_and_instance(definition, schedule)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let current = store
            .get_send_instance(DEMO, instance.id)
            .await
            .unwrap()
            .unwrap();
        if current.status == InstanceStatus::Complete {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "instance is {:?}",
            current.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
