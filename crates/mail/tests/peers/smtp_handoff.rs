//! More sends than connections into the aiosmtpd fault server: a send waiting for a
//! connection has its envelope written after the content of a transaction that is ending
//! (RFC 2920 §3.1), exactly when the server offers PIPELINING, and each send still gets
//! its own reply; a send stopped while it waits writes nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::support::{
    address, assert_permanent, assert_transient, connections, message_to, pool, send_to,
};
use herald_mail::smtp::{Outcome, SmtpPool, Stage, Transaction};
use herald_test_support::peers::FaultServer;

/// Sends to every recipient at once; the results in the recipients' order.
async fn send_all(pool: &Arc<SmtpPool>, recipients: &[String]) -> Vec<Transaction> {
    let mut sends = tokio::task::JoinSet::new();
    for (index, recipient) in recipients.iter().enumerate() {
        let (pool, recipient) = (Arc::clone(pool), recipient.clone());
        sends.spawn(async move { (index, send_to(&pool, &recipient).await) });
    }
    let mut results: Vec<_> = sends.join_all().await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

fn recipients<T: AsRef<str>>(names: impl IntoIterator<Item = T>) -> Vec<String> {
    names
        .into_iter()
        .map(|name| format!("{}@example.org", name.as_ref()))
        .collect()
}

#[tokio::test]
async fn each_of_many_sends_over_two_pipelined_connections_gets_its_own_reply() {
    let server = FaultServer::start(&["--pipelining"]);
    let pool = Arc::new(pool(&[server.url(None, "")], connections(2)));
    let ok: Vec<String> = (0..16).map(|n| format!("ok{n}")).collect();
    let mut names: Vec<&str> = ok.iter().map(String::as_str).collect();
    // Faults among them: refused at RCPT, refused or deferred at the end of DATA, and a
    // connection dropped once the content is in (any envelope written after that
    // content is lost with it, and its send must go out on another connection).
    names.splice(
        4..4,
        [
            "reject",
            "datadefer",
            "cut1",
            "datareject",
            "defer",
            "cut1b",
        ],
    );
    let all = recipients(&names);

    let results = send_all(&pool, &all).await;
    for (recipient, result) in all.iter().zip(&results) {
        let local = recipient.split('@').next().unwrap();
        match local {
            "reject" => assert_permanent(result, Stage::RcptTo, 550),
            "defer" => assert_transient(result, Stage::RcptTo, Some(451)),
            "datadefer" => assert_transient(result, Stage::EndOfData, Some(452)),
            "datareject" => assert_permanent(result, Stage::EndOfData, 554),
            "cut1" | "cut1b" => assert_transient(result, Stage::EndOfData, None),
            _ => {
                let outcome = Outcome::of(result);
                assert!(outcome.is_accepted(), "{recipient}: {outcome:?}");
            }
        }
    }

    let expected: BTreeSet<String> = recipients(&ok).into_iter().collect();
    let delivered = server.wait_for_delivered(expected.len()).await;
    assert_eq!(delivered.len(), expected.len(), "each once: {delivered:?}");
    assert_eq!(delivered.into_iter().collect::<BTreeSet<_>>(), expected);
    assert!(
        server.followed().contains(&true),
        "some transaction opened in the write of the content before it"
    );
    // Two connections, and one more for each the server cut.
    assert!(pool.stats().connections_opened <= 4);
}

#[tokio::test]
async fn without_pipelining_nothing_is_written_ahead_of_a_reply() {
    let server = FaultServer::start(&[]);
    let pool = Arc::new(pool(&[server.url(None, "")], connections(2)));
    let all = recipients((0..12).map(|n| format!("plain{n}")));

    for result in send_all(&pool, &all).await {
        assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    }
    assert_eq!(server.wait_for_delivered(all.len()).await.len(), all.len());
    assert_eq!(server.followed(), vec![false; all.len()]);
    assert_eq!(server.pipelined(), vec![false; all.len()]);
    assert_eq!(pool.stats().connections_opened, 2);
}

#[tokio::test]
async fn an_envelope_lost_with_the_content_before_it_goes_out_again_on_a_new_connection() {
    let server = FaultServer::start(&["--pipelining", "--slow", "0.3"]);
    let pool = Arc::new(pool(&[server.url(None, "")], connections(1)));
    // The slow send holds the only connection while the other two get in line, in order.
    let mut sends = tokio::task::JoinSet::new();
    for (delay, recipient) in [(0, "slow"), (50, "cut1"), (100, "after")] {
        let pool = Arc::clone(&pool);
        sends.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            let result = send_to(&pool, &format!("{recipient}@example.org")).await;
            (recipient, result)
        });
    }
    for (recipient, result) in sends.join_all().await {
        match recipient {
            // Its content went with cut1's envelope; cut1's content with after's, and
            // then the server dropped the connection.
            "cut1" => assert_transient(&result, Stage::EndOfData, None),
            _ => assert!(
                Outcome::of(&result).is_accepted(),
                "{recipient}: {result:?}"
            ),
        }
    }
    assert_eq!(
        server.wait_for_delivered(2).await,
        ["slow@example.org", "after@example.org"]
    );
    assert!(
        server.followed()[0],
        "slow's content carried cut1's envelope"
    );
    assert_eq!(pool.stats().connections_opened, 2);
}

#[tokio::test]
async fn a_send_stopped_while_it_waits_for_a_connection_writes_nothing() {
    let server = FaultServer::start(&["--pipelining", "--slow", "0.6"]);
    let pool = Arc::new(pool(&[server.url(None, "")], connections(1)));
    let busy = {
        let pool = Arc::clone(&pool);
        tokio::spawn(async move { send_to(&pool, "slow@example.org").await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let stopped = pool
        .send_unless(
            &address("bounces@herald.test"),
            &address("waiting@example.org"),
            &message_to("waiting@example.org", "waiting"),
            tokio::time::sleep(std::time::Duration::from_millis(100)),
        )
        .await;
    assert!(stopped.is_none(), "{stopped:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(400));

    assert!(Outcome::of(&busy.await.unwrap()).is_accepted());
    // The slow send's content carried no envelope after it, and nothing else arrived.
    assert_eq!(server.wait_for_delivered(1).await, ["slow@example.org"]);
    assert_eq!(server.followed(), [false]);
    // The stopped send left the line: the next one goes out normally.
    assert!(Outcome::of(&send_to(&pool, "later@example.org").await).is_accepted());
    assert_eq!(server.wait_for_delivered(2).await.len(), 2);
}
