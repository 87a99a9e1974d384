//! The asset store, on SQLite and PostgreSQL.

use std::sync::Arc;

use herald_domain::asset::{AssetStatus, AssetType, CustomerKey, EmailContent, EmailFields};
use herald_domain::asset_query::{AssetQuery, parse_filter, parse_order_by};
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_store::{Asset, AssetUpdate, AssetWriteError, NewAsset, Store};
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
/// The account every database starts with.
const FIRST_MID: i64 = 100_000_001;

fn mid() -> Mid {
    Mid::from_stored(FIRST_MID)
}

fn content(asset_type: AssetType, name: &str) -> EmailContent {
    let fields = EmailFields {
        name: name.into(),
        description: format!("About {name}"),
        subject: format!("Hello %%FirstName%%, {name}"),
        preheader: "Read on".into(),
        html: (asset_type != AssetType::TextOnlyEmail).then(|| format!("<p>{name}</p>")),
        text: Some(format!("{name} for %%FirstName%%")),
    };
    EmailContent::parse(asset_type, fields).unwrap()
}

fn new_asset(mid: Mid, key: &str, asset_type: AssetType, name: &str) -> NewAsset {
    NewAsset {
        mid,
        customer_key: CustomerKey::parse(key).unwrap(),
        object_id: format!("00000000-0000-4000-8000-{:012}", key.len()),
        status: AssetStatus::Draft,
        content: content(asset_type, name),
        created_at: NOW,
    }
}

async fn create(h: &Harness, key: &str, asset_type: AssetType, name: &str) -> Asset {
    h.store
        .create_asset(new_asset(mid(), key, asset_type, name))
        .await
        .unwrap()
}

fn query(filter: &str, order_by: &str, page: u32, page_size: u32) -> AssetQuery {
    AssetQuery {
        filter: parse_filter(filter).unwrap(),
        sort: parse_order_by(order_by).unwrap(),
        page: PageRequest { page, page_size },
    }
}

async fn names(h: &Harness, filter: &str, order_by: &str) -> Vec<String> {
    h.store
        .list_assets(mid(), &query(filter, order_by, 1, 50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|asset| asset.fields.name)
        .collect()
}

async fn assets_get_ids_from_10001_and_read_back_as_stored(h: Harness) {
    let first = create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    let second = create(&h, "notice", AssetType::TextOnlyEmail, "Notice").await;
    assert_eq!(first.id, 10_001);
    assert_eq!(second.id, 10_002);
    assert_eq!(first.mid, mid());
    assert_eq!(first.customer_key, "welcome");
    assert_eq!(first.asset_type, AssetType::HtmlEmail);
    assert_eq!(first.status, AssetStatus::Draft);
    assert_eq!(
        first.fields,
        content(AssetType::HtmlEmail, "Welcome").fields().clone()
    );
    assert_eq!((first.created_at, first.modified_at), (NOW, NOW));
    assert_eq!(
        h.store.get_asset(mid(), first.id).await.unwrap(),
        Some(first)
    );
    assert_eq!(second.fields.html, None);
}

async fn an_email_is_read_with_everything_rendering_needs(h: Harness) {
    let asset = create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    let email = h.store.get_email(mid(), asset.id).await.unwrap().unwrap();
    assert_eq!(email.id, asset.id);
    assert_eq!(email.customer_key, "welcome");
    assert_eq!(email.asset_type, AssetType::HtmlEmail);
    assert_eq!(email.name, "Welcome");
    assert_eq!(email.subject, "Hello %%FirstName%%, Welcome");
    assert_eq!(email.preheader, "Read on");
    assert_eq!(email.html.as_deref(), Some("<p>Welcome</p>"));
    assert_eq!(email.text.as_deref(), Some("Welcome for %%FirstName%%"));
    assert_eq!(h.store.get_email(mid(), 99_999).await.unwrap(), None);
}

async fn another_accounts_assets_do_not_exist(h: Harness) {
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    let asset = create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    assert_eq!(h.store.get_asset(other, asset.id).await.unwrap(), None);
    assert_eq!(h.store.get_email(other, asset.id).await.unwrap(), None);
    let listed = h
        .store
        .list_assets(other, &query("", "", 1, 50))
        .await
        .unwrap();
    assert_eq!((listed.total, listed.items.len()), (0, 0));
    let update = AssetUpdate {
        customer_key: CustomerKey::parse("stolen").unwrap(),
        status: AssetStatus::Published,
        content: content(AssetType::HtmlEmail, "Stolen"),
        modified_at: NOW,
    };
    assert!(
        h.store
            .update_asset(other, asset.id, update)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!h.store.delete_asset(other, asset.id).await.unwrap());
    assert_eq!(
        h.store.get_asset(mid(), asset.id).await.unwrap(),
        Some(asset)
    );
}

async fn a_customer_key_is_unique_within_an_account_only(h: Harness) {
    create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    let again = h
        .store
        .create_asset(new_asset(mid(), "welcome", AssetType::HtmlEmail, "Again"))
        .await;
    assert!(
        matches!(&again, Err(AssetWriteError::DuplicateCustomerKey(key)) if key == "welcome"),
        "{again:?}"
    );
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    h.store
        .create_asset(new_asset(other, "welcome", AssetType::HtmlEmail, "Theirs"))
        .await
        .unwrap();
    let listed = h
        .store
        .list_assets(mid(), &query("", "", 1, 50))
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
}

async fn an_update_replaces_the_content_and_keeps_ids_and_creation_time(h: Harness) {
    let asset = create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    let later = NOW + Duration::hours(1);
    let updated = h
        .store
        .update_asset(
            mid(),
            asset.id,
            AssetUpdate {
                customer_key: CustomerKey::parse("welcome-2").unwrap(),
                status: AssetStatus::Published,
                content: content(AssetType::TextOnlyEmail, "Plain welcome"),
                modified_at: later,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.id, asset.id);
    assert_eq!(updated.object_id, asset.object_id);
    assert_eq!(updated.customer_key, "welcome-2");
    assert_eq!(updated.asset_type, AssetType::TextOnlyEmail);
    assert_eq!(updated.status, AssetStatus::Published);
    assert_eq!(updated.fields.name, "Plain welcome");
    assert_eq!(updated.fields.html, None);
    assert_eq!((updated.created_at, updated.modified_at), (NOW, later));
    assert_eq!(
        h.store.get_asset(mid(), asset.id).await.unwrap(),
        Some(updated)
    );
}

async fn an_update_to_a_key_in_use_is_refused_and_changes_nothing(h: Harness) {
    create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    let notice = create(&h, "notice", AssetType::HtmlEmail, "Notice").await;
    let result = h
        .store
        .update_asset(
            mid(),
            notice.id,
            AssetUpdate {
                customer_key: CustomerKey::parse("welcome").unwrap(),
                status: AssetStatus::Published,
                content: content(AssetType::HtmlEmail, "Renamed"),
                modified_at: NOW + Duration::hours(1),
            },
        )
        .await;
    assert!(matches!(
        result,
        Err(AssetWriteError::DuplicateCustomerKey(_))
    ));
    assert_eq!(
        h.store.get_asset(mid(), notice.id).await.unwrap(),
        Some(notice)
    );
}

async fn a_deleted_asset_is_gone_and_deleting_it_again_finds_nothing(h: Harness) {
    let asset = create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    assert!(h.store.delete_asset(mid(), asset.id).await.unwrap());
    assert!(!h.store.delete_asset(mid(), asset.id).await.unwrap());
    assert_eq!(h.store.get_asset(mid(), asset.id).await.unwrap(), None);
    // Ids are never reused.
    let next = create(&h, "welcome", AssetType::HtmlEmail, "Welcome").await;
    assert_eq!(next.id, asset.id + 1);
}

async fn listings_page_through_every_asset_once_with_the_total(h: Harness) {
    for n in 1..=7 {
        create(
            &h,
            &format!("k{n}"),
            AssetType::HtmlEmail,
            &format!("Email {n}"),
        )
        .await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let listed = h
            .store
            .list_assets(mid(), &query("", "name desc", page, 3))
            .await
            .unwrap();
        assert_eq!(listed.total, 7);
        seen.extend(listed.items.into_iter().map(|a| a.fields.name));
    }
    let expected: Vec<String> = (1..=7).rev().map(|n| format!("Email {n}")).collect();
    assert_eq!(seen, expected);
    let beyond = h
        .store
        .list_assets(mid(), &query("", "", 4, 3))
        .await
        .unwrap();
    assert_eq!((beyond.total, beyond.items.len()), (7, 0));
}

async fn filters_select_by_type_name_id_and_date(h: Harness) {
    let spring = create(&h, "spring", AssetType::HtmlEmail, "Spring SALE").await;
    create(&h, "summer", AssetType::TextOnlyEmail, "Summer sale").await;
    create(&h, "template", AssetType::TemplateBasedEmail, "Autumn news").await;
    h.store
        .update_asset(
            mid(),
            spring.id,
            AssetUpdate {
                customer_key: CustomerKey::parse("spring").unwrap(),
                status: AssetStatus::Published,
                content: content(AssetType::HtmlEmail, "Spring SALE"),
                modified_at: NOW + Duration::days(2),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        names(&h, "assetType.name eq 'htmlemail'", "").await,
        ["Spring SALE"]
    );
    assert_eq!(
        names(&h, "name like 'sale'", "name asc").await,
        ["Spring SALE", "Summer sale"]
    );
    assert_eq!(
        names(&h, "name eq 'summer SALE'", "").await,
        ["Summer sale"]
    );
    assert_eq!(
        names(&h, "name startsWith 'aut'", "").await,
        ["Autumn news"]
    );
    assert_eq!(
        names(&h, "assetType.id in (207, 209)", "id desc").await,
        ["Autumn news", "Summer sale"]
    );
    assert_eq!(
        names(&h, "modifiedDate gt '2026-11-27'", "").await,
        ["Spring SALE"]
    );
    assert_eq!(
        names(
            &h,
            "createdDate lte '2026-11-26T12:00:00Z' and status.name eq 'published'",
            ""
        )
        .await,
        ["Spring SALE"]
    );
    assert_eq!(
        names(&h, "id eq 10002 or customerKey eq 'TEMPLATE'", "id asc").await,
        ["Summer sale", "Autumn news"]
    );
    assert_eq!(
        names(&h, "status.name eq 'archived'", "").await,
        Vec::<String>::new()
    );
    assert_eq!(
        names(&h, "", "assetType.name asc").await,
        ["Spring SALE", "Autumn news", "Summer sale"]
    );
}

async fn like_treats_percent_and_underscore_as_plain_characters(h: Harness) {
    create(&h, "a", AssetType::HtmlEmail, "50% off").await;
    create(&h, "b", AssetType::HtmlEmail, "500 off").await;
    create(&h, "c", AssetType::HtmlEmail, "a_b").await;
    create(&h, "d", AssetType::HtmlEmail, "axb").await;
    assert_eq!(names(&h, "name like '0%'", "").await, ["50% off"]);
    assert_eq!(names(&h, "name like 'a_b'", "").await, ["a_b"]);
}

backend_tests!(setup =>
    assets_get_ids_from_10001_and_read_back_as_stored,
    an_email_is_read_with_everything_rendering_needs,
    another_accounts_assets_do_not_exist,
    a_customer_key_is_unique_within_an_account_only,
    an_update_replaces_the_content_and_keeps_ids_and_creation_time,
    an_update_to_a_key_in_use_is_refused_and_changes_nothing,
    a_deleted_asset_is_gone_and_deleting_it_again_finds_nothing,
    listings_page_through_every_asset_once_with_the_total,
    filters_select_by_type_name_id_and_date,
    like_treats_percent_and_underscore_as_plain_characters,
);
