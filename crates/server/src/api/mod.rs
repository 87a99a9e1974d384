//! The HTTP surface: one file per resource, assembled into one router here.

pub mod assets;
mod bounces;
pub(crate) mod classifications;
mod crm;
pub mod error;
mod health;
mod ids;
pub mod json;
mod links;
pub mod openapi;
mod outbox;
mod page;
mod platform;
pub mod query;
pub mod send;
mod suppressions;
mod token;
mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Uri};
use axum::routing::post;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Every route with its description, without state: the source of both the router and
/// the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(platform::token_context))
        .merge(
            Router::new()
                .route("/v2/token", post(token::issue_token))
                .into(),
        )
        .merge(assets::routes().into())
        .merge(classifications::routes().into())
        .merge(crm::routes().into())
        .merge(links::routes().into())
        .merge(outbox::routes())
        .merge(bounces::routes().into())
        .merge(webhooks::routes())
        .merge(send::routes().into())
        .merge(suppressions::routes())
}

/// Every route, with the layers every route gets.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let (router, _) = routes().split_for_parts();
    router
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(axum::middleware::map_response(error::ensure_json))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            // The path only: query strings can carry personal data.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Collapses repeated slashes in the path: FuelSDK joins `rest_instance_url` (ending in
/// `/`) with `/data/...`, so its requests arrive as `//data/...`.
pub fn collapse_slashes<B>(mut request: Request<B>) -> Request<B> {
    let uri = request.uri();
    if !uri.path().contains("//") {
        return request;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(new_uri) = Uri::from_parts(parts) {
            *request.uri_mut() = new_uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collapsed(uri: &str) -> String {
        let request = Request::builder().uri(uri).body(()).unwrap();
        collapse_slashes(request).uri().to_string()
    }

    #[test]
    fn repeated_slashes_in_the_path_collapse_and_the_query_is_kept() {
        assert_eq!(collapsed("//data/v1//x?a=//b"), "/data/v1/x?a=//b");
        assert_eq!(collapsed("/v2/token"), "/v2/token");
        assert_eq!(collapsed("http://h:1//a"), "http://h:1/a");
    }
}
