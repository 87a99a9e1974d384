//! Marketing Cloud personalization strings: `%%FirstName%%` in subjects, bodies and links.
//!
//! A [`Template`] is parsed once (when a send is defined or scheduled) and rendered once per
//! recipient.
//!
//! The syntax: `%%`, a name, `%%`. A name starts with an ASCII letter or `_` and goes on
//! with ASCII letters, digits and `_`; names are case-insensitive. A single `%` is plain
//! text, but every `%%` opens a personalization string: there is no escape for a literal
//! `%%`, so `%%%%` is an (empty, refused) string, and a `%%` that is not closed is an
//! error rather than silently kept. AMPscript (`%%[ … ]%%` and `%%= … =%%`) is refused.

use crate::header_text::is_header_unsafe;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// The system personalization strings (send-api.md section 5), by lower-case key.
/// Herald defines these for every recipient; other names come from the audience.
pub const SYSTEM_NAMES: &[&str] = &[
    "emailaddr",
    "_subscriberkey",
    "jobid",
    "_emailid",
    "emailname_",
    "xtmonth",
    "xtday",
    "xtyear",
    "xtshortdate",
    "xtlongdate",
    "member_busname",
    "member_addr",
    "member_city",
    "member_state",
    "member_postalcode",
    "member_country",
    "unsub_center_url",
    "profile_center_url",
    "view_email_url",
];

/// A text split into literal parts and `%%Name%%` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
    /// Lower-case keys, each once, in order of first use.
    keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Range<usize>),
    /// `name` is where the name (as spelled) sits in the source; `key` indexes `keys`.
    Placeholder {
        name: Range<usize>,
        key: usize,
    },
}

/// How a value is escaped as it goes into the rendered text. Literal text is never escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Plain text: values go in as they are.
    None,
    /// HTML: `&`, `<`, `>`, `"` and `'` become entities.
    Html,
    /// A header field: CR, LF and other control characters (not TAB) become a space, so a
    /// value can never end the header.
    Header,
}

/// Where a problem is in a template's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// 0-based, in bytes.
    pub offset: usize,
}

/// Why a text is not a valid template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `%%` with no closing `%%` on its line; the position is that of the opening `%%`.
    #[error("unterminated personalization string starting at {0}")]
    Unterminated(Position),
    /// A character that cannot be part of a name, between `%%` and a later `%%`.
    #[error("invalid character {character:?} in personalization string at {position}")]
    InvalidCharacter { character: char, position: Position },
    /// `%%%%`.
    #[error("empty personalization string at {0}")]
    EmptyName(Position),
    /// `%%[` or `%%=`.
    #[error("AMPscript blocks are not supported (found at {0})")]
    AmpScript(Position),
}

/// A placeholder that the lookup did not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("personalization string %%{name}%% is not defined")]
pub struct MissingName {
    /// The name as the template spells it.
    pub name: String,
}

impl Template {
    /// Splits `text` into literal parts and placeholders, or says where it is malformed.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut keys = Vec::new();
        let mut key_indexes = HashMap::new();
        let mut literal_start = 0;
        while let Some(found) = text[literal_start..].find("%%") {
            let open = literal_start + found;
            let name_start = open + 2;
            let name = name_start..name_start + name_length(&text[name_start..]);
            if name.is_empty() || !text[name.end..].starts_with("%%") {
                return Err(TemplateError::at(text, open, name.end));
            }
            if literal_start < open {
                parts.push(Part::Literal(literal_start..open));
            }
            let key = *key_indexes
                .entry(text[name.clone()].to_ascii_lowercase())
                .or_insert_with_key(|key| {
                    keys.push(key.clone());
                    keys.len() - 1
                });
            literal_start = name.end + 2;
            parts.push(Part::Placeholder { name, key });
        }
        if literal_start < text.len() {
            parts.push(Part::Literal(literal_start..text.len()));
        }
        Ok(Self {
            source: text.to_owned(),
            parts,
            keys,
        })
    }

    /// The lower-case keys of the placeholders, each once, in order of first use.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Fills every placeholder with `lookup(key)` (`key` is the lower-case name), escaped
    /// as `escape` says, in one pass. The first placeholder `lookup` does not define is an
    /// error naming it as the template spells it.
    pub fn render<'v>(
        &self,
        mut lookup: impl FnMut(&str) -> Option<Cow<'v, str>>,
        escape: Escape,
    ) -> Result<String, MissingName> {
        // Values are usually about as long as the `%%Name%%` they replace.
        let mut rendered = String::with_capacity(self.source.len() + self.source.len() / 4);
        for part in &self.parts {
            match part {
                Part::Literal(range) => rendered.push_str(&self.source[range.clone()]),
                Part::Placeholder { name, key } => {
                    let value = lookup(&self.keys[*key]).ok_or_else(|| MissingName {
                        name: self.source[name.clone()].to_owned(),
                    })?;
                    escape.push(&mut rendered, &value);
                }
            }
        }
        Ok(rendered)
    }
}

/// The length in bytes of the name at the start of `text` (0 if there is none).
fn name_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(first) if first.is_ascii_alphabetic() || *first == b'_' => {
            1 + bytes[1..]
                .iter()
                .take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_')
                .count()
        }
        _ => 0,
    }
}

impl TemplateError {
    /// Where the problem is.
    pub fn position(&self) -> Position {
        match self {
            TemplateError::Unterminated(position)
            | TemplateError::EmptyName(position)
            | TemplateError::AmpScript(position)
            | TemplateError::InvalidCharacter { position, .. } => *position,
        }
    }

    /// Explains a `%%` at `open` whose name stopped at `stop` without a closing `%%`.
    fn at(text: &str, open: usize, stop: usize) -> Self {
        let after_open = &text[open + 2..];
        if after_open.starts_with(['[', '=']) {
            return Self::AmpScript(Position::of(text, open));
        }
        if after_open.starts_with("%%") {
            return Self::EmptyName(Position::of(text, open));
        }
        // A stray character is the problem only if a closing `%%` follows on the same line;
        // otherwise the string was never closed (as in `50%% off`).
        let rest_of_line = text[stop..].split('\n').next().unwrap_or_default();
        match rest_of_line.chars().next() {
            Some(character) if rest_of_line.contains("%%") => Self::InvalidCharacter {
                character,
                position: Position::of(text, stop),
            },
            _ => Self::Unterminated(Position::of(text, open)),
        }
    }
}

impl Position {
    fn of(text: &str, offset: usize) -> Self {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        Self {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            offset,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl Escape {
    fn push(self, rendered: &mut String, value: &str) {
        match self {
            Escape::None => rendered.push_str(value),
            Escape::Html => push_replacing(rendered, value, |character| match character {
                '&' => Some("&amp;"),
                '<' => Some("&lt;"),
                '>' => Some("&gt;"),
                '"' => Some("&quot;"),
                '\'' => Some("&#39;"),
                _ => None,
            }),
            Escape::Header => push_replacing(rendered, value, |character| {
                is_header_unsafe(character).then_some(" ")
            }),
        }
    }
}

/// Appends `value`, replacing each character for which `replacement` gives a text;
/// the runs in between are copied whole.
fn push_replacing(
    rendered: &mut String,
    value: &str,
    replacement: impl Fn(char) -> Option<&'static str>,
) {
    let mut copied = 0;
    for (index, character) in value.char_indices() {
        if let Some(replacement) = replacement(character) {
            rendered.push_str(&value[copied..index]);
            rendered.push_str(replacement);
            copied = index + character.len_utf8();
        }
    }
    rendered.push_str(&value[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> Template {
        Template::parse(text).unwrap()
    }

    fn error(text: &str) -> TemplateError {
        Template::parse(text).unwrap_err()
    }

    /// Renders with a fixed set of values, keyed by lower-case name.
    fn render(text: &str, values: &[(&str, &str)], escape: Escape) -> Result<String, MissingName> {
        template(text).render(
            |key| {
                values
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, value)| Cow::Borrowed(*value))
            },
            escape,
        )
    }

    fn position(line: usize, column: usize, offset: usize) -> Position {
        Position {
            line,
            column,
            offset,
        }
    }

    #[test]
    fn text_without_placeholders_renders_unchanged() {
        for text in ["", "Hello, world", "100% sure, 5 % more, a % b %"] {
            assert_eq!(render(text, &[], Escape::Html).unwrap(), text);
            assert_eq!(template(text).names().count(), 0);
        }
    }

    #[test]
    fn a_placeholder_is_replaced_by_the_value_of_its_lower_case_key() {
        let values = [("firstname", "Ann"), ("member_city", "Lyon")];
        assert_eq!(
            render(
                "Hi %%FirstName%%, from %%Member_City%%!",
                &values,
                Escape::None
            )
            .unwrap(),
            "Hi Ann, from Lyon!"
        );
        assert_eq!(
            render("%%firstname%%", &values, Escape::None).unwrap(),
            "Ann"
        );
    }

    #[test]
    fn names_are_listed_once_in_lower_case_in_order_of_first_use() {
        let parsed = template("%%LastName%% %%FirstName%% %%lastname%% %%_SubscriberKey%%");
        assert_eq!(
            parsed.names().collect::<Vec<_>>(),
            ["lastname", "firstname", "_subscriberkey"]
        );
    }

    #[test]
    fn placeholders_may_touch_each_other_and_single_percent_signs() {
        let values = [("a", "1"), ("b", "2")];
        assert_eq!(render("%%a%%%%b%%", &values, Escape::None).unwrap(), "12");
        assert_eq!(
            render("%%a%%% and %%b%%%", &values, Escape::None).unwrap(),
            "1% and 2%"
        );
        assert_eq!(
            render("x%%a_9%%y", &[("a_9", "-")], Escape::None).unwrap(),
            "x-y"
        );
    }

    #[test]
    fn an_unterminated_placeholder_is_reported_where_it_starts() {
        let text = "Hello,\n\nWe miss you, %%FirstName\nCome back!";
        let problem = error(text);
        assert_eq!(problem, TemplateError::Unterminated(position(3, 14, 21)));
        assert_eq!(
            problem.to_string(),
            "unterminated personalization string starting at line 3, column 14"
        );
        assert_eq!(
            error("Save 50%% today"),
            TemplateError::Unterminated(position(1, 8, 7))
        );
        assert_eq!(
            error("%%Name%"),
            TemplateError::Unterminated(position(1, 1, 0))
        );
        assert_eq!(error("%%"), TemplateError::Unterminated(position(1, 1, 0)));
    }

    #[test]
    fn a_placeholder_closed_only_on_a_later_line_is_unterminated() {
        assert_eq!(
            error("%%First\nName%%"),
            TemplateError::Unterminated(position(1, 1, 0))
        );
        assert_eq!(
            error("a %%First\r\nName%%"),
            TemplateError::Unterminated(position(1, 3, 2))
        );
    }

    #[test]
    fn an_invalid_character_in_a_name_is_reported_where_it_is() {
        let problem = error("Dear %%First-Name%%");
        assert_eq!(
            problem,
            TemplateError::InvalidCharacter {
                character: '-',
                position: position(1, 13, 12)
            }
        );
        assert_eq!(
            problem.to_string(),
            "invalid character '-' in personalization string at line 1, column 13"
        );
        assert_eq!(
            error("%%First Name%%").to_string(),
            "invalid character ' ' in personalization string at line 1, column 8"
        );
    }

    #[test]
    fn a_name_cannot_start_with_a_digit() {
        assert_eq!(
            error("%%1st%%"),
            TemplateError::InvalidCharacter {
                character: '1',
                position: position(1, 3, 2)
            }
        );
    }

    #[test]
    fn four_percent_signs_are_an_empty_name_not_an_escape() {
        assert_eq!(
            error("100%%%% off"),
            TemplateError::EmptyName(position(1, 4, 3))
        );
    }

    #[test]
    fn ampscript_blocks_are_refused_where_they_start() {
        let problem = error("Hi\n  %%[ SET @x = 1 ]%%");
        assert_eq!(problem, TemplateError::AmpScript(position(2, 3, 5)));
        assert_eq!(
            problem.to_string(),
            "AMPscript blocks are not supported (found at line 2, column 3)"
        );
        assert_eq!(error("Hi %%=v(@name)=%%").position(), position(1, 4, 3));
    }

    #[test]
    fn columns_count_characters_and_offsets_count_bytes() {
        assert_eq!(
            error("Ça été %%Prénom%%"),
            TemplateError::InvalidCharacter {
                character: 'é',
                position: position(1, 12, 14)
            }
        );
    }

    #[test]
    fn a_missing_value_names_the_placeholder_as_the_template_spells_it() {
        let missing = render("Hi %%FirstName%%", &[], Escape::None).unwrap_err();
        assert_eq!(
            missing,
            MissingName {
                name: "FirstName".into()
            }
        );
        assert_eq!(
            missing.to_string(),
            "personalization string %%FirstName%% is not defined"
        );
    }

    #[test]
    fn an_empty_value_is_not_a_missing_one() {
        assert_eq!(render("[%%x%%]", &[("x", "")], Escape::Html).unwrap(), "[]");
    }

    #[test]
    fn html_escaping_applies_to_values_and_not_to_the_template() {
        let values = [("name", "<b>Tom & \"Jerry's\"</b>")];
        assert_eq!(
            render("<p>%%Name%%</p>", &values, Escape::Html).unwrap(),
            "<p>&lt;b&gt;Tom &amp; &quot;Jerry&#39;s&quot;&lt;/b&gt;</p>"
        );
        assert_eq!(
            render("<p>%%Name%%</p>", &values, Escape::None).unwrap(),
            "<p><b>Tom & \"Jerry's\"</b></p>"
        );
    }

    #[test]
    fn header_escaping_turns_line_breaks_and_controls_into_spaces_and_keeps_tabs() {
        let values = [("name", "Ann\r\nBcc: all@example.com\u{0}\té")];
        assert_eq!(
            render("Hi %%Name%%", &values, Escape::Header).unwrap(),
            "Hi Ann  Bcc: all@example.com \té"
        );
    }

    #[test]
    fn a_lookup_may_borrow_from_recipient_data_and_own_computed_values() {
        struct Recipient {
            first_name: String,
        }
        let recipient = Recipient {
            first_name: "Ann".into(),
        };
        let parsed = template("%%FirstName%% / %%xtyear%%");
        let rendered = parsed
            .render(
                |key| match key {
                    "firstname" => Some(Cow::Borrowed(recipient.first_name.as_str())),
                    "xtyear" => Some(Cow::Owned(2026.to_string())),
                    _ => None,
                },
                Escape::None,
            )
            .unwrap();
        assert_eq!(rendered, "Ann / 2026");
    }

    #[test]
    fn system_names_are_lower_case_valid_names() {
        for name in SYSTEM_NAMES {
            assert_eq!(*name, name.to_ascii_lowercase());
            let parsed = template(&format!("%%{name}%%"));
            assert_eq!(parsed.names().collect::<Vec<_>>(), [*name]);
        }
        assert_eq!(SYSTEM_NAMES.len(), 19);
    }
}
