//! `POST /v2/token` and bearer authentication, on both backends.

mod common;

use axum::routing::get;
use common::{TestApp, json_body, spawn_app};
use herald::auth::{Authorized, Requirement};
use herald_domain::scope::Scope;
use herald_test_support::backend_tests;
use serde_json::{Value, json};

async fn setup(db: herald_test_support::Db) -> Option<TestApp> {
    spawn_app(db).await
}

fn credentials(client_id: &str, secret: &str) -> Value {
    json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
}

async fn assert_oauth_error(response: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(response.status(), status);
    let body = json_body(response).await;
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    body
}

async fn valid_credentials_get_a_token_pointing_at_this_server(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let response = app
        .post_token(credentials(&package.client_id, &package.client_secret))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1079);
    assert_eq!(body["rest_instance_url"], app.base);
    assert_eq!(body["soap_instance_url"], app.base);
    assert!(
        body["scope"]
            .as_str()
            .unwrap()
            .contains("marketing_cloud_connect_send")
    );
    let token = body["access_token"].as_str().unwrap();
    let context = json_body(app.get_with("platform/v1/tokenContext", token).await).await;
    assert_eq!(context["organization"]["id"], 100_000_001);
    assert_eq!(context["application"]["id"], package.client_id);
}

async fn a_form_encoded_request_works_like_json(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let response = app
        .http
        .post(app.url("v2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &package.client_id),
            ("client_secret", &package.client_secret),
            ("account_id", "100000001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn account_id_is_accepted_as_a_string_or_a_number(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    for account_id in [json!(100_000_001), json!("100000001")] {
        let mut body = credentials(&package.client_id, &package.client_secret);
        body["account_id"] = account_id;
        assert_eq!(app.post_token(body).await.status(), 200);
    }
}

async fn a_requested_scope_narrows_the_token(app: TestApp) {
    let package = app.package(app.first_mid(), "email_read email_write").await;
    let mut body = credentials(&package.client_id, &package.client_secret);
    body["scope"] = json!("email_read");
    let body = json_body(app.post_token(body).await).await;
    assert_eq!(body["scope"], "email_read");
}

async fn a_scope_the_package_lacks_is_refused(app: TestApp) {
    let package = app.package(app.first_mid(), "email_read").await;
    for scope in ["email_read email_write", "email_read no_such_scope"] {
        let mut body = credentials(&package.client_id, &package.client_secret);
        body["scope"] = json!(scope);
        let error = assert_oauth_error(app.post_token(body).await, 400, "invalid_scope").await;
        let description = error["error_description"].as_str().unwrap();
        assert!(
            description.contains(scope.split(' ').nth(1).unwrap()),
            "{description}"
        );
    }
    assert_eq!(app.count("access_tokens").await, 0);
}

async fn an_unknown_client_or_wrong_secret_is_an_invalid_client(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let unknown = app
        .post_token(credentials(
            "nosuchclientid0000000000",
            &package.client_secret,
        ))
        .await;
    assert_oauth_error(unknown, 401, "invalid_client").await;
    let wrong = app
        .post_token(credentials(&package.client_id, "wrong-secret"))
        .await;
    assert_oauth_error(wrong, 401, "invalid_client").await;
    assert_eq!(app.count("access_tokens").await, 0);
}

async fn a_revoked_package_gets_no_token_and_its_tokens_stop_working(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let token = app.token(&package).await;
    assert!(
        app.state
            .store
            .revoke_package(
                &package.client_id,
                herald_domain::clock::Clock::now(app.clock.as_ref())
            )
            .await
            .unwrap()
    );
    let refused = app
        .post_token(credentials(&package.client_id, &package.client_secret))
        .await;
    assert_oauth_error(refused, 401, "invalid_client").await;
    let response = app.get_with("platform/v1/tokenContext", &token).await;
    assert_eq!(response.status(), 401);
}

async fn a_grant_type_other_than_client_credentials_is_unsupported(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let mut body = credentials(&package.client_id, &package.client_secret);
    body["grant_type"] = json!("authorization_code");
    assert_oauth_error(app.post_token(body).await, 400, "unsupported_grant_type").await;
}

async fn missing_fields_are_named_in_the_error(app: TestApp) {
    let error = assert_oauth_error(
        app.post_token(json!({"grant_type": "client_credentials"}))
            .await,
        400,
        "invalid_request",
    )
    .await;
    let description = error["error_description"].as_str().unwrap();
    assert!(
        description.contains("client_id") && description.contains("client_secret"),
        "{description}"
    );
    let error = assert_oauth_error(app.post_token(json!({})).await, 400, "invalid_request").await;
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("grant_type")
    );
}

async fn a_body_that_is_not_json_is_an_invalid_request(app: TestApp) {
    for body in [
        "grant_type=client_credentials",
        "{\"grant_type\":",
        "[1,2]",
        "",
    ] {
        let response = app
            .http
            .post(app.url("v2/token"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_oauth_error(response, 400, "invalid_request").await;
    }
}

async fn an_account_id_of_another_mid_is_refused(app: TestApp) {
    let other = app.other_account().await;
    let package = app.package(app.first_mid(), "").await;
    let mut body = credentials(&package.client_id, &package.client_secret);
    body["account_id"] = json!(other.get());
    assert_oauth_error(app.post_token(body).await, 400, "unauthorized_client").await;
    let mut body = credentials(&package.client_id, &package.client_secret);
    body["account_id"] = json!("not-a-mid");
    assert_oauth_error(app.post_token(body).await, 400, "invalid_request").await;
    assert_eq!(app.count("access_tokens").await, 0);
}

async fn a_token_expires_after_twenty_minutes(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let token = app.token(&package).await;
    app.clock.advance(time::Duration::minutes(19));
    assert_eq!(
        app.get_with("platform/v1/tokenContext", &token)
            .await
            .status(),
        200
    );
    app.clock.advance(time::Duration::minutes(1));
    let response = app.get_with("platform/v1/tokenContext", &token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body = json_body(response).await;
    assert_eq!(body["message"], "Not Authorized");
    assert_eq!(body["errorcode"], 0);
}

async fn garbage_truncated_or_missing_bearers_are_not_authorized(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let token = app.token(&package).await;
    let truncated = &token[..token.len() - 1];
    for header in [
        format!("Bearer {truncated}"),
        "Bearer ".to_owned(),
        "Bearer ../../etc/passwd".to_owned(),
        format!("Basic {token}"),
        "garbage".to_owned(),
    ] {
        let response = app
            .http
            .get(app.url("platform/v1/tokenContext"))
            .header("authorization", header.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let response = app
        .http
        .get(app.url("platform/v1/tokenContext"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

struct NeedsEmailWrite;
impl Requirement for NeedsEmailWrite {
    const ANY_OF: &'static [Scope] = &[Scope::EmailWrite];
}

async fn a_token_without_the_routes_scope_is_forbidden(app: TestApp) {
    // A route declared the way every protected route is, served on its own port.
    let router = axum::Router::new()
        .route(
            "/needs",
            get(|auth: Authorized<NeedsEmailWrite>| async move { auth.mid.to_string() }),
        )
        .with_state(app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{address}/needs");

    let reader = app.package(app.first_mid(), "email_read").await;
    let token = app.token(&reader).await;
    let response = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let body = json_body(response).await;
    assert_eq!(body["errorcode"], 20002);
    assert!(body["message"].as_str().unwrap().contains("email_write"));

    let writer = app.package(app.first_mid(), "email_write").await;
    let token = app.token(&writer).await;
    let response = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "100000001");
}

async fn a_token_carries_the_mid_it_was_issued_for(app: TestApp) {
    let other = app.other_account().await;
    let mine = app.package(app.first_mid(), "").await;
    let theirs = app.package(other, "").await;
    let mine = json_body(
        app.get_with("platform/v1/tokenContext", &app.token(&mine).await)
            .await,
    )
    .await;
    let theirs = json_body(
        app.get_with("platform/v1/tokenContext", &app.token(&theirs).await)
            .await,
    )
    .await;
    assert_eq!(mine["organization"]["id"], app.first_mid().get());
    assert_eq!(theirs["organization"]["id"], other.get());
}

backend_tests!(setup =>
    valid_credentials_get_a_token_pointing_at_this_server,
    a_form_encoded_request_works_like_json,
    account_id_is_accepted_as_a_string_or_a_number,
    a_requested_scope_narrows_the_token,
    a_scope_the_package_lacks_is_refused,
    an_unknown_client_or_wrong_secret_is_an_invalid_client,
    a_revoked_package_gets_no_token_and_its_tokens_stop_working,
    a_grant_type_other_than_client_credentials_is_unsupported,
    missing_fields_are_named_in_the_error,
    a_body_that_is_not_json_is_an_invalid_request,
    an_account_id_of_another_mid_is_refused,
    a_token_expires_after_twenty_minutes,
    garbage_truncated_or_missing_bearers_are_not_authorized,
    a_token_without_the_routes_scope_is_forbidden,
    a_token_carries_the_mid_it_was_issued_for,
);
