//! The real `herald serve` process killed with SIGKILL in the middle of a send, then
//! started again: every recipient's message reaches `smtp-sink`, and the only repeats are
//! messages that were in flight when the process died, so at most `HERALD_WORKERS`.

mod common;
mod engine_support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine_support::{Audience, locals, message_id, recipients, relay_on, send, wait_for};
use herald::config::Config;
use herald_domain::clock::SystemClock;
use herald_domain::recipient::RecipientStatus;
use herald_domain::send::status::InstanceStatus;
use herald_test_support::peers::{Process, SmtpSink, TempDir, free_port};

const RECIPIENTS: usize = 3_000;
const WORKERS: usize = 8;
/// Short leases, so that the restarted process takes over the dead one's claims soon;
/// still far longer than one delivery to `smtp-sink` takes, even on a busy machine (a
/// lease that runs out mid-delivery would let the message go twice).
const LEASE_SECS: &str = "5";

/// `herald serve` on the SQLite file in `dir`, sending through `sink`.
fn serve(dir: &Path, database_url: &str, sink: &SmtpSink) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .env_clear()
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_DATABASE_URL", database_url)
        .env("HERALD_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("HERALD_SMTP_RELAY", relay_on(sink.port))
        .env("HERALD_WORKERS", WORKERS.to_string())
        .env("HERALD_LEASE_SECS", LEASE_SECS)
        .env("HERALD_LOG", "warn")
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("herald starts");
    Process(child)
}

/// The Message-ID header of a dump (`smtp-sink` writes LF line endings).
fn message_id_of(dump: &[u8]) -> Option<String> {
    String::from_utf8_lossy(dump)
        .lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix("Message-ID: ").map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_killed_mid_way_and_restarted_loses_no_message_and_repeats_at_most_workers() {
    let sink = SmtpSink::start();
    let dir = TempDir::new();
    let database_url = format!("sqlite://{}", dir.path().join("herald.db").display());

    // Seed the database the process will serve: the demo, the audience and a send due now.
    let env = [
        ("HERALD_DATABASE_URL".to_owned(), database_url.clone()),
        ("HERALD_LOG".to_owned(), "warn".to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).unwrap();
    let state = herald::app::build_state(config, Arc::new(SystemClock))
        .await
        .unwrap();
    herald::demo::seed_and_print(&state).await.unwrap();
    let store = state.store.as_ref();
    let audience = Audience::create(store, state.clock.now(), &locals("p", 0, RECIPIENTS)).await;
    let id = send(
        store,
        state.clock.now(),
        "Default Transactional",
        &audience.target,
    )
    .await;

    let mut first = serve(dir.path(), &database_url, &sink);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.dump_files_started() < 300 {
        assert!(
            Instant::now() < deadline,
            "the first process never got going"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.0.kill().expect("SIGKILL");
    first.0.wait().unwrap();
    let at_kill = sink.dump_files_started();
    assert!(at_kill < RECIPIENTS, "killed mid-send ({at_kill} arrived)");

    let _second = serve(dir.path(), &database_url, &sink);
    let done = wait_for(store, id, InstanceStatus::Complete, Duration::from_secs(90)).await;
    assert_eq!(done.counts.sent, RECIPIENTS as i64, "{:?}", done.counts);

    let expected: Vec<String> = recipients(store, id)
        .await
        .iter()
        .inspect(|r| assert_eq!(r.status, RecipientStatus::Sent, "{r:?}"))
        .map(|r| message_id(id, r))
        .collect();
    let dumps = sink.dumps();
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for dump in &dumps {
        let id = message_id_of(dump).expect("every dump has a Message-ID");
        *arrivals.entry(id).or_default() += 1;
    }
    for message_id in &expected {
        assert!(
            arrivals.contains_key(message_id),
            "{message_id} never arrived"
        );
    }
    assert_eq!(arrivals.len(), RECIPIENTS, "no message that was not sent");
    let duplicates = dumps.len() - arrivals.len();
    assert!(
        duplicates <= WORKERS,
        "{duplicates} messages arrived twice (the kill came after {at_kill} arrivals); only \
         those in flight at the kill may repeat, at most HERALD_WORKERS={WORKERS}"
    );
}
