//! The send engine against Postfix's `smtp-sink`: a send of a few thousand recipients
//! arrives complete, each message personalized for its recipient, with a deterministic
//! Message-ID, and readable without defects by Python's `email` package.

mod common;
mod engine_support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::TestApp;
use engine_support::{
    Audience, header, locals, message_id, parse_messages, recipients, relay_on, send, spawn_engine,
    wait_for,
};
use herald_domain::clock::Clock;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use herald_test_support::peers::SmtpSink;
use herald_test_support::{Db, backend_tests};

const RECIPIENTS: usize = 2_000;

struct Harness {
    app: TestApp,
    sink: SmtpSink,
}

async fn setup(db: Db) -> Option<Harness> {
    let sink = SmtpSink::start();
    let app = spawn_engine(db, &relay_on(sink.port), 16).await?;
    Some(Harness { app, sink })
}

async fn a_send_of_thousands_arrives_complete_personalized_and_well_formed(h: Harness) {
    let (app, store) = (&h.app, h.app.state.store.as_ref());
    let audience = Audience::create(store, app.clock.now(), &locals("p", 0, RECIPIENTS)).await;
    let id = send(
        store,
        app.clock.now(),
        "Default Commercial",
        &audience.target,
    )
    .await;

    let done = wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(90)).await;
    let counts = &done.counts;
    assert_eq!(counts.targeted, RECIPIENTS as i64);
    assert_eq!(counts.sent, RECIPIENTS as i64, "{counts:?}");
    assert_eq!(
        counts.deferred + counts.bounced + counts.failed + counts.suppressed,
        0
    );
    let recipients = recipients(store, id).await;
    assert_eq!(recipients.len(), RECIPIENTS);
    for recipient in &recipients {
        assert_eq!(recipient.status, RecipientStatus::Sent);
        assert_eq!(recipient.attempts, 1);
        let reply = recipient.last_reply.as_deref().unwrap_or_default();
        assert!(reply.starts_with("250"), "{reply}");
    }

    // Every message reached the sink once, under the Message-ID its recipient implies.
    h.sink
        .wait_for_dumps_within(RECIPIENTS, Duration::from_secs(10))
        .await;
    let paths = h.sink.dump_paths();
    assert_eq!(paths.len(), RECIPIENTS, "one dump per recipient, no more");
    let expected: HashMap<String, &str> = recipients
        .iter()
        .map(|r| (message_id(id, r), r.email.as_str()))
        .collect();
    let mut seen = HashSet::new();
    for parsed in parse_messages(&paths) {
        assert_eq!(parsed["defects"], serde_json::json!([]), "{parsed}");
        let message_id = header(&parsed, "message-id").to_owned();
        let to = parsed["to"][0][1].as_str().unwrap();
        assert_eq!(
            expected.get(&message_id).copied(),
            Some(to),
            "the Message-ID names the recipient it went to"
        );
        assert!(seen.insert(message_id.clone()), "{message_id} twice");
        let first = &audience.first_names[to];
        assert_eq!(header(&parsed, "subject"), format!("Hello {first}"));
        let text = parsed["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|part| part["content_type"] == "text/plain")
            .and_then(|part| part["content"].as_str())
            .expect("a text part");
        assert!(text.contains(&format!("Welcome, {first}!")), "{text}");
        assert!(text.contains(&format!("sent by Herald to {to}")), "{text}");
        assert!(
            header(&parsed, "list-unsubscribe").starts_with("<http"),
            "commercial mail has a List-Unsubscribe link: {parsed}"
        );
    }
    assert_eq!(seen.len(), RECIPIENTS);
}

backend_tests!(setup => a_send_of_thousands_arrives_complete_personalized_and_well_formed);
