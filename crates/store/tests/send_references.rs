//! What send definitions and instances hold on to, on SQLite and PostgreSQL: the email
//! and the send classification a definition names cannot be deleted while a definition
//! names them or a live instance was scheduled with them.

use std::sync::Arc;

use herald_domain::asset::{AssetStatus, AssetType, CustomerKey, EmailContent, EmailFields};
use herald_domain::classification::{self, SendClassificationType};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus::{Canceled, Scheduled};
use herald_domain::send::target::{Target, TargetType};
use herald_store::{
    AssetDeleteError, ClassificationError, DEFAULT_COMMERCIAL_KEY, DEFAULT_PROFILE_KEY, MetaFields,
    NewAsset, NewSendDefinition, SendClassification, SendClassificationFields,
    SendDefinitionChanges, Store,
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

fn mid() -> Mid {
    Mid::from_stored(100_000_001)
}

async fn email(h: &Harness, mid: Mid, key: &str) -> i64 {
    let fields = EmailFields {
        name: key.into(),
        description: String::new(),
        subject: "Hello".into(),
        preheader: String::new(),
        html: Some("<p>Hello</p>".into()),
        text: None,
    };
    h.store
        .create_asset(NewAsset {
            mid,
            customer_key: CustomerKey::parse(key).unwrap(),
            object_id: uuid_like(key),
            status: AssetStatus::Draft,
            content: EmailContent::parse(AssetType::HtmlEmail, fields).unwrap(),
            created_at: NOW,
        })
        .await
        .unwrap()
        .id
}

fn uuid_like(key: &str) -> String {
    format!("00000000-0000-4000-8000-{:012}", key.len())
}

async fn classification(h: &Harness, mid: Mid, key: &str) -> i64 {
    h.store
        .classifications::<SendClassification>()
        .create(
            mid,
            SendClassificationFields {
                meta: MetaFields {
                    customer_key: Some(classification::CustomerKey::parse(key).unwrap()),
                    name: key.into(),
                    description: String::new(),
                },
                classification_type: SendClassificationType::Operational,
                sender_profile: DEFAULT_PROFILE_KEY.into(),
                delivery_profile: DEFAULT_PROFILE_KEY.into(),
                honor_list_opt_outs: false,
            },
            NOW,
        )
        .await
        .unwrap()
        .meta
        .id
}

async fn default_classification(h: &Harness, mid: Mid) -> i64 {
    h.store
        .classifications::<SendClassification>()
        .find(mid, DEFAULT_COMMERCIAL_KEY)
        .await
        .unwrap()
        .unwrap()
        .meta
        .id
}

async fn definition(h: &Harness, mid: Mid, name: &str, email_id: i64, classification: i64) -> i64 {
    h.store
        .create_send_definition(NewSendDefinition {
            mid,
            external_key: format!("key-{name}"),
            name: name.into(),
            description: String::new(),
            email_id,
            send_classification_id: classification,
            targets: vec![Target {
                target_type: TargetType::Report,
                name: String::new(),
                id: SalesforceId::parse("00O000000000001").unwrap(),
            }],
            exclusions: vec![],
            deduplicate_by_email: false,
            created_at: NOW,
        })
        .await
        .unwrap()
        .id
}

async fn schedule(h: &Harness, definition_id: i64) -> i64 {
    let now = Schedule {
        start_at: NOW,
        all_recipients_opted_in: true,
    };
    h.store
        .schedule_send_definition(mid(), definition_id, now, NOW)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn change(h: &Harness, definition_id: i64, changes: SendDefinitionChanges) {
    let current = h.store.get_send_definition(mid(), definition_id).await;
    let version = current.unwrap().unwrap().version;
    h.store
        .update_send_definition(mid(), definition_id, version, changes, NOW)
        .await
        .unwrap()
        .unwrap();
}

async fn cancel(h: &Harness, instance_id: i64) {
    h.store
        .transition_send_instance(mid(), instance_id, &[Scheduled], Canceled, NOW)
        .await
        .unwrap()
        .unwrap();
}

async fn classification_users(h: &Harness, id: i64) -> Result<(), Vec<String>> {
    match h
        .store
        .classifications::<SendClassification>()
        .delete(mid(), id)
        .await
    {
        Ok(_) => Ok(()),
        Err(ClassificationError::InUse { users, .. }) => Err(users),
        Err(other) => panic!("{other:?}"),
    }
}

async fn email_users(h: &Harness, id: i64) -> Result<bool, Vec<String>> {
    match h.store.delete_asset(mid(), id).await {
        Ok(deleted) => Ok(deleted),
        Err(AssetDeleteError::InUse { users, .. }) => Err(users),
        Err(other) => panic!("{other:?}"),
    }
}

async fn a_classification_is_kept_while_a_definition_or_live_instance_uses_it(h: Harness) {
    let welcome = email(&h, mid(), "welcome").await;
    let spring = classification(&h, mid(), "Spring").await;
    let commercial = default_classification(&h, mid()).await;
    // Another account's definition naming the same number does not count.
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    definition(&h, other, "Theirs", welcome, spring).await;

    let user = definition(&h, mid(), "Launch", welcome, spring).await;
    assert_eq!(
        classification_users(&h, spring).await,
        Err(vec![format!("send definition {user} \"Launch\"")])
    );
    let message = h
        .store
        .classifications::<SendClassification>()
        .delete(mid(), spring)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        format!(
            "the send classification \"Spring\" is in use by send definition {user} \"Launch\": \
             change or delete them first"
        )
    );

    // The scheduled instance keeps its copy after the definition moves on.
    let instance = schedule(&h, user).await;
    let moved = SendDefinitionChanges {
        send_classification_id: Some(commercial),
        ..SendDefinitionChanges::default()
    };
    change(&h, user, moved).await;
    assert_eq!(
        classification_users(&h, spring).await,
        Err(vec![format!("send instance {instance} (Scheduled)")])
    );

    cancel(&h, instance).await;
    assert_eq!(classification_users(&h, spring).await, Ok(()));
    assert!(
        h.store
            .classifications::<SendClassification>()
            .find(mid(), "Spring")
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_email_is_kept_while_a_definition_or_live_instance_uses_it(h: Harness) {
    let welcome = email(&h, mid(), "welcome").await;
    let promo = email(&h, mid(), "promo").await;
    let commercial = default_classification(&h, mid()).await;
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    let theirs = default_classification(&h, other).await;
    definition(&h, other, "Theirs", welcome, theirs).await;

    let user = definition(&h, mid(), "Launch", welcome, commercial).await;
    let second = definition(&h, mid(), "Relaunch", welcome, commercial).await;
    assert_eq!(
        email_users(&h, welcome).await,
        Err(vec![
            format!("send definition {user} \"Launch\""),
            format!("send definition {second} \"Relaunch\""),
        ])
    );
    let message = h
        .store
        .delete_asset(mid(), welcome)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with(&format!(
            "the email {welcome} is used by send definition {user} \"Launch\", "
        )),
        "{message}"
    );
    assert!(h.store.get_asset(mid(), welcome).await.unwrap().is_some());

    let instance = schedule(&h, user).await;
    h.store.delete_send_definition(mid(), second).await.unwrap();
    let moved = SendDefinitionChanges {
        email_id: Some(promo),
        ..SendDefinitionChanges::default()
    };
    change(&h, user, moved).await;
    assert_eq!(
        email_users(&h, welcome).await,
        Err(vec![format!("send instance {instance} (Scheduled)")])
    );

    cancel(&h, instance).await;
    assert_eq!(email_users(&h, welcome).await, Ok(true));
    assert_eq!(email_users(&h, welcome).await, Ok(false));
    assert_eq!(
        email_users(&h, promo).await,
        Err(vec![format!("send definition {user} \"Launch\"")])
    );
}

backend_tests!(setup =>
    a_classification_is_kept_while_a_definition_or_live_instance_uses_it,
    an_email_is_kept_while_a_definition_or_live_instance_uses_it,
);
