//! DKIM keys (RSA-2048 and Ed25519) and signing.
//!
//! ```
//! use herald_mail::dkim::{DkimKey, DkimSigner, KeyAlgorithm};
//!
//! let key = DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
//! let pem = key.to_pem(); // store this (it is the secret)
//! let txt = key.dns_txt_record(); // publish this at herald._domainkey.example.com
//! assert!(txt.starts_with("v=DKIM1; k=ed25519; p="));
//!
//! let signer = DkimSigner::new(DkimKey::from_pem(&pem).unwrap(), "example.com", "herald").unwrap();
//! let signed = signer.sign(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n").unwrap();
//! assert!(signed.starts_with(b"DKIM-Signature: "));
//! ```
//!
//! Signing is CPU-bound (an RSA-2048 signature costs about 0.8 ms, Ed25519 about 30 µs)
//! and synchronous: an async caller runs it on a blocking pool
//! (`tokio::task::spawn_blocking`) so it never stalls the reactor.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, Pkcs8V2Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mail_auth::common::crypto::{DkimKey as SigningKey, Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, Done};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::fmt;

/// The headers a signature covers. A listed header that the message lacks is signed as
/// absent (RFC 6376 §5.4), so it cannot be added in transit without breaking the signature.
pub const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// The kind of a DKIM key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA (2048 bits when generated here), signing with `rsa-sha256`: what every
    /// receiver verifies.
    Rsa,
    /// Ed25519, signing with `ed25519-sha256` (RFC 8463): small and fast, not yet verified
    /// everywhere, so publish it beside an RSA key.
    Ed25519,
}

impl KeyAlgorithm {
    /// The `k=` tag of the DNS record.
    pub fn dns_name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "rsa",
            KeyAlgorithm::Ed25519 => "ed25519",
        }
    }
}

/// Why a key could not be made or loaded, or a message not signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkimError {
    #[error("the key could not be generated")]
    Generate,
    #[error("the text is not a PEM private key (expected -----BEGIN PRIVATE KEY-----)")]
    NotPem,
    #[error("the PEM key is neither an RSA (2048 to 8192 bits) nor an Ed25519 private key")]
    UnsupportedKey,
    #[error("the signing domain {0:?} is not a valid domain name")]
    InvalidDomain(String),
    #[error("the selector {0:?} is not valid: use letters, digits, '-' and '.' labels")]
    InvalidSelector(String),
    #[error("the message could not be signed: {0}")]
    Sign(String),
}

/// A DKIM private key with its public half. `Debug` never shows the secret.
pub struct DkimKey {
    algorithm: KeyAlgorithm,
    /// The private key as PKCS#8 DER, the form [`DkimKey::to_pem`] writes.
    pkcs8: Vec<u8>,
    /// What the DNS record's `p=` carries: SubjectPublicKeyInfo DER for RSA (as
    /// `openssl` and `opendkim-genkey` publish it), the raw 32 bytes for Ed25519.
    public_key: Vec<u8>,
    signing_key: SigningKey,
}

impl fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimKey")
            .field("algorithm", &self.algorithm)
            .field("public_key", &BASE64.encode(&self.public_key))
            .finish_non_exhaustive()
    }
}

impl DkimKey {
    /// A fresh key: RSA-2048 or Ed25519.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, DkimError> {
        let pkcs8 = match algorithm {
            KeyAlgorithm::Rsa => {
                let key =
                    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| DkimError::Generate)?;
                let der: Pkcs8V1Der = key.as_der().map_err(|_| DkimError::Generate)?;
                der.as_ref().to_vec()
            }
            KeyAlgorithm::Ed25519 => {
                let key = Ed25519KeyPair::generate().map_err(|_| DkimError::Generate)?;
                let der: Pkcs8V2Der = key.as_der().map_err(|_| DkimError::Generate)?;
                der.as_ref().to_vec()
            }
        };
        Self::from_der(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8)))
    }

    /// Loads a key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, RSA or Ed25519) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`, as older `openssl genrsa` writes).
    pub fn from_pem(pem: &str) -> Result<Self, DkimError> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| DkimError::NotPem)?;
        Self::from_der(der)
    }

    fn from_der(der: PrivateKeyDer<'_>) -> Result<Self, DkimError> {
        let rsa = match &der {
            PrivateKeyDer::Pkcs8(pkcs8) => RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()).ok(),
            PrivateKeyDer::Pkcs1(pkcs1) => RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()).ok(),
            _ => None,
        };
        if let Some(rsa) = rsa {
            let pkcs8: Pkcs8V1Der = rsa.as_der().map_err(|_| DkimError::UnsupportedKey)?;
            let public_key: PublicKeyX509Der = rsa
                .public_key()
                .as_der()
                .map_err(|_| DkimError::UnsupportedKey)?;
            let signing_key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(
                PrivatePkcs8KeyDer::from(pkcs8.as_ref()),
            ))
            .map_err(|_| DkimError::UnsupportedKey)?;
            return Ok(Self {
                algorithm: KeyAlgorithm::Rsa,
                pkcs8: pkcs8.as_ref().to_vec(),
                public_key: public_key.as_ref().to_vec(),
                signing_key: SigningKey::Rsa(signing_key),
            });
        }
        let PrivateKeyDer::Pkcs8(pkcs8) = der else {
            return Err(DkimError::UnsupportedKey);
        };
        // Accepts PKCS#8 v1 (as `openssl genpkey` writes) and v2 (with the public key).
        let ed25519 = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8.secret_pkcs8_der())
            .map_err(|_| DkimError::UnsupportedKey)?;
        let v2: Pkcs8V2Der = ed25519.as_der().map_err(|_| DkimError::UnsupportedKey)?;
        let signing_key =
            Ed25519Key::from_pkcs8_der(v2.as_ref()).map_err(|_| DkimError::UnsupportedKey)?;
        Ok(Self {
            algorithm: KeyAlgorithm::Ed25519,
            pkcs8: v2.as_ref().to_vec(),
            public_key: ed25519.public_key().as_ref().to_vec(),
            signing_key: SigningKey::Ed25519(signing_key),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), for storage. This is
    /// the secret: keep it out of logs.
    pub fn to_pem(&self) -> String {
        let encoded = BASE64.encode(&self.pkcs8);
        let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 64);
        pem.push_str("-----BEGIN PRIVATE KEY-----\n");
        // Base64 is ASCII, so every 64-byte slice falls on character boundaries.
        for start in (0..encoded.len()).step_by(64) {
            pem.push_str(&encoded[start..encoded.len().min(start + 64)]);
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        pem
    }

    /// The value of the TXT record to publish at `{selector}._domainkey.{domain}`:
    /// `v=DKIM1; k=rsa; p=…` or `v=DKIM1; k=ed25519; p=…`. An RSA-2048 value is longer
    /// than one 255-byte DNS string; zone files split it into several quoted strings.
    pub fn dns_txt_record(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm.dns_name(),
            BASE64.encode(&self.public_key)
        )
    }
}

/// Signs messages for one domain and selector, relaxed/relaxed, over [`SIGNED_HEADERS`].
pub struct DkimSigner {
    inner: mail_auth::dkim::DkimSigner<SigningKey, Done>,
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimSigner")
            .field("domain", &self.inner.template.d)
            .field("selector", &self.inner.template.s)
            .finish_non_exhaustive()
    }
}

impl DkimSigner {
    /// A signer for `d={domain}` and `s={selector}`. An internationalized domain is used in
    /// its ASCII (punycode) form, as DNS publishes it.
    pub fn new(key: DkimKey, domain: &str, selector: &str) -> Result<Self, DkimError> {
        let domain = signing_domain(domain)?;
        if !is_selector(selector) {
            return Err(DkimError::InvalidSelector(selector.to_owned()));
        }
        let inner = mail_auth::dkim::DkimSigner::from_key(key.signing_key)
            .domain(domain)
            .selector(selector)
            .headers(SIGNED_HEADERS.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        Ok(Self { inner })
    }

    /// The message with a `DKIM-Signature` header in front: the bytes to send.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, DkimError> {
        let signature = self
            .inner
            .sign(message)
            .map_err(|error| DkimError::Sign(error.to_string()))?;
        let header = signature.to_header();
        let mut signed = Vec::with_capacity(header.len() + message.len());
        signed.extend_from_slice(header.as_bytes());
        signed.extend_from_slice(message);
        Ok(signed)
    }
}

fn signing_domain(domain: &str) -> Result<String, DkimError> {
    let invalid = || DkimError::InvalidDomain(domain.to_owned());
    let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| invalid())?;
    if ascii.contains('.') {
        Ok(ascii)
    } else {
        Err(invalid())
    }
}

/// A selector is one or more dot-separated DNS labels (RFC 6376 §3.1).
fn is_selector(selector: &str) -> bool {
    !selector.is_empty()
        && selector.len() <= 253
        && selector.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_survives_a_pem_round_trip() {
        for algorithm in [KeyAlgorithm::Rsa, KeyAlgorithm::Ed25519] {
            let key = DkimKey::generate(algorithm).unwrap();
            let pem = key.to_pem();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            assert!(pem.lines().all(|line| line.len() <= 64));
            let loaded = DkimKey::from_pem(&pem).unwrap();
            assert_eq!(loaded.algorithm(), algorithm);
            assert_eq!(loaded.dns_txt_record(), key.dns_txt_record());
            assert_eq!(loaded.to_pem(), pem);
        }
    }

    #[test]
    fn the_dns_record_names_the_key_type_and_its_public_key() {
        let rsa = DkimKey::generate(KeyAlgorithm::Rsa)
            .unwrap()
            .dns_txt_record();
        let p = rsa.strip_prefix("v=DKIM1; k=rsa; p=").unwrap();
        // SubjectPublicKeyInfo of a 2048-bit key: 294 bytes, 392 base64 characters.
        assert_eq!(BASE64.decode(p).unwrap().len(), 294);
        let ed = DkimKey::generate(KeyAlgorithm::Ed25519)
            .unwrap()
            .dns_txt_record();
        let p = ed.strip_prefix("v=DKIM1; k=ed25519; p=").unwrap();
        assert_eq!(BASE64.decode(p).unwrap().len(), 32);
    }

    #[test]
    fn keys_and_signers_can_be_shared_with_a_blocking_pool() {
        fn shared<T: Send + Sync>(_: &T) {}
        let key = DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
        shared(&key);
        shared(&DkimSigner::new(key, "example.com", "s1").unwrap());
    }

    #[test]
    fn debug_output_never_shows_the_private_key() {
        let key = DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let pem = key.to_pem();
        let secret_line = pem.lines().nth(1).unwrap();
        assert!(!format!("{key:?}").contains(secret_line));
    }

    #[test]
    fn text_that_is_not_a_private_key_is_refused() {
        assert_eq!(DkimKey::from_pem("hello").unwrap_err(), DkimError::NotPem);
        let not_a_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            DkimKey::from_pem(not_a_key).unwrap_err(),
            DkimError::UnsupportedKey
        );
    }

    #[test]
    fn domains_and_selectors_are_checked() {
        let key = || DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
        assert!(DkimSigner::new(key(), "Bücher.example", "s1").is_ok());
        assert!(matches!(
            DkimSigner::new(key(), "localhost", "s1"),
            Err(DkimError::InvalidDomain(_))
        ));
        assert!(matches!(
            DkimSigner::new(key(), "exa mple.com", "s1"),
            Err(DkimError::InvalidDomain(_))
        ));
        for selector in ["", "a b", "-a", "a..b", "sel;x"] {
            assert!(
                matches!(
                    DkimSigner::new(key(), "example.com", selector),
                    Err(DkimError::InvalidSelector(_))
                ),
                "{selector:?}"
            );
        }
        assert!(DkimSigner::new(key(), "example.com", "2025-01.herald").is_ok());
    }
}
