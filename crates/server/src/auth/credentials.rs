//! Client ids, client secrets and access tokens: how they are made, stored and checked.
//!
//! Secrets are stored only as Argon2id hashes (slow on purpose) and checked by the
//! Argon2 verifier, whose final comparison is constant-time. Access tokens are 256 random
//! bits, so a fast SHA-256 is enough to store them: nobody can guess a preimage.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// A new client id: 24 lowercase letters and digits, like Marketing Cloud's.
pub fn new_client_id() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .map(|c| (c as char).to_ascii_lowercase())
        .take(24)
        .collect()
}

/// A new client secret: 24 letters and digits (about 143 bits).
pub fn new_client_secret() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .map(char::from)
        .take(24)
        .collect()
}

/// The Argon2id hash of a secret, as a PHC string.
pub fn hash_secret(secret: &str) -> String {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// Whether `secret` matches the stored `hash`. A malformed hash never matches.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the same time as [`verify_secret`] when there is no package to check against,
/// so response times do not tell which client ids exist.
pub fn verify_against_nothing(secret: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_secret("herald-timing-equaliser"));
    let _ = verify_secret(secret, hash);
}

/// A new opaque access token (256 random bits, URL-safe base64).
pub fn new_access_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a token is stored and looked up.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_against_its_hash_and_nothing_else() {
        let secret = new_client_secret();
        let hash = hash_secret(&secret);
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains(&secret));
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("wrong", &hash));
        assert!(!verify_secret(&secret, "not a hash"));
    }

    #[test]
    fn client_ids_and_secrets_have_the_documented_shape() {
        let id = new_client_id();
        assert_eq!(id.len(), 24);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(new_client_secret().len(), 24);
        assert_ne!(new_client_secret(), new_client_secret());
    }

    #[test]
    fn tokens_are_unique_and_hash_to_hex() {
        let (a, b) = (new_access_token(), new_access_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
