//! What every route shares: JSON everywhere, limits, path quirks of real clients, probes,
//! and the token endpoint's throttle.

mod common;

use common::{TestApp, json_body, spawn_app_with};
use herald_test_support::{Db, backend_tests};
use serde_json::json;

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app_with(
        db,
        &[
            ("HERALD_MAX_BODY_BYTES", "2048"),
            ("HERALD_TOKEN_FAILURES_PER_CLIENT", "3"),
            ("HERALD_TOKEN_FAILURES_PER_ADDRESS", "5"),
            ("HERALD_TOKEN_FAILURE_WINDOW_SECS", "60"),
        ],
    )
    .await
}

async fn probes_answer_with_json(app: TestApp) {
    let health = json_body(app.http.get(app.url("healthz")).send().await.unwrap()).await;
    assert_eq!(health["status"], "ok");
    let ready = json_body(app.http.get(app.url("readyz")).send().await.unwrap()).await;
    assert_eq!(ready["status"], "ready");
}

async fn unknown_routes_and_methods_answer_with_a_json_error(app: TestApp) {
    let response = app.http.get(app.url("no/such/route")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(json_body(response).await["errorcode"], 404);
    let response = app.http.get(app.url("v2/token")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.headers().contains_key("allow"));
    assert_eq!(json_body(response).await["errorcode"], 405);
}

async fn an_oversized_body_is_refused_and_changes_nothing(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": package.client_id,
        "client_secret": package.client_secret,
        "padding": "x".repeat(4096),
    });
    let response = app.post_token(body).await;
    assert_eq!(response.status(), 413);
    let body = json_body(response).await;
    assert!(
        body["error_description"].as_str().unwrap().contains("body"),
        "{body}"
    );
    assert_eq!(app.count("access_tokens").await, 0);
}

async fn repeated_slashes_in_paths_are_collapsed(app: TestApp) {
    let response = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let response = app.http.get(app.url("healthz")).send().await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let response = app
        .http
        .get(app.url("healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
}

async fn repeated_failures_for_one_client_id_are_throttled_until_the_window_passes(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let wrong = json!({"grant_type": "client_credentials", "client_id": package.client_id, "client_secret": "nope"});
    for _ in 0..3 {
        assert_eq!(app.post_token(wrong.clone()).await.status(), 401);
    }
    let right = json!({"grant_type": "client_credentials", "client_id": package.client_id, "client_secret": package.client_secret});
    let response = app.post_token(right.clone()).await;
    assert_eq!(response.status(), 429);
    let retry_after: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(json_body(response).await["error"], "too_many_attempts");
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(app.post_token(right).await.status(), 200);
}

async fn repeated_failures_from_one_address_are_throttled_across_client_ids(app: TestApp) {
    for n in 0..5 {
        let body = json!({"grant_type": "client_credentials", "client_id": format!("guess{n}"), "client_secret": "x"});
        assert_eq!(app.post_token(body).await.status(), 401);
    }
    let package = app.package(app.first_mid(), "").await;
    let right = json!({"grant_type": "client_credentials", "client_id": package.client_id, "client_secret": package.client_secret});
    assert_eq!(app.post_token(right).await.status(), 429);
}

backend_tests!(setup =>
    probes_answer_with_json,
    unknown_routes_and_methods_answer_with_a_json_error,
    an_oversized_body_is_refused_and_changes_nothing,
    repeated_slashes_in_paths_are_collapsed,
    every_response_carries_a_request_id,
    repeated_failures_for_one_client_id_are_throttled_until_the_window_passes,
    repeated_failures_from_one_address_are_throttled_across_client_ids,
);
