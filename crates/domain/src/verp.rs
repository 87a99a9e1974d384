//! VERP envelope senders: every message leaves with its own Return-Path,
//! `bounces+{instance}-{recipient}-{tag}@{bounce domain}`, so a bounce that comes back
//! names the message it is about. The ids are base 36 and the tag is the first 12 bytes
//! (24 hex digits) of the link key's HMAC over `verp:{mid}:{instance}:{recipient}`: a
//! forged or altered address does not verify, and an address of one account never
//! verifies for another. Everything is lower case, so a relay that folds the case of the
//! local part does not break it, and the local part is at most 60 characters whatever
//! the ids (RFC 5321 allows 64).

use std::fmt::Write;

use crate::mid::Mid;
use crate::signed_link::LinkKey;

/// The local part before the `+`.
pub const PREFIX: &str = "bounces";
const TAG_BYTES: usize = 12;

/// What a VERP address names, before its tag is checked against the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerpToken {
    pub instance_id: i64,
    pub recipient_id: i64,
    tag: Vec<u8>,
}

fn payload(mid: Mid, instance_id: i64, recipient_id: i64) -> String {
    format!("verp:{mid}:{instance_id}:{recipient_id}")
}

/// The local part of the envelope sender of one message.
pub fn local_part(key: &LinkKey, mid: Mid, instance_id: i64, recipient_id: i64) -> String {
    let tag = key.tag(&payload(mid, instance_id, recipient_id), TAG_BYTES);
    let mut hex = String::with_capacity(2 * TAG_BYTES);
    for byte in tag {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    format!(
        "{PREFIX}+{}-{}-{hex}",
        base36(instance_id),
        base36(recipient_id)
    )
}

impl VerpToken {
    /// Reads a local part (or the start of an address) written by [`local_part`], in any
    /// case; `None` when it does not have that shape.
    pub fn parse(text: &str) -> Option<VerpToken> {
        let text = text.to_ascii_lowercase();
        let rest = text.strip_prefix(PREFIX)?.strip_prefix('+')?;
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len());
        let mut fields = rest[..end].split('-');
        let instance_id = from_base36(fields.next()?)?;
        let recipient_id = from_base36(fields.next()?)?;
        let hex = fields.next()?;
        if fields.next().is_some() || hex.len() != 2 * TAG_BYTES {
            return None;
        }
        let tag = (0..TAG_BYTES)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(VerpToken {
            instance_id,
            recipient_id,
            tag,
        })
    }

    /// Every VERP address in a text (a bounce message), in order of appearance.
    pub fn find_all(text: &str) -> Vec<VerpToken> {
        let lower = text.to_ascii_lowercase();
        let needle = format!("{PREFIX}+");
        lower
            .match_indices(&needle)
            .filter_map(|(at, _)| VerpToken::parse(&lower[at..]))
            .collect()
    }

    /// Whether the address was made by `key` for a message of `mid`.
    pub fn verifies(&self, key: &LinkKey, mid: Mid) -> bool {
        key.verify_tag(
            &payload(mid, self.instance_id, self.recipient_id),
            &self.tag,
        )
    }
}

fn base36(mut n: i64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36).unsigned_abs() as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}

fn from_base36(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 13 {
        return None;
    }
    i64::from_str_radix(text, 36).ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email_address::EmailAddress;

    fn key() -> LinkKey {
        LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    const MID: Mid = Mid::from_stored(100_000_002);

    #[test]
    fn a_verp_address_names_its_message_and_verifies_for_its_account_only() {
        let local = local_part(&key(), MID, 42, 123_456);
        let token = VerpToken::parse(&local).unwrap();
        assert_eq!((token.instance_id, token.recipient_id), (42, 123_456));
        assert!(token.verifies(&key(), MID));
        assert!(!token.verifies(&key(), Mid::from_stored(100_000_001)));
        assert!(!token.verifies(&LinkKey::new(b"another".to_vec()), MID));
        let upper = VerpToken::parse(&local.to_ascii_uppercase()).unwrap();
        assert!(upper.verifies(&key(), MID), "case folding keeps it valid");
    }

    #[test]
    fn the_largest_ids_still_make_a_valid_local_part_of_at_most_64_characters() {
        let local = local_part(&key(), Mid::from_stored(i64::MAX), i64::MAX, i64::MAX);
        assert!(local.len() <= 64, "{} characters", local.len());
        let address = EmailAddress::parse(&format!("{local}@bounces.example.com")).unwrap();
        assert_eq!(address.as_str(), format!("{local}@bounces.example.com"));
        let token = VerpToken::parse(&local).unwrap();
        assert_eq!(
            (token.instance_id, token.recipient_id),
            (i64::MAX, i64::MAX)
        );
    }

    #[test]
    fn an_altered_id_or_tag_does_not_verify() {
        let local = local_part(&key(), MID, 42, 7);
        let other_recipient = local.replacen("-7-", "-8-", 1);
        assert!(
            !VerpToken::parse(&other_recipient)
                .unwrap()
                .verifies(&key(), MID)
        );
        let mut flipped = local.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert!(!VerpToken::parse(&flipped).unwrap().verifies(&key(), MID));
        for bad in [
            "bounces+1a-7",
            "bounces+-7-00",
            "bounces+1a-7-zz0000000000000000000000",
            "bounce+1a-7-000000000000000000000000",
            &local[..local.len() - 2],
        ] {
            assert_eq!(VerpToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn verp_addresses_are_found_anywhere_in_a_bounce() {
        let local = local_part(&key(), MID, 5, 9);
        let text = format!("To: <{local}@herald.example>\r\nX-Other: bounces+nothing\r\n");
        let found = VerpToken::find_all(&text);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].instance_id, found[0].recipient_id), (5, 9));
    }
}
