//! `GET /openapi.json`: the OpenAPI 3.1 description of every route, generated from the code.
//!
//! Each handler carries its `#[utoipa::path]` (method, path, parameters, answers) and each
//! wire type derives `ToSchema`; [`super::routes`] registers handlers through
//! `utoipa_axum::routes!`, so a route and its description come from one place. What is
//! said once for the whole API (its info, tags, security schemes, the error response) is
//! [`ApiDoc`] here.
//!
//! Checked both ways: `tests/openapi.rs` calls every documented operation on a running app
//! (none may be missing), and the router is built only from documented handlers. The
//! document is also kept, pretty-printed, in `docs/openapi.json`: a test compares it with
//! the generated one, so every change to the document shows in review. After a deliberate
//! change, rewrite it with `HERALD_BLESS=1 cargo test -p herald --lib openapi`.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::api::error::{ErrorBody, ErrorResponse};

/// What the document says once for the whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Herald speaks the Marketing Cloud Send API and the look-ups around it \
            (Content Builder emails, send classifications, a built-in CRM). Every response is \
            JSON. Paths tolerate repeated slashes and query parameter names are \
            case-insensitive (`pageSize`, `$pagesize`). Everything a token reaches belongs to \
            its account (MID); another account's objects do not exist for it."
    ),
    servers((url = "/")),
    security(("oauth2" = [])),
    tags(
        (name = "Send API"),
        (name = "Emails"),
        (name = "Classifications"),
        (name = "CRM"),
        (name = "Authentication"),
        (name = "Operations"),
        (name = "Outbox", description = "The capture outbox (a Herald extension): messages kept instead of sent when no relay is configured."),
        (name = "Message links", description = "The links inside sent messages (unsubscribe, profile, view online, open pixel, click redirect). No bearer token: the signed path is the credential."),
        (name = "Suppressions", description = "The account's suppression list (a Herald extension)."),
        (name = "Bounces and webhooks", description = "Herald extensions: asynchronous bounce ingestion (delivery status notifications) and event webhook subscriptions."),
    ),
    components(schemas(ErrorBody), responses(ErrorResponse)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// The two ways a caller proves who it is: an access token, or the bounce secret.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes = Scopes::from_iter(
            herald_domain::scope::Scope::ALL
                .iter()
                .map(|scope| (scope.name(), scope.description())),
        );
        let mut oauth2 = OAuth2::new([Flow::ClientCredentials(ClientCredentials::new(
            "/v2/token",
            scopes,
        ))]);
        oauth2.description = Some(
            "Client credentials from an installed package; `Authorization: Bearer <token>`. \
             A missing or expired token is a 401 with `WWW-Authenticate: Bearer \
             error=\"invalid_token\"`; a token without a scope the route lists is a 403 \
             (errorcode 20002). Where a route lists several requirements, any one suffices."
                .to_owned(),
        );
        let bounce = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "The installation's bounce secret (`HERALD_BOUNCE_SECRET`), not an access \
                 token: `Authorization: Bearer $HERALD_BOUNCE_SECRET`.",
            ))
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("oauth2", SecurityScheme::OAuth2(oauth2));
        components.add_security_scheme("bounceSecret", SecurityScheme::Http(bounce));
    }
}

/// The routes whose descriptions are still the hand-written file: merged in until each
/// resource's handlers describe themselves.
const LEGACY: &str = include_str!("openapi.json");

/// Adds the legacy file's paths, methods and components the generated part lacks.
fn with_legacy(mut document: Value) -> Value {
    let legacy: Value = serde_json::from_str(LEGACY).expect("openapi.json is JSON");
    for (section, inner) in [
        ("paths", None),
        ("components", Some("schemas")),
        ("components", Some("responses")),
    ] {
        let (Some(from), Some(into)) = (
            pointer(&legacy, section, inner).cloned(),
            pointer_mut(&mut document, section, inner),
        ) else {
            continue;
        };
        for (key, value) in from.as_object().into_iter().flatten() {
            match (into.get_mut(key), section) {
                (None, _) => {
                    into.insert(key.clone(), value.clone());
                }
                (Some(Value::Object(methods)), "paths") => {
                    for (method, operation) in value.as_object().into_iter().flatten() {
                        methods
                            .entry(method.clone())
                            .or_insert_with(|| operation.clone());
                    }
                }
                _ => {}
            }
        }
    }
    document
}

fn pointer<'a>(value: &'a Value, section: &str, inner: Option<&str>) -> Option<&'a Value> {
    let section = value.get(section)?;
    match inner {
        Some(inner) => section.get(inner),
        None => Some(section),
    }
}

fn pointer_mut<'a>(
    value: &'a mut Value,
    section: &str,
    inner: Option<&str>,
) -> Option<&'a mut serde_json::Map<String, Value>> {
    let object = value.as_object_mut()?;
    let section = object
        .entry(section)
        .or_insert_with(|| Value::Object(Default::default()));
    let section = match inner {
        Some(inner) => section
            .as_object_mut()?
            .entry(inner)
            .or_insert_with(|| Value::Object(Default::default())),
        None => section,
    };
    section.as_object_mut()
}

/// The whole document, as served.
pub fn document() -> Value {
    let (_, generated) = super::routes().split_for_parts();
    with_legacy(serde_json::to_value(generated).expect("the document serializes"))
}

/// This document, serialized once.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Operations",
    operation_id = "openapi",
    summary = "This document",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> impl IntoResponse {
    static SERVED: OnceLock<String> = OnceLock::new();
    let body = SERVED.get_or_init(|| serde_json::to_string(&document()).expect("serializes"));
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`, with where it was found.
    fn references(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    if key == "$ref" {
                        found.push((at.to_owned(), inner.as_str().unwrap_or_default().to_owned()));
                    } else {
                        references(inner, &format!("{at}/{key}"), found);
                    }
                }
            }
            Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    references(inner, &format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_of_this_version() {
        let document = document();
        assert!(
            document["openapi"].as_str().unwrap().starts_with("3.1."),
            "{}",
            document["openapi"]
        );
        assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(document["paths"].as_object().unwrap().len() > 30);
    }

    #[test]
    fn every_reference_resolves() {
        let document = document();
        let mut found = Vec::new();
        references(&document, "", &mut found);
        assert!(!found.is_empty());
        for (at, reference) in found {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{at}: {reference} is not local"));
            assert!(
                document.pointer(pointer).is_some(),
                "{at}: {reference} resolves to nothing"
            );
        }
    }

    #[test]
    fn every_operation_declares_its_path_parameters_and_answers() {
        let document = document();
        for (path, item) in document["paths"].as_object().unwrap() {
            let names: Vec<&str> = path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for (method, operation) in item.as_object().unwrap() {
                let declared: Vec<&str> = operation["parameters"]
                    .as_array()
                    .map(|parameters| {
                        parameters
                            .iter()
                            .filter(|p| p["in"] == "path")
                            .filter_map(|p| p["name"].as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(declared, names, "{method} {path}");
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
                assert!(operation["operationId"].is_string(), "{method} {path}");
            }
        }
    }

    /// The document as kept in the repository for review.
    const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    #[test]
    fn the_document_in_docs_is_the_generated_one() {
        let generated = serde_json::to_string_pretty(&document()).unwrap() + "\n";
        if std::env::var_os("HERALD_BLESS").is_some() {
            std::fs::write(SNAPSHOT, &generated).unwrap();
            return;
        }
        let kept = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
        assert!(
            kept == generated,
            "docs/openapi.json is not the generated document: review the change with \
             `HERALD_BLESS=1 cargo test -p herald --lib openapi` and `git diff docs/openapi.json`"
        );
    }
}
