//! Three real `herald serve` processes on one PostgreSQL database: a pause or cancel
//! issued through one node stops sending on every node within a second, and the delivery
//! limits hold for the cluster as a whole (a relay's rate, counted per second at the
//! sink; a domain's concurrency, counted by a relay that holds each message a moment).

mod cluster_support;
mod common;
mod engine_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cluster_support::{Cluster, arrivals, arrived};
use engine_support::{recipients, relay_on, wait_for};
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use herald_test_support::peers::{FaultServer, SmtpSink};

const NODES: usize = 3;
const WORKERS: &str = "8";
/// How long after a pause or cancel a message may still reach the relay.
const STOPPED_WITHIN: Duration = Duration::from_secs(1);
/// How long the relay is watched afterwards for a message that should not come.
const QUIET_WINDOW: Duration = Duration::from_millis(1500);

async fn cluster(relay: &str, extra: &[(&str, &str)]) -> Option<Cluster> {
    let mut settings = vec![
        ("HERALD_SMTP_RELAY", relay),
        ("HERALD_WORKERS", WORKERS),
        ("HERALD_LEASE_SECS", "3"),
    ];
    settings.extend_from_slice(extra);
    let mut cluster = Cluster::new(&settings).await?;
    cluster.start(NODES).await;
    Some(cluster)
}

/// Asserts that no message reaches the sink from `STOPPED_WITHIN` after `since` to the
/// end of the quiet window; returns how many arrived.
async fn quiet_after(sink: &SmtpSink, since: Instant, what: &str) -> usize {
    tokio::time::sleep_until((since + STOPPED_WITHIN).into()).await;
    let settled = sink.dump_files_started();
    tokio::time::sleep(QUIET_WINDOW).await;
    assert_eq!(
        sink.dump_files_started(),
        settled,
        "a message reached the relay more than {STOPPED_WITHIN:?} after the {what}"
    );
    settled
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_through_one_node_stops_every_node_within_a_second_and_a_resume_finishes_once() {
    const RECIPIENTS: usize = 900;
    let sink = SmtpSink::start();
    let relay = relay_on(sink.port);
    let Some(mut cluster) = cluster(&relay, &[("HERALD_RELAY_RATE", "100")]).await else {
        return;
    };
    let id = cluster.send_to("pause", RECIPIENTS).await;
    arrived(&sink, 150).await;
    let before = cluster.sent_by_each().await;
    assert!(
        before.iter().all(|n| *n > 0),
        "every node is sending: {before:?}"
    );

    let body = cluster.instance_action(0, id, "pause").await;
    let paused_at = Instant::now();
    assert_eq!(body["Status"], "Paused", "{body}");
    let arrived_while_paused = quiet_after(&sink, paused_at, "pause").await;
    assert!(arrived_while_paused < RECIPIENTS, "paused mid-send");

    let body = cluster.instance_action(2, id, "resume").await;
    assert_eq!(body["Status"], "Sending", "{body}");
    let store = cluster.state.store.as_ref();
    let done = wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(30)).await;
    assert_eq!(done.counts.sent, RECIPIENTS as i64, "{:?}", done.counts);
    let dumps = sink.wait_for_dumps(RECIPIENTS).await;
    let arrivals = arrivals(&dumps);
    assert_eq!(arrivals.len(), RECIPIENTS);
    assert_eq!(dumps.len(), RECIPIENTS, "no message arrived twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_through_one_node_stops_every_node_within_a_second() {
    const RECIPIENTS: usize = 900;
    let sink = SmtpSink::start();
    let relay = relay_on(sink.port);
    let Some(mut cluster) = cluster(&relay, &[("HERALD_RELAY_RATE", "100")]).await else {
        return;
    };
    let id = cluster.send_to("cancel", RECIPIENTS).await;
    arrived(&sink, 150).await;

    let body = cluster.instance_action(1, id, "cancel").await;
    let canceled_at = Instant::now();
    assert_eq!(body["Status"], "Cancel Pending", "{body}");
    let store = cluster.state.store.as_ref();
    let canceled = wait_for(store, id, InstanceStatus::Canceled, STOPPED_WITHIN).await;
    let arrived = quiet_after(&sink, canceled_at, "cancel").await;
    assert!(
        arrived < RECIPIENTS,
        "canceled mid-send ({arrived} arrived)"
    );

    let dumps = sink.wait_for_dumps(arrived).await;
    assert_eq!(arrivals(&dumps).len(), arrived, "no message arrived twice");
    let recipients = recipients(store, id).await;
    let count = |status| recipients.iter().filter(|r| r.status == status).count();
    assert_eq!(count(RecipientStatus::Sent), arrived);
    assert_eq!(count(RecipientStatus::Canceled), RECIPIENTS - arrived);
    assert_eq!(
        canceled.counts.sent, arrived as i64,
        "{:?}",
        canceled.counts
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_together_keep_to_one_relay_rate() {
    const RECIPIENTS: usize = 400;
    const RATE: usize = 40;
    let sink = SmtpSink::start();
    let relay = relay_on(sink.port);
    let rate = RATE.to_string();
    let Some(cluster) = cluster(&relay, &[("HERALD_RELAY_RATE", &rate)]).await else {
        return;
    };
    let id = cluster.send_to("paced", RECIPIENTS).await;
    let store = cluster.state.store.as_ref();
    wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(40)).await;

    // smtp-sink files each message under the second (HHMMSS) it arrived in.
    let mut per_second: BTreeMap<String, usize> = BTreeMap::new();
    for path in sink.dump_paths() {
        let second = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        *per_second.entry(second).or_default() += 1;
    }
    assert_eq!(per_second.values().sum::<usize>(), RECIPIENTS);
    // The first and last seconds are partial; every full one stays near the rate: the
    // rate, plus the bucket's burst (a tenth of a second), plus tokens granted just before
    // the second began. Each node alone may send at the full rate, so without a shared
    // limit three would reach three times as many.
    let full: Vec<usize> = per_second.values().copied().skip(1).collect();
    let full = &full[..full.len() - 1];
    assert!(
        full.len() >= 8,
        "the send took about RECIPIENTS / RATE seconds: {per_second:?}"
    );
    for count in full {
        assert!(
            *count <= RATE * 12 / 10,
            "{count} in one second: {per_second:?}"
        );
    }
    let sent = cluster.sent_by_each().await;
    assert!(
        sent.iter().all(|n| *n > 0),
        "every node took part: {sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_together_keep_to_one_domains_concurrency() {
    const RECIPIENTS: usize = 45;
    const LIMIT: usize = 3;
    let server = FaultServer::start(&["--slow", "0.3"]);
    let relay = relay_on(server.port);
    let limit = LIMIT.to_string();
    let Some(cluster) = cluster(&relay, &[("HERALD_DOMAIN_CONCURRENCY", &limit)]).await else {
        return;
    };
    // Every recipient is at example.org and held 0.3 s by the relay.
    let id = cluster.send_to("slow-", RECIPIENTS).await;
    let store = cluster.state.store.as_ref();
    wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(40)).await;

    let delivered = server.delivered();
    assert_eq!(delivered.len(), RECIPIENTS, "{delivered:?}");
    assert_eq!(
        server.peak_slow(),
        LIMIT,
        "the domain had at most {LIMIT} messages in flight across the cluster, and reached it"
    );
    let sent = cluster.sent_by_each().await;
    assert_eq!(sent.iter().sum::<u64>(), RECIPIENTS as u64, "{sent:?}");
    assert!(
        sent.iter().filter(|n| **n > 0).count() >= 2,
        "the nodes took turns with the domain's slots: {sent:?}"
    );
}
