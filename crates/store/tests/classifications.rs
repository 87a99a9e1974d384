//! The store contract for sender profiles, delivery profiles and send classifications, on
//! SQLite and PostgreSQL.

use std::sync::Arc;

use herald_domain::classification::{CustomerKey, SendClassificationType};
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::relay::Relay;
use herald_store::{
    ClassificationError, DEFAULT_COMMERCIAL_KEY, DEFAULT_PROFILE_KEY, DEFAULT_TRANSACTIONAL_KEY,
    DeliveryProfile, DeliveryProfileFields, Kind, MetaFields, PostalAddress, SendClassification,
    SendClassificationFields, SenderProfile, SenderProfileFields, Store,
};
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
const LATER: OffsetDateTime = datetime!(2026-11-27 08:30 UTC);

/// The account every database starts with (migration 0001).
fn first_mid() -> Mid {
    Mid::from_stored(100_000_001)
}

fn page(page: u32, page_size: u32) -> PageRequest {
    PageRequest { page, page_size }
}

fn meta(key: Option<&str>, name: &str) -> MetaFields {
    MetaFields {
        customer_key: key.map(|k| CustomerKey::parse(k).unwrap()),
        name: name.into(),
        description: format!("about {name}"),
    }
}

fn sender(key: Option<&str>, name: &str) -> SenderProfileFields {
    SenderProfileFields {
        meta: meta(key, name),
        from_name: "%%FirstName%% at Acme".into(),
        from_address: EmailAddress::parse("news@acme.example").unwrap(),
        reply_to_address: Some(EmailAddress::parse("help@acme.example").unwrap()),
        reply_to_display_name: Some("Acme Help".into()),
    }
}

fn delivery(key: Option<&str>, name: &str) -> DeliveryProfileFields {
    DeliveryProfileFields {
        meta: meta(key, name),
        header_html: "<p>Hello</p>".into(),
        footer_html: "<p>%%Member_Addr%%</p>".into(),
        footer_text: "%%Member_Addr%%".into(),
        address: PostalAddress {
            street: "1 Main St".into(),
            city: "Springfield".into(),
            state: "IL".into(),
            postal_code: "62701".into(),
            country: "US".into(),
        },
        relays: vec![
            Relay::parse("smtps://user:hunter2@relay.acme.example:465").unwrap(),
            Relay::parse("smtp://backup.acme.example").unwrap(),
        ],
        dkim_key_id: Some("acme-2026".into()),
        tracking_enabled: false,
        bounce_domain: Some("bounces.acme.example".into()),
    }
}

fn classification(
    key: Option<&str>,
    name: &str,
    sender: &str,
    delivery: &str,
) -> SendClassificationFields {
    SendClassificationFields {
        meta: meta(key, name),
        classification_type: SendClassificationType::Operational,
        sender_profile: sender.into(),
        delivery_profile: delivery.into(),
        honor_list_opt_outs: true,
    }
}

async fn every_new_account_starts_with_the_four_defaults(h: Harness) {
    let mid = h.store.create_account("Acme Corp", NOW).await.unwrap().mid;
    let senders = h
        .store
        .classifications::<SenderProfile>()
        .list(mid, page(1, 50))
        .await
        .unwrap();
    assert_eq!(senders.total, 1);
    let sender = &senders.items[0];
    assert_eq!(sender.meta.customer_key, DEFAULT_PROFILE_KEY);
    assert_eq!(sender.meta.name, "Default");
    assert!(sender.meta.is_default);
    assert_eq!(sender.from_name, "Acme Corp");
    assert_eq!(sender.from_address.as_str(), "no-reply@example.com");
    assert_eq!(sender.meta.created_at, NOW);
    let deliveries = h
        .store
        .classifications::<DeliveryProfile>()
        .list(mid, page(1, 50))
        .await
        .unwrap();
    assert_eq!(deliveries.total, 1);
    let delivery = &deliveries.items[0];
    assert!(delivery.relays.is_empty());
    assert!(delivery.tracking_enabled);
    assert_eq!(delivery.bounce_domain, None);
    let classifications = h
        .store
        .classifications::<SendClassification>()
        .list(mid, page(1, 50))
        .await
        .unwrap();
    let summary: Vec<_> = classifications
        .items
        .iter()
        .map(|c| {
            (
                c.meta.customer_key.as_str(),
                c.classification_type,
                c.sender_profile.id,
                c.delivery_profile.id,
                c.meta.is_default,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                DEFAULT_COMMERCIAL_KEY,
                SendClassificationType::Marketing,
                sender.meta.id,
                delivery.meta.id,
                true
            ),
            (
                DEFAULT_TRANSACTIONAL_KEY,
                SendClassificationType::Operational,
                sender.meta.id,
                delivery.meta.id,
                true
            ),
        ]
    );
}

async fn the_first_account_got_the_same_defaults_from_the_migration(h: Harness) {
    // Named like the first account, a new account's defaults must match field for field.
    let new = h.store.create_account("Herald", NOW).await.unwrap().mid;
    let first = h
        .store
        .classifications::<SenderProfile>()
        .find(first_mid(), "Default")
        .await
        .unwrap();
    let created = h
        .store
        .classifications::<SenderProfile>()
        .find(new, "Default")
        .await
        .unwrap();
    let (first, created) = (first.unwrap(), created.unwrap());
    assert_eq!(
        (
            &first.meta.name,
            &first.meta.description,
            first.meta.is_default
        ),
        (
            &created.meta.name,
            &created.meta.description,
            created.meta.is_default
        )
    );
    assert_eq!(
        (
            &first.from_name,
            &first.from_address,
            &first.reply_to_address
        ),
        (
            &created.from_name,
            &created.from_address,
            &created.reply_to_address
        )
    );
    assert_ne!(first.meta.object_id, created.meta.object_id);
    assert!(uuid::Uuid::parse_str(&first.meta.object_id).is_ok());
    let first = h
        .store
        .classifications::<DeliveryProfile>()
        .find(first_mid(), "Default")
        .await
        .unwrap();
    let created = h
        .store
        .classifications::<DeliveryProfile>()
        .find(new, "Default")
        .await
        .unwrap();
    let (first, created) = (first.unwrap(), created.unwrap());
    assert_eq!(first.meta.description, created.meta.description);
    assert_eq!(
        (
            &first.header_html,
            &first.address,
            &first.relays,
            first.tracking_enabled
        ),
        (
            &created.header_html,
            &created.address,
            &created.relays,
            created.tracking_enabled
        )
    );
    for key in [DEFAULT_COMMERCIAL_KEY, DEFAULT_TRANSACTIONAL_KEY] {
        let first = h
            .store
            .classifications::<SendClassification>()
            .find(first_mid(), key)
            .await
            .unwrap();
        let created = h
            .store
            .classifications::<SendClassification>()
            .find(new, key)
            .await
            .unwrap();
        let (first, created) = (first.unwrap(), created.unwrap());
        assert_eq!(
            (
                &first.meta.name,
                &first.meta.description,
                first.classification_type,
                first.honor_list_opt_outs,
                first.meta.is_default,
                &first.sender_profile.customer_key,
                &first.delivery_profile.customer_key,
            ),
            (
                &created.meta.name,
                &created.meta.description,
                created.classification_type,
                created.honor_list_opt_outs,
                created.meta.is_default,
                &created.sender_profile.customer_key,
                &created.delivery_profile.customer_key,
            )
        );
        assert!(uuid::Uuid::parse_str(&first.meta.object_id).is_ok());
    }
}

async fn a_sender_profile_is_created_found_by_id_or_key_updated_and_deleted(h: Harness) {
    let created = h
        .store
        .classifications::<SenderProfile>()
        .create(first_mid(), sender(Some("news"), "News"), NOW)
        .await
        .unwrap();
    assert_eq!(created.meta.customer_key, "news");
    assert_eq!(created.from_name, "%%FirstName%% at Acme");
    assert!(!created.meta.is_default);
    let by_id = h
        .store
        .classifications::<SenderProfile>()
        .find(first_mid(), &created.meta.id.to_string())
        .await
        .unwrap();
    assert_eq!(by_id.as_ref(), Some(&created));
    let by_key = h
        .store
        .classifications::<SenderProfile>()
        .find(first_mid(), "news")
        .await
        .unwrap();
    assert_eq!(by_key.as_ref(), Some(&created));
    let got = h
        .store
        .classifications::<SenderProfile>()
        .get(first_mid(), created.meta.id)
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&created));

    let mut changed = sender(None, "News letters");
    changed.reply_to_address = None;
    changed.reply_to_display_name = None;
    let updated = h
        .store
        .classifications::<SenderProfile>()
        .update(
            first_mid(),
            created.meta.id,
            created.meta.version,
            changed,
            LATER,
        )
        .await
        .unwrap();
    assert_eq!(updated.meta.customer_key, "news", "no key given: kept");
    assert_eq!(updated.meta.name, "News letters");
    assert_eq!(updated.reply_to_address, None);
    assert_eq!(updated.meta.created_at, NOW);
    assert_eq!(updated.meta.modified_at, LATER);

    let deleted = h
        .store
        .classifications::<SenderProfile>()
        .delete(first_mid(), created.meta.id)
        .await
        .unwrap();
    assert_eq!(deleted, updated);
    assert!(
        h.store
            .classifications::<SenderProfile>()
            .find(first_mid(), "news")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        h.store
            .classifications::<SenderProfile>()
            .delete(first_mid(), created.meta.id)
            .await,
        Err(ClassificationError::NotFound {
            kind: Kind::SenderProfile,
            ..
        })
    ));
}

async fn a_customer_key_defaults_to_the_object_id(h: Harness) {
    let created = h
        .store
        .classifications::<DeliveryProfile>()
        .create(first_mid(), delivery(None, "Bulk"), NOW)
        .await
        .unwrap();
    assert_eq!(created.meta.customer_key, created.meta.object_id);
    assert!(uuid::Uuid::parse_str(&created.meta.object_id).is_ok());
}

async fn a_delivery_profile_keeps_its_relays_with_their_passwords(h: Harness) {
    let created = h
        .store
        .classifications::<DeliveryProfile>()
        .create(first_mid(), delivery(Some("bulk"), "Bulk"), NOW)
        .await
        .unwrap();
    let stored = h
        .store
        .classifications::<DeliveryProfile>()
        .get(first_mid(), created.meta.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, created);
    let relays: Vec<&str> = stored.relays.iter().map(Relay::expose).collect();
    assert_eq!(
        relays,
        [
            "smtps://user:hunter2@relay.acme.example:465",
            "smtp://backup.acme.example"
        ]
    );
    assert_eq!(stored.address.city, "Springfield");
    assert_eq!(stored.dkim_key_id.as_deref(), Some("acme-2026"));
    assert!(!stored.tracking_enabled);
    assert_eq!(
        stored.bounce_domain.as_deref(),
        Some("bounces.acme.example")
    );
    let mut fewer = delivery(Some("bulk"), "Bulk");
    fewer.relays.clear();
    fewer.dkim_key_id = None;
    let updated = h
        .store
        .classifications::<DeliveryProfile>()
        .update(
            first_mid(),
            created.meta.id,
            created.meta.version,
            fewer,
            LATER,
        )
        .await
        .unwrap();
    assert!(updated.relays.is_empty());
    assert_eq!(updated.dkim_key_id, None);
}

async fn a_duplicate_customer_key_is_refused_within_one_account_and_kind(h: Harness) {
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    let first = h
        .store
        .classifications::<SenderProfile>()
        .create(first_mid(), sender(Some("shared"), "One"), NOW)
        .await
        .unwrap();
    let again = h
        .store
        .classifications::<SenderProfile>()
        .create(first_mid(), sender(Some("shared"), "Two"), NOW)
        .await;
    assert!(
        matches!(&again, Err(ClassificationError::DuplicateKey { kind: Kind::SenderProfile, customer_key }) if customer_key == "shared"),
        "{again:?}"
    );
    let renamed = h
        .store
        .classifications::<SenderProfile>()
        .update(
            first_mid(),
            first.meta.id,
            first.meta.version,
            sender(Some("Default"), "One"),
            LATER,
        )
        .await;
    assert!(matches!(
        renamed,
        Err(ClassificationError::DuplicateKey { .. })
    ));
    let unchanged = h
        .store
        .classifications::<SenderProfile>()
        .get(first_mid(), first.meta.id)
        .await
        .unwrap();
    assert_eq!(unchanged, Some(first));
    assert_eq!(
        h.store
            .classifications::<SenderProfile>()
            .list(first_mid(), page(1, 50))
            .await
            .unwrap()
            .total,
        2
    );
    // Another account, or another kind, may use the same key.
    h.store
        .classifications::<SenderProfile>()
        .create(other, sender(Some("shared"), "One"), NOW)
        .await
        .unwrap();
    h.store
        .classifications::<DeliveryProfile>()
        .create(first_mid(), delivery(Some("shared"), "One"), NOW)
        .await
        .unwrap();
}

async fn another_accounts_objects_do_not_exist(h: Harness) {
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    let theirs = h
        .store
        .classifications::<SenderProfile>()
        .create(other, sender(Some("theirs"), "Theirs"), NOW)
        .await
        .unwrap();
    let id = theirs.meta.id;
    assert!(
        h.store
            .classifications::<SenderProfile>()
            .get(first_mid(), id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .classifications::<SenderProfile>()
            .find(first_mid(), "theirs")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        h.store
            .classifications::<SenderProfile>()
            .update(first_mid(), id, 1, sender(None, "Mine"), LATER)
            .await,
        Err(ClassificationError::NotFound { .. })
    ));
    assert!(matches!(
        h.store
            .classifications::<SenderProfile>()
            .delete(first_mid(), id)
            .await,
        Err(ClassificationError::NotFound { .. })
    ));
    let their_commercial = h
        .store
        .classifications::<SendClassification>()
        .find(other, DEFAULT_COMMERCIAL_KEY)
        .await
        .unwrap()
        .unwrap();
    assert!(
        h.store
            .classifications::<SendClassification>()
            .find(first_mid(), &their_commercial.meta.id.to_string())
            .await
            .unwrap()
            .is_none()
    );
    // Nor can a classification of this account point at their profile.
    let refused = h
        .store
        .classifications::<SendClassification>()
        .create(
            first_mid(),
            classification(None, "Stolen", &id.to_string(), "Default"),
            NOW,
        )
        .await;
    assert!(matches!(
        refused,
        Err(ClassificationError::UnknownReference {
            kind: Kind::SenderProfile,
            ..
        })
    ));
    assert_eq!(
        h.store
            .classifications::<SenderProfile>()
            .get(other, id)
            .await
            .unwrap(),
        Some(theirs)
    );
}

async fn a_classification_names_its_profiles_by_id_or_customer_key(h: Harness) {
    let news = h
        .store
        .classifications::<SenderProfile>()
        .create(first_mid(), sender(Some("news"), "News"), NOW)
        .await
        .unwrap();
    let created = h
        .store
        .classifications::<SendClassification>()
        .create(
            first_mid(),
            classification(
                Some("receipts"),
                "Receipts",
                &news.meta.id.to_string(),
                "Default",
            ),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(created.sender_profile.id, news.meta.id);
    assert_eq!(created.sender_profile.customer_key, "news");
    assert_eq!(created.sender_profile.name, "News");
    assert_eq!(created.delivery_profile.customer_key, "Default");
    assert_eq!(
        created.classification_type,
        SendClassificationType::Operational
    );
    assert!(created.honor_list_opt_outs);
    let by_id = h
        .store
        .classifications::<SendClassification>()
        .find(first_mid(), &created.meta.id.to_string())
        .await
        .unwrap();
    assert_eq!(by_id.as_ref(), Some(&created));
    let by_key = h
        .store
        .classifications::<SendClassification>()
        .find(first_mid(), "receipts")
        .await
        .unwrap();
    assert_eq!(by_key, Some(created.clone()));
    for (sender_ref, delivery_ref, kind) in [
        ("nope", "Default", Kind::SenderProfile),
        ("news", "999999", Kind::DeliveryProfile),
    ] {
        let refused = h
            .store
            .classifications::<SendClassification>()
            .update(
                first_mid(),
                created.meta.id,
                created.meta.version,
                classification(None, "Receipts", sender_ref, delivery_ref),
                LATER,
            )
            .await;
        assert!(
            matches!(&refused, Err(ClassificationError::UnknownReference { kind: k, .. }) if *k == kind),
            "{refused:?}"
        );
    }
    let unchanged = h
        .store
        .classifications::<SendClassification>()
        .find(first_mid(), "receipts")
        .await
        .unwrap();
    assert_eq!(unchanged, Some(created));
}

async fn a_profile_in_use_is_not_deleted_until_its_classifications_move(h: Harness) {
    let news = h
        .store
        .classifications::<SenderProfile>()
        .create(first_mid(), sender(Some("news"), "News"), NOW)
        .await
        .unwrap();
    let bulk = h
        .store
        .classifications::<DeliveryProfile>()
        .create(first_mid(), delivery(Some("bulk"), "Bulk"), NOW)
        .await
        .unwrap();
    let user = h
        .store
        .classifications::<SendClassification>()
        .create(
            first_mid(),
            classification(None, "Spring", "news", "bulk"),
            NOW,
        )
        .await
        .unwrap();
    let refused = h
        .store
        .classifications::<SenderProfile>()
        .delete(first_mid(), news.meta.id)
        .await;
    match &refused {
        Err(err @ ClassificationError::InUse { users, .. }) => {
            assert_eq!(users, &["send classification \"Spring\""]);
            assert!(err.to_string().contains("\"News\""), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        h.store
            .classifications::<DeliveryProfile>()
            .delete(first_mid(), bulk.meta.id)
            .await,
        Err(ClassificationError::InUse { .. })
    ));
    assert!(
        h.store
            .classifications::<SenderProfile>()
            .get(first_mid(), news.meta.id)
            .await
            .unwrap()
            .is_some()
    );
    h.store
        .classifications::<SendClassification>()
        .update(
            first_mid(),
            user.meta.id,
            user.meta.version,
            classification(None, "Spring", "Default", "Default"),
            LATER,
        )
        .await
        .unwrap();
    h.store
        .classifications::<SenderProfile>()
        .delete(first_mid(), news.meta.id)
        .await
        .unwrap();
    h.store
        .classifications::<DeliveryProfile>()
        .delete(first_mid(), bulk.meta.id)
        .await
        .unwrap();
    h.store
        .classifications::<SendClassification>()
        .delete(first_mid(), user.meta.id)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .classifications::<SendClassification>()
            .list(first_mid(), page(1, 50))
            .await
            .unwrap()
            .total,
        2
    );
}

async fn the_defaults_can_be_updated_but_not_deleted_rekeyed_or_retyped(h: Harness) {
    let default_sender = h
        .store
        .classifications::<SenderProfile>()
        .find(first_mid(), DEFAULT_PROFILE_KEY)
        .await
        .unwrap()
        .unwrap();
    let updated = h
        .store
        .classifications::<SenderProfile>()
        .update(
            first_mid(),
            default_sender.meta.id,
            default_sender.meta.version,
            sender(None, "Default"),
            LATER,
        )
        .await
        .unwrap();
    assert_eq!(updated.from_address.as_str(), "news@acme.example");
    assert_eq!(updated.meta.customer_key, DEFAULT_PROFILE_KEY);
    assert!(updated.meta.is_default);
    assert!(matches!(
        h.store
            .classifications::<SenderProfile>()
            .update(
                first_mid(),
                default_sender.meta.id,
                default_sender.meta.version,
                sender(Some("Mine"), "D"),
                LATER
            )
            .await,
        Err(ClassificationError::DefaultKeyFixed { .. })
    ));
    assert!(matches!(
        h.store
            .classifications::<SenderProfile>()
            .delete(first_mid(), default_sender.meta.id)
            .await,
        Err(ClassificationError::DefaultUndeletable {
            kind: Kind::SenderProfile,
            ..
        })
    ));
    let default_delivery = h
        .store
        .classifications::<DeliveryProfile>()
        .find(first_mid(), DEFAULT_PROFILE_KEY)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        h.store
            .classifications::<DeliveryProfile>()
            .delete(first_mid(), default_delivery.meta.id)
            .await,
        Err(ClassificationError::DefaultUndeletable { .. })
    ));
    let commercial = h
        .store
        .classifications::<SendClassification>()
        .find(first_mid(), DEFAULT_COMMERCIAL_KEY)
        .await
        .unwrap()
        .unwrap();
    // Operational, in the helper: the commercial default stays Marketing.
    let retyped = h
        .store
        .classifications::<SendClassification>()
        .update(
            first_mid(),
            commercial.meta.id,
            commercial.meta.version,
            classification(None, "Commercial", "Default", "Default"),
            LATER,
        )
        .await;
    assert!(matches!(
        retyped,
        Err(ClassificationError::DefaultTypeFixed {
            expected: SendClassificationType::Marketing,
            ..
        })
    ));
    assert!(matches!(
        h.store
            .classifications::<SendClassification>()
            .delete(first_mid(), commercial.meta.id)
            .await,
        Err(ClassificationError::DefaultUndeletable { .. })
    ));
    let mut renamed = classification(None, "Newsletters", "Default", "Default");
    renamed.classification_type = SendClassificationType::Marketing;
    let renamed = h
        .store
        .classifications::<SendClassification>()
        .update(
            first_mid(),
            commercial.meta.id,
            commercial.meta.version,
            renamed,
            LATER,
        )
        .await
        .unwrap();
    assert_eq!(renamed.meta.name, "Newsletters");
    assert_eq!(renamed.meta.customer_key, DEFAULT_COMMERCIAL_KEY);
}

async fn lists_are_paged_oldest_first_with_the_total(h: Harness) {
    for name in ["A", "B", "C"] {
        h.store
            .classifications::<SenderProfile>()
            .create(first_mid(), sender(None, name), NOW)
            .await
            .unwrap();
    }
    let first = h
        .store
        .classifications::<SenderProfile>()
        .list(first_mid(), page(1, 3))
        .await
        .unwrap();
    assert_eq!(first.total, 4);
    let names: Vec<&str> = first.items.iter().map(|p| p.meta.name.as_str()).collect();
    assert_eq!(names, ["Default", "A", "B"]);
    let second = h
        .store
        .classifications::<SenderProfile>()
        .list(first_mid(), page(2, 3))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].meta.name, "C");
    let beyond = h
        .store
        .classifications::<SenderProfile>()
        .list(first_mid(), page(9, 3))
        .await
        .unwrap();
    assert_eq!((beyond.total, beyond.items.len()), (4, 0));
}

async fn an_update_naming_an_outdated_version_is_refused_and_changes_nothing(h: Harness) {
    let created = h
        .store
        .classifications::<SenderProfile>()
        .create(first_mid(), sender(Some("news"), "News"), NOW)
        .await
        .unwrap();
    let first = h
        .store
        .classifications::<SenderProfile>()
        .update(
            first_mid(),
            created.meta.id,
            created.meta.version,
            sender(None, "First"),
            LATER,
        )
        .await
        .unwrap();
    assert_eq!(first.meta.version, created.meta.version + 1);

    let second = h
        .store
        .classifications::<SenderProfile>()
        .update(
            first_mid(),
            created.meta.id,
            created.meta.version,
            sender(None, "Second"),
            LATER,
        )
        .await;
    assert!(
        matches!(second, Err(ClassificationError::Stale { .. })),
        "{second:?}"
    );
    let kept = h
        .store
        .classifications::<SenderProfile>()
        .get(first_mid(), created.meta.id)
        .await
        .unwrap();
    assert_eq!(kept.as_ref(), Some(&first));
}

backend_tests!(setup =>
    an_update_naming_an_outdated_version_is_refused_and_changes_nothing,
    every_new_account_starts_with_the_four_defaults,
    the_first_account_got_the_same_defaults_from_the_migration,
    a_sender_profile_is_created_found_by_id_or_key_updated_and_deleted,
    a_customer_key_defaults_to_the_object_id,
    a_delivery_profile_keeps_its_relays_with_their_passwords,
    a_duplicate_customer_key_is_refused_within_one_account_and_kind,
    another_accounts_objects_do_not_exist,
    a_classification_names_its_profiles_by_id_or_customer_key,
    a_profile_in_use_is_not_deleted_until_its_classifications_move,
    the_defaults_can_be_updated_but_not_deleted_rekeyed_or_retyped,
    lists_are_paged_oldest_first_with_the_total,
);
