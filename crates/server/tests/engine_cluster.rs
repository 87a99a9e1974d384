//! Three real `herald serve` processes on one PostgreSQL database and one `smtp-sink`:
//! a large send is split among them with every recipient sent once; a node killed with
//! SIGKILL mid-send leaves its work to the others, repeating at most its messages in
//! flight; a rolling restart (SIGTERM, start, one node at a time) loses nothing; every
//! database connection dropped mid-send (what a PostgreSQL restart does to its clients)
//! loses nothing either.

mod cluster_support;
mod common;
mod engine_support;

use std::time::Duration;

use cluster_support::{Cluster, arrivals, arrived};
use engine_support::{message_id, recipients, relay_on, wait_for};
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use herald_test_support::peers::SmtpSink;

const NODES: usize = 3;
const WORKERS: usize = 8;
/// Short, so that a dead node's claims are taken over soon; far longer than a delivery
/// to `smtp-sink` takes, even on a busy machine.
const LEASE_SECS: &str = "3";

async fn cluster(sink: &SmtpSink, extra: &[(&str, &str)]) -> Option<Cluster> {
    let relay = relay_on(sink.port);
    let workers = WORKERS.to_string();
    let mut settings = vec![
        ("HERALD_SMTP_RELAY", relay.as_str()),
        ("HERALD_WORKERS", workers.as_str()),
        ("HERALD_LEASE_SECS", LEASE_SECS),
    ];
    settings.extend_from_slice(extra);
    let mut cluster = Cluster::new(&settings).await?;
    cluster.start(NODES).await;
    Some(cluster)
}

/// Asserts that the send completed with every recipient sent and every message at the
/// sink; returns how many arrived more than once.
async fn every_recipient_arrived(
    cluster: &Cluster,
    sink: &SmtpSink,
    id: i64,
    count: usize,
) -> usize {
    let store = cluster.state.store.as_ref();
    let done = wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(40)).await;
    assert_eq!(done.counts.sent, count as i64, "{:?}", done.counts);
    let dumps = sink.wait_for_dumps(count).await;
    let arrivals = arrivals(&dumps);
    for recipient in recipients(store, id).await {
        assert_eq!(recipient.status, RecipientStatus::Sent, "{recipient:?}");
        let id = message_id(id, &recipient);
        assert!(arrivals.contains_key(&id), "{id} never arrived");
    }
    assert_eq!(arrivals.len(), count, "no message that was not sent");
    dumps.len() - arrivals.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_send_is_split_among_three_nodes_and_every_recipient_is_sent_once() {
    const RECIPIENTS: usize = 3_000;
    let sink = SmtpSink::start();
    let Some(cluster) = cluster(&sink, &[]).await else {
        return;
    };
    let id = cluster.send_to("split", RECIPIENTS).await;

    let duplicates = every_recipient_arrived(&cluster, &sink, id, RECIPIENTS).await;
    assert_eq!(duplicates, 0, "no message arrived twice");
    let sent = cluster.sent_by_each().await;
    assert_eq!(sent.iter().sum::<u64>(), RECIPIENTS as u64, "{sent:?}");
    for (node, sent) in sent.iter().enumerate() {
        assert!(
            *sent > 0,
            "node {node} delivered some of the send ({sent:?})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_send_leaves_its_recipients_to_the_others() {
    const RECIPIENTS: usize = 3_000;
    let sink = SmtpSink::start();
    let Some(mut cluster) = cluster(&sink, &[]).await else {
        return;
    };
    let id = cluster.send_to("kill", RECIPIENTS).await;

    arrived(&sink, 500).await;
    let before = cluster.sent_by(1).await;
    cluster.kill(1);
    let at_kill = sink.dump_files_started();
    assert!(before > 0, "the killed node was delivering");
    assert!(at_kill < RECIPIENTS, "killed mid-send ({at_kill} arrived)");

    let duplicates = every_recipient_arrived(&cluster, &sink, id, RECIPIENTS).await;
    assert!(
        duplicates <= WORKERS,
        "{duplicates} messages arrived twice; only the killed node's messages in flight may \
         repeat, at most HERALD_WORKERS={WORKERS}"
    );
    for survivor in [0, 2] {
        assert!(cluster.sent_by(survivor).await > 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_mid_send_loses_no_recipient_and_repeats_none() {
    const RECIPIENTS: usize = 2_400;
    let sink = SmtpSink::start();
    // Paced, so that the send outlasts the restarts.
    let Some(mut cluster) = cluster(&sink, &[("HERALD_RELAY_RATE", "200")]).await else {
        return;
    };
    let id = cluster.send_to("roll", RECIPIENTS).await;

    arrived(&sink, 200).await;
    for node in 0..NODES {
        cluster.terminate(node).await;
        cluster.restart(node).await;
    }
    let after = sink.dump_files_started();
    assert!(
        after < RECIPIENTS,
        "the restarts came mid-send ({after} arrived)"
    );

    let duplicates = every_recipient_arrived(&cluster, &sink, id, RECIPIENTS).await;
    assert_eq!(
        duplicates, 0,
        "a node stopped with SIGTERM finishes what it claimed"
    );
    let sent = cluster.sent_by_each().await;
    assert!(
        sent.iter().all(|sent| *sent > 0),
        "every restarted node took part: {sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_database_connection_dropped_mid_send_loses_no_recipient() {
    const RECIPIENTS: usize = 2_000;
    let sink = SmtpSink::start();
    let Some(cluster) = cluster(&sink, &[]).await else {
        return;
    };
    let id = cluster.send_to("dropped", RECIPIENTS).await;

    arrived(&sink, 300).await;
    let dropped = cluster.drop_database_connections().await;
    let at_drop = sink.dump_files_started();
    assert!(
        dropped >= NODES,
        "every node had connections ({dropped} dropped)"
    );
    assert!(at_drop < RECIPIENTS, "dropped mid-send ({at_drop} arrived)");

    let duplicates = every_recipient_arrived(&cluster, &sink, id, RECIPIENTS).await;
    // Only messages whose outcome could not be written are sent again.
    assert!(
        duplicates <= NODES * WORKERS,
        "{duplicates} messages arrived twice; at most the messages in flight may repeat"
    );
}
