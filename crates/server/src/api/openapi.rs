//! `GET /openapi.json`: the OpenAPI 3.0 description of every route.
//!
//! The document is kept by hand in `openapi.json` next to this file and served as it is.
//! Tests keep it honest: its structure here (it parses, every reference resolves, every
//! path parameter is declared), and in `tests/openapi.rs` that every operation it lists
//! is a route of the running app and that the document validates as OpenAPI 3.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The route of the document (no token needed).
pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

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
    fn the_document_is_openapi_3_0_of_this_version() {
        let document = document();
        assert!(
            document["openapi"].as_str().unwrap().starts_with("3.0."),
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
}
