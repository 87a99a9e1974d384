//! Messages and addresses for the tests against real peers; the peers themselves
//! (`smtp-sink`, the fault server, the Python checkers) live in `herald_test_support::peers`.

use herald_domain::email_address::EmailAddress;
use herald_mail::message::{Mailbox, MessageParts};
use herald_mail::smtp::{DeliveryError, Outcome, PoolConfig, Relay, SmtpPool, SmtpReply, Stage};

/// A small personalized message to `to`, with Message-ID `<{id}@herald.test>`.
pub fn message_to(to: &str, id: &str) -> Vec<u8> {
    MessageParts {
        from: Mailbox::named("Herald Tests", address("news@herald.test")),
        reply_to: None,
        to: Mailbox::bare(address(to)),
        subject: format!("Message {id}"),
        preheader: None,
        html: Some(format!("<html><body><p>Hello {to}</p></body></html>")),
        text: format!("Hello {to}\r\n"),
        date: time::macros::datetime!(2025-03-04 05:06:07 UTC),
        message_id: format!("<{id}@herald.test>"),
        list_unsubscribe_url: Some("https://herald.test/u/1".parse().expect("a URL")),
        list_unsubscribe_mailto: None,
        extra_headers: Vec::new(),
    }
    .build()
    .expect("a valid message")
}

/// An EmailAddress from test text.
pub fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text).expect("a valid test address")
}

/// The default pool settings with at most `max` connections per relay.
pub fn connections(max: usize) -> PoolConfig {
    PoolConfig {
        max_connections: max,
        ..PoolConfig::default()
    }
}

/// A pool over the relays at `urls`, in that order.
pub fn pool(urls: &[String], config: PoolConfig) -> SmtpPool {
    let relays = urls.iter().map(|url| Relay::parse(url).unwrap()).collect();
    SmtpPool::new(relays, config).unwrap()
}

/// Sends a small message to `recipient` (its local part is the Message-ID's).
pub async fn send_to(pool: &SmtpPool, recipient: &str) -> Result<SmtpReply, DeliveryError> {
    let message = message_to(recipient, recipient.split('@').next().unwrap_or("x"));
    pool.send(
        &address("bounces@herald.test"),
        &address(recipient),
        &message,
    )
    .await
}

pub fn assert_transient(
    result: &Result<SmtpReply, DeliveryError>,
    stage: Stage,
    code: Option<u16>,
) {
    let outcome = Outcome::of(result);
    assert!(outcome.is_transient(), "{outcome:?}");
    assert_eq!(outcome.code(), code, "{outcome:?}");
    assert_eq!(result.as_ref().unwrap_err().stage, stage, "{result:?}");
}

pub fn assert_permanent(result: &Result<SmtpReply, DeliveryError>, stage: Stage, code: u16) {
    let outcome = Outcome::of(result);
    assert!(outcome.is_permanent(), "{outcome:?}");
    assert_eq!(outcome.code(), Some(code), "{outcome:?}");
    assert_eq!(result.as_ref().unwrap_err().stage, stage, "{result:?}");
}
