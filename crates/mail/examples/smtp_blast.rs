//! Sends N messages of a given size through an `SmtpPool` as fast as it takes them and
//! prints the rate: the Herald side of `bench/smtp.sh`.
//!
//! `cargo run --release -p herald-mail --example smtp_blast -- RELAY_URL MESSAGES CONNECTIONS BYTES [SENDS]`
//!
//! SENDS is how many sends run at once (default: CONNECTIONS). With more sends than
//! connections, as in the engine, sends wait in line and a transaction that ends writes
//! the next one's envelope after its content.

use herald_domain::email_address::EmailAddress;
use herald_mail::message::{Mailbox, MessageParts};
use herald_mail::smtp::{Outcome, PoolConfig, Relay, SmtpPool};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: smtp_blast RELAY_URL MESSAGES CONNECTIONS BYTES [SENDS]");
    std::process::exit(2)
}

/// A message of `size` bytes (within a line), built the way the engine builds them.
fn message(
    from: &EmailAddress,
    to: &EmailAddress,
    size: usize,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let parts = |text: String| MessageParts {
        from: Mailbox::named("Herald Bench", from.clone()),
        reply_to: None,
        to: Mailbox::bare(to.clone()),
        subject: "Benchmark message".into(),
        preheader: None,
        html: None,
        text,
        date: time::OffsetDateTime::now_utc(),
        message_id: "<bench@herald.test>".into(),
        list_unsubscribe_url: None,
        list_unsubscribe_mailto: None,
        extra_headers: Vec::new(),
    };
    // Lines of 70 characters stay 7-bit, so the size grows with the body byte for byte.
    let line = format!("{}\r\n", "x".repeat(70));
    let body = |length: usize| line.repeat(length / line.len() + 1)[..length].to_owned();
    let overhead = parts(body(0)).build()?.len();
    let body = body(size.saturating_sub(overhead));
    Ok(parts(body).build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (relay, messages, connections, size, sends) = match args.as_slice() {
        [relay, messages, connections, size] => (relay, messages, connections, size, connections),
        [relay, messages, connections, size, sends] => (relay, messages, connections, size, sends),
        _ => usage(),
    };
    let (messages, connections, size, sends): (usize, usize, usize, usize) = match (
        messages.parse(),
        connections.parse(),
        size.parse(),
        sends.parse(),
    ) {
        (Ok(m), Ok(c), Ok(s), Ok(n)) if c > 0 && n > 0 => (m, c, s, n),
        _ => usage(),
    };
    let config = PoolConfig {
        max_connections: connections,
        ..PoolConfig::default()
    };
    let pool = Arc::new(SmtpPool::new(vec![Relay::parse(relay)?], config)?);
    let from = EmailAddress::parse("bench@herald.test")?;
    let to = EmailAddress::parse("sink@example.org")?;
    let message = Arc::new(message(&from, &to, size)?);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));

    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..sends {
        let (pool, message, from, to) = (pool.clone(), message.clone(), from.clone(), to.clone());
        let (next, failures) = (next.clone(), failures.clone());
        workers.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < messages {
                let result = pool.send(&from, &to, &message).await;
                if !Outcome::of(&result).is_accepted() {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let seconds = started.elapsed().as_secs_f64();
    pool.close().await;

    let failed = failures.load(Ordering::Relaxed);
    println!(
        "messages={messages} bytes={} connections={connections} sends={sends} opened={} seconds={seconds:.3} rate={:.0} failed={failed}",
        message.len(),
        pool.stats().connections_opened,
        messages as f64 / seconds
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
