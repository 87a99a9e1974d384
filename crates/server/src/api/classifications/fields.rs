//! Checking the texts of a create or update. Every refusal is a 400 (errorcode 10003) whose
//! message starts with the key at fault.

use herald_domain::classification::CustomerKey;
use herald_domain::email_address::EmailAddress;
use herald_domain::header_text::header_safe;
use herald_domain::personalization::Template;
use herald_store::MetaFields;

use crate::api::error::ApiError;

/// The longest name, description and header-bound text, in characters.
pub const NAME_MAX: usize = 128;
const DESCRIPTION_MAX: usize = 4000;
pub const HEADER_TEXT_MAX: usize = 256;

fn invalid(field: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("{field}: {problem}"))
}

/// Refuses `text` when it has more than `max` characters.
pub fn at_most(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    let length = text.chars().count();
    if length > max {
        return Err(invalid(
            field,
            format!("has at most {max} characters, got {length}"),
        ));
    }
    Ok(())
}

/// One line of text, fit for an email header (no CR, LF or other control character);
/// blanks around it are dropped. May be empty.
pub fn line(field: &str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = header_safe(text.trim()).map_err(|err| invalid(field, err))?;
    at_most(field, text, max)?;
    Ok(text.to_owned())
}

/// A [`line`] that cannot be empty.
pub fn required_line(field: &str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = line(field, text, max)?;
    if text.is_empty() {
        return Err(invalid(field, "cannot be empty"));
    }
    Ok(text)
}

/// A [`line`] that may be absent; empty means absent.
pub fn optional_line(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let text = line(field, text.unwrap_or_default(), max)?;
    Ok((!text.is_empty()).then_some(text))
}

/// Text that may hold `%%Name%%` personalization strings: it must parse as a template.
pub fn template(field: &str, text: &str, max: usize) -> Result<String, ApiError> {
    at_most(field, text, max)?;
    Template::parse(text).map_err(|err| invalid(field, err))?;
    Ok(text.to_owned())
}

pub fn email(field: &str, text: &str) -> Result<EmailAddress, ApiError> {
    EmailAddress::parse(text).map_err(|err| invalid(field, err))
}

/// An address that may be absent; empty means absent.
pub fn optional_email(field: &str, text: Option<&str>) -> Result<Option<EmailAddress>, ApiError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => email(field, text).map(Some),
    }
}

/// The name, customer key and description every object has. An absent or empty customer
/// key means: generate one (create), keep the current one (update).
pub fn meta(
    name: &str,
    customer_key: Option<&str>,
    description: Option<&str>,
) -> Result<MetaFields, ApiError> {
    let customer_key = match customer_key.map(str::trim) {
        None | Some("") => None,
        Some(key) => {
            Some(CustomerKey::parse(key).map_err(|err| ApiError::invalid(err.to_string()))?)
        }
    };
    let description = description.unwrap_or_default().trim();
    at_most("description", description, DESCRIPTION_MAX)?;
    Ok(MetaFields {
        customer_key,
        name: required_line("name", name, NAME_MAX)?,
        description: description.to_owned(),
    })
}
