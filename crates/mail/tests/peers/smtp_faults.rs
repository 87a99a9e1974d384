//! Deliveries into the aiosmtpd fault server: replies, disconnects, slow replies, AUTH,
//! TLS, and failover between relays.

use crate::support::{assert_permanent, assert_transient, connections, pool, send_to};
use herald_mail::smtp::{ErrorKind, Outcome, PoolConfig, Stage, Timeouts};
use herald_test_support::peers::{FaultServer, SmtpSink, free_port};
use std::time::{Duration, Instant};

async fn replies_are_classified_and_the_connection_survives_them(pipelining: bool) {
    let server = FaultServer::start(if pipelining { &["--pipelining"] } else { &[] });
    let pool = pool(&[server.url(None, "")], connections(1));

    let accepted = send_to(&pool, "first@example.org").await;
    let outcome = Outcome::of(&accepted);
    assert!(outcome.is_accepted(), "{outcome:?}");
    assert_eq!(outcome.text(), "2.0.0 Ok: queued as Q1");
    assert_eq!(outcome.enhanced().unwrap().to_string(), "2.0.0");

    let deferred = send_to(&pool, "defer@example.org").await;
    assert_transient(&deferred, Stage::RcptTo, Some(451));
    assert_eq!(
        Outcome::of(&deferred).enhanced().unwrap().to_string(),
        "4.3.0"
    );
    let rejected = send_to(&pool, "reject@example.org").await;
    assert_permanent(&rejected, Stage::RcptTo, 550);
    assert_eq!(
        Outcome::of(&rejected).enhanced().unwrap().to_string(),
        "5.1.1"
    );
    assert_transient(
        &send_to(&pool, "full@example.org").await,
        Stage::RcptTo,
        Some(552),
    );
    assert_transient(
        &send_to(&pool, "datadefer@example.org").await,
        Stage::EndOfData,
        Some(452),
    );
    assert_permanent(
        &send_to(&pool, "datareject@example.org").await,
        Stage::EndOfData,
        554,
    );

    // After failed transactions (RSET first) the same connection still delivers.
    assert!(Outcome::of(&send_to(&pool, "last@example.org").await).is_accepted());
    assert_eq!(
        server.wait_for_delivered(2).await,
        ["first@example.org", "last@example.org"]
    );
    // RFC 2920: pipeline exactly when the server offers it.
    assert_eq!(server.pipelined(), [pipelining, pipelining]);
    assert_eq!(pool.stats().connections_opened, 1);
}

#[tokio::test]
async fn replies_are_classified_and_the_connection_survives_them_with_pipelining() {
    replies_are_classified_and_the_connection_survives_them(true).await;
}

#[tokio::test]
async fn replies_are_classified_and_the_connection_survives_them_without_pipelining() {
    replies_are_classified_and_the_connection_survives_them(false).await;
}

async fn a_disconnect_mid_session_is_transient_and_the_pool_recovers(pipelining: bool) {
    let server = FaultServer::start(if pipelining { &["--pipelining"] } else { &[] });
    let pool = pool(&[server.url(None, "")], connections(1));
    assert!(Outcome::of(&send_to(&pool, "before@example.org").await).is_accepted());

    let dropped = send_to(&pool, "hangup@example.org").await;
    assert_transient(&dropped, Stage::RcptTo, None);
    assert!(matches!(
        dropped.unwrap_err().kind,
        ErrorKind::Connection(_)
    ));

    assert!(Outcome::of(&send_to(&pool, "after@example.org").await).is_accepted());
    assert_eq!(
        server.wait_for_delivered(2).await,
        ["before@example.org", "after@example.org"]
    );
    assert_eq!(pool.stats().connections_opened, 2);
}

#[tokio::test]
async fn a_disconnect_mid_session_is_transient_and_the_pool_recovers_with_pipelining() {
    a_disconnect_mid_session_is_transient_and_the_pool_recovers(true).await;
}

#[tokio::test]
async fn a_disconnect_mid_session_is_transient_and_the_pool_recovers_without_pipelining() {
    a_disconnect_mid_session_is_transient_and_the_pool_recovers(false).await;
}

#[tokio::test]
async fn a_421_is_transient_and_the_next_message_takes_a_new_connection() {
    let server = FaultServer::start(&["--pipelining"]);
    let pool = pool(&[server.url(None, "")], connections(1));
    let closing = send_to(&pool, "bye@example.org").await;
    assert_transient(&closing, Stage::RcptTo, Some(421));
    assert_eq!(
        Outcome::of(&closing).enhanced().unwrap().to_string(),
        "4.7.0"
    );
    assert!(Outcome::of(&send_to(&pool, "after@example.org").await).is_accepted());
    assert_eq!(pool.stats().connections_opened, 2);
}

#[tokio::test]
async fn a_reply_slower_than_the_command_timeout_is_a_transient_timeout() {
    let server = FaultServer::start(&["--pipelining", "--slow", "5"]);
    let config = PoolConfig {
        timeouts: Timeouts {
            command: Duration::from_millis(400),
            ..Timeouts::default()
        },
        ..connections(1)
    };
    let pool = pool(&[server.url(None, "")], config);
    let started = Instant::now();
    let slow = send_to(&pool, "slow@example.org").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_transient(&slow, Stage::RcptTo, None);
    assert_eq!(slow.unwrap_err().kind, ErrorKind::Timeout);
    // The timed-out connection is dropped; a new one delivers.
    assert!(Outcome::of(&send_to(&pool, "next@example.org").await).is_accepted());
    assert_eq!(pool.stats().connections_opened, 2);
}

#[tokio::test]
async fn the_right_credentials_authenticate_and_deliver() {
    let server = FaultServer::start(&["--auth", "herald:s3cret pass"]);
    let pool = pool(
        &[server.url(Some("herald:s3cret%20pass"), "")],
        connections(1),
    );
    let result = send_to(&pool, "ann@example.org").await;
    assert!(Outcome::of(&result).is_accepted(), "{result:?}");
}

#[tokio::test]
async fn a_relay_requiring_authentication_defers_a_sender_without_credentials() {
    let server = FaultServer::start(&["--auth", "herald:secret"]);
    let pool = pool(&[server.url(None, "")], connections(1));
    let result = send_to(&pool, "ann@example.org").await;
    assert_transient(&result, Stage::MailFrom, Some(530));
}

#[tokio::test]
async fn wrong_credentials_are_transient_and_name_the_auth_stage() {
    let server = FaultServer::start(&["--auth", "herald:secret"]);
    let pool = pool(&[server.url(Some("herald:wrong"), "")], connections(1));
    let result = send_to(&pool, "ann@example.org").await;
    assert_transient(&result, Stage::Auth, Some(535));
}

#[tokio::test]
async fn starttls_is_used_when_offered_and_required_when_asked() {
    let server = FaultServer::start(&["--tls", "starttls", "--pipelining"]);
    let pool_ = pool(&[server.url(None, "?insecure=true")], connections(1));
    let result = send_to(&pool_, "ann@example.org").await;
    assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    let required = pool(
        &[server.url(None, "?tls=required&insecure=true")],
        connections(1),
    );
    assert!(Outcome::of(&send_to(&required, "bob@example.org").await).is_accepted());
    assert_eq!(
        server.wait_for_delivered(2).await,
        ["ann@example.org", "bob@example.org"]
    );
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_unless_insecure() {
    let server = FaultServer::start(&["--tls", "starttls"]);
    let pool = pool(&[server.url(None, "")], connections(1));
    let result = send_to(&pool, "ann@example.org").await;
    assert_transient(&result, Stage::StartTls, None);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("certificate"), "{message}");
}

#[tokio::test]
async fn a_relay_without_starttls_is_unusable_when_tls_is_required() {
    let server = FaultServer::start(&[]);
    let pool = pool(&[server.url(None, "?tls=required")], connections(1));
    let result = send_to(&pool, "ann@example.org").await;
    assert_transient(&result, Stage::StartTls, None);
    assert!(matches!(
        result.unwrap_err().kind,
        ErrorKind::RelayUnusable(_)
    ));
}

#[tokio::test]
async fn smtps_delivers_over_implicit_tls() {
    let server = FaultServer::start(&["--tls", "implicit", "--pipelining"]);
    let url = format!("smtps://127.0.0.1:{}?insecure=true", server.port);
    let pool = pool(&[url], connections(1));
    let result = send_to(&pool, "ann@example.org").await;
    assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    assert!(Outcome::of(&send_to(&pool, "bob@example.org").await).is_accepted());
    assert_eq!(pool.stats().connections_opened, 1);
}

#[tokio::test]
async fn when_the_first_relay_refuses_connections_the_second_delivers() {
    let sink = SmtpSink::start();
    let closed = format!("smtp://127.0.0.1:{}", free_port());
    let pool = pool(&[closed, sink.url()], PoolConfig::default());
    for n in 0..3 {
        let result = send_to(&pool, &format!("failover{n}@example.org")).await;
        assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    }
    assert_eq!(sink.wait_for_dumps(3).await.len(), 3);
    assert_eq!(pool.stats().connections_opened, 1);
}

#[tokio::test]
async fn when_every_relay_is_down_the_last_connection_error_is_transient() {
    let urls = [
        format!("smtp://127.0.0.1:{}", free_port()),
        format!("smtp://127.0.0.1:{}", free_port()),
    ];
    let pool = pool(&urls, PoolConfig::default());
    let result = send_to(&pool, "ann@example.org").await;
    assert_transient(&result, Stage::Connect, None);
    let error = result.unwrap_err();
    assert_eq!(error.relay, urls[1].trim_start_matches("smtp://"));
}

#[tokio::test]
async fn an_idle_connection_the_server_closed_is_replaced_without_failing_the_message() {
    let server = FaultServer::start(&["--pipelining", "--idle", "0.3"]);
    let pool = pool(&[server.url(None, "")], connections(1));
    assert!(Outcome::of(&send_to(&pool, "before@example.org").await).is_accepted());
    tokio::time::sleep(Duration::from_millis(800)).await;
    let result = send_to(&pool, "after@example.org").await;
    assert!(Outcome::of(&result).is_accepted(), "{result:?}");
    assert_eq!(pool.stats().connections_opened, 2);
}
