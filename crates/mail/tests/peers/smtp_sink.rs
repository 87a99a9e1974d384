//! Deliveries through the pool into Postfix's `smtp-sink`, counted in its dump files.

use crate::support::{address, message_to};
use herald_mail::dkim::{DkimKey, DkimSigner, KeyAlgorithm};
use herald_mail::smtp::{Outcome, PoolConfig, Relay, SmtpPool};
use herald_test_support::peers::{SmtpSink, run_python};
use std::sync::Arc;

fn pool(sink: &SmtpSink, config: PoolConfig) -> Arc<SmtpPool> {
    Arc::new(SmtpPool::new(vec![Relay::parse(&sink.url()).unwrap()], config).unwrap())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn a_hundred_messages_through_four_pooled_connections_all_arrive() {
    let sink = SmtpSink::start();
    let pool = pool(
        &sink,
        PoolConfig {
            max_connections: 4,
            ..PoolConfig::default()
        },
    );
    let from = address("bounces@herald.test");
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..100 {
        let (pool, from) = (Arc::clone(&pool), from.clone());
        sends.spawn(async move {
            let to = address(&format!("rcpt{n}@example.org"));
            let result = pool
                .send(&from, &to, &message_to(to.as_str(), &format!("sink-{n}")))
                .await;
            Outcome::of(&result)
        });
    }
    while let Some(outcome) = sends.join_next().await {
        let outcome = outcome.unwrap();
        assert!(outcome.is_accepted(), "{outcome:?}");
        assert_eq!(outcome.code(), Some(250));
    }

    let dumps = sink.wait_for_dumps(100).await;
    assert_eq!(dumps.len(), 100);
    for n in 0..100 {
        let id = format!("<sink-{n}@herald.test>");
        assert_eq!(
            dumps.iter().filter(|dump| contains(dump, &id)).count(),
            1,
            "{id}"
        );
    }
    let stats = pool.stats();
    assert!((1..=4).contains(&stats.connections_opened), "{stats:?}");
    assert_eq!(stats.idle_connections as u64, stats.connections_opened);
    pool.close().await;
    assert_eq!(pool.stats().idle_connections, 0);
}

#[tokio::test]
async fn the_envelope_is_what_the_caller_gives_not_the_headers() {
    let sink = SmtpSink::start();
    let pool = pool(&sink, PoolConfig::default());
    let message = message_to("ann@example.org", "envelope-1");
    let result = pool
        .send(
            &address("bounce+inst-1@herald.test"),
            &address("ann@bücher.example"),
            &message,
        )
        .await;
    assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    let dump = String::from_utf8(sink.wait_for_dumps(1).await.remove(0)).unwrap();
    assert!(
        dump.contains("X-Mail-Args: <bounce+inst-1@herald.test>"),
        "{dump}"
    );
    assert!(
        dump.contains("X-Rcpt-Args: <ann@xn--bcher-kva.example>"),
        "{dump}"
    );
}

#[tokio::test]
async fn a_connection_is_retired_after_its_message_quota() {
    let sink = SmtpSink::start();
    let pool = pool(
        &sink,
        PoolConfig {
            max_connections: 1,
            max_messages_per_connection: 5,
            ..PoolConfig::default()
        },
    );
    let from = address("bounces@herald.test");
    for n in 0..20 {
        let to = address(&format!("rcpt{n}@example.org"));
        let result = pool
            .send(&from, &to, &message_to(to.as_str(), &format!("quota-{n}")))
            .await;
        assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    }
    assert_eq!(sink.wait_for_dumps(20).await.len(), 20);
    assert_eq!(pool.stats().connections_opened, 4);
}

#[tokio::test]
async fn a_signed_message_arrives_intact_and_still_verifies() {
    let sink = SmtpSink::start();
    let pool = pool(&sink, PoolConfig::default());
    let key = DkimKey::generate(KeyAlgorithm::Rsa).unwrap();
    let record = key.dns_txt_record();
    let signer = DkimSigner::new(key, "herald.test", "s1").unwrap();
    // A line that starts with a dot must survive SMTP's dot-stuffing.
    let message = message_to("ann@example.org", "signed-1");
    let message = [&message[..], b".dot line\r\n"].concat();
    let signed = signer.sign(&message).unwrap();
    let result = pool
        .send(
            &address("bounces@herald.test"),
            &address("ann@example.org"),
            &signed,
        )
        .await;
    assert!(Outcome::of(&result).is_accepted(), "{result:?}");

    // smtp-sink writes LF line endings and puts its own headers on top (not signed).
    let dump = sink.wait_for_dumps(1).await.remove(0);
    let received = String::from_utf8(dump).unwrap().replace('\n', "\r\n");
    assert!(received.contains("\r\n.dot line\r\n"));
    let output = run_python("dkim_verify.py", &[&record], received.as_bytes());
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
