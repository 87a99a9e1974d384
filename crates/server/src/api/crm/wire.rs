//! The CRM's wire shapes: records with Salesforce field names, everything else camelCase.

use herald_domain::crm::{CrmRecord, FieldInput, RecordChanges, StandardField};
use herald_domain::paging::PageRequest;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{Page, Slice, StoredRecord};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::error::ApiError;

/// Default and largest page sizes of CRM lists.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// An id from a path: 15 or 18 characters, the two forms equal.
pub fn path_id(text: &str) -> Result<SalesforceId, ApiError> {
    SalesforceId::parse(text)
        .map_err(|err| ApiError::invalid(format!("Invalid id {text:?}: {err}")))
}

/// The rows a page request covers.
pub fn slice(page: PageRequest) -> Slice {
    Slice {
        offset: page.offset(),
        limit: page.page_size,
    }
}

/// `{"count","page","pageSize","items"}`.
pub fn page_body<T>(request: PageRequest, page: Page<T>, item: impl Fn(T) -> Value) -> Value {
    json!({
        "count": page.count,
        "page": request.page,
        "pageSize": request.page_size,
        "items": page.items.into_iter().map(item).collect::<Vec<_>>(),
    })
}

/// ISO 8601 in UTC, as Salesforce and Marketing Cloud write dates.
pub fn date(at: OffsetDateTime) -> Value {
    at.format(&Rfc3339).map_or(Value::Null, Value::String)
}

/// A record as Salesforce's REST API shows one: `attributes`, then its fields by API
/// name; empty custom fields are left out.
pub fn record(record: CrmRecord) -> Value {
    let mut body = Map::new();
    body.insert("attributes".into(), json!({"type": record.object.name()}));
    let fields = [
        (StandardField::Id, json!(record.id)),
        (StandardField::Email, json!(record.email)),
        (StandardField::FirstName, json!(record.first_name)),
        (StandardField::LastName, json!(record.last_name)),
        (
            StandardField::HasOptedOutOfEmail,
            json!(record.has_opted_out),
        ),
        (StandardField::ExternalId, json!(record.external_id)),
    ];
    for (field, value) in fields {
        body.insert(field.name().into(), value);
    }
    for (name, value) in record.custom {
        body.insert(name, Value::String(value));
    }
    Value::Object(body)
}

/// A stored record, with `CreatedDate` and `LastModifiedDate`.
pub fn stored_record(stored: StoredRecord) -> Value {
    let mut body = record(stored.record);
    if let Value::Object(fields) = &mut body {
        fields.insert("CreatedDate".into(), date(stored.created_at));
        fields.insert("LastModifiedDate".into(), date(stored.modified_at));
    }
    body
}

/// The changes a JSON object asks for, field by field.
pub fn record_changes(fields: &Map<String, Value>) -> Result<RecordChanges, String> {
    let mut changes = RecordChanges::default();
    for (name, value) in fields {
        let number;
        let input = match value {
            Value::Null => FieldInput::Null,
            Value::Bool(flag) => FieldInput::Bool(*flag),
            Value::Number(n) => {
                number = n.to_string();
                FieldInput::Number(&number)
            }
            Value::String(text) => FieldInput::Text(text),
            Value::Array(_) | Value::Object(_) => {
                return Err(format!(
                    "{name}: expected a text, a number, true, false or null"
                ));
            }
        };
        changes.set(name, input).map_err(|err| err.to_string())?;
    }
    Ok(changes)
}

/// A record body (a JSON object), or a 400 naming the field at fault.
pub fn record_body(body: &Value) -> Result<RecordChanges, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::BadRequest {
            errorcode: 10001,
            message:
                "A record is a JSON object of fields, such as {\"Email\": \"ann@example.com\"}"
                    .into(),
        });
    };
    record_changes(fields).map_err(ApiError::invalid)
}
