//! `$fields` and the query body's `"fields"`: which top-level fields each item carries.
//!
//! Names are matched in any case. Names Herald does not produce (Marketing Cloud assets
//! have more fields, such as `category` or `owner`) are accepted and give nothing, so that
//! clients asking for them keep working. `id` is always included.

/// The top-level fields of an email asset, as the wire spells them.
pub const ASSET_FIELDS: [&str; 11] = [
    "id",
    "customerKey",
    "objectID",
    "name",
    "description",
    "assetType",
    "status",
    "views",
    "legacyData",
    "createdDate",
    "modifiedDate",
];

/// Which fields to include: all of them, or those named.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelection(Option<Vec<&'static str>>);

impl FieldSelection {
    /// Every field.
    pub fn all() -> Self {
        Self(None)
    }

    /// Parses a comma-separated `$fields`; blank means every field.
    pub fn parse(text: &str) -> Self {
        Self::from_names(text.split(','))
    }

    /// The fields named (blank names are skipped; none at all means every field).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let names: Vec<&str> = names
            .into_iter()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        if names.is_empty() {
            return Self::all();
        }
        let known = ASSET_FIELDS
            .into_iter()
            .filter(|field| *field == "id" || names.iter().any(|n| n.eq_ignore_ascii_case(field)))
            .collect();
        Self(Some(known))
    }

    /// Whether `field` (as [`ASSET_FIELDS`] spells it) is to be included.
    pub fn includes(&self, field: &str) -> bool {
        self.0.as_ref().is_none_or(|fields| fields.contains(&field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_fields_are_matched_in_any_case_and_id_is_always_kept() {
        let selection = FieldSelection::parse("name, CUSTOMERKEY,views");
        assert!(selection.includes("name"));
        assert!(selection.includes("customerKey"));
        assert!(selection.includes("views"));
        assert!(selection.includes("id"));
        assert!(!selection.includes("status"));
    }

    #[test]
    fn blank_means_everything_and_unknown_names_give_nothing() {
        assert_eq!(FieldSelection::parse(" , "), FieldSelection::all());
        assert!(FieldSelection::parse("").includes("views"));
        let selection = FieldSelection::parse("category,owner");
        assert!(selection.includes("id"));
        assert!(!selection.includes("name"));
    }
}
