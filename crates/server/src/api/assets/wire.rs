//! Content Builder's JSON (camelCase) for email assets: the bodies clients send and the
//! items and lists Herald answers with (send-api.md section 3).

use herald_domain::asset::{
    AssetStatus, AssetType, ContentError, CustomerKey, EmailContent, EmailFields,
};
use herald_domain::asset_query::FieldSelection;
use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_store::{Asset, AssetPage, AssetUpdate, NewAsset};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::error::ApiError;

/// An asset as a client sends it to create, replace or patch one. Fields Herald does not
/// keep (`category`, `owner`, `data`…) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetBody {
    /// If present, it must be the id in the path.
    pub id: Option<i64>,
    pub customer_key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub asset_type: Option<NamedRef>,
    pub status: Option<NamedRef>,
    pub views: Option<ViewsBody>,
}

/// `{"id":208}`, `{"name":"htmlemail"}` or both.
#[derive(Debug, Default, Deserialize)]
pub struct NamedRef {
    pub id: Option<i64>,
    pub name: Option<String>,
}

/// The views Herald keeps; a view given without `content` is emptied.
#[derive(Debug, Default, Deserialize)]
pub struct ViewsBody {
    pub html: Option<ViewBody>,
    pub text: Option<ViewBody>,
    pub subjectline: Option<ViewBody>,
    pub preheader: Option<ViewBody>,
}

/// `{"content":"…"}`.
#[derive(Debug, Default, Deserialize)]
pub struct ViewBody {
    pub content: Option<String>,
}

fn missing(message: &str) -> ApiError {
    ApiError::BadRequest {
        errorcode: 10002,
        message: message.to_owned(),
    }
}

fn content_error(err: ContentError) -> ApiError {
    ApiError::invalid(err.to_string())
}

impl AssetBody {
    /// A new asset in `mid`. `new_uuid` names it (and keys it, when no customerKey is given).
    pub fn into_new(
        self,
        mid: Mid,
        now: OffsetDateTime,
        mut new_uuid: impl FnMut() -> String,
    ) -> Result<NewAsset, ApiError> {
        let customer_key = match &self.customer_key {
            Some(key) => customer_key(key)?,
            None => customer_key(&new_uuid())?,
        };
        let status = self.status()?.unwrap_or(AssetStatus::Draft);
        let content = self.replace_content()?;
        Ok(NewAsset {
            mid,
            customer_key,
            object_id: new_uuid(),
            status,
            content,
            created_at: now,
        })
    }

    /// `PUT`: name, description, type and views are replaced (views left out are emptied);
    /// customerKey and status are kept unless given.
    pub fn into_replacement(
        self,
        existing: &Asset,
        now: OffsetDateTime,
    ) -> Result<AssetUpdate, ApiError> {
        self.check_id(existing.id)?;
        Ok(AssetUpdate {
            customer_key: self.customer_key_or(existing)?,
            status: self.status()?.unwrap_or(existing.status),
            content: self.replace_content()?,
            modified_at: now,
        })
    }

    /// `PATCH`: only what is given changes.
    pub fn into_patch(
        self,
        existing: &Asset,
        now: OffsetDateTime,
    ) -> Result<AssetUpdate, ApiError> {
        self.check_id(existing.id)?;
        let asset_type = self.asset_type()?.unwrap_or(existing.asset_type);
        let mut fields = existing.fields.clone();
        if let Some(name) = &self.name {
            fields.name.clone_from(name);
        }
        if let Some(description) = &self.description {
            fields.description.clone_from(description);
        }
        if let Some(views) = &self.views {
            views.apply(&mut fields);
        }
        Ok(AssetUpdate {
            customer_key: self.customer_key_or(existing)?,
            status: self.status()?.unwrap_or(existing.status),
            content: EmailContent::parse(asset_type, fields).map_err(content_error)?,
            modified_at: now,
        })
    }

    fn check_id(&self, id: i64) -> Result<(), ApiError> {
        match self.id {
            Some(given) if given != id => Err(ApiError::invalid(format!(
                "the body's id {given} is not the id in the path ({id})"
            ))),
            _ => Ok(()),
        }
    }

    fn customer_key_or(&self, existing: &Asset) -> Result<CustomerKey, ApiError> {
        customer_key(
            self.customer_key
                .as_deref()
                .unwrap_or(&existing.customer_key),
        )
    }

    /// The content of a create or a replacement: a type and a name are required.
    fn replace_content(&self) -> Result<EmailContent, ApiError> {
        let asset_type = self.asset_type()?.ok_or_else(|| {
            missing(&format!(
                "assetType is required, with the id or name of one of: {}",
                AssetType::known()
            ))
        })?;
        if self.name.is_none() {
            return Err(missing("name is required"));
        }
        let mut fields = EmailFields {
            name: self.name.clone().unwrap_or_default(),
            description: self.description.clone().unwrap_or_default(),
            ..EmailFields::default()
        };
        if let Some(views) = &self.views {
            views.apply(&mut fields);
        }
        EmailContent::parse(asset_type, fields).map_err(content_error)
    }

    fn asset_type(&self) -> Result<Option<AssetType>, ApiError> {
        self.asset_type.as_ref().map(resolve).transpose()
    }

    fn status(&self) -> Result<Option<AssetStatus>, ApiError> {
        self.status.as_ref().map(resolve).transpose()
    }
}

/// A kind with a fixed set of values, each with an id and a name.
trait Named: Copy + PartialEq + Sized {
    /// The field's name on the wire.
    const FIELD: &'static str;
    /// The values, as "1 Draft, 2 Published".
    fn known() -> String;
    fn from_id(id: i64) -> Option<Self>;
    fn from_name(name: &str) -> Option<Self>;
    fn id(self) -> i64;
    fn name(self) -> &'static str;
}

impl Named for AssetType {
    const FIELD: &'static str = "assetType";
    fn known() -> String {
        format!("{} (Herald keeps emails only)", AssetType::supported())
    }
    fn from_id(id: i64) -> Option<Self> {
        AssetType::from_id(id)
    }
    fn from_name(name: &str) -> Option<Self> {
        AssetType::from_name(name)
    }
    fn id(self) -> i64 {
        AssetType::id(self)
    }
    fn name(self) -> &'static str {
        AssetType::name(self)
    }
}

impl Named for AssetStatus {
    const FIELD: &'static str = "status";
    fn known() -> String {
        AssetStatus::supported()
    }
    fn from_id(id: i64) -> Option<Self> {
        AssetStatus::from_id(id)
    }
    fn from_name(name: &str) -> Option<Self> {
        AssetStatus::from_name(name)
    }
    fn id(self) -> i64 {
        AssetStatus::id(self)
    }
    fn name(self) -> &'static str {
        AssetStatus::name(self)
    }
}

/// The value a `{"id","name"}` reference names; both, if given, must agree.
fn resolve<T: Named>(given: &NamedRef) -> Result<T, ApiError> {
    let unknown = |what: String| {
        ApiError::invalid(format!(
            "{field} {what} is not supported; {field} must be one of: {known}",
            field = T::FIELD,
            known = T::known()
        ))
    };
    let by_id = given
        .id
        .map(|id| T::from_id(id).ok_or_else(|| unknown(id.to_string())))
        .transpose()?;
    let by_name = given
        .name
        .as_deref()
        .map(|name| T::from_name(name).ok_or_else(|| unknown(format!("{name:?}"))))
        .transpose()?;
    match (by_id, by_name) {
        (Some(id), Some(name)) if id != name => Err(ApiError::invalid(format!(
            "{} id {} is {}, not {}",
            T::FIELD,
            id.id(),
            id.name(),
            name.name()
        ))),
        (Some(found), _) | (None, Some(found)) => Ok(found),
        (None, None) => Err(missing(&format!(
            "{} needs an id or a name, one of: {}",
            T::FIELD,
            T::known()
        ))),
    }
}

fn customer_key(text: &str) -> Result<CustomerKey, ApiError> {
    CustomerKey::parse(text).map_err(|err| ApiError::invalid(err.to_string()))
}

impl ViewsBody {
    /// Sets each view that is given; a view without content is emptied.
    fn apply(&self, fields: &mut EmailFields) {
        let content = |view: &ViewBody| view.content.clone();
        if let Some(view) = &self.subjectline {
            fields.subject = content(view).unwrap_or_default();
        }
        if let Some(view) = &self.preheader {
            fields.preheader = content(view).unwrap_or_default();
        }
        if let Some(view) = &self.html {
            fields.html = content(view);
        }
        if let Some(view) = &self.text {
            fields.text = content(view);
        }
    }
}

/// An ISO-8601 (RFC 3339) UTC timestamp.
fn iso(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// An asset as Content Builder shows it, with only the `fields` selected.
pub fn item(asset: &Asset, fields: &FieldSelection) -> Value {
    let mut views = Map::new();
    let content = |text: &str| json!({"content": text});
    views.insert("subjectline".into(), content(&asset.fields.subject));
    views.insert("preheader".into(), content(&asset.fields.preheader));
    if let Some(html) = &asset.fields.html {
        views.insert("html".into(), content(html));
    }
    if let Some(text) = &asset.fields.text {
        views.insert("text".into(), content(text));
    }
    let all = [
        ("id", json!(asset.id)),
        ("customerKey", json!(asset.customer_key)),
        ("objectID", json!(asset.object_id)),
        ("name", json!(asset.fields.name)),
        ("description", json!(asset.fields.description)),
        (
            "assetType",
            json!({
                "id": asset.asset_type.id(),
                "name": asset.asset_type.name(),
                "displayName": asset.asset_type.display_name(),
            }),
        ),
        (
            "status",
            json!({"id": asset.status.id(), "name": asset.status.name()}),
        ),
        ("views", Value::Object(views)),
        ("legacyData", json!({"legacyId": asset.id})),
        ("createdDate", json!(iso(asset.created_at))),
        ("modifiedDate", json!(iso(asset.modified_at))),
    ];
    Value::Object(
        all.into_iter()
            .filter(|(name, _)| fields.includes(name))
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

/// `{"count","page","pageSize","links":{},"items":[…]}`.
pub fn list(found: &AssetPage, page: PageRequest, fields: &FieldSelection) -> Value {
    json!({
        "count": found.total,
        "page": page.page,
        "pageSize": page.page_size,
        "links": {},
        "items": found.items.iter().map(|asset| item(asset, fields)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use herald_domain::asset_query::ASSET_FIELDS;
    use time::macros::datetime;

    use super::*;

    fn asset() -> Asset {
        Asset {
            id: 10_001,
            mid: Mid::from_stored(100_000_001),
            customer_key: "welcome".into(),
            object_id: "6f1c2f4e-0000-4000-8000-000000000001".into(),
            asset_type: AssetType::HtmlEmail,
            status: AssetStatus::Draft,
            fields: EmailFields {
                name: "Welcome".into(),
                html: Some("<p>Hi</p>".into()),
                ..EmailFields::default()
            },
            created_at: datetime!(2026-11-26 12:00 UTC),
            modified_at: datetime!(2026-11-26 12:00:00.5 UTC),
        }
    }

    #[test]
    fn an_item_has_exactly_the_fields_that_fields_can_select() {
        let item = item(&asset(), &FieldSelection::all());
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = ASSET_FIELDS.to_vec();
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(item["modifiedDate"], "2026-11-26T12:00:00.5Z");
        assert!(item["views"].get("text").is_none());
    }

    #[test]
    fn a_reference_by_id_and_name_must_agree() {
        let both = NamedRef {
            id: Some(208),
            name: Some("HTMLEMAIL".into()),
        };
        assert_eq!(resolve::<AssetType>(&both).unwrap(), AssetType::HtmlEmail);
        let neither = NamedRef::default();
        assert!(matches!(
            resolve::<AssetStatus>(&neither),
            Err(ApiError::BadRequest {
                errorcode: 10002,
                ..
            })
        ));
    }
}
