//! A pool of SMTP connections per relay, with failover across relays.

use super::connection::Connection;
use super::error::{DeliveryError, ErrorKind, Stage};
use super::handoff::{Handoff, WaitingSends};
use super::reply::SmtpReply;
use super::tls::TlsSetup;
use crate::address::ascii_address;
use herald_domain::email_address::EmailAddress;
use herald_domain::relay::Relay;
use lettre::Address;
use lettre::transport::smtp::extension::ClientId;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// How long each step may take before the attempt fails as a timeout (transient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Resolving and opening TCP.
    pub connect: Duration,
    /// Each command's reply: greeting, EHLO, STARTTLS and the TLS handshake, AUTH, RSET,
    /// MAIL, RCPT, DATA, QUIT.
    pub command: Duration,
    /// Sending the content and reading the reply to its final `.`.
    pub data: Duration,
}

impl Default for Timeouts {
    /// 30 s to connect, 60 s per command, 120 s for the content: shorter than RFC 5321
    /// §4.5.3.2 (5 to 10 minutes), which suits a sender that retries.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            command: Duration::from_secs(60),
            data: Duration::from_secs(120),
        }
    }
}

/// How the pool behaves; the same for every relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Connections open at once to one relay (idle and busy); a send beyond waits.
    pub max_connections: usize,
    /// A connection is closed (QUIT) after this many messages.
    pub max_messages_per_connection: u32,
    /// A connection idle longer than this is closed rather than reused (servers drop idle
    /// sessions after a few minutes; Postfix after 300 s).
    pub idle_timeout: Duration,
    /// A relay that could not be connected to is tried after the others for this long.
    pub relay_retry_after: Duration,
    /// The EHLO name: this host's name, or an IP address; `None` says `[127.0.0.1]`.
    pub hello_name: Option<String>,
    pub timeouts: Timeouts,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            max_messages_per_connection: 100,
            idle_timeout: Duration::from_secs(30),
            relay_retry_after: Duration::from_secs(30),
            hello_name: None,
            timeouts: Timeouts::default(),
        }
    }
}

/// Why a pool could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("a pool needs at least one relay")]
    NoRelay,
    #[error("max_connections and max_messages_per_connection must be at least 1")]
    ZeroLimit,
    #[error("the EHLO name {0:?} must be a host name or an IP address, without blanks")]
    HelloName(String),
    #[error("TLS for relay {relay} could not be set up: {detail}")]
    Tls { relay: String, detail: String },
}

/// Counters for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Connections opened (greeted and ready) since the pool was made, all relays.
    pub connections_opened: u64,
    /// Connections waiting in the pool for the next message.
    pub idle_connections: usize,
}

/// Delivers messages through pooled connections to one or more relays, tried in order:
/// a relay that cannot be connected to (refused, timed out, greeting refused, STARTTLS or
/// AUTH failed) is skipped for the next one, and put last for `relay_retry_after`.
///
/// Share it (`Arc<SmtpPool>`) between the engine's workers: `send` takes `&self`.
pub struct SmtpPool {
    relays: Vec<RelayPool>,
    config: PoolConfig,
    hello: ClientId,
    connections_opened: AtomicU64,
}

struct RelayPool {
    relay: Relay,
    address: String,
    tls: TlsSetup,
    /// One per connection open or being opened (a send holds it for its connection).
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
    /// Sends waiting for a permit, which a finishing transaction may take on.
    waiting: WaitingSends,
    down_until: Mutex<Option<Instant>>,
}

impl SmtpPool {
    /// A pool over `relays`, in order of preference. Opens no connection yet.
    pub fn new(relays: Vec<Relay>, config: PoolConfig) -> Result<Self, PoolError> {
        if relays.is_empty() {
            return Err(PoolError::NoRelay);
        }
        if config.max_connections == 0 || config.max_messages_per_connection == 0 {
            return Err(PoolError::ZeroLimit);
        }
        let hello = hello_name(config.hello_name.as_deref())?;
        let relays = relays
            .into_iter()
            .map(|relay| {
                let tls = TlsSetup::new(&relay).map_err(|detail| PoolError::Tls {
                    relay: relay.to_string(),
                    detail,
                })?;
                Ok(RelayPool {
                    address: relay.address(),
                    relay,
                    tls,
                    permits: Arc::new(Semaphore::new(config.max_connections)),
                    idle: Mutex::new(Vec::new()),
                    waiting: WaitingSends::default(),
                    down_until: Mutex::new(None),
                })
            })
            .collect::<Result<Vec<_>, PoolError>>()?;
        Ok(Self {
            relays,
            config,
            hello,
            connections_opened: AtomicU64::new(0),
        })
    }

    /// Delivers `message` from `envelope_from` (the Return-Path) to `recipient`.
    ///
    /// `Ok` is the relay's 2xx reply to the end of DATA (its text usually names the queue
    /// id). Classify either side with [`Outcome::of`](super::Outcome::of). The message
    /// must use CRLF line endings, as [`crate::message`] writes them.
    pub async fn send(
        &self,
        envelope_from: &EmailAddress,
        recipient: &EmailAddress,
        message: &[u8],
    ) -> Transaction {
        self.send_unless(envelope_from, recipient, message, std::future::pending())
            .await
            .expect("a send that is never stopped ends with a result")
    }

    /// As [`SmtpPool::send`], but a send still waiting for a connection when `stop`
    /// completes gives up: `None`, and nothing of the message was written. Once its
    /// transaction has begun, it ends as `send` would.
    pub async fn send_unless(
        &self,
        envelope_from: &EmailAddress,
        recipient: &EmailAddress,
        message: &[u8],
        stop: impl Future<Output = ()> + Send,
    ) -> Option<Transaction> {
        let first_relay = &self.relays[0].address;
        let from = match envelope_address(envelope_from, first_relay, Stage::MailFrom) {
            Ok(from) => from,
            Err(error) => return Some(Err(error)),
        };
        let to = match envelope_address(recipient, first_relay, Stage::RcptTo) {
            Ok(to) => to,
            Err(error) => return Some(Err(error)),
        };
        let mut stop: Pin<&mut (dyn Future<Output = ()> + Send)> = std::pin::pin!(stop);
        let mut stopped = false;
        let mut last_error = None;
        for relay in self.relays_in_order() {
            let wait = Wait {
                stop: stop.as_mut(),
                stopped: &mut stopped,
            };
            match relay.deliver(self, &from, &to, message, wait).await {
                Ok(result) => return result,
                Err(error) => {
                    relay.mark_down(self.config.relay_retry_after);
                    last_error = Some(error);
                }
            }
        }
        Some(Err(last_error.unwrap_or_else(|| {
            DeliveryError::new(
                first_relay,
                Stage::Connect,
                ErrorKind::RelayUnusable("no relay could be tried".into()),
            )
        })))
    }

    /// Connection counters.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            connections_opened: self.connections_opened.load(Ordering::Relaxed),
            idle_connections: self.relays.iter().map(RelayPool::idle_count).sum(),
        }
    }

    /// Says QUIT on every idle connection and waits for them to close (at most the command
    /// timeout). Sends still running keep their connections; call this at shutdown.
    pub async fn close(&self) {
        let mut quits = JoinSet::new();
        for relay in &self.relays {
            for connection in relay.drain_idle() {
                quits.spawn(connection.quit(self.config.timeouts.command));
            }
        }
        while quits.join_next().await.is_some() {}
    }

    /// Relays that are up, in configured order, then those marked down.
    fn relays_in_order(&self) -> Vec<&RelayPool> {
        let now = Instant::now();
        let (up, down): (Vec<&RelayPool>, Vec<&RelayPool>) =
            self.relays.iter().partition(|relay| !relay.is_down(now));
        up.into_iter().chain(down).collect()
    }
}

/// The result of one transaction: the relay's 2xx reply to the end of DATA, or why not.
pub type Transaction = Result<SmtpReply, DeliveryError>;

/// What may stop a send while it waits for a connection: `stop`, polled until it
/// completes once (then `stopped`).
struct Wait<'a> {
    stop: Pin<&'a mut (dyn Future<Output = ()> + Send)>,
    stopped: &'a mut bool,
}

/// How a send gets its connection.
enum Checkout {
    /// A permit: take an idle connection or open one.
    Permit(OwnedSemaphorePermit),
    /// A connection whose last transaction wrote this send's envelope.
    Handed(Box<Handoff>),
}

impl RelayPool {
    /// Runs the transaction on a pooled, new or handed-over connection. `Err` means this
    /// relay could not be used at all (try the next one); `Ok` holds the transaction's
    /// result, or `None` when the send was stopped before it began.
    async fn deliver(
        &self,
        pool: &SmtpPool,
        from: &Address,
        to: &Address,
        message: &[u8],
        mut wait: Wait<'_>,
    ) -> Result<Option<Transaction>, DeliveryError> {
        let config = &pool.config;
        let eight_bit = !message.is_ascii();
        loop {
            let Some(checkout) = self.checkout(from, to, eight_bit, &mut wait).await else {
                return Ok(None);
            };
            let (mut connection, permit, reused, written) = match checkout {
                Checkout::Handed(handoff) => {
                    let Handoff {
                        connection,
                        permit,
                        envelope,
                    } = *handoff;
                    (connection, permit, true, Some(envelope))
                }
                Checkout::Permit(permit) => {
                    let (connection, reused) = match self.take_idle(config) {
                        Some(connection) => (connection, true),
                        None => {
                            let connection = Connection::open(
                                &self.relay,
                                &self.tls,
                                &pool.hello,
                                &config.timeouts,
                            )
                            .await?;
                            pool.connections_opened.fetch_add(1, Ordering::Relaxed);
                            (connection, false)
                        }
                    };
                    (connection, permit, reused, None)
                }
            };
            self.mark_up();
            let (envelope, written) = match written {
                Some(envelope) => (envelope, true),
                None => match connection.envelope(from, to, eight_bit) {
                    Ok(envelope) => (envelope, false),
                    Err(refused) => {
                        self.put_idle(connection);
                        return Ok(Some(refused.result));
                    }
                },
            };
            // The waiting send this transaction takes on, whose envelope it writes.
            let mut taken = None;
            let take_on_next = |connection: &Connection| {
                if !connection.can_pipeline_next(config.max_messages_per_connection) {
                    return None;
                }
                let (promise, next) = self.waiting.take_on(connection)?;
                let commands = next.wire();
                taken = Some((promise, next));
                Some(commands)
            };
            let attempt = connection
                .send(&envelope, written, message, &config.timeouts, take_on_next)
                .await;
            match taken {
                Some((promise, envelope)) if attempt.reusable => promise.keep(Handoff {
                    connection,
                    permit,
                    envelope,
                }),
                // The next send's envelope went down with the connection.
                Some((promise, _)) => promise.retry(),
                None => {
                    if attempt.stale && reused {
                        // The server dropped this session (idle, or right after the
                        // transaction that handed it over); nothing was taken. Next one.
                        continue;
                    }
                    if !attempt.reusable {
                        drop(connection);
                    } else if connection.messages >= config.max_messages_per_connection {
                        tokio::spawn(connection.quit(config.timeouts.command));
                    } else {
                        self.put_idle(connection);
                    }
                }
            }
            return Ok(Some(attempt.result));
        }
    }

    /// A permit, or a connection handed over with this send's envelope written; `None`
    /// once `wait` says stop. Without a free permit the send waits in line, where a
    /// finishing transaction may take it on.
    async fn checkout(
        &self,
        from: &Address,
        to: &Address,
        eight_bit: bool,
        wait: &mut Wait<'_>,
    ) -> Option<Checkout> {
        loop {
            if *wait.stopped {
                return None;
            }
            if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
                return Some(Checkout::Permit(permit));
            }
            let (waiter, mut handed) = self.waiting.join(from, to, eight_bit);
            let permit = tokio::select! {
                permit = Arc::clone(&self.permits).acquire_owned() => {
                    Some(permit.expect("the semaphore is never closed"))
                }
                handoff = &mut handed => match handoff {
                    Ok(Some(handoff)) => return Some(Checkout::Handed(handoff)),
                    _ => continue,
                },
                () = wait.stop.as_mut() => {
                    *wait.stopped = true;
                    None
                }
            };
            if self.waiting.leave(&waiter) {
                return permit.map(Checkout::Permit);
            }
            // Taken on meanwhile: the handoff is on its way, and this send's envelope
            // may be on the wire already, so it goes on.
            drop(permit);
            if let Ok(Some(handoff)) = handed.await {
                return Some(Checkout::Handed(handoff));
            }
        }
    }

    /// The most recently used idle connection still young enough; older ones are closed.
    fn take_idle(&self, config: &PoolConfig) -> Option<Connection> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(connection) = idle.pop() {
            if connection.last_used.elapsed() < config.idle_timeout {
                return Some(connection);
            }
            tokio::spawn(connection.quit(config.timeouts.command));
        }
        None
    }

    fn put_idle(&self, connection: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(connection);
    }

    fn drain_idle(&self) -> Vec<Connection> {
        std::mem::take(
            &mut *self
                .idle
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    fn is_down(&self, now: Instant) -> bool {
        self.down_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some_and(|until| now < until)
    }

    fn mark_down(&self, for_how_long: Duration) {
        *self
            .down_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now() + for_how_long);
    }

    fn mark_up(&self) {
        *self
            .down_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

fn hello_name(name: Option<&str>) -> Result<ClientId, PoolError> {
    let Some(name) = name else {
        return Ok(ClientId::default());
    };
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Ok(ClientId::Ipv4(ip)),
        Ok(IpAddr::V6(ip)) => Ok(ClientId::Ipv6(ip)),
        Err(_) if !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_graphic()) => {
            Ok(ClientId::Domain(name.to_owned()))
        }
        Err(_) => Err(PoolError::HelloName(name.to_owned())),
    }
}

/// The address for MAIL FROM or RCPT TO: ASCII (punycode domain), so no SMTPUTF8.
fn envelope_address(
    address: &EmailAddress,
    relay: &str,
    stage: Stage,
) -> Result<Address, DeliveryError> {
    let unsendable =
        |detail: &str| DeliveryError::new(relay, stage, ErrorKind::Unsendable(detail.to_owned()));
    let ascii = ascii_address(address)
        .map_err(|_| unsendable("the address's domain has no ASCII (IDNA) form"))?;
    ascii
        .parse()
        .map_err(|_| unsendable("the address has no SMTP form"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_needs_relays_limits_and_a_clean_ehlo_name() {
        let relay = || vec![Relay::parse("smtp://127.0.0.1:2525").unwrap()];
        assert!(matches!(
            SmtpPool::new(Vec::new(), PoolConfig::default()),
            Err(PoolError::NoRelay)
        ));
        let zero = PoolConfig {
            max_connections: 0,
            ..PoolConfig::default()
        };
        assert!(matches!(
            SmtpPool::new(relay(), zero),
            Err(PoolError::ZeroLimit)
        ));
        let injected = PoolConfig {
            hello_name: Some("host\r\nMAIL FROM:<x@y>".into()),
            ..PoolConfig::default()
        };
        assert!(matches!(
            SmtpPool::new(relay(), injected),
            Err(PoolError::HelloName(_))
        ));
        assert_eq!(
            hello_name(Some("10.0.0.1")).unwrap().to_string(),
            "[10.0.0.1]"
        );
        assert_eq!(hello_name(Some("::1")).unwrap().to_string(), "[IPv6:::1]");
        assert_eq!(
            hello_name(Some("mta.example.com")).unwrap().to_string(),
            "mta.example.com"
        );
        assert!(SmtpPool::new(relay(), PoolConfig::default()).is_ok());
    }

    #[test]
    fn the_pool_and_its_send_future_can_move_between_threads() {
        fn shared<T: Send + Sync>(_: &T) {}
        fn spawnable<T: Send>(_: T) {}
        let pool = SmtpPool::new(
            vec![Relay::parse("smtp://127.0.0.1:2525").unwrap()],
            PoolConfig::default(),
        )
        .unwrap();
        shared(&pool);
        let address = EmailAddress::parse("a@example.com").unwrap();
        // Built, never polled: only its type matters.
        spawnable(pool.send(&address, &address, b""));
    }

    #[test]
    fn envelope_addresses_use_the_ascii_domain() {
        let address = EmailAddress::parse("ann@bücher.example").unwrap();
        let envelope = envelope_address(&address, "r:25", Stage::RcptTo).unwrap();
        assert_eq!(envelope.to_string(), "ann@xn--bcher-kva.example");
    }
}
