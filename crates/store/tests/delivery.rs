//! Recipients and suppressions, on both backends.

use std::sync::Arc;

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::recipient::{RecipientStatus, SuppressionReason};
use herald_store::{NewRecipient, Store};
use herald_test_support::{Db, TestDatabase, backend_tests};
use time::OffsetDateTime;
use time::macros::datetime;

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

fn recipient(n: usize, email: &str) -> NewRecipient {
    NewRecipient {
        instance_id: INSTANCE,
        mid: MID,
        record_id: format!("003{n:015}"),
        email: email.to_owned(),
        email_norm: email.to_lowercase(),
        domain: email.split('@').nth(1).unwrap().to_lowercase(),
        fields: format!("{{\"FirstName\":\"N{n}\"}}"),
        status: RecipientStatus::Queued,
    }
}

fn page(size: u32) -> PageRequest {
    PageRequest {
        page: 1,
        page_size: size,
    }
}

async fn a_record_in_several_targets_is_written_once(h: Harness) {
    let first: Vec<_> = (0..1200)
        .map(|n| recipient(n, &format!("r{n}@example.com")))
        .collect();
    assert_eq!(h.store.insert_recipients(&first).await.unwrap(), 1200);
    let overlap: Vec<_> = (1000..1500)
        .map(|n| recipient(n, &format!("r{n}@example.com")))
        .collect();
    assert_eq!(h.store.insert_recipients(&overlap).await.unwrap(), 300);
    let counts = h.store.recipient_counts(INSTANCE).await.unwrap();
    assert_eq!(counts.get(RecipientStatus::Queued), 1500);
    assert_eq!(counts.pending(), 1500);
}

async fn exclusions_match_by_record_or_address(h: Harness) {
    let rows: Vec<_> = (0..5)
        .map(|n| recipient(n, &format!("r{n}@example.com")))
        .collect();
    h.store.insert_recipients(&rows).await.unwrap();
    let excluded = h
        .store
        .exclude_recipients(
            INSTANCE,
            &[rows[0].record_id.clone()],
            &["r3@example.com".to_owned()],
        )
        .await
        .unwrap();
    assert_eq!(excluded, 2);
    assert_eq!(
        h.store
            .exclude_recipients(INSTANCE, &[], &[])
            .await
            .unwrap(),
        0
    );
    let counts = h.store.recipient_counts(INSTANCE).await.unwrap();
    assert_eq!(counts.get(RecipientStatus::Excluded), 2);
    assert_eq!(counts.get(RecipientStatus::Queued), 3);
}

async fn duplicates_by_address_keep_the_first_written(h: Harness) {
    let rows = vec![
        recipient(0, "Same@Example.com"),
        recipient(1, "same@example.com"),
        recipient(2, "other@example.com"),
    ];
    h.store.insert_recipients(&rows).await.unwrap();
    assert_eq!(h.store.mark_duplicate_addresses(INSTANCE).await.unwrap(), 1);
    let (_, listed) = h
        .store
        .list_recipients(MID, INSTANCE, Some(RecipientStatus::Duplicate), page(10))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record_id, rows[1].record_id);
}

async fn unsubscribes_stop_commercial_mail_and_hard_bounces_stop_all_mail(h: Harness) {
    h.store
        .suppress(
            MID,
            "unsub@example.com",
            SuppressionReason::Unsubscribe,
            None,
            NOW,
        )
        .await
        .unwrap();
    h.store
        .suppress(
            MID,
            "bounced@example.com",
            SuppressionReason::HardBounce,
            Some("550 5.1.1"),
            NOW,
        )
        .await
        .unwrap();
    let rows = vec![
        recipient(0, "unsub@example.com"),
        recipient(1, "bounced@example.com"),
        recipient(2, "fine@example.com"),
    ];
    h.store.insert_recipients(&rows).await.unwrap();
    assert_eq!(
        h.store
            .suppress_listed_recipients(INSTANCE, MID, false)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        h.store
            .suppress_listed_recipients(INSTANCE, MID, true)
            .await
            .unwrap(),
        1
    );
    let (_, suppressed) = h
        .store
        .list_recipients(MID, INSTANCE, Some(RecipientStatus::Suppressed), page(10))
        .await
        .unwrap();
    let replies: Vec<_> = suppressed
        .iter()
        .map(|r| r.last_reply.clone().unwrap())
        .collect();
    assert_eq!(
        replies,
        ["suppressed: unsubscribe", "suppressed: hard_bounce"]
    );
}

async fn another_accounts_suppressions_do_not_apply(h: Harness) {
    let other = Mid::from_stored(100_000_002);
    h.store
        .suppress(
            other,
            "x@example.com",
            SuppressionReason::HardBounce,
            None,
            NOW,
        )
        .await
        .unwrap();
    h.store
        .insert_recipients(&[recipient(0, "x@example.com")])
        .await
        .unwrap();
    assert_eq!(
        h.store
            .suppress_listed_recipients(INSTANCE, MID, true)
            .await
            .unwrap(),
        0
    );
}

async fn a_hard_bounce_replaces_an_unsubscribe_but_not_the_reverse(h: Harness) {
    let email = "a@example.com";
    assert!(
        h.store
            .suppress(MID, email, SuppressionReason::Unsubscribe, None, NOW)
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .suppress(MID, email, SuppressionReason::Manual, None, NOW)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .suppress(MID, email, SuppressionReason::HardBounce, Some("550"), NOW)
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .suppress(MID, email, SuppressionReason::Unsubscribe, None, NOW)
            .await
            .unwrap()
    );
    let stored = h.store.get_suppression(MID, email).await.unwrap().unwrap();
    assert_eq!(stored.reason, SuppressionReason::HardBounce);
    assert_eq!(stored.detail.as_deref(), Some("550"));
    let (total, listed) = h.store.list_suppressions(MID, page(10)).await.unwrap();
    assert_eq!((total, listed.len()), (1, 1));
    assert!(h.store.unsuppress(MID, email).await.unwrap());
    assert!(!h.store.unsuppress(MID, email).await.unwrap());
    assert_eq!(h.store.get_suppression(MID, email).await.unwrap(), None);
}

async fn recipients_are_listed_per_account_in_pages(h: Harness) {
    let rows: Vec<_> = (0..25)
        .map(|n| recipient(n, &format!("r{n}@example.com")))
        .collect();
    h.store.insert_recipients(&rows).await.unwrap();
    let second = PageRequest {
        page: 2,
        page_size: 10,
    };
    let (total, listed) = h
        .store
        .list_recipients(MID, INSTANCE, None, second)
        .await
        .unwrap();
    assert_eq!(total, 25);
    assert_eq!(listed.len(), 10);
    assert_eq!(listed[0].record_id, rows[10].record_id);
    assert_eq!(listed[0].fields, rows[10].fields);
    let (total, listed) = h
        .store
        .list_recipients(Mid::from_stored(100_000_002), INSTANCE, None, page(10))
        .await
        .unwrap();
    assert_eq!((total, listed.len()), (0, 0));
}

async fn canceling_marks_every_unleased_pending_recipient(h: Harness) {
    let rows: Vec<_> = (0..4)
        .map(|n| recipient(n, &format!("r{n}@example.com")))
        .collect();
    h.store.insert_recipients(&rows).await.unwrap();
    assert_eq!(
        h.store
            .cancel_pending_recipients(INSTANCE, NOW)
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        h.store
            .cancel_pending_recipients(INSTANCE, NOW)
            .await
            .unwrap(),
        0
    );
    let counts = h.store.recipient_counts(INSTANCE).await.unwrap();
    assert_eq!(counts.get(RecipientStatus::Canceled), 4);
    assert_eq!(counts.pending(), 0);
}

backend_tests!(setup =>
    a_record_in_several_targets_is_written_once,
    exclusions_match_by_record_or_address,
    duplicates_by_address_keep_the_first_written,
    unsubscribes_stop_commercial_mail_and_hard_bounces_stop_all_mail,
    another_accounts_suppressions_do_not_apply,
    a_hard_bounce_replaces_an_unsubscribe_but_not_the_reverse,
    recipients_are_listed_per_account_in_pages,
    canceling_marks_every_unleased_pending_recipient,
);

mod outbox {
    use super::*;
    use herald_store::NewCapturedMessage;

    fn message(recipient_id: i64, instance_id: i64) -> NewCapturedMessage {
        NewCapturedMessage {
            mid: MID,
            instance_id,
            recipient_id,
            envelope_from: "bounces@example.com".into(),
            rcpt_to: format!("r{recipient_id}@example.com"),
            subject: "Hello".into(),
            raw: b"Subject: Hello\r\n\r\nBody \xe2\x9c\x93\r\n".to_vec(),
        }
    }

    async fn captured_messages_are_listed_newest_first_and_read_back_byte_for_byte(h: Harness) {
        for id in 1..=3 {
            h.store
                .capture_message(message(id, 7 + id % 2), NOW)
                .await
                .unwrap();
        }
        h.store.capture_message(message(1, 8), NOW).await.unwrap();
        let (total, listed) = h.store.list_captured(MID, None, page(10)).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            listed.iter().map(|m| m.recipient_id).collect::<Vec<_>>(),
            [3, 2, 1]
        );
        assert_eq!(listed[0].size, message(3, 0).raw.len() as i64);
        let (total, _) = h.store.list_captured(MID, Some(7), page(10)).await.unwrap();
        assert_eq!(total, 1);
        let raw = h
            .store
            .captured_raw(MID, listed[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw, message(3, 0).raw);
        let other = Mid::from_stored(100_000_002);
        assert_eq!(
            h.store.captured_raw(other, listed[0].id).await.unwrap(),
            None
        );
        assert_eq!(
            h.store
                .list_captured(other, None, page(10))
                .await
                .unwrap()
                .0,
            0
        );
    }

    backend_tests!(setup => captured_messages_are_listed_newest_first_and_read_back_byte_for_byte);
}

mod dkim {
    use super::*;
    use herald_store::DkimKeyRecord;

    fn key(id_selector: &str, domain: &str, at: OffsetDateTime) -> DkimKeyRecord {
        DkimKeyRecord {
            id: format!("{id_selector}._domainkey.{domain}"),
            domain: domain.into(),
            selector: id_selector.into(),
            algorithm: "ed25519".into(),
            private_pem: "-----BEGIN PRIVATE KEY-----".into(),
            dns_record: "v=DKIM1; k=ed25519; p=abc".into(),
            created_at: at,
        }
    }

    async fn a_dkim_key_is_found_by_id_or_as_its_domains_newest(h: Harness) {
        assert!(
            h.store
                .insert_dkim_key(key("s1", "example.com", NOW))
                .await
                .unwrap()
        );
        let later = NOW + time::Duration::days(1);
        assert!(
            h.store
                .insert_dkim_key(key("s2", "example.com", later))
                .await
                .unwrap()
        );
        assert!(
            !h.store
                .insert_dkim_key(key("s2", "example.com", later))
                .await
                .unwrap()
        );
        let found = h
            .store
            .get_dkim_key("s1._domainkey.example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.selector, "s1");
        let newest = h
            .store
            .newest_dkim_key_for("example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(newest.selector, "s2");
        assert!(
            h.store
                .newest_dkim_key_for("other.com")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(h.store.list_dkim_keys().await.unwrap().len(), 2);
        assert!(!format!("{found:?}").contains("PRIVATE"));
    }

    backend_tests!(setup => a_dkim_key_is_found_by_id_or_as_its_domains_newest);
}
