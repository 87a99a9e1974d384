//! `/herald/v1/suppressions`: the account's suppression list through the API, good paths
//! and bad ones (bad addresses and bodies, unknown addresses, missing scopes, another
//! account's list).

mod common;

use common::{TestApp, json_body, spawn_app};
use herald_domain::clock::Clock;
use herald_domain::recipient::SuppressionReason;
use herald_test_support::{Db, backend_tests};
use serde_json::{Value, json};

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

const LIST: &str = "herald/v1/suppressions";

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

async fn the_list_adds_shows_lists_and_removes_an_address_with_its_reason_and_time(app: TestApp) {
    let token = app.token(&app.package(app.first_mid(), "").await).await;
    let post = reqwest::Method::POST;
    let body = json!({"email": " Ann.Lee@Example.COM ", "detail": "asked by phone"});
    let (status, added) = call(&app, post.clone(), LIST, &token, Some(body.clone())).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["email"], "ann.lee@example.com");
    assert_eq!(added["reason"], "manual");
    assert_eq!(added["detail"], "asked by phone");
    assert_eq!(added["createdDate"], "2026-11-26T12:00:00Z");
    let (status, again) = call(&app, post.clone(), LIST, &token, Some(body)).await;
    assert_eq!(
        (status, &again),
        (200, &added),
        "adding twice keeps the entry"
    );

    // An unsubscribe already listed keeps its reason when added by hand.
    let store = &app.state.store;
    let now = app.clock.now();
    store
        .suppress(
            app.first_mid(),
            "bo@example.com",
            SuppressionReason::Unsubscribe,
            None,
            now,
        )
        .await
        .unwrap();
    let (status, kept) = call(
        &app,
        post,
        LIST,
        &token,
        Some(json!({"email": "bo@example.com"})),
    )
    .await;
    assert_eq!(
        (status, kept["reason"].as_str()),
        (200, Some("unsubscribe"))
    );

    let get = reqwest::Method::GET;
    let one = format!("{LIST}/Ann.Lee@example.com");
    let (status, found) = call(&app, get.clone(), &one, &token, None).await;
    assert_eq!((status, &found), (200, &added));
    let (status, listed) = call(
        &app,
        get.clone(),
        &format!("{LIST}?pageSize=1"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (listed["count"].clone(), listed["pageSize"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let delete = reqwest::Method::DELETE;
    let (status, deleted) = call(&app, delete.clone(), &one, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        deleted,
        json!({"email": "ann.lee@example.com", "deleted": true})
    );
    let (status, gone) = call(&app, get, &one, &token, None).await;
    assert_eq!((status, gone["errorcode"].clone()), (404, json!(10005)));
    let (status, _) = call(&app, delete, &one, &token, None).await;
    assert_eq!(status, 404, "removing an address not listed");
}

async fn bad_addresses_bodies_and_pages_are_refused(app: TestApp) {
    let token = app.token(&app.package(app.first_mid(), "").await).await;
    let post = reqwest::Method::POST;
    for (body, errorcode) in [
        (json!({"email": "not-an-address"}), 10003),
        (json!({"email": "a@b@example.com"}), 10003),
        (json!({"email": ""}), 10003),
        (json!({}), 10002),
        (json!({"email": 5}), 10001),
        (
            json!({"email": "a@example.com", "reason": "hard_bounce"}),
            10001,
        ),
        (
            json!({"email": "a@example.com", "detail": "x".repeat(501)}),
            10003,
        ),
    ] {
        let (status, error) = call(&app, post.clone(), LIST, &token, Some(body.clone())).await;
        assert_eq!(
            (status, error["errorcode"].clone()),
            (400, json!(errorcode)),
            "{body}"
        );
    }
    let (status, error) = call(
        &app,
        reqwest::Method::GET,
        &format!("{LIST}/no-at-sign"),
        &token,
        None,
    )
    .await;
    assert_eq!((status, error["errorcode"].clone()), (400, json!(10003)));
    let (status, _) = call(
        &app,
        reqwest::Method::GET,
        &format!("{LIST}?page=0"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(app.count("suppressions").await, 0, "nothing was written");
}

async fn the_list_needs_the_subscriber_scopes_and_is_per_account(app: TestApp) {
    let mid = app.first_mid();
    let full = app.token(&app.package(mid, "").await).await;
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        LIST,
        &full,
        Some(json!({"email": "cy@example.com"})),
    )
    .await;
    assert_eq!(status, 201);
    let one = format!("{LIST}/cy@example.com");

    let reader = app
        .token(&app.package(mid, "list_and_subscribers_read").await)
        .await;
    assert_eq!(
        call(&app, reqwest::Method::GET, &one, &reader, None)
            .await
            .0,
        200
    );
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            LIST.to_owned(),
            Some(json!({"email": "dee@example.com"})),
        ),
        (reqwest::Method::DELETE, one.clone(), None),
    ] {
        let (status, error) = call(&app, method, &path, &reader, body).await;
        assert_eq!((status, error["errorcode"].clone()), (403, json!(20002)));
    }
    let email_only = app.token(&app.package(mid, "email_read").await).await;
    let (status, error) = call(&app, reqwest::Method::GET, LIST, &email_only, None).await;
    assert_eq!((status, error["errorcode"].clone()), (403, json!(20002)));
    let anonymous = app.http.get(app.url(LIST)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let other = app.other_account().await;
    let stranger = app.token(&app.package(other, "").await).await;
    assert_eq!(
        call(&app, reqwest::Method::GET, &one, &stranger, None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &one, &stranger, None)
            .await
            .0,
        404
    );
    let (_, listed) = call(&app, reqwest::Method::GET, LIST, &stranger, None).await;
    assert_eq!(listed["count"], 0);
    assert_eq!(
        call(&app, reqwest::Method::GET, &one, &full, None).await.0,
        200
    );
}

backend_tests!(setup =>
    the_list_adds_shows_lists_and_removes_an_address_with_its_reason_and_time,
    bad_addresses_bodies_and_pages_are_refused,
    the_list_needs_the_subscriber_scopes_and_is_per_account,
);
