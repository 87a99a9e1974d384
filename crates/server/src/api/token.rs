//! `POST /v2/token`: client credentials in, bearer token out (contract section 1).

use std::net::SocketAddr;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use herald_domain::mid::Mid;
use herald_domain::scope::ScopeSet;
use herald_store::{NewToken, Package};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::error::DOCUMENTATION;
use crate::auth::credentials::{
    new_access_token, token_hash, verify_against_nothing, verify_secret,
};
use crate::auth::throttle;
use crate::state::AppState;

/// Tokens live 20 minutes; Marketing Cloud reports 1079 seconds so clients renew early.
const TOKEN_LIFETIME: time::Duration = time::Duration::minutes(20);
const REPORTED_EXPIRES_IN: u32 = 1079;

/// The request, as JSON or as a form. Every field is optional here so that a missing one
/// gets a message naming it rather than a parse error.
#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    account_id: Option<AccountId>,
}

/// `account_id` arrives as a string or a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AccountId {
    Number(i64),
    Text(String),
}

#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u32,
    scope: String,
    soap_instance_url: String,
    rest_instance_url: String,
}

/// The OAuth error answers (RFC 6749 section 5.2), in Marketing Cloud's body shape.
#[derive(Debug)]
pub enum TokenError {
    InvalidRequest(String),
    BodyTooLarge,
    UnsupportedGrantType(String),
    InvalidClient,
    InvalidScope(String),
    UnauthorizedAccount(i64),
    Throttled { retry_after_secs: i64 },
    Internal(anyhow::Error),
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response<Body> {
        let (status, error, description) = match self {
            TokenError::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            TokenError::BodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "The request body is too large.".to_owned(),
            ),
            TokenError::UnsupportedGrantType(grant) => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Use grant_type client_credentials; {grant:?} is not supported."),
            ),
            TokenError::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed. Check the client id and secret, and that the package is not revoked.".to_owned(),
            ),
            TokenError::InvalidScope(why) => (StatusCode::BAD_REQUEST, "invalid_scope", why),
            TokenError::UnauthorizedAccount(mid) => (
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                format!("This package is not installed in account_id {mid}."),
            ),
            TokenError::Throttled { retry_after_secs } => {
                let body = json!({
                    "error": "too_many_attempts",
                    "error_description": format!("Too many failed attempts; try again in {retry_after_secs} seconds."),
                    "error_uri": DOCUMENTATION,
                });
                let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return response;
            }
            TokenError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "token endpoint failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal error.".to_owned())
            }
        };
        let body =
            json!({"error": error, "error_description": description, "error_uri": DOCUMENTATION});
        (status, Json(body)).into_response()
    }
}

impl From<herald_store::StoreError> for TokenError {
    fn from(err: herald_store::StoreError) -> Self {
        TokenError::Internal(err.into())
    }
}

fn parse_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenRequest, TokenError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => TokenError::BodyTooLarge,
        _ => TokenError::InvalidRequest(format!("Cannot read the request body: {rejection}.")),
    })?;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        serde_urlencoded::from_bytes(&body).map_err(|err| {
            TokenError::InvalidRequest(format!("The form body is malformed: {err}."))
        })
    } else {
        serde_json::from_slice(&body).map_err(|err| {
            TokenError::InvalidRequest(format!(
                "The request body must be a JSON object (or a form with Content-Type application/x-www-form-urlencoded): {err}."
            ))
        })
    }
}

/// The fields that must be present and non-empty, in the order they are reported.
fn required(request: &TokenRequest) -> Result<(&str, &str), TokenError> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .is_some()
    };
    let missing: Vec<&str> = [
        ("client_id", present(&request.client_id)),
        ("client_secret", present(&request.client_secret)),
    ]
    .into_iter()
    .filter_map(|(name, ok)| (!ok).then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(TokenError::InvalidRequest(format!(
            "Missing required field(s): {}.",
            missing.join(", ")
        )));
    }
    Ok((
        request.client_id.as_deref().unwrap_or_default().trim(),
        request.client_secret.as_deref().unwrap_or_default(),
    ))
}

fn check_grant_type(request: &TokenRequest) -> Result<(), TokenError> {
    match request.grant_type.as_deref().map(str::trim) {
        None | Some("") => Err(TokenError::InvalidRequest(
            "Missing required field(s): grant_type.".into(),
        )),
        Some("client_credentials") => Ok(()),
        Some(other) => Err(TokenError::UnsupportedGrantType(other.to_owned())),
    }
}

fn requested_scopes(request: &TokenRequest, package: &Package) -> Result<ScopeSet, TokenError> {
    let Some(text) = request.scope.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(package.scopes.clone());
    };
    let asked = ScopeSet::parse(text).map_err(|err| TokenError::InvalidScope(format!("{err}.")))?;
    let missing = asked.missing_from(&package.scopes);
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.name()).collect();
        return Err(TokenError::InvalidScope(format!(
            "Scope(s) not granted to this package: {}.",
            names.join(" ")
        )));
    }
    Ok(asked)
}

fn requested_account(request: &TokenRequest, package: &Package) -> Result<Mid, TokenError> {
    let mid = match &request.account_id {
        None => return Ok(package.mid),
        Some(AccountId::Text(text)) if text.trim().is_empty() => return Ok(package.mid),
        Some(AccountId::Number(n)) => Mid::parse(&n.to_string()),
        Some(AccountId::Text(text)) => Mid::parse(text),
    }
    .map_err(|err| TokenError::InvalidRequest(format!("account_id: {err}.")))?;
    if mid != package.mid {
        return Err(TokenError::UnauthorizedAccount(mid.get()));
    }
    Ok(mid)
}

/// Looks up and verifies the client; `None` when the credentials do not hold.
async fn authenticate(
    state: &AppState,
    client_id: &str,
    secret: &str,
) -> Result<Option<Package>, TokenError> {
    let package = state.store.get_package(client_id).await?;
    let secret = secret.to_owned();
    let verified = tokio::task::spawn_blocking(move || match package {
        Some(package) if verify_secret(&secret, &package.secret_hash) => Some(package),
        Some(_) => None,
        None => {
            verify_against_nothing(&secret);
            None
        }
    })
    .await
    .map_err(|err| TokenError::Internal(err.into()))?;
    Ok(verified.filter(|package| package.revoked_at.is_none()))
}

pub async fn issue_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response<Body>, TokenError> {
    let request = parse_body(&headers, body)?;
    check_grant_type(&request)?;
    let (client_id, secret) = required(&request)?;
    if let Some(retry_after_secs) = throttle::retry_after(&state, client_id, peer.ip()).await? {
        return Err(TokenError::Throttled { retry_after_secs });
    }
    let Some(package) = authenticate(&state, client_id, secret).await? else {
        throttle::record_failure(&state, client_id, peer.ip()).await?;
        tracing::warn!(peer = %peer.ip(), "token request with bad client credentials");
        return Err(TokenError::InvalidClient);
    };
    let scopes = requested_scopes(&request, &package)?;
    let mid = requested_account(&request, &package)?;
    let access_token = new_access_token();
    let now = state.clock.now();
    state
        .store
        .insert_token(NewToken {
            token_hash: token_hash(&access_token),
            client_id: package.client_id.clone(),
            mid,
            scopes: scopes.clone(),
            issued_at: now,
            expires_at: now + TOKEN_LIFETIME,
        })
        .await?;
    tracing::info!(client_id = %package.client_id, %mid, "issued access token");
    let base = state.config.public_base();
    let mut response = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: REPORTED_EXPIRES_IN,
        scope: scopes.to_string(),
        soap_instance_url: base.clone(),
        rest_instance_url: base,
    })
    .into_response();
    // RFC 6749 section 5.1: token responses must not be cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
