//! The send engine against an SMTP server that misbehaves on request (the aiosmtpd fault
//! server) and against a relay that is down: deferrals retried once the clock passes
//! their time (and failed once the retry window closes), bounces that suppress the
//! address, a connection cut mid-transaction, a relay that comes back, and a slow relay
//! with the workers limit honoured.

mod common;
mod engine_support;

use std::collections::HashSet;
use std::time::Duration;

use common::TestApp;
use engine_support::{
    Audience, DEMO, advance_past_retries, locals, recipients, recipients_by_email, relay_on, send,
    spawn_engine, wait_for, wait_for_counts, wait_until_idle,
};
use herald_domain::clock::Clock;
use herald_domain::recipient::{RecipientStatus, SuppressionReason};
use herald_domain::send::status::InstanceStatus;
use herald_test_support::peers::{FaultServer, SmtpSink, free_port};
use herald_test_support::{Db, backend_tests};

const PASS: Duration = Duration::from_secs(20);
const WORKERS: usize = 4;

struct Harness {
    app: TestApp,
    server: FaultServer,
}

async fn setup(db: Db) -> Option<Harness> {
    let server = FaultServer::start_with_dumps(&["--slow", "0.2"]);
    let app = spawn_engine(db, &relay_on(server.port), WORKERS).await?;
    Some(Harness { app, server })
}

/// A send of the demo email to one contact per local part, scheduled now.
async fn send_to(app: &TestApp, classification: &str, locals: &[String]) -> (Audience, i64) {
    let store = app.state.store.as_ref();
    let audience = Audience::create(store, app.clock.now(), locals).await;
    let id = send(store, app.clock.now(), classification, &audience.target).await;
    (audience, id)
}

/// Asserts that every address got exactly one accepted message.
fn accepted_once(server: &FaultServer, addresses: &[String]) {
    let delivered = server.delivered();
    for address in addresses {
        let times = delivered.iter().filter(|d| *d == address).count();
        assert_eq!(times, 1, "{address} accepted {times} times");
    }
    assert_eq!(delivered.len(), addresses.len(), "{delivered:?}");
}

fn addresses(locals: &[Vec<String>]) -> Vec<String> {
    locals
        .iter()
        .flatten()
        .map(|local| format!("{local}@example.org"))
        .collect()
}

async fn a_4xx_defers_the_recipient_until_the_clock_passes_its_retry_then_it_is_sent(h: Harness) {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let groups = [
        locals("ok-", 0, 10),
        locals("flaky1-", 10, 4),
        locals("flaky2-", 14, 4),
    ];
    let (_, id) = send_to(app, "Default Commercial", &groups.concat()).await;

    wait_until_idle(app, id, PASS).await;
    let now = app.clock.now();
    let first = recipients_by_email(store, id).await;
    for (email, recipient) in &first {
        if email.starts_with("ok-") {
            assert_eq!(recipient.status, RecipientStatus::Sent, "{recipient:?}");
            continue;
        }
        assert_eq!(recipient.status, RecipientStatus::Deferred, "{recipient:?}");
        let reply = recipient.last_reply.as_deref().unwrap_or_default();
        assert!(
            reply.ends_with("replied to RCPT TO: 451 4.3.0 Try again later (flaky)"),
            "{reply}"
        );
        let retry = recipient.next_attempt_at.unwrap() - now;
        assert!(
            retry >= time::Duration::seconds(30) && retry <= time::Duration::minutes(1),
            "the first retry is due in half a minute to a minute: {retry}"
        );
    }
    let pending = wait_for_counts(store, id, (10, 8), PASS).await;
    assert_eq!(pending.status, InstanceStatus::Sending);
    assert_eq!(pending.counts.bounced + pending.counts.failed, 0);

    assert!(advance_past_retries(app, id).await);
    wait_until_idle(app, id, PASS).await;
    for (email, recipient) in recipients_by_email(store, id).await {
        let expected = if email.starts_with("flaky2-") {
            RecipientStatus::Deferred
        } else {
            RecipientStatus::Sent
        };
        assert_eq!(recipient.status, expected, "{recipient:?}");
    }

    assert!(advance_past_retries(app, id).await);
    let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
    assert_eq!(done.counts.sent, 18, "{:?}", done.counts);
    assert_eq!(
        done.counts.deferred + done.counts.bounced + done.counts.failed,
        0
    );
    for (email, recipient) in recipients_by_email(store, id).await {
        let attempts = match &email[..6] {
            "flaky1" => 2,
            "flaky2" => 3,
            _ => 1,
        };
        assert_eq!(recipient.status, RecipientStatus::Sent);
        assert_eq!(recipient.attempts, attempts, "{recipient:?}");
        assert!(recipient.last_reply.unwrap().starts_with("250 2.0.0 Ok"));
    }
    accepted_once(&h.server, &addresses(&groups));
    let message_ids: HashSet<String> = h
        .server
        .dumps()
        .iter()
        .map(|dump| {
            let text = String::from_utf8_lossy(dump);
            let line = text
                .lines()
                .find(|l| l.starts_with("Message-ID: "))
                .unwrap();
            line.to_owned()
        })
        .collect();
    assert_eq!(
        message_ids.len(),
        18,
        "a retried message keeps its Message-ID"
    );
}

async fn a_recipient_still_deferred_when_its_retry_window_closes_fails(h: Harness) {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let groups = [locals("ok-", 0, 4), locals("defer-", 4, 3)];
    let (_, id) = send_to(app, "Default Transactional", &groups.concat()).await;

    wait_until_idle(app, id, PASS).await;
    wait_for_counts(store, id, (4, 3), PASS).await;
    // Past the 72 hours a message may be retried for: the next refusal is the last.
    app.clock.advance(time::Duration::hours(73));
    let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
    assert_eq!(
        (done.counts.sent, done.counts.failed, done.counts.deferred),
        (4, 3, 0),
        "{:?}",
        done.counts
    );
    for recipient in recipients(store, id).await {
        if !recipient.email.starts_with("defer-") {
            continue;
        }
        assert_eq!(recipient.status, RecipientStatus::Failed);
        assert_eq!(recipient.attempts, 2);
        let reply = recipient.last_reply.unwrap_or_default();
        assert!(
            reply.starts_with("gave up after 2 attempts: ")
                && reply.ends_with("replied to RCPT TO: 451 4.3.0 Try again later"),
            "{reply}"
        );
    }
    assert_eq!(h.server.delivered().len(), 4);
}

async fn a_5xx_bounces_the_recipient_and_the_next_commercial_send_suppresses_it(h: Harness) {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let groups = [locals("ok-", 0, 6), locals("reject-", 6, 3)];
    let (audience, id) = send_to(app, "Default Commercial", &groups.concat()).await;

    let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
    assert_eq!(
        (done.counts.sent, done.counts.bounced),
        (6, 3),
        "{:?}",
        done.counts
    );
    for (email, recipient) in recipients_by_email(store, id).await {
        if !email.starts_with("reject-") {
            continue;
        }
        assert_eq!(recipient.status, RecipientStatus::Bounced);
        assert_eq!(recipient.attempts, 1, "a 5xx is not retried");
        let reply = recipient.last_reply.unwrap();
        assert!(
            reply.ends_with("replied to RCPT TO: 550 5.1.1 No such user here"),
            "{reply}"
        );
        let suppression = store.get_suppression(DEMO, &email).await.unwrap();
        let suppression = suppression.expect("a bounced address is suppressed");
        assert_eq!(suppression.reason, SuppressionReason::HardBounce);
        assert_eq!(suppression.detail, Some(reply), "the bounce says why");
    }

    let again = send(
        store,
        app.clock.now(),
        "Default Commercial",
        &audience.target,
    )
    .await;
    let again = wait_for(store, again, InstanceStatus::Complete, PASS).await;
    assert_eq!(
        (
            again.counts.sent,
            again.counts.suppressed,
            again.counts.bounced
        ),
        (6, 3, 0),
        "{:?}",
        again.counts
    );
    for recipient in recipients(store, again.id).await {
        if recipient.email.starts_with("reject-") {
            assert_eq!(recipient.status, RecipientStatus::Suppressed);
            assert_eq!(recipient.attempts, 0, "a suppressed address is never tried");
        }
    }
    let delivered = h.server.delivered();
    assert_eq!(delivered.len(), 12, "{delivered:?}");
    assert!(delivered.iter().all(|d| d.starts_with("ok-")));
}

async fn a_connection_cut_mid_transaction_defers_the_message_and_none_is_lost(h: Harness) {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let groups = [locals("ok-", 0, 12), locals("cut1-", 12, 4)];
    let (_, id) = send_to(app, "Default Transactional", &groups.concat()).await;

    wait_until_idle(app, id, PASS).await;
    for (email, recipient) in recipients_by_email(store, id).await {
        if email.starts_with("cut1-") {
            assert_eq!(recipient.status, RecipientStatus::Deferred, "{recipient:?}");
            let reply = recipient.last_reply.unwrap_or_default();
            assert!(reply.contains("the end of DATA"), "{reply}");
        } else {
            assert_eq!(recipient.status, RecipientStatus::Sent, "{recipient:?}");
        }
    }
    assert_eq!(h.server.delivered().len(), 12);

    assert!(advance_past_retries(app, id).await);
    let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
    assert_eq!(done.counts.sent, 16, "{:?}", done.counts);
    accepted_once(&h.server, &addresses(&groups));
}

async fn a_slow_relay_still_completes_with_no_more_messages_in_flight_than_workers(h: Harness) {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let slow = locals("slow-", 0, 6 * WORKERS);
    let (_, id) = send_to(app, "Default Transactional", &slow).await;

    let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
    assert_eq!(done.counts.sent, slow.len() as i64, "{:?}", done.counts);
    accepted_once(&h.server, &addresses(&[slow]));
    let peak = h.server.peak_slow();
    assert!(
        (2..=WORKERS).contains(&peak),
        "messages go out in parallel, at most HERALD_WORKERS={WORKERS} at once: {peak}"
    );
}

backend_tests!(setup =>
    a_4xx_defers_the_recipient_until_the_clock_passes_its_retry_then_it_is_sent,
    a_recipient_still_deferred_when_its_retry_window_closes_fails,
    a_5xx_bounces_the_recipient_and_the_next_commercial_send_suppresses_it,
    a_connection_cut_mid_transaction_defers_the_message_and_none_is_lost,
    a_slow_relay_still_completes_with_no_more_messages_in_flight_than_workers,
);

/// The relay is down when the send starts: the scenario starts its own peer later.
mod relay_down {
    use super::*;

    /// No peer yet: the relay's port is closed.
    async fn closed_relay(db: Db) -> Option<(TestApp, u16)> {
        let port = free_port();
        Some((spawn_engine(db, &relay_on(port), WORKERS).await?, port))
    }

    async fn while_the_relay_is_down_messages_are_deferred_then_sent_when_it_is_back(
        (app, port): (TestApp, u16),
    ) {
        let store = app.state.store.as_ref();
        let (_, id) = send_to(&app, "Default Transactional", &locals("ok-", 0, 10)).await;

        wait_until_idle(&app, id, PASS).await;
        for recipient in recipients(store, id).await {
            assert_eq!(recipient.status, RecipientStatus::Deferred, "{recipient:?}");
            let reply = recipient.last_reply.unwrap_or_default();
            assert!(reply.contains(&port.to_string()), "{reply}");
        }
        let down = wait_for_counts(store, id, (0, 10), PASS).await;
        assert_eq!(down.status, InstanceStatus::Sending);

        let sink = SmtpSink::start_on(port);
        assert!(advance_past_retries(&app, id).await);
        let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
        assert_eq!(done.counts.sent, 10, "{:?}", done.counts);
        assert_eq!(done.counts.deferred, 0);
        for recipient in recipients(store, id).await {
            assert_eq!(recipient.attempts, 2, "{recipient:?}");
        }
        let dumps = sink.wait_for_dumps(10).await;
        assert_eq!(dumps.len(), 10);
    }

    backend_tests!(closed_relay =>
        while_the_relay_is_down_messages_are_deferred_then_sent_when_it_is_back,
    );
}

/// HERALD_DOMAIN_CONCURRENCY caps the messages in flight to one recipient domain below
/// HERALD_WORKERS.
mod domain_limit {
    use super::*;

    async fn limited(db: Db) -> Option<Harness> {
        let server = FaultServer::start_with_dumps(&["--slow", "0.2"]);
        let relay = relay_on(server.port);
        let settings = [
            ("HERALD_SMTP_RELAY", relay.as_str()),
            ("HERALD_WORKERS", "8"),
            ("HERALD_DOMAIN_CONCURRENCY", "2"),
        ];
        let app = common::spawn_app_with(db, &settings).await?;
        herald::demo::seed_and_print(&app.state).await.unwrap();
        Some(Harness { app, server })
    }

    async fn one_domain_never_has_more_messages_in_flight_than_its_limit(h: Harness) {
        let (app, store) = (&h.app, h.app.state.store.as_ref());
        let slow = locals("slow-", 0, 12);
        let (_, id) = send_to(app, "Default Transactional", &slow).await;
        let done = wait_for(store, id, InstanceStatus::Complete, PASS).await;
        assert_eq!(done.counts.sent, slow.len() as i64, "{:?}", done.counts);
        let peak = h.server.peak_slow();
        assert!(
            peak <= 2,
            "at most HERALD_DOMAIN_CONCURRENCY=2 at once, saw {peak}"
        );
    }

    backend_tests!(limited => one_domain_never_has_more_messages_in_flight_than_its_limit);
}
