//! Email addresses, as Herald will send to them.
//!
//! [`EmailAddress::parse`] accepts the addresses people have in practice: a dot-atom local
//! part (RFC 5322 `atext` and dots) and a domain name, ASCII or international. It refuses
//! what a send engine should not put in an envelope or a header: quoted local parts,
//! IP-address domains, comments, blanks and control characters.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An email address known to be sendable.
///
/// The local part keeps the case it was given (it may matter to the receiving system);
/// the domain is lower-cased. Equality compares that form; use [`EmailAddress::normalized`]
/// for dedupe and suppression keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress {
    text: String,
    /// Byte index of the `@` in `text`.
    at: usize,
}

/// Why a text is not a sendable email address. Messages never repeat the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmailAddress {
    #[error("an email address cannot be empty")]
    Empty,
    #[error("quoted local parts (\"…\"@example.com) are not supported")]
    QuotedLocalPart,
    #[error("an email address cannot contain blanks or control characters, found {0:?}")]
    BlankOrControl(char),
    #[error("an email address needs an '@' between the local part and the domain")]
    MissingAt,
    #[error("an email address holds exactly one '@', found {0}")]
    SeveralAts(usize),
    #[error("the local part (before '@') has 1 to 64 characters, got {0}")]
    LocalPartLength(usize),
    #[error("the local part (before '@') cannot contain {0:?}")]
    LocalPartCharacter(char),
    #[error("the local part (before '@') cannot start or end with a dot or have two in a row")]
    LocalPartDots,
    #[error("the domain has 1 to 253 characters, got {0}")]
    DomainLength(usize),
    #[error("the domain cannot contain {0:?}: only letters, digits, hyphens and dots")]
    DomainCharacter(char),
    #[error("the domain needs at least one dot, as in example.com")]
    DomainWithoutDot,
    #[error("the domain cannot start or end with a dot or have two in a row")]
    EmptyLabel,
    #[error("each dot-separated part of the domain has at most 63 characters, got {0}")]
    LabelLength(usize),
    #[error("a dot-separated part of the domain cannot start or end with a hyphen")]
    LabelHyphen,
    #[error("the last part of the domain cannot be all digits")]
    NumericTopLevelDomain,
    #[error("the domain is not a valid internationalized domain name")]
    InternationalDomain,
}

use InvalidEmailAddress as Invalid;

impl EmailAddress {
    /// Parses an address; blanks around it are ignored.
    ///
    /// The local part is 1 to 64 characters of RFC 5322 `atext` (ASCII letters, digits and
    /// ``!#$%&'*+-/=?^_`{|}~``) and dots, a dot neither first, last nor doubled. The domain
    /// is 1 to 253 characters of dot-separated labels, at least two; a label is 1 to 63
    /// letters, digits and hyphens, not starting or ending with a hyphen, and the last is
    /// not all digits. Labels may also hold non-ASCII letters: such a domain must be valid
    /// IDNA (UTS 46, strict, which also checks the lengths of its punycode form) and is kept
    /// in Unicode, normalized as IDNA does (lower case, NFC), not converted to punycode.
    /// Lengths are counted in characters, as given.
    pub fn parse(text: &str) -> Result<Self, InvalidEmailAddress> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Invalid::Empty);
        }
        if text.starts_with('"') {
            return Err(Invalid::QuotedLocalPart);
        }
        if let Some(character) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid::BlankOrControl(character));
        }
        let (local, domain) = text.split_once('@').ok_or(Invalid::MissingAt)?;
        if domain.contains('@') {
            return Err(Invalid::SeveralAts(text.matches('@').count()));
        }
        check_local_part(local)?;
        let domain = parse_domain(domain)?;
        Ok(Self {
            text: format!("{local}@{domain}"),
            at: local.len(),
        })
    }

    /// The address: local part as given, `@`, lower-case domain.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before the `@`, in the case it was given.
    pub fn local_part(&self) -> &str {
        &self.text[..self.at]
    }

    /// The part after the `@`, lower case (Unicode for an internationalized domain).
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }

    /// The whole address in lower case: the key for dedupe and suppression, so that
    /// `Ann@Example.com` and `ann@example.com` count as one recipient.
    pub fn normalized(&self) -> String {
        // The local part is ASCII and the domain is already lower case.
        self.text.to_ascii_lowercase()
    }
}

fn is_atext(character: char) -> bool {
    character.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(character)
}

fn check_local_part(local: &str) -> Result<(), InvalidEmailAddress> {
    let length = local.chars().count();
    if !(1..=64).contains(&length) {
        return Err(Invalid::LocalPartLength(length));
    }
    if let Some(character) = local.chars().find(|&c| c != '.' && !is_atext(c)) {
        return Err(Invalid::LocalPartCharacter(character));
    }
    if local.split('.').any(str::is_empty) {
        return Err(Invalid::LocalPartDots);
    }
    Ok(())
}

/// Checks the domain and returns it in lower case.
fn parse_domain(domain: &str) -> Result<String, InvalidEmailAddress> {
    let length = domain.chars().count();
    if !(1..=253).contains(&length) {
        return Err(Invalid::DomainLength(length));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || !c.is_ascii();
    if let Some(character) = domain.chars().find(|&c| !allowed(c)) {
        return Err(Invalid::DomainCharacter(character));
    }
    if !domain.contains('.') {
        return Err(Invalid::DomainWithoutDot);
    }
    for label in domain.split('.') {
        match label.chars().count() {
            0 => return Err(Invalid::EmptyLabel),
            length if length > 63 => return Err(Invalid::LabelLength(length)),
            _ if label.starts_with('-') || label.ends_with('-') => {
                return Err(Invalid::LabelHyphen);
            }
            _ => {}
        }
    }
    let top_level = domain.rsplit('.').next().unwrap_or_default();
    if top_level.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Invalid::NumericTopLevelDomain);
    }
    if domain.is_ascii() {
        return Ok(domain.to_ascii_lowercase());
    }
    // Strict: LDH labels after mapping, hyphen rules, DNS lengths of the punycode form.
    let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| Invalid::InternationalDomain)?;
    match idna::domain_to_unicode(&ascii) {
        (unicode, Ok(())) => Ok(unicode),
        (_, Err(_)) => Err(Invalid::InternationalDomain),
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for EmailAddress {
    type Err = InvalidEmailAddress;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Written as [`EmailAddress::as_str`].
impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Read with [`EmailAddress::parse`].
impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    fn refusal(text: &str) -> InvalidEmailAddress {
        EmailAddress::parse(text).unwrap_err()
    }

    #[test]
    fn an_address_keeps_its_local_part_case_and_lowers_its_domain() {
        let parsed = address("Ann.Lee@Mail.Example.COM");
        assert_eq!(parsed.as_str(), "Ann.Lee@mail.example.com");
        assert_eq!(parsed.local_part(), "Ann.Lee");
        assert_eq!(parsed.domain(), "mail.example.com");
        assert_eq!(parsed.normalized(), "ann.lee@mail.example.com");
    }

    #[test]
    fn addresses_differing_only_in_case_share_a_normalized_key() {
        let upper = address("ANN@EXAMPLE.COM");
        let lower = address("ann@example.com");
        assert_ne!(upper, lower);
        assert_eq!(upper.normalized(), lower.normalized());
        assert_eq!(address("ann@EXAMPLE.com"), lower);
    }

    #[test]
    fn blanks_around_an_address_are_ignored() {
        assert_eq!(address("  ann@example.com\r\n").as_str(), "ann@example.com");
    }

    #[test]
    fn every_atext_character_is_allowed_in_the_local_part() {
        let local = "a.b!#$%&'*+-/=?^_`{|}~0";
        assert_eq!(address(&format!("{local}@example.com")).local_part(), local);
    }

    #[test]
    fn an_empty_or_quoted_address_is_refused_with_its_own_message() {
        assert_eq!(refusal("   "), Invalid::Empty);
        assert_eq!(refusal("\"ann lee\"@example.com"), Invalid::QuotedLocalPart);
        assert!(
            Invalid::QuotedLocalPart
                .to_string()
                .contains("not supported")
        );
    }

    #[test]
    fn blanks_and_control_characters_inside_are_refused() {
        assert_eq!(
            refusal("ann@example.com\r\nBcc: all@example.com"),
            Invalid::BlankOrControl('\r')
        );
        assert_eq!(refusal("ann lee@example.com"), Invalid::BlankOrControl(' '));
        assert_eq!(refusal("ann@exa\tmple.com"), Invalid::BlankOrControl('\t'));
        assert_eq!(refusal("ann@example.com\0"), Invalid::BlankOrControl('\0'));
        assert_eq!(
            refusal("ann@exam\u{a0}ple.com"),
            Invalid::BlankOrControl('\u{a0}')
        );
    }

    #[test]
    fn an_address_needs_exactly_one_at_sign() {
        assert_eq!(refusal("ann.example.com"), Invalid::MissingAt);
        assert_eq!(refusal("ann@lee@example.com"), Invalid::SeveralAts(2));
    }

    #[test]
    fn the_local_part_has_1_to_64_characters() {
        assert_eq!(refusal("@example.com"), Invalid::LocalPartLength(0));
        let longest = "a".repeat(64);
        assert_eq!(
            address(&format!("{longest}@example.com")).local_part(),
            longest
        );
        assert_eq!(
            refusal(&format!("{longest}b@example.com")),
            Invalid::LocalPartLength(65)
        );
    }

    #[test]
    fn the_local_part_refuses_characters_outside_atext() {
        for character in ['(', ',', ':', ';', '<', '[', '\\', 'é'] {
            assert_eq!(
                refusal(&format!("an{character}n@example.com")),
                Invalid::LocalPartCharacter(character)
            );
        }
    }

    #[test]
    fn the_local_part_cannot_start_end_or_double_a_dot() {
        for text in [".ann@example.com", "ann.@example.com", "a..nn@example.com"] {
            assert_eq!(refusal(text), Invalid::LocalPartDots, "{text}");
        }
    }

    #[test]
    fn the_domain_has_1_to_253_characters() {
        assert_eq!(refusal("ann@"), Invalid::DomainLength(0));
        // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253
        let label = "a".repeat(63);
        let longest = format!("{label}.{label}.{label}.{}", "b".repeat(61));
        assert_eq!(address(&format!("ann@{longest}")).domain(), longest);
        assert_eq!(
            refusal(&format!("ann@{longest}c")),
            Invalid::DomainLength(254)
        );
    }

    #[test]
    fn the_domain_holds_only_letters_digits_hyphens_and_dots() {
        assert_eq!(refusal("ann@exa_mple.com"), Invalid::DomainCharacter('_'));
        assert_eq!(refusal("ann@[192.0.2.1]"), Invalid::DomainCharacter('['));
        assert_eq!(refusal("ann@example.com>"), Invalid::DomainCharacter('>'));
        assert_eq!(
            address("ann@my-host9.example.com").domain(),
            "my-host9.example.com"
        );
    }

    #[test]
    fn the_domain_needs_a_dot_and_no_empty_labels() {
        assert_eq!(refusal("ann@localhost"), Invalid::DomainWithoutDot);
        for text in ["ann@.example.com", "ann@example..com", "ann@example.com."] {
            assert_eq!(refusal(text), Invalid::EmptyLabel, "{text}");
        }
    }

    #[test]
    fn a_label_has_at_most_63_characters_and_no_hyphen_at_its_ends() {
        let label = "a".repeat(63);
        assert!(EmailAddress::parse(&format!("ann@{label}.com")).is_ok());
        assert_eq!(
            refusal(&format!("ann@{label}a.com")),
            Invalid::LabelLength(64)
        );
        for text in ["ann@-example.com", "ann@example-.com", "ann@example.-com"] {
            assert_eq!(refusal(text), Invalid::LabelHyphen, "{text}");
        }
    }

    #[test]
    fn an_ip_address_is_not_a_domain() {
        assert_eq!(refusal("ann@192.0.2.1"), Invalid::NumericTopLevelDomain);
        assert!(EmailAddress::parse("ann@192.0.2.example").is_ok());
    }

    #[test]
    fn an_international_domain_is_kept_in_unicode_and_lowered() {
        let parsed = address("Ann@Bücher.DE");
        assert_eq!(parsed.domain(), "bücher.de");
        assert_eq!(parsed.as_str(), "Ann@bücher.de");
        assert_eq!(parsed.normalized(), "ann@bücher.de");
        assert_eq!(address("info@MÜNCHEN.de").domain(), "münchen.de");
        // Scripts whose words need combining marks (the virama here) are accepted.
        assert_eq!(address("info@हिन्दी.भारत").domain(), "हिन्दी.भारत");
        assert_eq!(address("info@例え.jp").domain(), "例え.jp");
        // A punycode domain is plain ASCII and stays as given.
        assert_eq!(
            address("info@xn--bcher-kva.de").domain(),
            "xn--bcher-kva.de"
        );
    }

    #[test]
    fn an_international_domain_is_normalized_as_idna_does() {
        // "u" followed by a combining diaeresis becomes the single character "ü".
        assert_eq!(address("info@mu\u{308}nchen.de").domain(), "münchen.de");
    }

    #[test]
    fn an_international_domain_that_idna_refuses_is_refused() {
        for text in [
            "ann@exa\u{202e}mple.com",
            "ann@a\u{5d0}.com",
            "ann@ab--cé.com",
        ] {
            assert_eq!(refusal(text), Invalid::InternationalDomain, "{text}");
        }
    }

    #[test]
    fn error_messages_name_the_problem_without_the_address() {
        let message = refusal("secret.person@exa_mple.com").to_string();
        assert_eq!(
            message,
            "the domain cannot contain '_': only letters, digits, hyphens and dots"
        );
        assert!(!message.contains("secret"));
    }

    #[test]
    fn an_address_serializes_as_text_and_deserializes_through_parse() {
        let parsed = address("Ann@Example.com");
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            "\"Ann@example.com\""
        );
        let read: EmailAddress = serde_json::from_str("\" Ann@EXAMPLE.com \"").unwrap();
        assert_eq!(read, parsed);
        assert!(serde_json::from_str::<EmailAddress>("\"ann@localhost\"").is_err());
    }

    #[test]
    fn an_address_displays_and_parses_as_text() {
        let parsed: EmailAddress = "ann@example.com".parse().unwrap();
        assert_eq!(parsed.to_string(), "ann@example.com");
    }
}
