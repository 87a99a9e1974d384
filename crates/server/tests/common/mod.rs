//! The test harness: a real Herald on a loopback port with its own database and a clock
//! the test moves by hand.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeMap;
use std::sync::Arc;

use herald::config::Config;
use herald::packages::{CreatedPackage, create_package};
use herald::state::AppState;
use herald_domain::clock::{Clock, ManualClock};
use herald_domain::mid::Mid;
use herald_domain::scope::ScopeSet;
use herald_test_support::{Db, TestDatabase};
use serde_json::{Value, json};
use sqlx::Row;
use time::macros::datetime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestApp {
    /// `http://127.0.0.1:PORT/`, exactly as token responses give it.
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub db: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A Herald with default settings.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, &[]).await
}

/// A Herald with some `HERALD_*` settings overridden.
pub async fn spawn_app_with(db: Db, settings: &[(&str, &str)]) -> Option<TestApp> {
    let db = TestDatabase::create(db).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut env: BTreeMap<String, String> = [
        ("HERALD_DATABASE_URL", db.url.as_str()),
        ("HERALD_PUBLIC_URL", &format!("http://{address}")),
        ("HERALD_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_sources(None, &env).expect("test config");
    herald::telemetry::init(&config);
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-26 12:00 UTC)));
    let state = herald::app::build_state(config, clock.clone())
        .await
        .expect("build state");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(herald::app::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Some(TestApp {
        base: format!("http://{address}/"),
        http: reqwest::Client::new(),
        clock,
        state,
        db,
        stop: Some(stop),
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    /// The MID of the account every database starts with.
    pub fn first_mid(&self) -> Mid {
        Mid::from_stored(100_000_001)
    }

    /// A package in `mid` granting `scopes` ("" means all).
    pub async fn package(&self, mid: Mid, scopes: &str) -> CreatedPackage {
        let scopes = if scopes.is_empty() {
            ScopeSet::all()
        } else {
            ScopeSet::parse(scopes).unwrap()
        };
        create_package(
            self.state.store.as_ref(),
            self.clock.as_ref(),
            "Test package",
            mid,
            scopes,
        )
        .await
        .unwrap()
    }

    /// A second account.
    pub async fn other_account(&self) -> Mid {
        self.state
            .store
            .create_account("Other", self.clock.now())
            .await
            .unwrap()
            .mid
    }

    pub async fn post_token(&self, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("v2/token"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A token for `package` with all its scopes.
    pub async fn token(&self, package: &CreatedPackage) -> String {
        let response = self
            .post_token(json!({
                "grant_type": "client_credentials",
                "client_id": package.client_id,
                "client_secret": package.client_secret,
            }))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A GET with a bearer token.
    pub async fn get_with(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// The first column of the first row of a query, as text, read straight from the
    /// database (for ids the API does not list by key).
    pub async fn scalar(&self, sql: &str) -> String {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.db.url).await.unwrap();
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&pool)
            .await
            .unwrap();
        let value = row
            .try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
            .unwrap();
        pool.close().await;
        value
    }

    /// Rows in a table, read straight from the database (to prove nothing changed).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.db.url).await.unwrap();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        let n = row.try_get("n").unwrap();
        pool.close().await;
        n
    }
}

/// The JSON body of a response, asserting it is labelled as JSON.
pub async fn json_body(response: reqwest::Response) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
    response.json().await.unwrap()
}

/// One write of a round of two concurrent updates of different fields of one object:
/// answered 200, its value is what is stored now (whatever ran beside it); refused, it is
/// a 409 stale (errorcode 10006) and its value was not written. Returns whether it was
/// refused.
pub fn check_concurrent_write(
    round: usize,
    status: u16,
    body: &Value,
    stored: &Value,
    value: &str,
) -> bool {
    match status {
        200 => {
            assert_eq!(stored, &json!(value), "round {round}: {stored}");
            false
        }
        409 => {
            assert_eq!(body["errorcode"], 10006, "{body}");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("changed by another request"),
                "{body}"
            );
            assert_ne!(
                stored,
                &json!(value),
                "round {round}: a refused write wrote"
            );
            true
        }
        other => panic!("round {round}: {other} {body}"),
    }
}
