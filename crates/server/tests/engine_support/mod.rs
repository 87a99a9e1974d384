//! Shared by the engine's tests against real SMTP peers: a Herald whose engine sends to a
//! given relay, an audience of contacts made through the store, a scheduled send of the
//! demo email, and waits on what the engine does (polling to a deadline, never sleeping
//! a fixed time).
#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::common::{TestApp, spawn_app_with};
use herald_domain::asset_query::AssetQuery;
use herald_domain::clock::Clock;
use herald_domain::crm::{Condition, CrmObject, FieldInput, Logic, RecordChanges, ReportFilter};
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::{Target, TargetType};
use herald_store::{
    MatchOn, NewSendDefinition, Recipient, ReportDefinition, Reports, RowOutcome,
    SendClassification, SendInstance, Store,
};
use herald_test_support::Db;
use serde_json::Value;
use time::OffsetDateTime;

/// The demo account, which `seed_and_print` creates second.
pub const DEMO: Mid = Mid::from_stored(100_000_002);

/// The demo sender's domain: the right-hand side of every Message-ID.
pub const SENDER_DOMAIN: &str = "herald.example";

/// A Herald with the demo seeded, whose engine sends through `relays` with `workers`
/// messages in flight at most.
pub async fn spawn_engine(db: Db, relays: &str, workers: usize) -> Option<TestApp> {
    spawn_engine_with(db, relays, workers, &[]).await
}

/// As [`spawn_engine`], with more settings.
pub async fn spawn_engine_with(
    db: Db,
    relays: &str,
    workers: usize,
    more: &[(&str, &str)],
) -> Option<TestApp> {
    let workers = workers.to_string();
    let mut settings = vec![("HERALD_SMTP_RELAY", relays), ("HERALD_WORKERS", &workers)];
    settings.extend_from_slice(more);
    let app = spawn_app_with(db, &settings).await?;
    herald::demo::seed_and_print(&app.state).await.unwrap();
    Some(app)
}

/// `smtp://127.0.0.1:PORT?tls=none`: the peers speak plain SMTP.
pub fn relay_on(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}?tls=none")
}

/// A few first names, some needing encoded words in headers.
const FIRST_NAMES: [&str; 5] = ["Ann", "Zoë", "Łukasz", "José", "Bea"];

/// Contacts made for a test, and a report that selects exactly them.
pub struct Audience {
    pub target: Target,
    /// Each contact's first name, by address.
    pub first_names: HashMap<String, String>,
}

impl Audience {
    /// Creates one contact per local part (at `example.org`, first name `<name><n>`)
    /// through the CRM's bulk upsert, in batches, and a report of them.
    pub async fn create(store: &dyn Store, now: OffsetDateTime, locals: &[String]) -> Audience {
        let tag = format!("Load {}", uuid::Uuid::new_v4().simple());
        let mut first_names = HashMap::new();
        for (batch, chunk) in locals.chunks(1000).enumerate() {
            let mut rows = Vec::with_capacity(chunk.len());
            for (i, local) in chunk.iter().enumerate() {
                let n = batch * 1000 + i;
                let email = format!("{local}@example.org");
                let first = format!("{}{n}", FIRST_NAMES[n % FIRST_NAMES.len()]);
                let mut changes = RecordChanges::default();
                changes.set("Email", FieldInput::Text(&email)).unwrap();
                changes.set("FirstName", FieldInput::Text(&first)).unwrap();
                changes.set("LastName", FieldInput::Text("Tester")).unwrap();
                changes.set("Company__c", FieldInput::Text(&tag)).unwrap();
                rows.push(changes);
                first_names.insert(email, first);
            }
            let outcomes = store
                .upsert_records(DEMO, CrmObject::Contact, MatchOn::Email, rows, now)
                .await
                .unwrap();
            for outcome in outcomes {
                assert!(
                    matches!(outcome, RowOutcome::Created(_)),
                    "a new contact: {outcome:?}"
                );
            }
        }
        let known = store.custom_fields(DEMO, CrmObject::Contact).await.unwrap();
        let condition = Condition::parse("Company__c", "equals", Some(&tag)).unwrap();
        let filter = ReportFilter::new(Logic::And, vec![condition])
            .unwrap()
            .resolve(CrmObject::Contact, &known)
            .unwrap();
        let report = store
            .create_target(
                Reports,
                DEMO,
                ReportDefinition {
                    name: tag.clone(),
                    object: CrmObject::Contact,
                    filter,
                },
                now,
            )
            .await
            .unwrap();
        Audience {
            target: Target {
                target_type: TargetType::Report,
                name: tag,
                id: report.id,
            },
            first_names,
        }
    }
}

/// `count` local parts `<prefix><n>` (e.g. `flaky1-` gives `flaky1-0`, `flaky1-1`, …),
/// numbered from `from`.
pub fn locals(prefix: &str, from: usize, count: usize) -> Vec<String> {
    (from..from + count)
        .map(|n| format!("{prefix}{n}"))
        .collect()
}

/// Schedules the demo email, now, to `target` with the demo's classification named
/// `classification` ("Default Commercial" or "Default Transactional").
pub async fn send(
    store: &dyn Store,
    now: OffsetDateTime,
    classification: &str,
    target: &Target,
) -> i64 {
    let query = AssetQuery {
        filter: None,
        sort: vec![],
        page: PageRequest {
            page: 1,
            page_size: 50,
        },
    };
    let assets = store.list_assets(DEMO, &query).await.unwrap();
    let email_id = assets
        .items
        .iter()
        .find(|asset| asset.customer_key == "welcome")
        .expect("the demo email")
        .id;
    let classification = store
        .classifications::<SendClassification>()
        .find(DEMO, classification)
        .await
        .unwrap()
        .expect("a demo classification");
    let definition = NewSendDefinition {
        mid: DEMO,
        external_key: format!("engine-{}", uuid::Uuid::new_v4()),
        name: "Engine test".into(),
        description: String::new(),
        email_id,
        send_classification_id: classification.meta.id,
        targets: vec![target.clone()],
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
    instance.id
}

/// The instance, read through the store.
pub async fn instance(store: &dyn Store, id: i64) -> SendInstance {
    store
        .get_send_instance(DEMO, id)
        .await
        .unwrap()
        .expect("the instance exists")
}

/// Waits (at most `within`) for the instance to be in `status`.
pub async fn wait_for(
    store: &dyn Store,
    id: i64,
    status: InstanceStatus,
    within: Duration,
) -> SendInstance {
    let deadline = Instant::now() + within;
    loop {
        let instance = instance(store, id).await;
        if instance.status == status {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "instance {id} is {:?} ({:?}) after {within:?}; waited for {status:?}",
            instance.status,
            instance.counts
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most `within`) until the settler has brought the instance's counts to
/// `sent` and `deferred`, and returns it.
pub async fn wait_for_counts(
    store: &dyn Store,
    id: i64,
    (sent, deferred): (i64, i64),
    within: Duration,
) -> SendInstance {
    let deadline = Instant::now() + within;
    loop {
        let instance = instance(store, id).await;
        if (instance.counts.sent, instance.counts.deferred) == (sent, deferred) {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "instance {id} counts {:?} after {within:?}; waited for {sent} sent, {deferred} deferred",
            instance.counts
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every recipient of the instance, in write order.
pub async fn recipients(store: &dyn Store, id: i64) -> Vec<Recipient> {
    let mut all = Vec::new();
    for page in 1.. {
        let request = PageRequest {
            page,
            page_size: 1000,
        };
        let (total, items) = store
            .list_recipients(DEMO, id, None, request)
            .await
            .unwrap();
        all.extend(items);
        if all.len() as i64 >= total {
            return all;
        }
    }
    unreachable!("the pages run out")
}

/// The instance's recipients by address.
pub async fn recipients_by_email(store: &dyn Store, id: i64) -> HashMap<String, Recipient> {
    recipients(store, id)
        .await
        .into_iter()
        .map(|r| (r.email.clone(), r))
        .collect()
}

/// The Message-ID the engine gives a recipient's message.
pub fn message_id(instance_id: i64, recipient: &Recipient) -> String {
    format!("<h{instance_id}.{}@{SENDER_DOMAIN}>", recipient.id)
}

/// Recipients of the instance the engine owes an attempt right now: queued, in flight,
/// or deferred to a time the clock has reached.
pub async fn owed(app: &TestApp, id: i64) -> i64 {
    let now = (app.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
    app.scalar(&format!(
        "SELECT COUNT(*) FROM recipients WHERE instance_id = {id}
           AND (status = 'queued' OR lease_owner IS NOT NULL
                OR (status = 'deferred' AND next_attempt_at <= {now}))"
    ))
    .await
    .parse()
    .unwrap()
}

/// Waits (at most `within`) until the engine has made every attempt it can make without
/// the clock moving: resolution is over and nothing is owed.
pub async fn wait_until_idle(app: &TestApp, id: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let resolved = instance(app.state.store.as_ref(), id).await.counts.targeted > 0;
        if resolved && owed(app, id).await == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "instance {id} still has recipients queued or in flight after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Moves the clock just past the latest retry time of the instance's deferred
/// recipients; false when none is deferred.
pub async fn advance_past_retries(app: &TestApp, id: i64) -> bool {
    let latest = recipients(app.state.store.as_ref(), id)
        .await
        .into_iter()
        .filter(|r| r.status == RecipientStatus::Deferred)
        .filter_map(|r| r.next_attempt_at)
        .max();
    let Some(latest) = latest else {
        return false;
    };
    let now = app.clock.now();
    if latest >= now {
        app.clock.advance(latest - now + time::Duration::seconds(1));
    }
    true
}

/// Python's `email` package on each file: one JSON description per file, in order
/// (see `parse_message.py`).
pub fn parse_messages(paths: &[std::path::PathBuf]) -> Vec<Value> {
    let args: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    let output = herald_test_support::peers::run_python("parse_message.py", &args, b"");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(parsed.len(), paths.len());
    parsed
}

/// The first value of a header in a parsed message, as Python decoded it.
pub fn header<'a>(parsed: &'a Value, name: &str) -> &'a str {
    parsed["headers"][name][0].as_str().unwrap_or_default()
}
