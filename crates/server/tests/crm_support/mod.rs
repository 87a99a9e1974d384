//! A client for the CRM routes: one account, one token, JSON in and out.
#![allow(dead_code)] // each test binary uses a different part

use reqwest::Method;
use serde_json::Value;

use crate::common::{TestApp, json_body};

/// Requests made with one bearer token.
pub struct Client<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl<'a> Client<'a> {
    /// A client for the first account with every scope.
    pub async fn new(app: &'a TestApp) -> Client<'a> {
        Client::with_scopes(app, app.first_mid(), "").await
    }

    /// A client for `mid` whose token carries `scopes` ("" means all).
    pub async fn with_scopes(
        app: &'a TestApp,
        mid: herald_domain::mid::Mid,
        scopes: &str,
    ) -> Client<'a> {
        let package = app.package(mid, scopes).await;
        let token = app.token(&package).await;
        Client { app, token }
    }

    /// A request with an optional JSON body; returns the status and the JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, json_body(response).await)
    }

    /// A request whose body is sent exactly as given, as JSON.
    pub async fn send_raw(&self, method: Method, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, json_body(response).await)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn delete_with(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::DELETE, path, Some(body)).await
    }

    /// Creates a record under `collection` (`contacts`, `leads`) and returns its id.
    pub async fn create(&self, collection: &str, body: Value) -> String {
        let (status, created) = self.post(&format!("crm/v1/{collection}"), &body).await;
        assert_eq!(status, 201, "{created}");
        created["Id"].as_str().unwrap().to_owned()
    }
}

/// The message of an error body, asserting its status and error code.
pub fn error_message(status: u16, body: &Value, expected_status: u16, errorcode: u64) -> String {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["errorcode"], errorcode, "{body}");
    body["message"].as_str().unwrap().to_owned()
}
