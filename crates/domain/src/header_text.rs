//! Free text bound for a header field: from names, subjects, reply-to names.
//!
//! A line break in such text would end the header and let the rest inject new ones, so
//! [`header_safe`] refuses it at the edge; rendering replaces such characters instead
//! (see [`crate::personalization::Escape::Header`]).

/// Whether `character` must never reach a header: CR, LF and every other control
/// character, except TAB (which headers allow as white space).
pub(crate) fn is_header_unsafe(character: char) -> bool {
    character.is_control() && character != '\t'
}

/// Text held a character that must not reach a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "text for an email header cannot contain line breaks or control characters, \
     found {character:?} at character {position}"
)]
pub struct HeaderUnsafe {
    pub character: char,
    /// 1-based, in characters.
    pub position: usize,
}

/// Returns `text` unchanged if it holds no CR, LF or other control character (TAB is fine).
pub fn header_safe(text: &str) -> Result<&str, HeaderUnsafe> {
    match text
        .chars()
        .enumerate()
        .find(|(_, character)| is_header_unsafe(*character))
    {
        Some((index, character)) => Err(HeaderUnsafe {
            character,
            position: index + 1,
        }),
        None => Ok(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_with_tabs_and_non_ascii_letters_is_header_safe() {
        let text = "Café news\tfor you — 50% off";
        assert_eq!(header_safe(text), Ok(text));
        assert_eq!(header_safe(""), Ok(""));
    }

    #[test]
    fn a_line_break_is_refused_where_it_is() {
        assert_eq!(
            header_safe("Hello\r\nBcc: everyone@example.com"),
            Err(HeaderUnsafe {
                character: '\r',
                position: 6
            })
        );
        assert_eq!(
            header_safe("Hé\nx"),
            Err(HeaderUnsafe {
                character: '\n',
                position: 3
            })
        );
    }

    #[test]
    fn other_control_characters_are_refused_too() {
        for character in ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}'] {
            let text = format!("a{character}b");
            assert_eq!(
                header_safe(&text),
                Err(HeaderUnsafe {
                    character,
                    position: 2
                })
            );
        }
    }

    #[test]
    fn the_error_says_what_was_found_and_where() {
        assert_eq!(
            header_safe("Hi\n").unwrap_err().to_string(),
            "text for an email header cannot contain line breaks or control characters, \
             found '\\n' at character 3"
        );
    }
}
