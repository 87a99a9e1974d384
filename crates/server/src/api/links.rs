//! The links inside messages, answered without a token (the HMAC-signed path is the
//! credential): `unsubscribe/{token}` (RFC 8058 one-click POST; GET shows a confirmation
//! page whose button POSTs), `profile/{token}` (the same page), `view/{token}` (the message
//! again), `open/{token}` (the pixel) and `click/{token}` (the redirect). A token that is
//! forged, altered, cut, of another kind, or names a message that is gone gets the same
//! JSON 404 and records nothing.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use herald_domain::event::EventKind;
use herald_domain::link_target::{LinkKind, LinkTarget};
use herald_domain::salesforce_id::SalesforceId;
use serde_json::json;

use crate::api::error::ApiError;
use crate::crm::CrmError;
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route(
            "/profile/{token}",
            get(profile_page).post(profile_unsubscribe),
        )
        .route("/view/{token}", get(view))
        .route("/open/{token}", get(open))
        .route("/click/{token}", get(click))
}

/// A transparent 1x1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The form field the confirmation page adds, so its button gets a page back (a
/// one-click POST from a mail provider gets the empty 200 RFC 8058 asks for).
const FROM_PAGE: &str = "from=page";

fn not_found() -> ApiError {
    ApiError::NotFound("Not Found: no such link".to_owned())
}

/// The link a token names, if this installation signed it for a link of `kind`.
fn verified(state: &AppState, token: &str, kind: LinkKind) -> Result<LinkTarget, ApiError> {
    state
        .link_key
        .verify(token)
        .and_then(|payload| LinkTarget::parse(&payload, kind))
        .ok_or_else(not_found)
}

/// Headers every link answer carries: never cached, never indexed, no referrer.
fn private(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

fn html_page(body: String) -> Response<Body> {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    private(response)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, content: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em\">\
         <h1 style=\"font-size:1.4em\">{title}</h1>{content}</body></html>"
    )
}

/// GET: a confirmation page. Changes nothing, so link scanners that follow every URL in
/// a message unsubscribe nobody.
async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response<Body>, ApiError> {
    confirmation_page(&state, &token, LinkKind::Unsubscribe).await
}

async fn profile_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response<Body>, ApiError> {
    confirmation_page(&state, &token, LinkKind::Profile).await
}

async fn confirmation_page(
    state: &AppState,
    token: &str,
    kind: LinkKind,
) -> Result<Response<Body>, ApiError> {
    let link = verified(state, token, kind)?;
    let recipient = state
        .store
        .find_recipient(link.mid, link.instance_id, link.recipient_id)
        .await?
        .ok_or_else(not_found)?;
    let content = format!(
        "<p>Stop marketing email to <strong>{}</strong>? Messages you need about your \
         account and orders still arrive.</p>\
         <form method=\"post\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <input type=\"hidden\" name=\"from\" value=\"page\">\
         <button type=\"submit\" style=\"font-size:1.1em;padding:.5em 1.5em\">Unsubscribe</button>\
         </form>",
        escape(&recipient.email)
    );
    Ok(html_page(page("Unsubscribe", &content)))
}

/// POST: RFC 8058 one-click. No login, no cookie, no redirect: 200 with an empty body
/// (or, for the confirmation page's button, a page saying it is done).
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    unsubscribe_link(&state, &token, LinkKind::Unsubscribe, &body).await
}

async fn profile_unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    unsubscribe_link(&state, &token, LinkKind::Profile, &body).await
}

async fn unsubscribe_link(
    state: &AppState,
    token: &str,
    kind: LinkKind,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let link = verified(state, token, kind)?;
    let now = state.clock.now();
    let done = state
        .store
        .unsubscribe(link.mid, link.instance_id, link.recipient_id, now)
        .await?
        .ok_or_else(not_found)?;
    if done.first_time {
        opt_out_in_crm(state, &link, &done.record_id).await;
    }
    let from_page = String::from_utf8_lossy(body)
        .split('&')
        .any(|field| field == FROM_PAGE);
    if from_page {
        let content = "<p>You are unsubscribed: no more marketing email will be sent to \
                       this address.</p>";
        return Ok(html_page(page("Unsubscribed", content)));
    }
    Ok(private(StatusCode::OK.into_response()))
}

/// Sets the record's `HasOptedOutOfEmail`. The suppression is already committed and is
/// what stops the mail, so a CRM that fails is logged, not answered as an error.
async fn opt_out_in_crm(state: &AppState, link: &LinkTarget, record_id: &str) {
    let Ok(record) = SalesforceId::parse(record_id) else {
        return;
    };
    match state.crm.set_opted_out(link.mid, record, true).await {
        Ok(()) => {}
        Err(CrmError::UnknownRecord(_)) => {
            tracing::info!(
                instance = link.instance_id,
                "unsubscribed record no longer in the CRM"
            );
        }
        Err(err) => {
            tracing::warn!(instance = link.instance_id, error = %format!("{err:#}"),
                "could not set HasOptedOutOfEmail; the address is suppressed");
        }
    }
}

async fn view(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response<Body>, ApiError> {
    let link = verified(&state, &token, LinkKind::View)?;
    let html = crate::engine::view_online(&state, link.mid, link.instance_id, link.recipient_id)
        .await?
        .ok_or_else(not_found)?;
    let mut response = html_page(html);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("script-src 'none'; object-src 'none'"),
    );
    Ok(response)
}

async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response<Body>, ApiError> {
    let link = verified(&state, &token, LinkKind::Open)?;
    record(&state, &link, EventKind::Opened, None).await?;
    let mut response = (StatusCode::OK, PIXEL).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"));
    Ok(private(response))
}

async fn click(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response<Body>, ApiError> {
    let link = verified(&state, &token, LinkKind::Click)?;
    let url = link.url.clone().ok_or_else(not_found)?;
    let location = HeaderValue::from_str(&url).map_err(|_| not_found())?;
    record(
        &state,
        &link,
        EventKind::Clicked,
        Some(json!({ "url": url })),
    )
    .await?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(private(response))
}

/// Appends an open or click; a recipient that is gone is a 404 with nothing written.
async fn record(
    state: &AppState,
    link: &LinkTarget,
    kind: EventKind,
    detail: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let recorded = state
        .store
        .record_engagement(
            link.mid,
            link.instance_id,
            link.recipient_id,
            kind,
            detail,
            now,
        )
        .await?;
    if recorded { Ok(()) } else { Err(not_found()) }
}
