//! Names and descriptions of campaigns and reports.

use herald_domain::header_text::header_safe;

use crate::service::{Error, Result};

/// The longest campaign or report name, in characters (Salesforce's campaign limit).
const MAX_NAME: usize = 80;
/// The longest campaign description, in characters.
const MAX_DESCRIPTION: usize = 1000;

/// A name: trimmed, not empty, at most 80 characters, no line breaks or control characters.
pub fn name(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("name cannot be empty"));
    }
    header_safe(text).map_err(|err| Error::invalid(format!("name: {err}")))?;
    if text.chars().count() > MAX_NAME {
        return Err(Error::invalid(format!(
            "name: at most {MAX_NAME} characters"
        )));
    }
    Ok(text.to_owned())
}

/// A description: trimmed, at most 1000 characters, line breaks allowed; blank is none.
pub fn description(text: Option<&str>) -> Result<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if let Some(control) = text
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err(Error::invalid(format!(
            "description: control characters are not allowed, found {control:?}"
        )));
    }
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(Error::invalid(format!(
            "description: at most {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(Some(text.to_owned()))
}
