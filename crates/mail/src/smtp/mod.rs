//! Delivery to SMTP relays: a pooled async client built on lettre.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use herald_domain::email_address::EmailAddress;
//! use herald_mail::smtp::{Outcome, PoolConfig, Relay, SmtpPool};
//!
//! let relay = Relay::parse("smtp://user:secret@relay.example.com:587?tls=required")?;
//! let pool = SmtpPool::new(vec![relay], PoolConfig::default())?;
//! let from = EmailAddress::parse("bounces@example.com")?;
//! let to = EmailAddress::parse("ann@example.org")?;
//! let result = pool.send(&from, &to, b"From: ...\r\n\r\nHello\r\n").await;
//! match Outcome::of(&result) {
//!     Outcome::Accepted { text, .. } => println!("sent: {text}"),
//!     Outcome::Transient { text, .. } => println!("retry later: {text}"),
//!     Outcome::Permanent { text, .. } => println!("bounce: {text}"),
//! }
//! pool.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! - Relays: `smtp://[user:pass@]host[:port]` (port 25, STARTTLS when offered;
//!   `?tls=required` to insist, `?tls=none` to never), `smtps://…` (port 465, implicit TLS),
//!   `?insecure=true` to accept self-signed certificates. Credentials are sent only over
//!   TLS, or in plain text to a loopback relay.
//! - Each relay has a pool of at most `max_connections`; a connection carries up to
//!   `max_messages_per_connection` messages, with RSET before a message that follows a
//!   transaction cut short (after a completed one the server has reset already, RFC 5321
//!   §4.1.1.4), and is dropped on any transport error, timeout or 421.
//! - MAIL, RCPT and DATA go in one write when the relay offers PIPELINING (RFC 2920);
//!   a send waiting for a connection has its MAIL, RCPT and DATA written right after the
//!   content of a transaction that is ending, which then hands it the connection (one
//!   round trip a message on a busy connection instead of two).
//! - Relays are tried in order; one that cannot be connected to is skipped for the next.

mod connection;
mod data;
mod error;
mod handoff;
mod outcome;
mod pool;
mod reply;
mod tls;

pub use error::{DeliveryError, ErrorKind, Stage};
pub use herald_domain::relay::{Credentials, InvalidRelay, Relay, Security};
pub use outcome::Outcome;
pub use pool::{PoolConfig, PoolError, PoolStats, SmtpPool, Timeouts, Transaction};
pub use reply::{EnhancedStatus, SmtpReply};
