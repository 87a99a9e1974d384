//! Asynchronous bounces end to end: every message leaves with its own signed VERP
//! envelope sender; a delivery status notification posted to `/herald/v1/bounces`
//! suppresses the address when the failure is permanent and only counts it when it is
//! temporary; forged addresses and messages that are not notifications change nothing.

mod bounce_support;
mod common;
mod engine_support;

use bounce_support::{
    SECRET, audience, bounce, captured, notification, post_bounce, send_and_wait, spawn_capture,
};
use std::collections::HashSet;

use common::TestApp;
use engine_support::{DEMO, SENDER_DOMAIN, instance, recipients_by_email, relay_on, spawn_engine};
use herald_domain::clock::Clock;
use herald_domain::event::EventKind;
use herald_domain::recipient::{RecipientStatus, SuppressionReason};
use herald_domain::verp::VerpToken;
use herald_store::{DeliveryProfile, DeliveryProfileFields, MetaFields};
use herald_test_support::peers::{SmtpSink, free_port, run_python};
use herald_test_support::{Db, backend_tests};
use serde_json::Value;

/// Each scenario starts its own Herald (some with settings of their own).
async fn database(db: Db) -> Option<Db> {
    Some(db)
}

async fn setup(db: Db) -> Option<TestApp> {
    spawn_capture(db, &[]).await
}

async fn a_hard_bounce_suppresses_the_address_and_the_next_commercial_send_skips_it(db: Db) {
    let Some(app) = setup(db).await else {
        return;
    };
    let store = app.state.store.as_ref();
    let people = audience(&app, "hard", 3).await;
    let first = send_and_wait(&app, "Default Commercial", &people).await;
    let messages = captured(&app, first).await;
    assert_eq!(messages.len(), 3);
    for message in &messages {
        let (local, domain) = message.envelope_from.split_once('@').unwrap();
        assert!(
            local.starts_with("bounces+") && local.len() <= 64,
            "{local}"
        );
        assert_eq!(domain, SENDER_DOMAIN, "the From domain by default");
    }
    // One notification per relay style, each for another message.
    let styles = ["postfix_hard", "exchange_hard", "gmail_hard"];
    let mut statuses = Vec::new();
    for (message, style) in messages.iter().zip(styles) {
        let body = notification(style, &message.envelope_from, &message.rcpt_to);
        let (status, answer) = bounce(&app, body).await;
        assert_eq!(status, 200, "{style}: {answer}");
        assert_eq!(answer["outcome"], "hard_bounce", "{style}: {answer}");
        assert_eq!(answer["recipientId"], message.recipient_id);
        statuses.push(answer["status"].as_str().unwrap().to_owned());
        let suppression = store
            .get_suppression(DEMO, &message.rcpt_to.to_lowercase())
            .await
            .unwrap()
            .expect("the address is suppressed");
        assert_eq!(suppression.reason, SuppressionReason::HardBounce);
        let events = store.recipient_events(message.recipient_id).await.unwrap();
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Sent, EventKind::Bounced]);
        let detail = events[1].detail.as_ref().unwrap();
        assert_eq!(detail["kind"], "hard");
        assert_eq!(detail["status"], answer["status"]);
        assert!(detail["diagnostic"].as_str().unwrap().contains("5.1."));
    }
    assert_eq!(statuses, ["5.1.1", "5.1.10", "5.1.1"]);
    let after = recipients_by_email(store, first).await;
    assert!(after.values().all(|r| r.status == RecipientStatus::Bounced));
    let counts = instance(store, first).await.counts;
    assert_eq!((counts.sent, counts.bounced), (0, 3), "the counts follow");
    let statistics = store.instance_engagement(DEMO, first).await.unwrap();
    assert_eq!((statistics.bounced, statistics.soft_bounced), (3, 0));
    assert_eq!(
        statistics.attempted, 3,
        "a bounce leaves the attempted alone"
    );

    let second = send_and_wait(&app, "Default Commercial", &people).await;
    let counts = instance(store, second).await.counts;
    assert_eq!((counts.sent, counts.suppressed), (0, 3), "{counts:?}");
    assert!(captured(&app, second).await.is_empty());
}

async fn a_notification_for_a_message_already_bounced_changes_nothing(db: Db) {
    let Some(app) = setup(db).await else {
        return;
    };
    let store = app.state.store.as_ref();
    let people = audience(&app, "again", 1).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let message = &captured(&app, id).await[0];
    let body = notification("postfix_hard", &message.envelope_from, &message.rcpt_to);
    assert_eq!(bounce(&app, body.clone()).await.1["outcome"], "hard_bounce");
    let events = app.count("events").await;
    let (status, answer) = bounce(&app, body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["outcome"], "already_bounced");
    let delayed = notification("postfix_delayed", &message.envelope_from, &message.rcpt_to);
    assert_eq!(bounce(&app, delayed).await.1["outcome"], "already_bounced");
    assert_eq!(app.count("events").await, events);
    let counts = instance(store, id).await.counts;
    assert_eq!(counts.bounced, 1);
}

async fn a_soft_bounce_is_counted_once_and_suppresses_nothing(db: Db) {
    let Some(app) = setup(db).await else {
        return;
    };
    let store = app.state.store.as_ref();
    let people = audience(&app, "soft", 1).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let message = &captured(&app, id).await[0];
    let body = notification("postfix_delayed", &message.envelope_from, &message.rcpt_to);
    let (status, answer) = bounce(&app, body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "soft_bounce");
    assert_eq!(answer["status"], "4.4.1");
    let (_, again) = bounce(&app, body).await;
    assert_eq!(
        again["outcome"], "duplicate",
        "the same notification piped twice"
    );
    let events = store.recipient_events(message.recipient_id).await.unwrap();
    let bounced: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Bounced)
        .collect();
    assert_eq!(bounced.len(), 1);
    assert_eq!(bounced[0].detail.as_ref().unwrap()["kind"], "soft");
    assert!(
        store
            .get_suppression(DEMO, &message.rcpt_to.to_lowercase())
            .await
            .unwrap()
            .is_none()
    );
    let recipient = &recipients_by_email(store, id).await[&message.rcpt_to];
    assert_eq!(recipient.status, RecipientStatus::Sent);
    let statistics = store.instance_engagement(DEMO, id).await.unwrap();
    assert_eq!((statistics.bounced, statistics.soft_bounced), (0, 1));
    let next = send_and_wait(&app, "Default Commercial", &people).await;
    assert_eq!(instance(store, next).await.counts.sent, 1);
}

async fn a_notification_of_success_records_nothing(db: Db) {
    let Some(app) = setup(db).await else {
        return;
    };
    let people = audience(&app, "relayed", 1).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let message = &captured(&app, id).await[0];
    let relayed = String::from_utf8(notification(
        "exchange_hard",
        &message.envelope_from,
        &message.rcpt_to,
    ))
    .unwrap()
    .replace("Action: failed", "Action: relayed")
    .replace("Status: 5.1.10", "Status: 2.0.0");
    let events = app.count("events").await;
    let (status, answer) = bounce(&app, relayed.into_bytes()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "not_a_failure");
    assert_eq!(answer["action"], "relayed");
    assert_eq!(app.count("events").await, events);
    assert_eq!(app.count("suppressions").await, 0);
    let metrics = app.http.get(app.url("metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("herald_bounce_notifications_total{outcome=\"not_a_failure\"} 1"),
        "{metrics}"
    );
}

async fn a_forged_verp_address_gets_404_and_records_nothing(db: Db) {
    let Some(app) = setup(db).await else {
        return;
    };
    let people = audience(&app, "forged", 2).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let messages = captured(&app, id).await;
    let (victim, other) = (&messages[0], &messages[1]);
    let (local, domain) = victim.envelope_from.split_once('@').unwrap();
    // The victim's ids with another message's tag; a flipped tag; a guessed one.
    let (head, _) = local.rsplit_once('-').unwrap();
    let (_, other_tag) = other
        .envelope_from
        .split_once('@')
        .unwrap()
        .0
        .rsplit_once('-')
        .unwrap();
    let mut flipped = local.to_owned();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    let forgeries = [
        format!("{head}-{other_tag}@{domain}"),
        format!("{flipped}@{domain}"),
        format!("{head}-000000000000000000000000@{domain}"),
        format!("{head}@{domain}"),
    ];
    let (events, suppressions) = (app.count("events").await, app.count("suppressions").await);
    for forged in &forgeries {
        let body = notification("postfix_hard", forged, &victim.rcpt_to);
        let (status, answer) = bounce(&app, body).await;
        assert_eq!(status, 404, "{forged}: {answer}");
        assert_eq!(answer["errorcode"], 10005);
        assert!(
            answer["message"].as_str().unwrap().contains("VERP"),
            "{answer}"
        );
    }
    assert_eq!(app.count("events").await, events);
    assert_eq!(app.count("suppressions").await, suppressions);
    let recipient = &recipients_by_email(app.state.store.as_ref(), id).await[&victim.rcpt_to];
    assert_eq!(recipient.status, RecipientStatus::Sent);
}

async fn what_is_not_a_notification_or_not_authenticated_is_refused_clearly(db: Db) {
    let Some(app) = setup(db).await else {
        return;
    };
    let people = audience(&app, "refused", 1).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let message = &captured(&app, id).await[0];
    let (verp, rcpt) = (&message.envelope_from, &message.rcpt_to);
    let events = app.count("events").await;

    let (status, answer) = bounce(&app, notification("out_of_office", verp, rcpt)).await;
    assert_eq!((status, answer["errorcode"].as_u64()), (400, Some(10003)));
    assert!(
        answer["message"].as_str().unwrap().contains("RFC 3464"),
        "{answer}"
    );
    let (status, answer) = bounce(&app, b"%PDF-1.7 \x00\x01\x02".to_vec()).await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = bounce(&app, Vec::new()).await;
    assert_eq!(status, 400);

    let hard = notification("postfix_hard", verp, rcpt);
    let (status, answer) = post_bounce(&app, hard.clone(), Some(SECRET), "text/plain").await;
    assert_eq!(status, 415, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("message/rfc822")
    );
    let (status, answer) = post_bounce(&app, hard.clone(), None, "message/rfc822").await;
    assert_eq!((status, answer["errorcode"].as_u64()), (401, Some(0)));
    let wrong = format!("{SECRET}x");
    let (status, _) = post_bounce(&app, hard.clone(), Some(&wrong), "message/rfc822").await;
    assert_eq!(status, 401);
    let package = app.package(DEMO, "").await;
    let access_token = app.token(&package).await;
    let (status, _) = post_bounce(&app, hard, Some(&access_token), "message/rfc822").await;
    assert_eq!(status, 401, "an access token is not the bounce secret");
    assert_eq!(app.count("events").await, events);
}

async fn without_a_bounce_secret_ingestion_is_off(db: Db) {
    let Some(app) = common::spawn_app(db).await else {
        return;
    };
    let (status, answer) = post_bounce(&app, b"x".to_vec(), Some(SECRET), "message/rfc822").await;
    assert_eq!(status, 404);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("HERALD_BOUNCE_SECRET"),
        "{answer}"
    );
}

async fn a_bounce_domain_moves_envelope_senders_and_a_profiles_own_wins_over_the_servers(db: Db) {
    let settings = [("HERALD_BOUNCE_DOMAIN", "bounces.herald.example")];
    let Some(app) = spawn_capture(db, &settings).await else {
        return;
    };
    let people = audience(&app, "domain", 1).await;
    let id = send_and_wait(&app, "Default Transactional", &people).await;
    let message = &captured(&app, id).await[0];
    assert!(
        message.envelope_from.ends_with("@bounces.herald.example"),
        "{}",
        message.envelope_from
    );
    let body = notification("gmail_hard", &message.envelope_from, &message.rcpt_to);
    assert_eq!(bounce(&app, body).await.1["outcome"], "hard_bounce");

    // A delivery profile's own bounce domain wins over the server's.
    let store = app.state.store.as_ref();
    let profile = store
        .classifications::<DeliveryProfile>()
        .find(DEMO, "Default")
        .await
        .unwrap()
        .unwrap();
    let mut fields = DeliveryProfileFields {
        meta: MetaFields {
            name: profile.meta.name.clone(),
            customer_key: None,
            description: profile.meta.description.clone(),
        },
        header_html: profile.header_html.clone(),
        footer_html: profile.footer_html.clone(),
        footer_text: profile.footer_text.clone(),
        address: profile.address.clone(),
        relays: profile.relays.clone(),
        dkim_key_id: profile.dkim_key_id.clone(),
        tracking_enabled: profile.tracking_enabled,
        bounce_domain: Some("returns.example.net".into()),
    };
    let now = app.clock.now();
    let updated = store
        .classifications::<DeliveryProfile>()
        .update(
            DEMO,
            profile.meta.id,
            profile.meta.version,
            fields.clone(),
            now,
        )
        .await
        .unwrap();
    let people = audience(&app, "profile", 1).await;
    let id = send_and_wait(&app, "Default Transactional", &people).await;
    let message = &captured(&app, id).await[0];
    assert!(
        message.envelope_from.ends_with("@returns.example.net"),
        "{}",
        message.envelope_from
    );
    fields.bounce_domain = None;
    store
        .classifications::<DeliveryProfile>()
        .update(DEMO, updated.meta.id, updated.meta.version, fields, now)
        .await
        .unwrap();
}

async fn the_smtp_mail_from_is_the_messages_own_verp_address(db: Db) {
    let sink = SmtpSink::start();
    let Some(app) = spawn_engine(db, &relay_on(sink.port), 4).await else {
        return;
    };
    let people = audience(&app, "verp", 3).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let by_email = recipients_by_email(app.state.store.as_ref(), id).await;
    let dumps = sink.wait_for_dumps(3).await;
    let mut senders = HashSet::new();
    for dump in dumps {
        let dump = String::from_utf8_lossy(&dump);
        let field = |name: &str| {
            let line = dump.lines().find(|l| l.starts_with(name)).unwrap();
            line[name.len()..]
                .trim()
                .trim_matches(['<', '>'])
                .to_owned()
        };
        let (from, to) = (field("X-Mail-Args:"), field("X-Rcpt-Args:"));
        let recipient = &by_email[&to];
        let token = VerpToken::parse(&from).expect("a VERP address");
        assert_eq!((token.instance_id, token.recipient_id), (id, recipient.id));
        assert!(token.verifies(&app.state.link_key, DEMO));
        assert!(from.ends_with(&format!("@{SENDER_DOMAIN}")), "{from}");
        senders.insert(from);
    }
    assert_eq!(senders.len(), 3, "one envelope sender per message");
}

/// `send_mail.py`: Python's smtplib delivers `message` to the listener.
async fn smtp_deliver(port: u16, rcpt: &str, message: Vec<u8>) -> Value {
    let (port, rcpt) = (port.to_string(), rcpt.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        run_python("send_mail.py", &["127.0.0.1", &port, "", &rcpt], &message)
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn the_smtp_listener_takes_a_bounce_in_and_refuses_the_rest(db: Db) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let Some(app) = spawn_capture(db, &[("HERALD_BOUNCE_SMTP_LISTEN", &listen)]).await else {
        return;
    };
    let store = app.state.store.as_ref();
    let people = audience(&app, "smtp", 2).await;
    let id = send_and_wait(&app, "Default Commercial", &people).await;
    let messages = captured(&app, id).await;
    let (bounced, kept) = (&messages[0], &messages[1]);

    let dsn = notification("gmail_hard", &bounced.envelope_from, &bounced.rcpt_to);
    let reply = smtp_deliver(port, &bounced.envelope_from, dsn).await;
    assert_eq!(reply["code"], 250, "{reply}");
    let suppression = store
        .get_suppression(DEMO, &bounced.rcpt_to.to_lowercase())
        .await
        .unwrap();
    assert_eq!(suppression.unwrap().reason, SuppressionReason::HardBounce);

    let events = app.count("events").await;
    let autoreply = notification("out_of_office", &kept.envelope_from, &kept.rcpt_to);
    let reply = smtp_deliver(port, &kept.envelope_from, autoreply).await;
    assert_eq!(reply["code"], 550, "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("RFC 3464"),
        "{reply}"
    );
    let (local, domain) = kept.envelope_from.split_once('@').unwrap();
    let forged = format!(
        "{}-000000000000000000000000@{domain}",
        local.rsplit_once('-').unwrap().0
    );
    let dsn = notification("postfix_hard", &forged, &kept.rcpt_to);
    let reply = smtp_deliver(port, &forged, dsn).await;
    assert_eq!(reply["code"], 550, "{reply}");
    let dsn = notification("postfix_hard", &kept.envelope_from, &kept.rcpt_to);
    let reply = smtp_deliver(port, "postmaster@herald.example", dsn).await;
    assert_eq!(reply["code"], 550, "only bounces+ addresses: {reply}");
    assert_eq!(app.count("events").await, events);
    let recipient = &recipients_by_email(store, id).await[&kept.rcpt_to];
    assert_eq!(recipient.status, RecipientStatus::Sent);
}

backend_tests!(database =>
    a_hard_bounce_suppresses_the_address_and_the_next_commercial_send_skips_it,
    a_notification_for_a_message_already_bounced_changes_nothing,
    a_soft_bounce_is_counted_once_and_suppresses_nothing,
    a_forged_verp_address_gets_404_and_records_nothing,
    a_notification_of_success_records_nothing,
    what_is_not_a_notification_or_not_authenticated_is_refused_clearly,
    without_a_bounce_secret_ingestion_is_off,
    a_bounce_domain_moves_envelope_senders_and_a_profiles_own_wins_over_the_servers,
    the_smtp_mail_from_is_the_messages_own_verp_address,
    the_smtp_listener_takes_a_bounce_in_and_refuses_the_rest,
);
