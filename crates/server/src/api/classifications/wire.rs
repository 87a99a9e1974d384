//! What the three kinds share on the wire: the keys every object has, list and delete
//! replies, and reading a body (create, PUT) or a patch (PATCH) into an input type.

use herald_domain::paging::PageRequest;
use herald_store::{Listing, ObjectMeta};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::error::ApiError;
use crate::api::json;
use crate::api::query::Params;

/// The page size when a list request gives none, and the largest accepted.
const PAGE_SIZE: (u32, u32) = (50, 500);

/// Keys a GET shows that a write ignores, so a client can send back what it read.
const READ_ONLY: [&str; 5] = ["id", "objectID", "isDefault", "createdDate", "modifiedDate"];

/// The keys every object has.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaOut {
    /// The id, as a digit string.
    id: String,
    #[serde(rename = "objectID")]
    object_id: String,
    customer_key: String,
    name: String,
    description: String,
    /// One of the account's four defaults (updatable, not deletable, key fixed).
    is_default: bool,
    /// RFC 3339, UTC.
    created_date: String,
    modified_date: String,
}

impl From<&ObjectMeta> for MetaOut {
    fn from(meta: &ObjectMeta) -> Self {
        MetaOut {
            id: meta.id.to_string(),
            object_id: meta.object_id.clone(),
            customer_key: meta.customer_key.clone(),
            name: meta.name.clone(),
            description: meta.description.clone(),
            is_default: meta.is_default,
            created_date: date(meta.created_at),
            modified_date: date(meta.modified_at),
        }
    }
}

fn date(at: OffsetDateTime) -> String {
    // Stored times are within years 0..9999, which RFC 3339 can always write.
    at.format(&Rfc3339).unwrap_or_default()
}

/// `{"count","page","pageSize","items"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListReply<T> {
    count: u64,
    page: u32,
    page_size: u32,
    items: Vec<T>,
}

/// Reads `$page` and `$pagesize` (from 1; 1 to 500, default 50).
pub fn page(params: &Params) -> Result<PageRequest, ApiError> {
    params.page(PAGE_SIZE.0, PAGE_SIZE.1)
}

/// A list reply for `listing`, the page it is.
pub fn list_reply<S, T>(page: PageRequest, listing: &Listing<S>) -> ListReply<T>
where
    T: for<'a> From<&'a S>,
{
    ListReply {
        count: listing.total,
        page: page.page,
        page_size: page.page_size,
        items: listing.items.iter().map(T::from).collect(),
    }
}

/// The reply to a delete: what was deleted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    id: String,
    customer_key: String,
    deleted: bool,
}

impl From<&ObjectMeta> for Deleted {
    fn from(meta: &ObjectMeta) -> Self {
        Deleted {
            id: meta.id.to_string(),
            customer_key: meta.customer_key.clone(),
            deleted: true,
        }
    }
}

/// A create or PUT body as `T`: read-only keys dropped, then parsed as a JSON body is
/// (unknown keys and wrong types are 400s naming the key).
pub fn body<T: DeserializeOwned>(mut object: Map<String, Value>) -> Result<T, ApiError> {
    for key in READ_ONLY {
        object.remove(key);
    }
    let bytes = serde_json::to_vec(&object).map_err(|err| ApiError::Internal(err.into()))?;
    json::parse(&bytes)
}

/// A PATCH as a JSON merge patch (RFC 7396) over `current` (as a GET shows it): objects
/// merge key by key, `null` removes a key (an optional field becomes absent), anything else
/// replaces. The result is read as a PUT body.
pub fn patched<T: DeserializeOwned>(
    current: Value,
    patch: Map<String, Value>,
) -> Result<T, ApiError> {
    let mut merged = current;
    merge(&mut merged, Value::Object(patch));
    match merged {
        Value::Object(object) => body(object),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a merge patch over an object gave something else"
        ))),
    }
}

/// What a GET shows, as a JSON value to patch.
pub fn shown(out: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(out).map_err(|err| ApiError::Internal(err.into()))
}

fn merge(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (key, value) in patch {
            if value.is_null() {
                object.remove(&key);
            } else {
                merge(object.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge;
    use serde_json::json;

    #[test]
    fn a_merge_patch_merges_objects_removes_nulls_and_replaces_the_rest() {
        let mut target = json!({"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2], "d": "keep"});
        merge(
            &mut target,
            json!({"a": null, "b": {"y": 3}, "c": [3], "e": {"f": null, "g": 1}}),
        );
        assert_eq!(
            target,
            json!({"b": {"x": 1, "y": 3}, "c": [3], "d": "keep", "e": {"g": 1}})
        );
    }
}
