//! Messages and addresses for the tests against real peers; the peers themselves
//! (`smtp-sink`, the fault server, the Python checkers) live in `herald_test_support::peers`.

use herald_domain::email_address::EmailAddress;
use herald_mail::message::{Mailbox, MessageParts};

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
