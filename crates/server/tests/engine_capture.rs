//! The send engine end to end with no relay configured: the demo's send lands in the
//! capture outbox, one personalized message per recipient, and the counts say why the
//! others were not sent.

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, json_body, spawn_app};
use herald_domain::clock::Clock;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::{Target, TargetType};
use herald_store::{DeliveryProfile, NewSendDefinition, SendClassification, SendInstance};
use herald_test_support::{Db, backend_tests};

async fn setup(db: Db) -> Option<TestApp> {
    let app = spawn_app(db).await?;
    herald::demo::seed_and_print(&app.state).await.unwrap();
    Some(app)
}

const DEMO: Mid = Mid::from_stored(100_000_002);

/// Schedules the demo email, now, to `targets` of the demo account.
async fn send_demo(
    app: &TestApp,
    classification: &str,
    targets: Vec<Target>,
    exclusions: Vec<Target>,
) -> i64 {
    let email_id: i64 = app
        .scalar("SELECT id FROM assets WHERE mid = 100000002 AND customer_key = 'welcome'")
        .await
        .parse()
        .unwrap();
    let classification = app
        .state
        .store
        .classifications::<SendClassification>()
        .find(DEMO, classification)
        .await
        .unwrap()
        .unwrap();
    let now = app.clock.now();
    let definition = NewSendDefinition {
        mid: DEMO,
        external_key: format!("engine-{}", uuid::Uuid::new_v4()),
        name: "Engine test".into(),
        description: String::new(),
        email_id,
        send_classification_id: classification.meta.id,
        targets,
        exclusions,
        deduplicate_by_email: false,
        created_at: now,
    };
    let schedule = Schedule {
        start_at: now,
        all_recipients_opted_in: true,
    };
    let (_, instance) = app
        .state
        .store
        .create_send_definition_and_instance(definition, schedule)
        .await
        .unwrap();
    instance.id
}

async fn demo_target(app: &TestApp, table: &str, target_type: TargetType) -> Target {
    let id = app
        .scalar(&format!(
            "SELECT id FROM {table} WHERE mid = 100000002 ORDER BY id LIMIT 1"
        ))
        .await;
    Target {
        target_type,
        name: table.into(),
        id: SalesforceId::parse(&id).unwrap(),
    }
}

async fn wait_for(app: &TestApp, id: i64, status: InstanceStatus) -> SendInstance {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let instance = app
            .state
            .store
            .get_send_instance(DEMO, id)
            .await
            .unwrap()
            .unwrap();
        if instance.status == status {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "instance is {:?}, waited for {status:?}",
            instance.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_demo_send_lands_in_the_outbox_personalized_with_counts(app: TestApp) {
    let report = demo_target(&app, "crm_reports", TargetType::Report).await;
    let id = send_demo(&app, "Default Commercial", vec![report], vec![]).await;
    let done = wait_for(&app, id, InstanceStatus::Complete).await;
    let counts = done.counts;
    assert!(counts.targeted > 0);
    assert_eq!(
        counts.targeted,
        counts.sent + counts.suppressed + counts.excluded + counts.duplicates
    );
    assert_eq!(counts.bounced + counts.failed + counts.deferred, 0);
    assert_eq!(done.job_id, Some(id));

    let package = app.package(DEMO, "").await;
    let token = app.token(&package).await;
    let listed = json_body(
        app.get_with(&format!("herald/v1/outbox?instanceId={id}"), &token)
            .await,
    )
    .await;
    assert_eq!(listed["count"], counts.sent);
    let first = &listed["items"][0];
    let raw = json_body(
        app.get_with(&format!("herald/v1/outbox/{}", first["id"]), &token)
            .await,
    )
    .await;
    let raw = raw["raw"].as_str().unwrap();
    let to = first["to"].as_str().unwrap();
    let first_name = to.split('.').next().unwrap();
    assert!(
        raw.to_lowercase()
            .contains(&format!("subject: hello {first_name}")),
        "{raw}"
    );
    assert!(
        raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{raw}"
    );
    assert!(raw.contains(&format!("Message-ID: <h{id}.")), "{raw}");
    assert!(
        !raw.contains("%%"),
        "every personalization string is filled: {raw}"
    );
    let profile = app
        .state
        .store
        .classifications::<DeliveryProfile>()
        .find(DEMO, "Default")
        .await;
    let street = profile.unwrap().unwrap().address.street;
    assert!(
        !street.is_empty() && raw.contains(&street),
        "the postal address is in the footer: {raw}"
    );

    let response = app
        .get_with(&format!("herald/v1/outbox/{}/raw", first["id"]), &token)
        .await;
    assert_eq!(response.headers()["content-type"], "message/rfc822");
    let recipients = format!("data/v1/integration/send/salesforce/email/instance/{id}/recipients");
    let sent = json_body(
        app.get_with(&format!("{recipients}?status=sent&pageSize=5"), &token)
            .await,
    )
    .await;
    assert_eq!(sent["Count"], counts.sent);
    assert_eq!(
        sent["Recipients"].as_array().unwrap().len() as i64,
        counts.sent.min(5)
    );
    assert_eq!(sent["Recipients"][0]["Status"], "sent");
    assert_eq!(
        sent["Recipients"][0]["SubscriberKey"]
            .as_str()
            .unwrap()
            .len(),
        18
    );
    let all = json_body(app.get_with(&recipients, &token).await).await;
    assert_eq!(all["Count"], counts.targeted);
    let bad = json_body(
        app.get_with(&format!("{recipients}?status=lost"), &token)
            .await,
    )
    .await;
    assert_eq!(bad["IsError"], true, "{bad}");
    let metrics = app
        .http
        .get(app.url("metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let captured = format!(
        "herald_messages_total{{outcome=\"captured\"}} {}",
        counts.sent
    );
    assert!(metrics.contains(&captured), "{metrics}");
    assert!(
        metrics.contains("herald_scheduler_lag_seconds_count 1"),
        "{metrics}"
    );
    let other = app.package(app.first_mid(), "").await;
    let response = app
        .get_with(
            &format!("herald/v1/outbox/{}", first["id"]),
            &app.token(&other).await,
        )
        .await;
    assert_eq!(
        response.status(),
        404,
        "another account's outbox is not visible"
    );
}

async fn transactional_mail_reaches_records_that_opted_out_of_commercial_mail(app: TestApp) {
    let report = demo_target(&app, "crm_reports", TargetType::Report).await;
    let commercial = send_demo(&app, "Default Commercial", vec![report.clone()], vec![]).await;
    let commercial = wait_for(&app, commercial, InstanceStatus::Complete).await;
    let transactional = send_demo(&app, "Default Transactional", vec![report], vec![]).await;
    let transactional = wait_for(&app, transactional, InstanceStatus::Complete).await;
    assert_eq!(transactional.counts.suppressed, 0);
    assert_eq!(
        transactional.counts.sent,
        commercial.counts.sent + commercial.counts.suppressed
    );
}

async fn an_exclusion_and_a_second_target_are_applied_once_per_record(app: TestApp) {
    let report = demo_target(&app, "crm_reports", TargetType::Report).await;
    let campaign = demo_target(&app, "crm_campaigns", TargetType::Campaign).await;
    let both = send_demo(
        &app,
        "Default Transactional",
        vec![report.clone(), report.clone()],
        vec![],
    )
    .await;
    let both = wait_for(&app, both, InstanceStatus::Complete).await;
    assert_eq!(
        both.counts.duplicates * 2,
        both.counts.targeted,
        "the same report twice"
    );
    let excluded = send_demo(
        &app,
        "Default Transactional",
        vec![campaign.clone()],
        vec![campaign],
    )
    .await;
    let excluded = wait_for(&app, excluded, InstanceStatus::Complete).await;
    assert_eq!(excluded.counts.excluded, excluded.counts.targeted);
    assert_eq!(excluded.counts.sent, 0);
}

async fn a_target_deleted_before_the_send_starts_puts_the_instance_in_error(app: TestApp) {
    let missing = Target {
        target_type: TargetType::Report,
        name: "gone".into(),
        id: SalesforceId::generate("00O", 999_999),
    };
    let id = send_demo(&app, "Default Commercial", vec![missing.clone()], vec![]).await;
    let failed = wait_for(&app, id, InstanceStatus::Error).await;
    let message = failed.message.unwrap();
    assert!(message.contains(missing.id.as_str()), "{message}");
    assert_eq!(app.count("recipients").await, 0);
}

async fn mail_from_a_domain_with_a_dkim_key_is_signed_and_verifies(app: TestApp) {
    let key = herald::dkim::generate(
        app.state.store.as_ref(),
        app.clock.as_ref(),
        "herald.example",
        "s1",
        herald_mail::dkim::KeyAlgorithm::Ed25519,
    )
    .await
    .unwrap();
    let report = demo_target(&app, "crm_reports", TargetType::Report).await;
    let id = send_demo(&app, "Default Transactional", vec![report], vec![]).await;
    wait_for(&app, id, InstanceStatus::Complete).await;
    let (_, captured) = app
        .state
        .store
        .list_captured(
            DEMO,
            Some(id),
            herald_domain::paging::PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await
        .unwrap();
    let raw = app
        .state
        .store
        .captured_raw(DEMO, captured[0].id)
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains("d=herald.example") && text.contains("s=s1"),
        "{text}"
    );
    let output = herald_test_support::peers::run_python("dkim_verify.py", &[&key.dns_record], &raw);
    assert!(
        output.status.success(),
        "dkimpy: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

backend_tests!(setup =>
    mail_from_a_domain_with_a_dkim_key_is_signed_and_verifies,
    a_demo_send_lands_in_the_outbox_personalized_with_counts,
    transactional_mail_reaches_records_that_opted_out_of_commercial_mail,
    an_exclusion_and_a_second_target_are_applied_once_per_record,
    a_target_deleted_before_the_send_starts_puts_the_instance_in_error,
);
