//! Send classifications and their profiles: the commercial/transactional type, and the
//! customer keys that name them.

use std::fmt;

/// What kind of message a send classification sends (Marketing Cloud's names).
///
/// A commercial send needs the sender's statement that the audience consented and skips
/// opted-out, unsubscribed and hard-bounced addresses; a transactional send ignores
/// unsubscribes but never goes to hard-bounced addresses (send-api.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendClassificationType {
    /// Commercial messages (newsletters, offers).
    Marketing,
    /// Transactional messages (receipts, password resets).
    Operational,
}

/// A text that names no send classification type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "sendClassificationType is Marketing (commercial) or Operational (transactional), got {0:?}"
)]
pub struct UnknownClassificationType(pub String);

impl SendClassificationType {
    /// Parses `Marketing` or `Operational`, in any case.
    pub fn parse(text: &str) -> Result<Self, UnknownClassificationType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "marketing" => Ok(Self::Marketing),
            "operational" => Ok(Self::Operational),
            _ => Err(UnknownClassificationType(text.to_owned())),
        }
    }

    /// The name as Marketing Cloud spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Marketing => "Marketing",
            Self::Operational => "Operational",
        }
    }

    /// Whether messages of this type are commercial (subject to opt-outs and unsubscribes).
    pub fn is_commercial(self) -> bool {
        self == Self::Marketing
    }
}

impl fmt::Display for SendClassificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The customer key of a send classification, sender profile or delivery profile: unique
/// per account and kind, chosen by the client (or generated).
///
/// 1 to 128 characters, no control characters, blanks around it ignored, and not only
/// digits: digit strings are ids, so `"123"` always means the object with id 123 wherever
/// an id or a customer key is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerKey(String);

/// Why a text is not a customer key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCustomerKey {
    #[error("customerKey has 1 to {max} characters, got {0}", max = CustomerKey::MAX_CHARS)]
    Length(usize),
    #[error("customerKey cannot contain control characters (line breaks, tabs…)")]
    Control,
    #[error("customerKey cannot be only digits: digit strings are ids")]
    Digits,
}

impl CustomerKey {
    /// The longest key, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Parses a key; blanks around it are ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidCustomerKey> {
        let text = text.trim();
        let length = text.chars().count();
        if !(1..=Self::MAX_CHARS).contains(&length) {
            return Err(InvalidCustomerKey::Length(length));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidCustomerKey::Control);
        }
        if text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(InvalidCustomerKey::Digits);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id that `text` names, when it is a digit string (an id rather than a customer key).
pub fn id_in(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_key_is_trimmed_text_that_is_not_only_digits() {
        assert_eq!(
            CustomerKey::parse(" Default Commercial ").unwrap().as_str(),
            "Default Commercial"
        );
        assert!(CustomerKey::parse("spring-2026_01").is_ok());
        assert_eq!(CustomerKey::parse("  "), Err(InvalidCustomerKey::Length(0)));
        assert_eq!(
            CustomerKey::parse(&"k".repeat(129)),
            Err(InvalidCustomerKey::Length(129))
        );
        assert_eq!(CustomerKey::parse("a\nb"), Err(InvalidCustomerKey::Control));
        assert_eq!(
            CustomerKey::parse("123456"),
            Err(InvalidCustomerKey::Digits)
        );
    }

    #[test]
    fn digit_strings_are_ids_and_anything_else_is_not() {
        assert_eq!(id_in("123456"), Some(123_456));
        assert_eq!(id_in(" 7 "), Some(7));
        for text in ["", "Default", "12a", "-1", "+1", "99999999999999999999"] {
            assert_eq!(id_in(text), None, "{text}");
        }
    }

    #[test]
    fn both_types_parse_in_any_case_and_print_back_as_marketing_cloud_spells_them() {
        for (text, expected) in [
            ("Marketing", SendClassificationType::Marketing),
            ("operational", SendClassificationType::Operational),
            (" OPERATIONAL ", SendClassificationType::Operational),
        ] {
            assert_eq!(SendClassificationType::parse(text), Ok(expected));
        }
        assert_eq!(SendClassificationType::Marketing.to_string(), "Marketing");
        assert!(SendClassificationType::Marketing.is_commercial());
        assert!(!SendClassificationType::Operational.is_commercial());
    }

    #[test]
    fn any_other_value_is_refused_by_name() {
        let error = SendClassificationType::parse("Commercial").unwrap_err();
        assert!(error.to_string().contains("\"Commercial\""), "{error}");
        assert!(SendClassificationType::parse("").is_err());
    }
}
