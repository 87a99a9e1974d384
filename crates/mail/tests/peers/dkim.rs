//! DKIM signatures verified by dkimpy, with the TXT record served through its `dnsfunc`.

use crate::support::message_to;
use herald_mail::dkim::{DkimKey, DkimSigner, KeyAlgorithm};
use herald_test_support::peers::{TempDir, run_python};
use std::process::Command;

/// Whether dkimpy verifies `message` against `record`; with its explanation.
fn dkimpy_verifies(message: &[u8], record: &str) -> (bool, String) {
    let output = run_python("dkim_verify.py", &[record], message);
    let explanation = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), explanation)
}

fn signed(key: DkimKey, message: &[u8]) -> Vec<u8> {
    DkimSigner::new(key, "herald.test", "s2025")
        .unwrap()
        .sign(message)
        .unwrap()
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(from.len())
        .position(|window| window == from)
        .expect("the text to tamper with is there");
    [&haystack[..at], to, &haystack[at + from.len()..]].concat()
}

#[test]
fn an_rsa_signature_verifies_with_dkimpy() {
    let key = DkimKey::generate(KeyAlgorithm::Rsa).unwrap();
    let record = key.dns_txt_record();
    let message = signed(key, &message_to("ann@example.org", "rsa-1"));
    let header = String::from_utf8_lossy(&message[..message.len().min(400)]).into_owned();
    assert!(
        header.starts_with(
            "DKIM-Signature: v=1; a=rsa-sha256; s=s2025; d=herald.test; c=relaxed/relaxed;"
        ),
        "{header}"
    );
    let (verified, why) = dkimpy_verifies(&message, &record);
    assert!(verified, "{why}");
}

#[test]
fn an_ed25519_signature_verifies_with_dkimpy() {
    let key = DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let record = key.dns_txt_record();
    let message = signed(key, &message_to("ann@example.org", "ed-1"));
    assert!(message.starts_with(b"DKIM-Signature: v=1; a=ed25519-sha256;"));
    let (verified, why) = dkimpy_verifies(&message, &record);
    assert!(verified, "{why}");
}

#[test]
fn a_tampered_body_or_signed_header_fails_verification() {
    for algorithm in [KeyAlgorithm::Rsa, KeyAlgorithm::Ed25519] {
        let key = DkimKey::generate(algorithm).unwrap();
        let record = key.dns_txt_record();
        let message = signed(key, &message_to("ann@example.org", "tamper-1"));
        assert!(dkimpy_verifies(&message, &record).0);

        let body = replace(&message, b"Hello ann@example.org", b"Hello bob@example.org");
        let (verified, why) = dkimpy_verifies(&body, &record);
        assert!(!verified, "{algorithm:?}: a changed body verified: {why}");

        let subject = replace(
            &message,
            b"Subject: Message tamper-1",
            b"Subject: Message tamper-2",
        );
        assert!(
            !dkimpy_verifies(&subject, &record).0,
            "{algorithm:?}: changed subject"
        );

        // Adding a header the signature lists as absent breaks it too.
        let added = replace(
            &message,
            b"Subject:",
            b"Reply-To: evil@example.net\r\nSubject:",
        );
        assert!(
            !dkimpy_verifies(&added, &record).0,
            "{algorithm:?}: added Reply-To"
        );
    }
}

#[test]
fn a_signature_from_another_key_fails_verification() {
    let key = DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let other = DkimKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let message = signed(key, &message_to("ann@example.org", "other-1"));
    assert!(!dkimpy_verifies(&message, &other.dns_txt_record()).0);
}

#[test]
fn a_key_reloaded_from_its_pem_signs_what_its_dns_record_verifies() {
    for algorithm in [KeyAlgorithm::Rsa, KeyAlgorithm::Ed25519] {
        let key = DkimKey::generate(algorithm).unwrap();
        let (pem, record) = (key.to_pem(), key.dns_txt_record());
        drop(key);
        let reloaded = DkimKey::from_pem(&pem).unwrap();
        let message = signed(reloaded, &message_to("ann@example.org", "pem-1"));
        let (verified, why) = dkimpy_verifies(&message, &record);
        assert!(verified, "{algorithm:?}: {why}");
    }
}

#[test]
fn keys_made_by_openssl_load_and_sign_verifiably() {
    let dir = TempDir::new();
    let cases = [
        // PKCS#1 ("BEGIN RSA PRIVATE KEY"), as older tools write RSA keys.
        (
            "rsa.pem",
            vec!["genrsa", "-traditional", "-out"],
            KeyAlgorithm::Rsa,
        ),
        // PKCS#8 v1 without the public key.
        (
            "ed.pem",
            vec!["genpkey", "-algorithm", "ed25519", "-out"],
            KeyAlgorithm::Ed25519,
        ),
    ];
    for (file, args, algorithm) in cases {
        let path = dir.path().join(file);
        let mut command = Command::new("openssl");
        command.args(&args).arg(&path);
        if algorithm == KeyAlgorithm::Rsa {
            command.arg("2048");
        }
        let status = command
            .output()
            .expect("openssl runs (scripts/test-peers)")
            .status;
        assert!(status.success(), "openssl {args:?}");
        let key = DkimKey::from_pem(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(key.algorithm(), algorithm);
        let record = key.dns_txt_record();
        let message = signed(key, &message_to("ann@example.org", "openssl-1"));
        let (verified, why) = dkimpy_verifies(&message, &record);
        assert!(verified, "{file}: {why}");
    }
}
