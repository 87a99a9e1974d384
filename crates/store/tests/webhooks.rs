//! Event webhook subscriptions and their delivery leases, on both backends.

use std::sync::Arc;

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::RecipientStatus;
use herald_store::{NewEvent, NewRecipient, NewWebhook, Store};
use herald_test_support::{Db, TestDatabase, backend_tests};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

struct Harness {
    store: Arc<dyn Store>,
    _db: TestDatabase,
}

async fn setup(db: Db) -> Option<Harness> {
    let db = TestDatabase::create(db).await?;
    let store = herald_store::open(&db.url).await.expect("open store");
    Some(Harness { store, _db: db })
}

const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);
const MID: Mid = Mid::from_stored(100_000_001);
const LEASE: Duration = Duration::seconds(60);

fn new_webhook(mid: Mid) -> NewWebhook {
    NewWebhook {
        mid,
        url: "https://hooks.example.com/h".into(),
        kinds: vec![EventKind::Sent, EventKind::Bounced],
        secret: "whsec_test".into(),
    }
}

/// A recipient of instance 7 and `count` sent events for it; their ids.
async fn events(h: &Harness, count: usize) -> Vec<i64> {
    let recipient = NewRecipient {
        instance_id: 7,
        mid: MID,
        record_id: "003000000000000001".into(),
        email: "ann@example.com".into(),
        email_norm: "ann@example.com".into(),
        domain: "example.com".into(),
        fields: "{}".into(),
        status: RecipientStatus::Sent,
    };
    h.store.insert_recipients(&[recipient]).await.unwrap();
    let (_, listed) = h
        .store
        .list_recipients(
            MID,
            7,
            None,
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..count {
        let event = NewEvent {
            mid: MID,
            instance_id: 7,
            recipient_id: listed[0].id,
            kind: EventKind::Sent,
            detail: None,
        };
        ids.push(h.store.append_event(&event, NOW).await.unwrap());
    }
    ids
}

async fn a_subscription_starts_after_the_events_already_logged(h: Harness) {
    let before = events(&h, 2).await;
    let webhook = h
        .store
        .create_webhook(&new_webhook(MID), NOW)
        .await
        .unwrap();
    assert_eq!(webhook.done_through, before[1]);
    assert_eq!(webhook.kinds, [EventKind::Sent, EventKind::Bounced]);
    let after = events(&h, 3).await;
    let read = h
        .store
        .webhook_events(MID, webhook.done_through, after[1], 100)
        .await
        .unwrap();
    let ids: Vec<i64> = read.iter().map(|e| e.event.id).collect();
    assert_eq!(ids, after[..2]);
    assert_eq!(read[0].email, "ann@example.com");
    let other = Mid::from_stored(100_000_002);
    let none = h
        .store
        .webhook_events(other, 0, i64::MAX, 100)
        .await
        .unwrap();
    assert!(none.is_empty(), "another account's events are not read");
    let visible = h.store.event_ids_after(before[0], 100).await.unwrap();
    assert_eq!(visible.len(), 4);
    assert!(
        h.store
            .get_webhook(other, webhook.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!h.store.delete_webhook(other, webhook.id).await.unwrap());
    let page = PageRequest {
        page: 1,
        page_size: 10,
    };
    assert_eq!(h.store.list_webhooks(MID, page).await.unwrap().0, 1);
    assert_eq!(h.store.list_webhooks(other, page).await.unwrap().0, 0);
}

async fn one_node_at_a_time_delivers_a_subscription(h: Harness) {
    let webhook = h
        .store
        .create_webhook(&new_webhook(MID), NOW)
        .await
        .unwrap();
    let ids = events(&h, 2).await;
    let a = h.store.claim_webhooks("a", NOW, LEASE, 10).await.unwrap();
    assert_eq!(a.len(), 1);
    assert!(
        h.store
            .claim_webhooks("b", NOW, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !h.store
            .advance_webhook(webhook.id, "b", ids[0], 1, NOW, LEASE)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .advance_webhook(webhook.id, "a", ids[0], 1, NOW, LEASE)
            .await
            .unwrap()
    );
    // A lease that runs out (its node died) is taken over; the old holder's writes fail.
    let later = NOW + LEASE + Duration::seconds(1);
    assert_eq!(
        h.store
            .claim_webhooks("b", later, LEASE, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        !h.store
            .advance_webhook(webhook.id, "a", ids[1], 1, later, LEASE)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .advance_webhook(webhook.id, "b", ids[1], 1, later, LEASE)
            .await
            .unwrap()
    );
    // The cursor never moves back.
    assert!(
        h.store
            .advance_webhook(webhook.id, "b", ids[0], 0, later, LEASE)
            .await
            .unwrap()
    );
    h.store.release_webhook(webhook.id, "b").await.unwrap();
    let stored = h.store.get_webhook(MID, webhook.id).await.unwrap().unwrap();
    assert_eq!((stored.done_through, stored.delivered), (ids[1], 2));
    assert_eq!(
        h.store
            .claim_webhooks("a", later, LEASE, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_failure_holds_the_subscription_until_its_retry_time(h: Harness) {
    let webhook = h
        .store
        .create_webhook(&new_webhook(MID), NOW)
        .await
        .unwrap();
    h.store.claim_webhooks("a", NOW, LEASE, 10).await.unwrap();
    let retry = NOW + Duration::seconds(5);
    assert!(
        h.store
            .webhook_failed(webhook.id, "a", "the receiver answered 503", retry)
            .await
            .unwrap()
    );
    let failing = h.store.get_webhook(MID, webhook.id).await.unwrap().unwrap();
    assert_eq!(failing.failures, 1);
    assert_eq!(
        failing.last_error.as_deref(),
        Some("the receiver answered 503")
    );
    assert_eq!(failing.next_attempt_at, Some(retry));
    assert!(
        h.store
            .claim_webhooks("b", NOW, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.store
            .claim_webhooks("b", retry, LEASE, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        h.store
            .advance_webhook(webhook.id, "b", 0, 0, retry, LEASE)
            .await
            .unwrap()
    );
    let healthy = h.store.get_webhook(MID, webhook.id).await.unwrap().unwrap();
    assert_eq!(
        (
            healthy.failures,
            healthy.last_error,
            healthy.next_attempt_at
        ),
        (0, None, None)
    );
}

backend_tests!(setup =>
    a_subscription_starts_after_the_events_already_logged,
    one_node_at_a_time_delivers_a_subscription,
    a_failure_holds_the_subscription_until_its_retry_time,
);
