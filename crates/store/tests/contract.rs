//! The store contract: every scenario runs on SQLite and on PostgreSQL.

use std::sync::Arc;

use herald_domain::mid::Mid;
use herald_domain::scope::{Scope, ScopeSet};
use herald_store::{NewPackage, NewToken, Store};
use herald_test_support::{Db, TestDatabase, backend_tests};
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

fn new_package(client_id: &str, mid: Mid) -> NewPackage {
    NewPackage {
        client_id: client_id.into(),
        mid,
        name: "Package".into(),
        secret_hash: "$argon2id$stub".into(),
        scopes: ScopeSet::parse("email_read saved_content_read").unwrap(),
        created_at: NOW,
    }
}

fn new_token(hash: &str, client_id: &str, mid: Mid, expires_at: OffsetDateTime) -> NewToken {
    NewToken {
        token_hash: hash.into(),
        client_id: client_id.into(),
        mid,
        scopes: ScopeSet::parse("email_read").unwrap(),
        issued_at: NOW,
        expires_at,
    }
}

async fn the_first_account_exists_after_opening(h: Harness) {
    let accounts = h.store.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].mid.get(), 100_000_001);
}

async fn accounts_get_increasing_mids(h: Harness) {
    let second = h.store.create_account("Second", NOW).await.unwrap();
    let third = h.store.create_account("Third", NOW).await.unwrap();
    assert_eq!(second.mid.get(), 100_000_002);
    assert_eq!(third.mid.get(), 100_000_003);
    assert_eq!(h.store.get_account(third.mid).await.unwrap(), Some(third));
    assert_eq!(
        h.store.get_account(Mid::from_stored(42)).await.unwrap(),
        None
    );
}

async fn reopening_a_database_applies_nothing_twice(h: Harness) {
    drop(h.store);
    let again = herald_store::open(&h.db.url).await.expect("reopen");
    assert_eq!(again.list_accounts().await.unwrap().len(), 1);
}

async fn a_package_is_stored_with_its_scopes_and_can_be_revoked_once(h: Harness) {
    let mid = Mid::from_stored(100_000_001);
    h.store
        .create_package(new_package("abc", mid))
        .await
        .unwrap();
    let stored = h.store.get_package("abc").await.unwrap().unwrap();
    assert_eq!(stored.mid, mid);
    assert!(stored.scopes.contains(Scope::SavedContentRead));
    assert!(stored.revoked_at.is_none());
    assert!(h.store.revoke_package("abc", NOW).await.unwrap());
    assert!(!h.store.revoke_package("abc", NOW).await.unwrap());
    assert!(!h.store.revoke_package("nope", NOW).await.unwrap());
    let revoked = h.store.get_package("abc").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(NOW));
    assert_eq!(h.store.list_packages().await.unwrap().len(), 1);
}

async fn a_package_for_an_unknown_account_is_refused(h: Harness) {
    let result = h
        .store
        .create_package(new_package("abc", Mid::from_stored(999)))
        .await;
    assert!(result.is_err());
    assert!(h.store.list_packages().await.unwrap().is_empty());
}

async fn a_token_is_found_until_it_expires(h: Harness) {
    let mid = Mid::from_stored(100_000_001);
    h.store
        .create_package(new_package("abc", mid))
        .await
        .unwrap();
    let expires = NOW + Duration::minutes(20);
    h.store
        .insert_token(new_token("h1", "abc", mid, expires))
        .await
        .unwrap();
    let grant = h.store.find_token("h1", NOW).await.unwrap().unwrap();
    assert_eq!(grant.mid, mid);
    assert_eq!(grant.client_id, "abc");
    assert!(grant.scopes.contains(Scope::EmailRead));
    assert!(h.store.find_token("h1", expires).await.unwrap().is_none());
    assert!(h.store.find_token("other", NOW).await.unwrap().is_none());
}

async fn tokens_die_with_their_package(h: Harness) {
    let mid = Mid::from_stored(100_000_001);
    h.store
        .create_package(new_package("abc", mid))
        .await
        .unwrap();
    h.store
        .insert_token(new_token("h1", "abc", mid, NOW + Duration::minutes(20)))
        .await
        .unwrap();
    h.store.revoke_package("abc", NOW).await.unwrap();
    assert!(h.store.find_token("h1", NOW).await.unwrap().is_none());
}

async fn auth_failures_count_within_a_window_and_restart_after_it(h: Harness) {
    let window = Duration::minutes(5);
    assert!(h.store.auth_failures("client:x").await.unwrap().is_none());
    for expected in 1..=3 {
        let w = h
            .store
            .record_auth_failure("client:x", NOW, window)
            .await
            .unwrap();
        assert_eq!(w.failures, expected);
        assert_eq!(w.window_start, NOW);
    }
    let later = NOW + window + Duration::seconds(1);
    let restarted = h
        .store
        .record_auth_failure("client:x", later, window)
        .await
        .unwrap();
    assert_eq!(restarted.failures, 1);
    assert_eq!(restarted.window_start, later);
    assert_eq!(
        h.store.auth_failures("client:x").await.unwrap(),
        Some(restarted)
    );
}

async fn a_setting_is_written_only_once(h: Harness) {
    assert_eq!(h.store.get_setting("demo").await.unwrap(), None);
    assert!(h.store.put_setting_if_absent("demo", "1").await.unwrap());
    assert!(!h.store.put_setting_if_absent("demo", "2").await.unwrap());
    assert_eq!(
        h.store.get_setting("demo").await.unwrap().as_deref(),
        Some("1")
    );
}

backend_tests!(setup =>
    the_first_account_exists_after_opening,
    accounts_get_increasing_mids,
    reopening_a_database_applies_nothing_twice,
    a_package_is_stored_with_its_scopes_and_can_be_revoked_once,
    a_package_for_an_unknown_account_is_refused,
    a_token_is_found_until_it_expires,
    tokens_die_with_their_package,
    auth_failures_count_within_a_window_and_restart_after_it,
    a_setting_is_written_only_once,
);
