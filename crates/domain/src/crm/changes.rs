//! Changes to a Contact or Lead as clients send them, checked field by field.
//!
//! The REST API and the CSV import both build a [`RecordChanges`] by calling
//! [`RecordChanges::set`] once per field, so both apply the same rules: a valid `Email`,
//! header-safe names of bounded length, a boolean `HasOptedOutOfEmail`, well-formed custom
//! field names, and no control characters where they do not belong. Empty text means
//! "no value": it clears the field (and `Email` cannot be cleared).

use super::field::{CustomFieldName, FieldName, InvalidFieldName, StandardField};
use crate::email_address::{EmailAddress, InvalidEmailAddress};
use crate::header_text::{HeaderUnsafe, header_safe};

/// The longest `FirstName`, in characters (Salesforce's limit).
const MAX_FIRST_NAME: usize = 40;
/// The longest `LastName`, in characters (Salesforce's limit).
const MAX_LAST_NAME: usize = 80;
/// The longest `ExternalId`, in characters.
const MAX_EXTERNAL_ID: usize = 255;
/// The longest custom field value, in characters.
const MAX_CUSTOM_VALUE: usize = 10_000;
/// Fields Herald sets itself, shown on records but never written by clients.
const READ_ONLY: [&str; 3] = ["Id", "CreatedDate", "LastModifiedDate"];

/// A field value as it arrived (a JSON value or a CSV cell).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldInput<'a> {
    Null,
    Bool(bool),
    /// A number, in its textual form (`42`, `3.5`).
    Number(&'a str),
    Text(&'a str),
}

/// What to change on a record: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordChanges {
    pub email: Option<EmailAddress>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub has_opted_out: Option<bool>,
    pub external_id: Option<Option<String>>,
    /// Custom fields to set (`Some`) or clear (`None`), each name at most once
    /// (compared without regard to case).
    pub custom: Vec<(CustomFieldName, Option<String>)>,
}

/// Why one field of a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RecordFieldError {
    /// The field as the client named it.
    pub field: String,
    pub problem: FieldProblem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error("{0}")]
    Name(InvalidFieldName),
    #[error("this field is set by Herald and cannot be written")]
    ReadOnly,
    #[error("this field is given twice (names are compared without regard to case)")]
    Repeated,
    #[error("expected {0}")]
    WrongType(&'static str),
    #[error("an Email is required and cannot be cleared")]
    EmailRequired,
    #[error("{0}")]
    Email(InvalidEmailAddress),
    #[error("{0}")]
    HeaderUnsafe(HeaderUnsafe),
    #[error("control characters are not allowed, found {0:?}")]
    Control(char),
    #[error("at most {0} characters")]
    TooLong(usize),
}

impl RecordChanges {
    /// Records the value of the field `name`, or says why it cannot be.
    pub fn set(&mut self, name: &str, value: FieldInput<'_>) -> Result<(), RecordFieldError> {
        self.apply(name, value).map_err(|problem| RecordFieldError {
            field: name.to_owned(),
            problem,
        })
    }

    /// The field a client may write under `name` (a JSON key, a CSV header), or why no
    /// field can be written under it: an unknown name, or one Herald sets itself.
    pub fn writable_field(name: &str) -> Result<FieldName, RecordFieldError> {
        writable(name).map_err(|problem| RecordFieldError {
            field: name.to_owned(),
            problem,
        })
    }

    fn apply(&mut self, name: &str, value: FieldInput<'_>) -> Result<(), FieldProblem> {
        let field = writable(name)?;
        if self.has(&field) {
            return Err(FieldProblem::Repeated);
        }
        match field {
            FieldName::Standard(StandardField::Email) => {
                let text = text_of(value, "a text")?.ok_or(FieldProblem::EmailRequired)?;
                self.email = Some(EmailAddress::parse(text).map_err(FieldProblem::Email)?);
            }
            FieldName::Standard(StandardField::FirstName) => {
                self.first_name = Some(name_text(value, MAX_FIRST_NAME)?);
            }
            FieldName::Standard(StandardField::LastName) => {
                self.last_name = Some(name_text(value, MAX_LAST_NAME)?);
            }
            FieldName::Standard(StandardField::HasOptedOutOfEmail) => {
                self.has_opted_out = Some(flag(value)?);
            }
            FieldName::Standard(StandardField::ExternalId) => {
                let text = match value {
                    FieldInput::Number(number) => Some(number),
                    other => text_of(other, "a text or a number")?,
                };
                let text = text
                    .map(|text| bounded(text, MAX_EXTERNAL_ID, |_| false))
                    .transpose()?;
                self.external_id = Some(text);
            }
            FieldName::Standard(StandardField::Id) => return Err(FieldProblem::ReadOnly),
            FieldName::Custom(custom) => {
                let text = match value {
                    FieldInput::Null => None,
                    FieldInput::Bool(flag) => Some(if flag { "true" } else { "false" }),
                    FieldInput::Number(text) | FieldInput::Text(text) => Some(text),
                };
                let multi_line = |c| matches!(c, '\t' | '\r' | '\n');
                let text = text
                    .filter(|text| !text.trim().is_empty())
                    .map(|text| bounded(text, MAX_CUSTOM_VALUE, multi_line))
                    .transpose()?;
                self.custom.push((custom, text));
            }
        }
        Ok(())
    }

    /// Whether `field` has a value already.
    fn has(&self, field: &FieldName) -> bool {
        match field {
            FieldName::Standard(StandardField::Email) => self.email.is_some(),
            FieldName::Standard(StandardField::FirstName) => self.first_name.is_some(),
            FieldName::Standard(StandardField::LastName) => self.last_name.is_some(),
            FieldName::Standard(StandardField::HasOptedOutOfEmail) => self.has_opted_out.is_some(),
            FieldName::Standard(StandardField::ExternalId) => self.external_id.is_some(),
            FieldName::Standard(StandardField::Id) => false,
            FieldName::Custom(name) => self
                .custom
                .iter()
                .any(|(known, _)| known.key() == name.key()),
        }
    }
}

fn writable(name: &str) -> Result<FieldName, FieldProblem> {
    if READ_ONLY
        .iter()
        .any(|field| field.eq_ignore_ascii_case(name))
    {
        return Err(FieldProblem::ReadOnly);
    }
    FieldName::parse(name).map_err(FieldProblem::Name)
}

/// Text, or `None` for null and blank text.
fn text_of<'a>(
    value: FieldInput<'a>,
    expected: &'static str,
) -> Result<Option<&'a str>, FieldProblem> {
    match value {
        FieldInput::Null => Ok(None),
        FieldInput::Text(text) if text.trim().is_empty() => Ok(None),
        FieldInput::Text(text) => Ok(Some(text)),
        FieldInput::Bool(_) | FieldInput::Number(_) => Err(FieldProblem::WrongType(expected)),
    }
}

/// A first or last name: trimmed, header-safe, at most `max` characters; blank is none.
fn name_text(value: FieldInput<'_>, max: usize) -> Result<Option<String>, FieldProblem> {
    let Some(text) = text_of(value, "a text")? else {
        return Ok(None);
    };
    let text = header_safe(text.trim()).map_err(FieldProblem::HeaderUnsafe)?;
    if text.chars().count() > max {
        return Err(FieldProblem::TooLong(max));
    }
    Ok(Some(text.to_owned()))
}

/// Text of at most `max` characters without control characters other than `allowed` ones.
fn bounded(text: &str, max: usize, allowed: impl Fn(char) -> bool) -> Result<String, FieldProblem> {
    let text = text.trim();
    if let Some(control) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
        return Err(FieldProblem::Control(control));
    }
    if text.chars().count() > max {
        return Err(FieldProblem::TooLong(max));
    }
    Ok(text.to_owned())
}

/// `true`/`false`, as a boolean or as text (`true`, `false`, `1`, `0`, any case).
fn flag(value: FieldInput<'_>) -> Result<bool, FieldProblem> {
    let expected = FieldProblem::WrongType("true or false");
    match value {
        FieldInput::Bool(flag) => Ok(flag),
        FieldInput::Text(text) | FieldInput::Number(text) => match text.trim() {
            t if t.eq_ignore_ascii_case("true") || t == "1" => Ok(true),
            t if t.eq_ignore_ascii_case("false") || t == "0" => Ok(false),
            _ => Err(expected),
        },
        FieldInput::Null => Err(expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(fields: &[(&str, FieldInput<'_>)]) -> Result<RecordChanges, RecordFieldError> {
        let mut changes = RecordChanges::default();
        for (name, value) in fields {
            changes.set(name, *value)?;
        }
        Ok(changes)
    }

    fn problem(name: &str, value: FieldInput<'_>) -> FieldProblem {
        changes(&[(name, value)]).unwrap_err().problem
    }

    #[test]
    fn standard_and_custom_fields_are_read_in_any_case() {
        let read = changes(&[
            ("email", FieldInput::Text("Ann@Example.COM")),
            ("FirstName", FieldInput::Text("  Ann ")),
            ("LASTNAME", FieldInput::Null),
            ("HasOptedOutOfEmail", FieldInput::Text("TRUE")),
            ("ExternalId", FieldInput::Number("42")),
            ("Company__c", FieldInput::Text("Acme")),
            ("Score__c", FieldInput::Number("7.5")),
            ("Vip__c", FieldInput::Bool(true)),
            ("Notes__c", FieldInput::Text(" ")),
        ])
        .unwrap();
        assert_eq!(read.email.unwrap().as_str(), "Ann@example.com");
        assert_eq!(read.first_name, Some(Some("Ann".into())));
        assert_eq!(read.last_name, Some(None));
        assert_eq!(read.has_opted_out, Some(true));
        assert_eq!(read.external_id, Some(Some("42".into())));
        let custom: Vec<(String, Option<String>)> = read
            .custom
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect();
        assert_eq!(
            custom,
            [
                ("Company__c".to_owned(), Some("Acme".to_owned())),
                ("Score__c".to_owned(), Some("7.5".to_owned())),
                ("Vip__c".to_owned(), Some("true".to_owned())),
                ("Notes__c".to_owned(), None),
            ]
        );
    }

    #[test]
    fn email_must_be_valid_and_cannot_be_cleared() {
        assert_eq!(
            problem("Email", FieldInput::Text("ann@localhost")),
            FieldProblem::Email(InvalidEmailAddress::DomainWithoutDot)
        );
        assert_eq!(
            problem("Email", FieldInput::Null),
            FieldProblem::EmailRequired
        );
        assert_eq!(
            problem("Email", FieldInput::Text("")),
            FieldProblem::EmailRequired
        );
        assert_eq!(
            problem("Email", FieldInput::Bool(true)),
            FieldProblem::WrongType("a text")
        );
    }

    #[test]
    fn names_refuse_line_breaks_and_excess_length() {
        assert!(matches!(
            problem("FirstName", FieldInput::Text("Ann\r\nBcc: x@example.com")),
            FieldProblem::HeaderUnsafe(_)
        ));
        assert_eq!(
            problem("FirstName", FieldInput::Text(&"a".repeat(41))),
            FieldProblem::TooLong(40)
        );
        assert!(changes(&[("LastName", FieldInput::Text(&"a".repeat(80)))]).is_ok());
    }

    #[test]
    fn ids_and_dates_are_read_only_and_unknown_names_are_refused() {
        for name in ["Id", "id", "CreatedDate", "LastModifiedDate"] {
            assert_eq!(problem(name, FieldInput::Text("x")), FieldProblem::ReadOnly);
        }
        let err = changes(&[("Phone", FieldInput::Text("1"))]).unwrap_err();
        assert!(err.to_string().starts_with("Phone: unknown field"), "{err}");
    }

    #[test]
    fn writable_fields_are_named_without_a_value() {
        assert_eq!(
            RecordChanges::writable_field("company__C")
                .unwrap()
                .as_str(),
            "company__c"
        );
        assert_eq!(
            RecordChanges::writable_field("CreatedDate")
                .unwrap_err()
                .problem,
            FieldProblem::ReadOnly
        );
        assert!(RecordChanges::writable_field("Phone").is_err());
    }

    #[test]
    fn a_field_given_twice_in_any_case_is_refused() {
        let err = changes(&[
            ("Company__c", FieldInput::Text("a")),
            ("company__C", FieldInput::Text("b")),
        ])
        .unwrap_err();
        assert_eq!(err.field, "company__C");
        assert_eq!(err.problem, FieldProblem::Repeated);
        let err = changes(&[
            ("Email", FieldInput::Text("a@example.com")),
            ("EMAIL", FieldInput::Text("b@example.com")),
        ])
        .unwrap_err();
        assert_eq!(err.problem, FieldProblem::Repeated);
    }

    #[test]
    fn the_opt_out_flag_is_a_boolean() {
        assert_eq!(
            problem("HasOptedOutOfEmail", FieldInput::Text("yes")),
            FieldProblem::WrongType("true or false")
        );
        assert_eq!(
            problem("HasOptedOutOfEmail", FieldInput::Null),
            FieldProblem::WrongType("true or false")
        );
    }

    #[test]
    fn control_characters_are_refused_but_custom_values_may_span_lines() {
        assert_eq!(
            problem("ExternalId", FieldInput::Text("a\nb")),
            FieldProblem::Control('\n')
        );
        assert_eq!(
            problem("Notes__c", FieldInput::Text("a\0b")),
            FieldProblem::Control('\0')
        );
        assert!(changes(&[("Notes__c", FieldInput::Text("line 1\r\nline 2"))]).is_ok());
    }
}
