//! The engine's claims, leases, outcomes and settling, on SQLite and PostgreSQL.

use std::sync::Arc;

use herald_domain::event::EventKind;
use herald_domain::mid::Mid;
use herald_domain::recipient::{RecipientStatus, SuppressionReason};
use herald_domain::salesforce_id::SalesforceId;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::{Target, TargetType};
use herald_store::{
    AttemptOutcome, Backend, NewEvent, NewRecipient, NewSendDefinition, SendInstance, Settled,
    Store,
};
use herald_test_support::{Db, TestDatabase, backend_tests};
use sqlx::{AnyConnection, Connection, Executor, Row};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

struct Harness {
    store: Arc<dyn Store>,
    db: TestDatabase,
}

async fn setup(db: Db) -> Option<Harness> {
    let db = TestDatabase::create(db).await?;
    let store = herald_store::open(&db.url).await.expect("open store");
    Some(Harness { store, db })
}

const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);
const LEASE: Duration = Duration::seconds(30);
const MID: Mid = Mid::from_stored(100_000_001);

async fn scheduled(h: &Harness, start_at: OffsetDateTime) -> SendInstance {
    let definition = NewSendDefinition {
        mid: MID,
        external_key: uuid_like(start_at),
        name: "Engine".into(),
        description: String::new(),
        email_id: 1,
        send_classification_id: 1,
        targets: vec![Target {
            target_type: TargetType::Report,
            name: "R".into(),
            id: SalesforceId::parse("00O000000000001").unwrap(),
        }],
        exclusions: vec![],
        deduplicate_by_email: false,
        created_at: NOW,
    };
    let schedule = Schedule {
        start_at,
        all_recipients_opted_in: true,
    };
    let (_, instance) = h
        .store
        .create_send_definition_and_instance(definition, schedule)
        .await
        .unwrap();
    instance
}

fn uuid_like(at: OffsetDateTime) -> String {
    format!("key-{}", at.unix_timestamp_nanos())
}

fn recipients(instance_id: i64, n: usize) -> Vec<NewRecipient> {
    (0..n)
        .map(|i| NewRecipient {
            instance_id,
            mid: MID,
            record_id: format!("003{i:015}"),
            email: format!("r{i}@example.com"),
            email_norm: format!("r{i}@example.com"),
            domain: "example.com".into(),
            fields: "{}".into(),
            status: RecipientStatus::Queued,
        })
        .collect()
}

/// An instance that has been started and resolved with `n` recipients.
async fn delivering(h: &Harness, n: usize) -> i64 {
    let instance = scheduled(h, NOW).await;
    let claimed = h
        .store
        .claim_due_instance("node-a", NOW, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, instance.id);
    h.store
        .insert_recipients(&recipients(instance.id, n))
        .await
        .unwrap();
    assert!(
        h.store
            .finish_resolution(instance.id, "node-a", n as i64, 0, NOW)
            .await
            .unwrap()
    );
    instance.id
}

fn outcome(id: i64, attempt: i64, status: RecipientStatus) -> AttemptOutcome {
    AttemptOutcome {
        recipient_id: id,
        attempt,
        status,
        reply: Some("250 2.0.0 Ok".into()),
        next_attempt_at: None,
    }
}

async fn a_due_instance_is_started_by_exactly_one_of_two_racing_nodes(h: Harness) {
    let later = scheduled(&h, NOW + Duration::hours(1)).await;
    let due = scheduled(&h, NOW).await;
    let (a, b) = tokio::join!(
        h.store.claim_due_instance("node-a", NOW, LEASE),
        h.store.claim_due_instance("node-b", NOW, LEASE),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let a_won = a.is_some();
    let winners: Vec<SendInstance> = [a, b].into_iter().flatten().collect();
    assert_eq!(winners.len(), 1);
    assert_eq!(winners[0].id, due.id);
    assert_eq!(winners[0].status, InstanceStatus::Sending);
    assert_eq!(winners[0].started_at, Some(NOW));
    assert_eq!(winners[0].job_id, Some(due.id));
    assert!(
        h.store
            .claim_due_instance("node-a", NOW, LEASE)
            .await
            .unwrap()
            .is_none()
    );
    let owner = if a_won { "node-a" } else { "node-b" };
    let resolved = h.store.finish_resolution(due.id, owner, 0, 0, NOW);
    assert!(resolved.await.unwrap());
    let at_its_time = h
        .store
        .claim_due_instance("node-a", later.scheduled_at, LEASE)
        .await
        .unwrap();
    assert_eq!(at_its_time.map(|i| i.id), Some(later.id));
}

async fn an_abandoned_resolution_is_taken_over_once_its_lease_expires(h: Harness) {
    let instance = scheduled(&h, NOW).await;
    h.store
        .claim_due_instance("node-a", NOW, LEASE)
        .await
        .unwrap()
        .unwrap();
    let early = NOW + Duration::seconds(10);
    assert!(
        h.store
            .claim_due_instance("node-b", early, LEASE)
            .await
            .unwrap()
            .is_none()
    );
    let late = NOW + LEASE + Duration::seconds(1);
    let taken = h
        .store
        .claim_due_instance("node-b", late, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, instance.id);
    assert_eq!(
        taken.started_at,
        Some(NOW),
        "the start time is the first start"
    );
    assert!(
        !h.store
            .finish_resolution(instance.id, "node-a", 0, 0, late)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .finish_resolution(instance.id, "node-b", 0, 0, late)
            .await
            .unwrap()
    );
}

async fn racing_nodes_claim_disjoint_recipients(h: Harness) {
    let id = delivering(&h, 100).await;
    let (a, b) = tokio::join!(
        h.store.claim_recipients("node-a", NOW, LEASE, 60),
        h.store.claim_recipients("node-b", NOW, LEASE, 60),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 100);
    assert!(
        a.iter()
            .all(|c| !b.iter().any(|d| d.recipient.id == c.recipient.id))
    );
    assert!(
        a.iter()
            .chain(&b)
            .all(|c| c.attempt == 1 && !c.maybe_delivered_before)
    );
    assert!(
        h.store
            .claim_recipients("node-c", NOW, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let counts = h.store.recipient_counts(id).await.unwrap();
    assert_eq!(counts.get(RecipientStatus::Queued), 100);
}

async fn an_outcome_applies_only_while_the_lease_is_the_callers(h: Harness) {
    delivering(&h, 1).await;
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 10)
        .await
        .unwrap();
    let sent = outcome(
        claimed[0].recipient.id,
        claimed[0].attempt,
        RecipientStatus::Sent,
    );
    assert!(!h.store.record_outcome("node-b", &sent, NOW).await.unwrap());
    let stale = AttemptOutcome {
        attempt: 7,
        ..sent.clone()
    };
    assert!(!h.store.record_outcome("node-a", &stale, NOW).await.unwrap());
    assert!(h.store.record_outcome("node-a", &sent, NOW).await.unwrap());
    assert!(!h.store.record_outcome("node-a", &sent, NOW).await.unwrap());
}

async fn an_expired_recipient_lease_is_reclaimed_and_flagged_as_maybe_delivered(h: Harness) {
    delivering(&h, 1).await;
    let first = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let late = NOW + LEASE + Duration::seconds(1);
    let again = h
        .store
        .claim_recipients("node-b", late, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 2);
    assert!(again[0].maybe_delivered_before);
    let lost = outcome(
        first[0].recipient.id,
        first[0].attempt,
        RecipientStatus::Sent,
    );
    assert!(!h.store.record_outcome("node-a", &lost, late).await.unwrap());
}

async fn a_deferred_recipient_waits_for_its_next_attempt(h: Harness) {
    delivering(&h, 1).await;
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 10)
        .await
        .unwrap();
    let retry_at = NOW + Duration::minutes(1);
    let deferred = AttemptOutcome {
        status: RecipientStatus::Deferred,
        reply: Some("451 4.3.0 try later".into()),
        next_attempt_at: Some(retry_at),
        ..outcome(claimed[0].recipient.id, 1, RecipientStatus::Deferred)
    };
    assert!(
        h.store
            .record_outcome("node-a", &deferred, NOW)
            .await
            .unwrap()
    );
    let soon = NOW + Duration::seconds(30);
    assert!(
        h.store
            .claim_recipients("node-a", soon, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = h
        .store
        .claim_recipients("node-a", retry_at, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempt, 2);
    assert!(
        !retried[0].maybe_delivered_before,
        "the first attempt was recorded"
    );
}

async fn recipients_of_a_paused_send_are_not_claimed_until_it_resumes(h: Harness) {
    let id = delivering(&h, 3).await;
    let sending = [InstanceStatus::Sending];
    h.store
        .transition_send_instance(MID, id, &sending, InstanceStatus::Paused, NOW)
        .await
        .unwrap()
        .unwrap();
    assert!(
        h.store
            .claim_recipients("node-a", NOW, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let paused = [InstanceStatus::Paused];
    h.store
        .transition_send_instance(MID, id, &paused, InstanceStatus::Sending, NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        h.store
            .claim_recipients("node-a", NOW, LEASE, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn a_released_recipient_is_claimable_again_as_the_same_attempt(h: Harness) {
    delivering(&h, 1).await;
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 10)
        .await
        .unwrap();
    h.store
        .release_recipient("node-a", claimed[0].recipient.id, claimed[0].attempt)
        .await
        .unwrap();
    let again = h
        .store
        .claim_recipients("node-b", NOW, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempt, 1);
    assert!(!again[0].maybe_delivered_before);
}

async fn a_recipient_released_behind_the_claims_is_claimed_once_they_reach_the_end(h: Harness) {
    delivering(&h, 5).await;
    let first = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 2)
        .await
        .unwrap();
    h.store
        .release_recipient("node-a", first[0].recipient.id, first[0].attempt)
        .await
        .unwrap();
    // The next claim goes on after the last one; the released recipient is passed over.
    let next = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 3)
        .await
        .unwrap();
    let ids = |claimed: &[herald_store::ClaimedRecipient]| -> Vec<i64> {
        claimed.iter().map(|c| c.recipient.id).collect()
    };
    assert!(!ids(&next).contains(&first[0].recipient.id));
    assert_eq!(next.len(), 3);
    // At the end of the queue the claim looks from the front again, in the same call.
    let last = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 3)
        .await
        .unwrap();
    assert_eq!(ids(&last), vec![first[0].recipient.id]);
    assert!(
        h.store
            .claim_recipients("node-a", NOW, LEASE, 3)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn settling_completes_a_send_with_nothing_pending_and_fills_its_counts(h: Harness) {
    let id = delivering(&h, 3).await;
    assert_eq!(
        h.store.settle_instance(id, NOW).await.unwrap(),
        Some(Settled {
            status: InstanceStatus::Sending,
            pending: 3
        })
    );
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 10)
        .await
        .unwrap();
    assert!(
        h.store.has_pending_recipients(id).await.unwrap(),
        "in flight is pending"
    );
    let statuses = [
        RecipientStatus::Sent,
        RecipientStatus::Bounced,
        RecipientStatus::Sent,
    ];
    for (c, status) in claimed.iter().zip(statuses) {
        h.store
            .record_outcome("node-a", &outcome(c.recipient.id, 1, status), NOW)
            .await
            .unwrap();
    }
    assert!(!h.store.has_pending_recipients(id).await.unwrap());
    let done = NOW + Duration::seconds(5);
    assert_eq!(
        h.store.settle_instance(id, done).await.unwrap(),
        Some(Settled {
            status: InstanceStatus::Complete,
            pending: 0
        })
    );
    let instance = h.store.get_send_instance(MID, id).await.unwrap().unwrap();
    assert_eq!(instance.status, InstanceStatus::Complete);
    assert_eq!(instance.completed_at, Some(done));
    assert_eq!(
        (
            instance.counts.targeted,
            instance.counts.sent,
            instance.counts.bounced
        ),
        (3, 2, 1)
    );
    assert!(h.store.active_instances().await.unwrap().is_empty());
}

async fn a_cancel_pending_send_cancels_what_is_not_in_flight_and_waits_for_the_rest(h: Harness) {
    let id = delivering(&h, 5).await;
    let in_flight = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 1)
        .await
        .unwrap();
    let sending = [InstanceStatus::Sending];
    h.store
        .transition_send_instance(MID, id, &sending, InstanceStatus::CancelPending, NOW)
        .await
        .unwrap()
        .unwrap();
    let active = h.store.active_instances().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].status, InstanceStatus::CancelPending);
    assert_eq!(
        h.store.settle_instance(id, NOW).await.unwrap(),
        Some(Settled {
            status: InstanceStatus::CancelPending,
            pending: 1
        }),
        "the one in flight is still pending"
    );
    let counts = h.store.recipient_counts(id).await.unwrap();
    assert_eq!(counts.get(RecipientStatus::Canceled), 4);
    let sent = outcome(in_flight[0].recipient.id, 1, RecipientStatus::Sent);
    h.store.record_outcome("node-a", &sent, NOW).await.unwrap();
    assert_eq!(
        h.store.settle_instance(id, NOW).await.unwrap(),
        Some(Settled {
            status: InstanceStatus::Canceled,
            pending: 0
        })
    );
    let counts = h.store.recipient_counts(id).await.unwrap();
    assert_eq!(counts.get(RecipientStatus::Sent), 1);
    assert_eq!(counts.get(RecipientStatus::Canceled), 4);
}

async fn a_failed_instance_records_why_and_cancels_its_pending_recipients(h: Harness) {
    let id = delivering(&h, 2).await;
    assert!(
        h.store
            .fail_instance(id, "target Report 00O… no longer exists", NOW)
            .await
            .unwrap()
    );
    let instance = h.store.get_send_instance(MID, id).await.unwrap().unwrap();
    assert_eq!(instance.status, InstanceStatus::Error);
    assert_eq!(
        instance.message.as_deref(),
        Some("target Report 00O… no longer exists")
    );
    assert_eq!(
        h.store
            .recipient_counts(id)
            .await
            .unwrap()
            .get(RecipientStatus::Canceled),
        2
    );
    assert!(!h.store.fail_instance(id, "again", NOW).await.unwrap());
}

async fn a_bounce_suppresses_the_address_in_the_same_write_unless_the_lease_was_lost(h: Harness) {
    delivering(&h, 2).await;
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 2)
        .await
        .unwrap();
    let reply = "relay:25 replied to RCPT TO: 550 5.1.1 No such user here";
    let bounce = |recipient: i64| AttemptOutcome {
        reply: Some(reply.into()),
        ..outcome(recipient, 1, RecipientStatus::Bounced)
    };
    let (first, second) = (&claimed[0].recipient, &claimed[1].recipient);
    assert!(
        h.store
            .record_outcome("node-a", &bounce(first.id), NOW)
            .await
            .unwrap()
    );
    let listed = h.store.get_suppression(MID, &first.email).await.unwrap();
    let listed = listed.expect("the bounced address is suppressed");
    assert_eq!(listed.reason, SuppressionReason::HardBounce);
    assert_eq!(listed.detail.as_deref(), Some(reply));

    assert!(
        !h.store
            .record_outcome("node-b", &bounce(second.id), NOW)
            .await
            .unwrap(),
        "node-b holds no lease on it"
    );
    assert_eq!(
        h.store.get_suppression(MID, &second.email).await.unwrap(),
        None
    );
}

async fn outcomes_append_sent_and_bounced_events_with_the_reply_and_nothing_else(h: Harness) {
    let instance_id = delivering(&h, 3).await;
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 3)
        .await
        .unwrap();
    let ids: Vec<i64> = claimed.iter().map(|c| c.recipient.id).collect();
    let deferred = AttemptOutcome {
        next_attempt_at: Some(NOW + Duration::minutes(1)),
        ..outcome(ids[2], 1, RecipientStatus::Deferred)
    };
    for recorded in [
        outcome(ids[0], 1, RecipientStatus::Sent),
        outcome(ids[1], 1, RecipientStatus::Bounced),
        deferred,
    ] {
        assert!(
            h.store
                .record_outcome("node-a", &recorded, NOW)
                .await
                .unwrap()
        );
    }
    let events = h.store.events_after(MID, 0, 10).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.recipient_id, e.kind)).collect();
    assert_eq!(
        kinds,
        [(ids[0], EventKind::Sent), (ids[1], EventKind::Bounced)]
    );
    assert!(
        events
            .iter()
            .all(|e| e.instance_id == instance_id && e.mid == MID)
    );
    assert_eq!(events[0].created_at, NOW);
    assert_eq!(
        events[0].detail,
        Some(serde_json::json!({ "reply": "250 2.0.0 Ok" }))
    );
    let bounced = events[1].detail.as_ref().unwrap();
    assert_eq!(
        (&bounced["kind"], &bounced["source"]),
        (&"hard".into(), &"smtp".into())
    );
    assert!(events[0].id < events[1].id);

    let after_first = h.store.events_after(MID, events[0].id, 10).await.unwrap();
    assert_eq!(after_first, events[1..]);
    let other_account = Mid::from_stored(100_000_002);
    assert!(
        h.store
            .events_after(other_account, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn appended_events_are_read_back_per_recipient_in_order(h: Harness) {
    let instance_id = delivering(&h, 1).await;
    let claimed = h
        .store
        .claim_recipients("node-a", NOW, LEASE, 1)
        .await
        .unwrap();
    let recipient_id = claimed[0].recipient.id;
    h.store
        .record_outcome(
            "node-a",
            &outcome(recipient_id, 1, RecipientStatus::Sent),
            NOW,
        )
        .await
        .unwrap();
    let click = NewEvent {
        mid: MID,
        instance_id,
        recipient_id,
        kind: EventKind::Clicked,
        detail: Some(serde_json::json!({ "url": "https://example.com/a?b=1" })),
    };
    let later = NOW + Duration::seconds(5);
    let id = h.store.append_event(&click, later).await.unwrap();
    let events = h.store.recipient_events(recipient_id).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [EventKind::Sent, EventKind::Clicked]
    );
    assert_eq!(events[1].id, id);
    assert_eq!(events[1].detail, click.detail);
    assert_eq!(events[1].created_at, later);
    assert!(
        h.store
            .recipient_events(recipient_id + 1000)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A client's pause that commits while the settler is between reading the status and
/// writing the counts must stand: on PostgreSQL the settler's write waits for the pause's
/// row lock, then must not put the old status back.
async fn a_pause_committed_while_the_send_is_being_settled_is_kept(h: Harness) {
    let id = delivering(&h, 3).await;
    sqlx::any::install_default_drivers();
    let mut client = AnyConnection::connect(&h.db.url).await.unwrap();
    let begin = match h.store.backend() {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    client.execute(begin).await.unwrap();
    sqlx::query("UPDATE send_instances SET status = 'Paused' WHERE id = $1")
        .bind(id)
        .execute(&mut client)
        .await
        .unwrap();

    let store = h.store.clone();
    let settling = tokio::spawn(async move { store.settle_instance(id, NOW).await });
    if h.store.backend() == Backend::Postgres {
        // Until the settler has read `Sending` and waits on the row to write it back.
        let mut watcher = AnyConnection::connect(&h.db.url).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let waiting: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&mut watcher)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
            if waiting > 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the settler never waited"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    client.execute("COMMIT").await.unwrap();
    settling.await.unwrap().unwrap();

    let instance = h.store.get_send_instance(MID, id).await.unwrap().unwrap();
    assert_eq!(instance.status, InstanceStatus::Paused);
    assert_eq!(
        h.store
            .settle_instance(id, NOW)
            .await
            .unwrap()
            .map(|s| s.status),
        Some(InstanceStatus::Paused),
        "the next pass settles the paused send"
    );
}

backend_tests!(setup =>
    outcomes_append_sent_and_bounced_events_with_the_reply_and_nothing_else,
    appended_events_are_read_back_per_recipient_in_order,
    a_bounce_suppresses_the_address_in_the_same_write_unless_the_lease_was_lost,
    a_pause_committed_while_the_send_is_being_settled_is_kept,
    a_due_instance_is_started_by_exactly_one_of_two_racing_nodes,
    an_abandoned_resolution_is_taken_over_once_its_lease_expires,
    racing_nodes_claim_disjoint_recipients,
    an_outcome_applies_only_while_the_lease_is_the_callers,
    an_expired_recipient_lease_is_reclaimed_and_flagged_as_maybe_delivered,
    a_deferred_recipient_waits_for_its_next_attempt,
    recipients_of_a_paused_send_are_not_claimed_until_it_resumes,
    a_released_recipient_is_claimable_again_as_the_same_attempt,
    a_recipient_released_behind_the_claims_is_claimed_once_they_reach_the_end,
    settling_completes_a_send_with_nothing_pending_and_fills_its_counts,
    a_cancel_pending_send_cancels_what_is_not_in_flight_and_waits_for_the_rest,
    a_failed_instance_records_why_and_cancels_its_pending_recipients,
);
