//! Field names of Contacts and Leads: the standard ones and custom ones (`Name__c`).

use std::fmt;

/// The fields every Contact and Lead has, by their Salesforce API names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StandardField {
    Id,
    Email,
    FirstName,
    LastName,
    HasOptedOutOfEmail,
    /// The record's id in the system it was loaded from (unique per account and object).
    ExternalId,
}

impl StandardField {
    /// Every standard field, in the order they are listed to clients.
    pub const ALL: [StandardField; 6] = [
        StandardField::Id,
        StandardField::Email,
        StandardField::FirstName,
        StandardField::LastName,
        StandardField::HasOptedOutOfEmail,
        StandardField::ExternalId,
    ];

    /// The API name (`FirstName`).
    pub fn name(self) -> &'static str {
        match self {
            StandardField::Id => "Id",
            StandardField::Email => "Email",
            StandardField::FirstName => "FirstName",
            StandardField::LastName => "LastName",
            StandardField::HasOptedOutOfEmail => "HasOptedOutOfEmail",
            StandardField::ExternalId => "ExternalId",
        }
    }

    /// The standard field of that name, compared without regard to case.
    pub fn parse(name: &str) -> Option<Self> {
        StandardField::ALL
            .into_iter()
            .find(|field| field.name().eq_ignore_ascii_case(name))
    }

    /// The standard field names, comma separated (for error messages).
    pub fn names() -> String {
        StandardField::ALL.map(StandardField::name).join(", ")
    }
}

/// The longest custom field name before its `__c` suffix (Salesforce's limit).
const MAX_CUSTOM_NAME: usize = 40;

/// A custom field's API name: a letter, then letters, digits and single underscores, up
/// to 40 characters, then `__c` (`Company__c`). The suffix is kept as `__c`; the rest
/// keeps the case it was given, but names are compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomFieldName(String);

impl CustomFieldName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-case form, under which names are compared.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for CustomFieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A standard or custom field name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldName {
    Standard(StandardField),
    Custom(CustomFieldName),
}

/// Why a text is not a field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFieldName {
    #[error(
        "unknown field {0:?}: the standard fields are {standard}, and custom field names end \
         in __c (as in Company__c)",
        standard = StandardField::names()
    )]
    Unknown(String),
    #[error(
        "invalid custom field name {0:?}: before __c it needs 1 to {MAX_CUSTOM_NAME} \
         characters, starting with a letter, holding only letters, digits and single \
         underscores, and not ending with an underscore"
    )]
    BadCustomName(String),
}

impl FieldName {
    /// Parses a field name: a standard one (any case) or a custom one ending in `__c`.
    pub fn parse(text: &str) -> Result<Self, InvalidFieldName> {
        if let Some(standard) = StandardField::parse(text) {
            return Ok(FieldName::Standard(standard));
        }
        let Some(base) = text
            .len()
            .checked_sub(3)
            .filter(|&cut| text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case("__c"))
            .map(|cut| &text[..cut])
        else {
            return Err(InvalidFieldName::Unknown(text.to_owned()));
        };
        let valid = (1..=MAX_CUSTOM_NAME).contains(&base.len())
            && base.starts_with(|c: char| c.is_ascii_alphabetic())
            && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !base.contains("__")
            && !base.ends_with('_');
        if !valid {
            return Err(InvalidFieldName::BadCustomName(text.to_owned()));
        }
        Ok(FieldName::Custom(CustomFieldName(format!("{base}__c"))))
    }

    /// The API name.
    pub fn as_str(&self) -> &str {
        match self {
            FieldName::Standard(field) => field.name(),
            FieldName::Custom(name) => name.as_str(),
        }
    }
}

/// Text as Herald compares it in filters and look-ups: lower case (Unicode).
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(text: &str) -> String {
        match FieldName::parse(text) {
            Ok(FieldName::Custom(name)) => name.to_string(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn standard_names_are_recognised_in_any_case() {
        assert_eq!(
            FieldName::parse("email"),
            Ok(FieldName::Standard(StandardField::Email))
        );
        assert_eq!(
            FieldName::parse("HASOPTEDOUTOFEMAIL").unwrap().as_str(),
            "HasOptedOutOfEmail"
        );
    }

    #[test]
    fn custom_names_keep_their_case_and_get_a_lower_case_suffix() {
        assert_eq!(custom("Company__c"), "Company__c");
        assert_eq!(custom("Lead_Score2__C"), "Lead_Score2__c");
        assert_eq!(custom(&format!("{}__c", "a".repeat(40))).len(), 43);
    }

    #[test]
    fn names_without_the_suffix_are_unknown_and_the_error_lists_the_standard_fields() {
        let err = FieldName::parse("Phone").unwrap_err();
        assert_eq!(err, InvalidFieldName::Unknown("Phone".into()));
        assert!(
            err.to_string().contains("Email, FirstName, LastName"),
            "{err}"
        );
        assert!(FieldName::parse("").is_err());
        assert!(FieldName::parse("é").is_err());
    }

    #[test]
    fn malformed_custom_names_are_refused() {
        for text in [
            "__c",
            "1Company__c",
            "Com__pany__c",
            "Company___c",
            "Com pany__c",
            "Compañía__c",
            &format!("{}__c", "a".repeat(41)),
        ] {
            assert_eq!(
                FieldName::parse(text),
                Err(InvalidFieldName::BadCustomName(text.to_owned())),
                "{text}"
            );
        }
    }

    #[test]
    fn folding_lowers_unicode_text() {
        assert_eq!(fold("Ünïcode ACME"), "ünïcode acme");
    }
}
