//! What the Send API tests share: an app whose first account can send (the demo email
//! and CRM audience), a client for the routes, and the bodies clients send.
#![allow(dead_code)] // each test binary uses a different part

use herald_domain::clock::Clock;
use herald_domain::mid::Mid;
use herald_test_support::Db;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, json_body, spawn_app_with};

/// Every Send API path starts with this (`salesforce`, `email`: the one supported route).
pub const PREFIX: &str = "data/v1/integration/send/salesforce/email";
/// The demo report, "Contacts at Demo Co": the first report of a new database.
pub const REPORT: &str = "00O000000000001EAA";
/// The demo campaign, "Demo Launch".
pub const CAMPAIGN: &str = "701000000000001AAA";
/// A time in the future of the test clock (2026-11-26 12:00 UTC).
pub const LATER: &str = "2026-12-01T09:00:00-06:00";

/// A Herald whose first account has the demo email (`welcome`) and audience.
pub async fn setup(db: Db) -> Option<TestApp> {
    // These tests drive the API's own rules; the engine, which would start the instances
    // they schedule, is tested on its own (engine_*.rs).
    let app = spawn_app_with(db, &[("HERALD_ENGINE", "off")]).await?;
    seed(&app, app.first_mid()).await;
    Some(app)
}

/// Gives `mid` the demo email and CRM audience.
pub async fn seed(app: &TestApp, mid: Mid) {
    herald::api::assets::seed_demo(&app.state, mid)
        .await
        .unwrap();
    herald::crm::demo::seed(app.state.store.as_ref(), mid, app.clock.now())
        .await
        .unwrap();
}

/// `PREFIX` followed by `rest` (which starts with `/` or `?`, or is empty).
pub fn path(rest: &str) -> String {
    format!("{PREFIX}{rest}")
}

/// Requests made with one bearer token, in one account.
pub struct Client<'a> {
    pub app: &'a TestApp,
    pub mid: Mid,
    pub token: String,
}

impl<'a> Client<'a> {
    /// A client for the first account with every scope.
    pub async fn new(app: &'a TestApp) -> Client<'a> {
        Client::with_scopes(app, app.first_mid(), "").await
    }

    /// A client for `mid` whose token carries `scopes` ("" means all).
    pub async fn with_scopes(app: &'a TestApp, mid: Mid, scopes: &str) -> Client<'a> {
        let package = app.package(mid, scopes).await;
        let token = app.token(&package).await;
        Client { app, mid, token }
    }

    /// A request whose body, if any, is sent exactly as given with
    /// `Content-Type: application/json`; returns the status and the JSON body.
    pub async fn raw(&self, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
            .header("content-type", "application/json");
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, json_body(response).await)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let body = body.map(Value::to_string);
        self.raw(method, path, body.as_deref()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// The id of this account's email with customer key `welcome`.
    pub async fn welcome_email(&self) -> i64 {
        let (status, listed) = self
            .get("asset/v1/content/assets?$filter=customerKey%20eq%20'welcome'")
            .await;
        assert_eq!(status, 200, "{listed}");
        listed["items"][0]["id"].as_i64().unwrap()
    }

    /// Creates a definition, asserting success, and returns its id.
    pub async fn create(&self, body: &Value) -> String {
        let (status, created) = self.post(&path(""), body).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["IsError"], false, "{created}");
        created["DefinitionId"].as_str().unwrap().to_owned()
    }

    /// Schedules a definition, asserting success, and returns the instance id.
    pub async fn schedule(&self, definition_id: &str, body: &Value) -> String {
        let (status, scheduled) = self
            .post(&path(&format!("/{definition_id}/schedule")), body)
            .await;
        assert_eq!(status, 200, "{scheduled}");
        assert_eq!(scheduled["IsError"], false, "{scheduled}");
        scheduled["InstanceId"].as_str().unwrap().to_owned()
    }

    /// The instance's `Status`.
    pub async fn status(&self, instance_id: &str) -> String {
        let (status, found) = self.get(&path(&format!("/instance/{instance_id}"))).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["IsError"], false, "{found}");
        found["Status"].as_str().unwrap().to_owned()
    }
}

/// A complete create body: `email_id`, the default commercial classification, the demo
/// report, and a campaign exclusion.
pub fn definition(name: &str, email_id: i64) -> Value {
    json!({
        "EmailDefinition": {
            "Name": name,
            "Description": "A test send",
            "EmailId": email_id,
            "SendClassificationId": "Default Commercial",
            "Targets": [{"Type": "Report", "Name": "Contacts at Demo Co", "Id": REPORT}],
            "Exclusions": [{"Type": "Campaign", "Name": "Demo Launch", "Id": CAMPAIGN}]
        }
    })
}

/// A schedule for now, with the audience's consent stated.
pub fn now_with_consent() -> Value {
    json!({"StartImmediately": true, "AllRecipientsOptedIn": true})
}

/// The message of a business error, asserting that it is one (HTTP 200, `IsError`).
pub fn refusal(status: u16, body: &Value) -> String {
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["IsError"], true, "{body}");
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "a business error has IsError and Message only: {body}"
    );
    body["Message"].as_str().unwrap().to_owned()
}

/// The rows of the two send tables.
pub async fn rows(app: &TestApp) -> (i64, i64) {
    (
        app.count("send_definitions").await,
        app.count("send_instances").await,
    )
}
