//! `ApiJson<T>`: a JSON body extractor whose rejections use the standard error body with
//! Marketing Cloud's codes: 10004 not JSON, 10001 wrong type, 10002 missing field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::api::error::ApiError;

/// A JSON request body, parsed into `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::BadRequest {
                errorcode: 10004,
                message: format!("Cannot read the request body: {rejection}"),
            })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body the way [`ApiJson`] does.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        // A path of nothing (the whole body) or of only a key that did not parse says no
        // more than the error's line and column.
        let named = err
            .path()
            .iter()
            .any(|segment| !matches!(segment, Segment::Unknown));
        let at = if named {
            format!(" at {}", err.path())
        } else {
            String::new()
        };
        let inner = err.into_inner();
        let (errorcode, what) = match inner.classify() {
            serde_json::error::Category::Data if inner.to_string().starts_with("missing field") => {
                (10002, "Missing field")
            }
            serde_json::error::Category::Data => (10001, "Invalid value"),
            _ => (10004, "The request body is not valid JSON"),
        };
        ApiError::BadRequest {
            errorcode,
            message: format!("{what}{at}: {inner}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    fn code(json: &str) -> u32 {
        match parse::<Body>(json.as_bytes()) {
            Err(ApiError::BadRequest { errorcode, .. }) => errorcode,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_wrong_typed_and_incomplete_bodies_get_their_codes() {
        assert_eq!(code("{\"name\":"), 10004);
        assert_eq!(code("not json"), 10004);
        assert_eq!(code("{\"name\":\"a\",\"count\":\"x\"}"), 10001);
        assert_eq!(code("{\"name\":\"a\"}"), 10002);
    }

    #[test]
    fn the_error_names_where_the_problem_is() {
        let Err(err) = parse::<Body>(b"{\"name\":\"a\",\"count\":-1}") else {
            panic!()
        };
        assert!(err.to_string().contains("count"), "{err}");
    }

    #[test]
    fn a_body_broken_before_its_first_key_names_the_line_and_column_only() {
        let Err(err) = parse::<Body>(b"{not json") else {
            panic!()
        };
        let message = err.to_string();
        assert!(!message.contains(" at ?"), "{message}");
        assert!(message.contains("line 1 column 2"), "{message}");
    }
}
