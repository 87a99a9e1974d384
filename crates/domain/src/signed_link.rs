//! Signed link tokens: what goes into unsubscribe, tracking and view-online URLs so that
//! nobody can forge or alter one. A token is `base64url(payload).base64url(tag)`, the tag
//! being the first 16 bytes of HMAC-SHA-256 over the payload with the account's link key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const TAG_BYTES: usize = 16;

/// The secret that signs links. Created once per installation and kept in the database, so
/// every node signs alike and links survive restarts. Holds the HMAC already keyed: each
/// message signs several links, and keying is half of a short link's hashing.
#[derive(Clone)]
pub struct LinkKey(Hmac<Sha256>);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(****)")
    }
}

impl LinkKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(
            <Hmac<Sha256> as KeyInit>::new_from_slice(&bytes).expect("HMAC takes keys of any size"),
        )
    }

    fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }

    /// A token carrying `payload`.
    pub fn sign(&self, payload: &str) -> String {
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        )
    }

    /// Whether `tag` is the first `tag.len()` bytes (at least 12) of the HMAC of
    /// `payload`, compared in constant time. For compact tokens that cannot carry the
    /// base64 form (VERP addresses).
    pub fn verify_tag(&self, payload: &str, tag: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        tag.len() >= 12 && mac.verify_truncated_left(tag).is_ok()
    }

    /// The first `bytes` bytes (at most 32) of the HMAC of `payload`.
    pub fn tag(&self, payload: &str, bytes: usize) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes()[..bytes.min(32)].to_vec()
    }

    /// The payload of a token this key signed; `None` for anything forged, altered or cut.
    pub fn verify(&self, token: &str) -> Option<String> {
        let (payload, tag) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_truncated_left(&tag).ok()?;
        String::from_utf8(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LinkKey {
        LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    #[test]
    fn a_signed_token_verifies_to_its_payload() {
        let token = key().sign("u:100000001:42:7");
        assert_eq!(key().verify(&token).as_deref(), Some("u:100000001:42:7"));
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }

    #[test]
    fn forged_altered_or_truncated_tokens_do_not_verify() {
        let token = key().sign("u:100000001:42:7");
        let other_key = LinkKey::new(b"another key".to_vec());
        assert_eq!(other_key.verify(&token), None);
        let (payload, tag) = token.split_once('.').unwrap();
        let altered = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("u:100000001:43:7"));
        assert_eq!(key().verify(&altered), None);
        assert_eq!(
            key().verify(&format!("{payload}.{}", &tag[..tag.len() - 2])),
            None
        );
        assert_eq!(key().verify(&token[..token.len() - 1]), None);
        assert_eq!(key().verify(payload), None);
        assert_eq!(key().verify(""), None);
    }
}
