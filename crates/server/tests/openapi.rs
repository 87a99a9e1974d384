//! `GET /openapi.json`: served as JSON, valid OpenAPI 3.1, and every operation it lists is
//! a route of the running app.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{TestApp, json_body, spawn_app};
use herald_test_support::{Db, backend_tests};
use reqwest::Method;
use serde_json::Value;

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

/// What the app answers for a path no route has.
const NO_SUCH_ROUTE: &str = "Not Found: no such route";

/// `template` with each `{parameter}` filled in with a value of the right shape.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{integrationType}" => "salesforce",
            "{channel}" => "email",
            other if other.starts_with('{') => "1",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The status and body of `method path` with a token and a JSON body of `{}`.
async fn call(app: &TestApp, token: &str, method: Method, path: &str) -> (u16, Value) {
    let response = app
        .http
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    // The one route documented as answering something other than JSON.
    if path.trim_start_matches('/') == "metrics" {
        return (status, Value::Null);
    }
    (status, json_body(response).await)
}

async fn every_documented_operation_is_a_route_of_the_app(app: TestApp) {
    let package = app.package(app.first_mid(), "").await;
    let token = app.token(&package).await;
    let response = app.http.get(app.url("openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document = json_body(response).await;
    assert_eq!(document, herald::api::openapi::document());

    // The check can tell: an unknown path and an unknown method are told apart.
    let (status, body) = call(&app, &token, Method::GET, "data/v1/nowhere").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some(NO_SUCH_ROUTE))
    );
    let (status, _) = call(&app, &token, Method::PATCH, "openapi.json").await;
    assert_eq!(status, 405);

    let mut operations = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        let path = concrete(template);
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let (status, body) = call(&app, &token, method.clone(), &path).await;
            assert_ne!(status, 405, "{method} {template}: {body}");
            assert!(
                !(status == 404 && body["message"] == NO_SUCH_ROUTE),
                "{method} {template} is documented but is no route"
            );
            operations += 1;
        }
    }
    assert!(operations >= 70, "{operations}");
}

/// Validates the document with Python's `openapi-spec-validator` when it is installed
/// (`pip install openapi-spec-validator`); says so and passes when it is not.
#[test]
fn the_document_validates_as_openapi_3_1() {
    let available = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        eprintln!("SKIPPED: python3 with openapi-spec-validator is not installed");
        return;
    }
    let mut validator = Command::new("python3")
        .args([
            "-c",
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             validate(json.load(sys.stdin))",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    validator
        .stdin
        .take()
        .unwrap()
        .write_all(herald::api::openapi::document().to_string().as_bytes())
        .unwrap();
    let output = validator.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

backend_tests!(setup => every_documented_operation_is_a_route_of_the_app);
