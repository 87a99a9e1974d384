//! Sender profiles: who a message is from, and where replies go.

use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::columns::Columns;
use super::{
    Classification, ClassificationError, ClassificationStore, Kind, MetaFields, ObjectMeta,
    classifications_using, meta,
};
use crate::Store;
use crate::sql::Bind;

/// A stored sender profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderProfile {
    pub meta: ObjectMeta,
    /// Header-safe text; may hold `%%Name%%` personalization strings.
    pub from_name: String,
    pub from_address: EmailAddress,
    /// `None`: replies go to the from address.
    pub reply_to_address: Option<EmailAddress>,
    /// Header-safe text.
    pub reply_to_display_name: Option<String>,
}

/// A sender profile as a create or update gives it. The caller has checked the texts
/// (header safety, personalization syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderProfileFields {
    pub meta: MetaFields,
    pub from_name: String,
    pub from_address: EmailAddress,
    pub reply_to_address: Option<EmailAddress>,
    pub reply_to_display_name: Option<String>,
}

impl Classification for SenderProfile {
    type Fields = SenderProfileFields;
    const KIND: Kind = Kind::SenderProfile;

    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn of(store: &dyn Store) -> &dyn ClassificationStore<Self> {
        store
    }
}

impl Columns for SenderProfile {
    const SELECT: &'static str =
        ", o.from_name, o.from_address, o.reply_to_address, o.reply_to_display_name";
    const JOINS: &'static str = "";

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(SenderProfile {
            meta: meta(row)?,
            from_name: row.try_get("from_name")?,
            from_address: address(row.try_get("from_address")?)?,
            reply_to_address: row
                .try_get::<Option<String>, _>("reply_to_address")?
                .map(address)
                .transpose()?,
            reply_to_display_name: row.try_get("reply_to_display_name")?,
        })
    }

    fn meta_fields(fields: &SenderProfileFields) -> &MetaFields {
        &fields.meta
    }

    async fn written(
        _: &mut AnyConnection,
        _: Mid,
        fields: &SenderProfileFields,
        _: Option<&Self>,
    ) -> Result<Vec<(&'static str, Bind)>, ClassificationError> {
        let optional = |address: &Option<EmailAddress>| address.as_ref().map(ToString::to_string);
        Ok(vec![
            ("from_name", fields.from_name.as_str().into()),
            ("from_address", fields.from_address.as_str().into()),
            (
                "reply_to_address",
                optional(&fields.reply_to_address).into(),
            ),
            (
                "reply_to_display_name",
                fields.reply_to_display_name.clone().into(),
            ),
        ])
    }

    async fn users(
        conn: &mut AnyConnection,
        mid: Mid,
        id: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        classifications_using(conn, mid, "sender_profile_id", id).await
    }
}

fn address(text: String) -> Result<EmailAddress, sqlx::Error> {
    EmailAddress::parse(&text).map_err(|err| sqlx::Error::Decode(err.into()))
}
