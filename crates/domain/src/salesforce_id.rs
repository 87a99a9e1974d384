//! Salesforce record ids, in their 15- and 18-character forms.
//!
//! A Salesforce id is 15 case-sensitive letters and digits. The 18-character form appends
//! three characters that record which of the first 15 are upper-case letters, so the id
//! survives systems that ignore case. Herald keeps the 18-character form, and the two forms
//! of one id are equal.
//!
//! The suffix is compared without regard to case (`…IqhSLiaz` is `…IqhSLIAZ`), as Salesforce
//! does; the first 15 characters are always compared exactly.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Key prefix of Contact records.
pub const CONTACT_PREFIX: &str = "003";
/// Key prefix of Lead records.
pub const LEAD_PREFIX: &str = "00Q";
/// Key prefix of Campaign records.
pub const CAMPAIGN_PREFIX: &str = "701";
/// Key prefix of Report records.
pub const REPORT_PREFIX: &str = "00O";

/// The value of each suffix character, 0 to 31, is its index here.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A Salesforce record id, held in its canonical 18-character form.
///
/// Equality, hashing and ordering use the 18-character form, so an id parsed from its
/// 15-character form equals the same id parsed from its 18-character form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SalesforceId([u8; 18]);

/// Why a text is not a Salesforce id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSalesforceId {
    #[error("a Salesforce id has 15 or 18 characters, got {0}")]
    Length(usize),
    #[error(
        "a Salesforce id holds only the letters A-Z, a-z and the digits 0-9, \
         got {character:?} at position {position}"
    )]
    Character {
        character: char,
        /// 1-based, in characters.
        position: usize,
    },
    #[error(
        "the last 3 characters of an 18-character Salesforce id must be {expected:?} \
         to match its first 15, got {found:?}"
    )]
    Checksum { expected: String, found: String },
}

impl SalesforceId {
    /// Parses a 15- or 18-character id; blanks around it are ignored.
    ///
    /// An 18-character id must carry the suffix its first 15 characters call for
    /// (compared without regard to case).
    pub fn parse(text: &str) -> Result<Self, InvalidSalesforceId> {
        let text = text.trim();
        let length = text.chars().count();
        if length != 15 && length != 18 {
            return Err(InvalidSalesforceId::Length(length));
        }
        if let Some((position, character)) = text
            .chars()
            .enumerate()
            .find(|(_, character)| !character.is_ascii_alphanumeric())
        {
            return Err(InvalidSalesforceId::Character {
                character,
                position: position + 1,
            });
        }
        // All ASCII from here on, so bytes are characters.
        let id = Self::with_suffix(&text.as_bytes()[..15]);
        let found = &text[15..];
        if !found.is_empty() && !found.eq_ignore_ascii_case(&id.as_str()[15..]) {
            return Err(InvalidSalesforceId::Checksum {
                expected: id.as_str()[15..].to_owned(),
                found: found.to_owned(),
            });
        }
        Ok(id)
    }

    /// Builds a valid id from a key prefix and a sequence number: the prefix, then `n` in
    /// base 62 padded to 12 characters, then the suffix. The same inputs always give the
    /// same id, and different numbers give different ids; used to mint ids for Herald's
    /// own CRM records.
    ///
    /// # Panics
    /// If `key_prefix` is not 3 ASCII letters or digits (it is a constant in the caller).
    pub fn generate(key_prefix: &str, n: u64) -> Self {
        assert!(
            key_prefix.len() == 3 && key_prefix.bytes().all(|byte| byte.is_ascii_alphanumeric()),
            "a Salesforce key prefix is 3 ASCII letters or digits, got {key_prefix:?}"
        );
        let mut first15 = [b'0'; 15];
        first15[..3].copy_from_slice(key_prefix.as_bytes());
        let mut rest = n;
        // 62^12 > 2^64, so every u64 fits in the 12 characters.
        for slot in first15[3..].iter_mut().rev() {
            *slot = BASE62[(rest % 62) as usize];
            rest /= 62;
        }
        Self::with_suffix(&first15)
    }

    /// The canonical 18-character form.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a Salesforce id is ASCII")
    }

    /// The 15-character (case-sensitive) form.
    pub fn as_15(&self) -> &str {
        &self.as_str()[..15]
    }

    /// The first 3 characters, which name the kind of record (`003` is a Contact).
    pub fn key_prefix(&self) -> &str {
        &self.as_str()[..3]
    }

    /// The sequence number [`SalesforceId::generate`] made this id from: its 12
    /// characters after the key prefix read as a base-62 number. `None` when they do not
    /// fit in a `u64`, which no id Herald mints does.
    pub fn sequence(&self) -> Option<u64> {
        self.0[3..15].iter().try_fold(0u64, |n, byte| {
            let digit = BASE62.iter().position(|b| b == byte)? as u64;
            n.checked_mul(62)?.checked_add(digit)
        })
    }

    /// `first15` must be 15 ASCII letters or digits.
    fn with_suffix(first15: &[u8]) -> Self {
        let mut id = [0; 18];
        id[..15].copy_from_slice(first15);
        for (slot, chunk) in id[15..].iter_mut().zip(first15.chunks_exact(5)) {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, byte)| byte.is_ascii_uppercase())
                .fold(0, |bits, (index, _)| bits | 1 << index);
            *slot = SUFFIX_ALPHABET[bits];
        }
        Self(id)
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SalesforceId").field(&self.as_str()).finish()
    }
}

impl FromStr for SalesforceId {
    type Err = InvalidSalesforceId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Written as the 18-character form.
impl Serialize for SalesforceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read with [`SalesforceId::parse`]: either form is accepted.
impl<'de> Deserialize<'de> for SalesforceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn id(text: &str) -> SalesforceId {
        SalesforceId::parse(text).unwrap()
    }

    #[test]
    fn a_15_character_id_gains_its_case_checksum_suffix() {
        // Suffixes worked out by hand: "001D0" has an upper-case letter at index 3 only,
        // 0b01000 = 8 = 'I'; "00000" has none, 'A'; "IqhSL" at 0, 3, 4, 0b11001 = 25 = 'Z'.
        assert_eq!(id("001D000000IqhSL").as_str(), "001D000000IqhSLIAZ");
        assert_eq!(id("00Q5e00000ABCde").as_str(), "00Q5e00000ABCdeEAH");
        assert_eq!(id("a0D30000001n7Pi").as_str(), "a0D30000001n7PiEAI");
        assert_eq!(id("00D000000000062").as_str(), "00D000000000062EAA");
        assert_eq!(id("ZZZZZZZZZZZZZZZ").as_str(), "ZZZZZZZZZZZZZZZ555");
    }

    #[test]
    fn the_15_and_18_character_forms_of_one_id_are_equal_and_hash_alike() {
        let short = id("001D000000IqhSL");
        let long = id("001D000000IqhSLIAZ");
        assert_eq!(short, long);
        assert_eq!(long.as_15(), "001D000000IqhSL");
        assert_eq!(HashSet::from([short, long]).len(), 1);
    }

    #[test]
    fn a_minted_id_gives_back_its_sequence_number() {
        for n in [0, 1, 61, 62, 1_000_000, u64::MAX] {
            assert_eq!(SalesforceId::generate("003", n).sequence(), Some(n));
        }
        assert_eq!(id("zzzzzzzzzzzzzzz").sequence(), None);
    }

    #[test]
    fn the_suffix_is_compared_without_regard_to_case_and_kept_upper_case() {
        assert_eq!(id("001D000000IqhSLiaz").as_str(), "001D000000IqhSLIAZ");
    }

    #[test]
    fn an_18_character_id_whose_suffix_does_not_match_is_refused() {
        assert_eq!(
            SalesforceId::parse("001D000000IqhSLIAA"),
            Err(InvalidSalesforceId::Checksum {
                expected: "IAZ".into(),
                found: "IAA".into()
            })
        );
    }

    #[test]
    fn the_first_15_characters_are_case_sensitive() {
        assert_ne!(id("001d000000iqhsl"), id("001D000000IqhSL"));
        // A lower-cased 18-character id no longer matches its own suffix.
        assert_eq!(
            SalesforceId::parse("001d000000iqhsliaz"),
            Err(InvalidSalesforceId::Checksum {
                expected: "AAA".into(),
                found: "iaz".into()
            })
        );
    }

    #[test]
    fn an_id_of_the_wrong_length_is_refused_with_its_length() {
        for (text, length) in [("", 0), ("001D000000IqhS", 14), ("001D000000IqhSLI", 16)] {
            assert_eq!(
                SalesforceId::parse(text),
                Err(InvalidSalesforceId::Length(length))
            );
        }
        assert_eq!(
            SalesforceId::parse("001D000000IqhSLIAZX"),
            Err(InvalidSalesforceId::Length(19))
        );
    }

    #[test]
    fn a_character_other_than_an_ascii_letter_or_digit_is_refused_where_it_is() {
        assert_eq!(
            SalesforceId::parse("001D000000Iq-SL"),
            Err(InvalidSalesforceId::Character {
                character: '-',
                position: 13
            })
        );
        assert_eq!(
            SalesforceId::parse("001D000000IqhSé"),
            Err(InvalidSalesforceId::Character {
                character: 'é',
                position: 15
            })
        );
    }

    #[test]
    fn blanks_around_an_id_are_ignored() {
        assert_eq!(id(" 001D000000IqhSL\n"), id("001D000000IqhSLIAZ"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let message = |text| SalesforceId::parse(text).unwrap_err().to_string();
        assert_eq!(
            message("00Q"),
            "a Salesforce id has 15 or 18 characters, got 3"
        );
        assert!(message("001D000000Iq SL").contains("' ' at position 13"));
        assert_eq!(
            message("001D000000IqhSLIAA"),
            "the last 3 characters of an 18-character Salesforce id must be \"IAZ\" \
             to match its first 15, got \"IAA\""
        );
    }

    #[test]
    fn a_generated_id_is_the_prefix_the_number_in_base_62_and_the_suffix() {
        assert_eq!(
            SalesforceId::generate(CONTACT_PREFIX, 1).as_str(),
            "003000000000001AAA"
        );
        assert_eq!(
            SalesforceId::generate(REPORT_PREFIX, 1).as_str(),
            "00O000000000001EAA"
        );
        assert_eq!(
            SalesforceId::generate(LEAD_PREFIX, 62).as_str(),
            "00Q000000000010EAA"
        );
        assert_eq!(
            SalesforceId::generate(CAMPAIGN_PREFIX, 61).as_15(),
            "70100000000000z"
        );
        // 36 = 'a' and 10 = 'A': ids are case-sensitive, so these differ.
        assert_ne!(
            SalesforceId::generate(CONTACT_PREFIX, 36),
            SalesforceId::generate(CONTACT_PREFIX, 10)
        );
    }

    #[test]
    fn generated_ids_are_valid_and_keep_their_prefix_even_for_the_largest_number() {
        for n in [0, 1, 61, 62, 12_345_678, u64::MAX] {
            for prefix in [CONTACT_PREFIX, LEAD_PREFIX, CAMPAIGN_PREFIX, REPORT_PREFIX] {
                let generated = SalesforceId::generate(prefix, n);
                assert_eq!(generated.key_prefix(), prefix);
                assert_eq!(id(generated.as_str()), generated);
                assert_eq!(id(generated.as_15()), generated);
            }
        }
        assert_eq!(
            SalesforceId::generate(CONTACT_PREFIX, u64::MAX).as_15(),
            "0030LygHa16AHYF"
        );
    }

    #[test]
    #[should_panic(expected = "key prefix")]
    fn generating_with_a_prefix_that_is_not_3_letters_or_digits_panics() {
        SalesforceId::generate("0-3", 1);
    }

    #[test]
    fn an_id_serializes_as_its_18_character_form_and_deserializes_from_either() {
        let long = id("001D000000IqhSL");
        assert_eq!(
            serde_json::to_string(&long).unwrap(),
            "\"001D000000IqhSLIAZ\""
        );
        let read: SalesforceId = serde_json::from_str("\"001D000000IqhSL\"").unwrap();
        assert_eq!(read, long);
        let refused = serde_json::from_str::<SalesforceId>("\"001D000000IqhSLIAA\"");
        assert!(refused.unwrap_err().to_string().contains("must be \"IAZ\""));
    }

    #[test]
    fn an_id_displays_and_parses_as_text() {
        let long: SalesforceId = "001D000000IqhSL".parse().unwrap();
        assert_eq!(long.to_string(), "001D000000IqhSLIAZ");
        assert_eq!(format!("{long:?}"), "SalesforceId(\"001D000000IqhSLIAZ\")");
    }
}
