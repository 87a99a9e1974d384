//! What recipients do with their messages (unsubscribes, opens, clicks) and the results
//! read back from the event log, on both backends.

use std::sync::Arc;

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::{RecipientStatus, SuppressionReason};
use herald_store::{NewRecipient, Recipient, Store, Unsubscribed};
use herald_test_support::{Db, TestDatabase, backend_tests};
use serde_json::json;
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
const INSTANCE: i64 = 7;

/// Three recipients of the instance, in write order.
async fn recipients(h: &Harness) -> Vec<Recipient> {
    let batch: Vec<NewRecipient> = ["Ann@Example.com", "bo@example.com", "cy@example.com"]
        .iter()
        .enumerate()
        .map(|(n, email)| NewRecipient {
            instance_id: INSTANCE,
            mid: MID,
            record_id: format!("003{n:015}"),
            email: (*email).to_owned(),
            email_norm: email.to_lowercase(),
            domain: "example.com".into(),
            fields: "{}".into(),
            status: RecipientStatus::Queued,
        })
        .collect();
    h.store.insert_recipients(&batch).await.unwrap();
    let page = PageRequest {
        page: 1,
        page_size: 10,
    };
    h.store
        .list_recipients(MID, INSTANCE, None, page)
        .await
        .unwrap()
        .1
}

async fn unsubscribed_events(h: &Harness) -> usize {
    let events = h.store.events_after(MID, 0, 100).await.unwrap();
    events
        .iter()
        .filter(|e| e.kind == EventKind::Unsubscribed)
        .count()
}

async fn an_unsubscribe_suppresses_the_address_and_appends_one_event_however_often_used(
    h: Harness,
) {
    let all = recipients(&h).await;
    let ann = &all[0];
    let done = h
        .store
        .unsubscribe(MID, INSTANCE, ann.id, NOW)
        .await
        .unwrap();
    assert_eq!(
        done,
        Some(Unsubscribed {
            record_id: ann.record_id.clone(),
            first_time: true
        })
    );
    let entry = h
        .store
        .get_suppression(MID, "ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.reason, SuppressionReason::Unsubscribe);
    assert_eq!(entry.created_at, NOW);
    assert_eq!(unsubscribed_events(&h).await, 1);

    let later = NOW + Duration::minutes(5);
    let again = h
        .store
        .unsubscribe(MID, INSTANCE, ann.id, later)
        .await
        .unwrap();
    assert_eq!(again.map(|u| u.first_time), Some(false));
    assert_eq!(unsubscribed_events(&h).await, 1);
    let unchanged = h
        .store
        .get_suppression(MID, "ann@example.com")
        .await
        .unwrap();
    assert_eq!(unchanged, Some(entry));

    // Concurrent uses of one link: one of them unsubscribes, the rest write nothing.
    let bo = all[1].id;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = h.store.clone();
            tokio::spawn(async move { store.unsubscribe(MID, INSTANCE, bo, NOW).await })
        })
        .collect();
    let mut first = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().unwrap().first_time {
            first += 1;
        }
    }
    assert_eq!(first, 1);
    assert_eq!(unsubscribed_events(&h).await, 2);
}

async fn an_unsubscribe_never_weakens_a_hard_bounce_and_needs_the_right_account(h: Harness) {
    let all = recipients(&h).await;
    let cy = &all[2];
    h.store
        .suppress(
            MID,
            "cy@example.com",
            SuppressionReason::HardBounce,
            Some("550"),
            NOW,
        )
        .await
        .unwrap();
    h.store
        .unsubscribe(MID, INSTANCE, cy.id, NOW)
        .await
        .unwrap();
    let entry = h
        .store
        .get_suppression(MID, "cy@example.com")
        .await
        .unwrap();
    assert_eq!(entry.unwrap().reason, SuppressionReason::HardBounce);

    let other = Mid::from_stored(100_000_009);
    let ann = all[0].id;
    assert_eq!(
        h.store
            .unsubscribe(other, INSTANCE, ann, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        h.store
            .unsubscribe(MID, INSTANCE + 1, ann, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        h.store.find_recipient(other, INSTANCE, ann).await.unwrap(),
        None
    );
    assert_eq!(
        h.store.find_recipient(MID, INSTANCE, ann).await.unwrap(),
        Some(all[0].clone())
    );
    assert_eq!(
        h.store
            .get_suppression(MID, "ann@example.com")
            .await
            .unwrap(),
        None
    );
    assert_eq!(unsubscribed_events(&h).await, 1, "only cy's");
}

async fn opens_and_clicks_of_existing_recipients_are_counted_per_event_and_per_recipient(
    h: Harness,
) {
    let all = recipients(&h).await;
    let (ann, bo) = (all[0].id, all[1].id);
    let record = |id, kind, url: Option<&str>, at| {
        let store = h.store.clone();
        let detail = url.map(|url| json!({ "url": url }));
        async move {
            store
                .record_engagement(MID, INSTANCE, id, kind, detail, at)
                .await
                .unwrap()
        }
    };
    let later = NOW + Duration::minutes(1);
    assert!(record(ann, EventKind::Opened, None, later).await);
    assert!(record(ann, EventKind::Opened, None, NOW).await);
    assert!(record(bo, EventKind::Opened, None, NOW).await);
    assert!(record(ann, EventKind::Clicked, Some("https://a.example/"), NOW).await);
    assert!(record(ann, EventKind::Clicked, Some("https://b.example/"), NOW).await);
    assert!(record(ann, EventKind::Clicked, Some("https://b.example/"), later).await);
    assert!(
        !record(999_999, EventKind::Opened, None, NOW).await,
        "no such recipient"
    );
    let stranger = h
        .store
        .record_engagement(
            Mid::from_stored(100_000_009),
            INSTANCE,
            ann,
            EventKind::Opened,
            None,
            NOW,
        )
        .await
        .unwrap();
    assert!(!stranger, "another account's recipient");

    let results = h
        .store
        .recipient_results(MID, &[ann, bo, all[2].id])
        .await
        .unwrap();
    let ann_results = &results[&ann];
    assert_eq!(
        (ann_results.opens, ann_results.first_opened_at),
        (2, Some(NOW))
    );
    let clicks: Vec<_> = ann_results
        .clicks
        .iter()
        .map(|c| (c.url.as_str(), c.count, c.first_at))
        .collect();
    assert_eq!(
        clicks,
        [
            ("https://b.example/", 2, NOW),
            ("https://a.example/", 1, NOW)
        ]
    );
    assert_eq!(results[&bo].opens, 1);
    assert!(!results.contains_key(&all[2].id), "no events, no results");

    let counts = h.store.instance_engagement(MID, INSTANCE).await.unwrap();
    assert_eq!((counts.opens, counts.unique_opens), (3, 2));
    assert_eq!((counts.clicks, counts.unique_clicks), (3, 1));
    assert_eq!(
        (counts.unsubscribes, counts.bounced, counts.attempted),
        (0, 0, 0)
    );
    let elsewhere = h
        .store
        .instance_engagement(Mid::from_stored(100_000_009), INSTANCE)
        .await
        .unwrap();
    assert_eq!(elsewhere.opens, 0);
}

backend_tests!(setup =>
    an_unsubscribe_suppresses_the_address_and_appends_one_event_however_often_used,
    an_unsubscribe_never_weakens_a_hard_bounce_and_needs_the_right_account,
    opens_and_clicks_of_existing_recipients_are_counted_per_event_and_per_recipient,
);
