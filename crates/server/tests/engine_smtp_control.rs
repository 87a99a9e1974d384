//! Canceling and pausing a send while the engine delivers it through a slow relay (the
//! aiosmtpd fault server holds each message a moment): a cancel settles within a second
//! and nothing arrives afterwards; a pause stops deliveries until the send is resumed,
//! and then every message arrives exactly once. More messages are in flight than there
//! are connections, so most of those a cancel or pause finds are waiting in line.

mod common;
mod engine_support;

use std::time::{Duration, Instant};

use common::TestApp;
use engine_support::{
    Audience, DEMO, instance, locals, recipients, relay_on, send, spawn_engine_with, wait_for,
};
use herald_domain::clock::Clock;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use herald_test_support::peers::FaultServer;
use herald_test_support::{Db, backend_tests};

/// More messages in flight than relay connections: most of them wait in line for a
/// connection, where a cancel or pause must reach them too.
const WORKERS: usize = 16;
const CONNECTIONS: &str = "2";
/// Long enough for any message in flight when a send is stopped to finish arriving.
const QUIET_WINDOW: Duration = Duration::from_secs(1);

struct Harness {
    app: TestApp,
    server: FaultServer,
}

async fn setup(db: Db) -> Option<Harness> {
    let server = FaultServer::start(&["--pipelining", "--slow", "0.4"]);
    let settings = [("HERALD_RELAY_CONNECTIONS", CONNECTIONS)];
    let app = spawn_engine_with(db, &relay_on(server.port), WORKERS, &settings).await?;
    Some(Harness { app, server })
}

/// Starts a send to `count` slow recipients and waits until some have arrived.
async fn sending_slowly(h: &Harness, count: usize) -> i64 {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let audience = Audience::create(store, app.clock.now(), &locals("slow-", 0, count)).await;
    let id = send(
        store,
        app.clock.now(),
        "Default Transactional",
        &audience.target,
    )
    .await;
    h.server
        .wait_for_delivered_within(4, Duration::from_secs(20))
        .await;
    id
}

/// Moves the instance from `from` to `to` as a client request would.
async fn transition(app: &TestApp, id: i64, from: InstanceStatus, to: InstanceStatus) {
    let moved = app
        .state
        .store
        .transition_send_instance(DEMO, id, &[from], to, app.clock.now())
        .await
        .unwrap();
    assert!(moved.is_some(), "{from:?} -> {to:?} applies");
}

/// Recipients of the instance the engine holds a lease on.
async fn leased(app: &TestApp, id: i64) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM recipients WHERE instance_id = {id} AND lease_owner IS NOT NULL"
    ))
    .await
    .parse()
    .unwrap()
}

async fn cancel_stops_a_running_send_within_a_second_and_nothing_arrives_after(h: Harness) {
    const COUNT: usize = 100;
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let id = sending_slowly(&h, COUNT).await;

    transition(
        app,
        id,
        InstanceStatus::Sending,
        InstanceStatus::CancelPending,
    )
    .await;
    let canceled = wait_for(store, id, InstanceStatus::Canceled, Duration::from_secs(1)).await;
    let arrived = h.server.delivered().len();
    assert!(
        arrived < COUNT,
        "the cancel came mid-send ({arrived} arrived)"
    );

    tokio::time::sleep(QUIET_WINDOW).await;
    assert_eq!(
        h.server.delivered().len(),
        arrived,
        "nothing reaches the relay once the send is Canceled"
    );
    let recipients = recipients(store, id).await;
    let count = |status| recipients.iter().filter(|r| r.status == status).count();
    assert_eq!(count(RecipientStatus::Sent), arrived);
    assert_eq!(count(RecipientStatus::Canceled), COUNT - arrived);
    assert_eq!(
        canceled.counts.sent, arrived as i64,
        "{:?}",
        canceled.counts
    );
    assert!(canceled.completed_at.is_some());
    assert_eq!(leased(app, id).await, 0);
}

async fn a_paused_send_sends_nothing_until_resumed_then_everything_exactly_once(h: Harness) {
    const COUNT: usize = 48;
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let id = sending_slowly(&h, COUNT).await;

    transition(app, id, InstanceStatus::Sending, InstanceStatus::Paused).await;
    // Messages already handed to the relay finish; then the engine holds nothing.
    let deadline = Instant::now() + Duration::from_secs(5);
    while leased(app, id).await > 0 {
        assert!(
            Instant::now() < deadline,
            "deliveries in flight never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrived = h.server.delivered().len();
    assert!(
        arrived < COUNT,
        "the pause came mid-send ({arrived} arrived)"
    );
    tokio::time::sleep(QUIET_WINDOW).await;
    assert_eq!(
        h.server.delivered().len(),
        arrived,
        "a paused send sends nothing"
    );
    assert_eq!(instance(store, id).await.status, InstanceStatus::Paused);
    assert_eq!(leased(app, id).await, 0);

    transition(app, id, InstanceStatus::Paused, InstanceStatus::Sending).await;
    let done = wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(30)).await;
    assert_eq!(done.counts.sent, COUNT as i64, "{:?}", done.counts);
    let delivered = h.server.delivered();
    assert_eq!(delivered.len(), COUNT, "{delivered:?}");
    for recipient in recipients(store, id).await {
        assert_eq!(recipient.status, RecipientStatus::Sent);
        let times = delivered.iter().filter(|d| **d == recipient.email).count();
        assert_eq!(times, 1, "{} arrived {times} times", recipient.email);
        assert_eq!(
            recipient.attempts, 1,
            "a message held back by the pause was not counted as an attempt"
        );
    }
}

backend_tests!(setup =>
    cancel_stops_a_running_send_within_a_second_and_nothing_arrives_after,
    a_paused_send_sends_nothing_until_resumed_then_everything_exactly_once,
);
