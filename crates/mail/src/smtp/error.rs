//! What went wrong in a delivery attempt, and where.

use super::reply::SmtpReply;
use std::fmt;

/// The step of the SMTP session an error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Resolving the relay and opening TCP (and the implicit-TLS handshake of `smtps`).
    Connect,
    /// The server's greeting and the EHLO exchange.
    Greeting,
    /// STARTTLS and its handshake.
    StartTls,
    /// AUTH.
    Auth,
    /// RSET, before reusing a connection whose last transaction did not complete.
    Reset,
    /// MAIL FROM.
    MailFrom,
    /// RCPT TO.
    RcptTo,
    /// The DATA command (before the content).
    Data,
    /// The content and its final `.`: the reply here is the relay's verdict on the message.
    /// A transport error at this stage is the one case where the relay may have accepted
    /// the message without Herald hearing it.
    EndOfData,
}

impl Stage {
    /// Whether the stage sets up the session rather than the transaction: a failure here
    /// says nothing about the message or its recipient, only that this relay cannot be
    /// used right now (so another relay is tried).
    pub fn is_session_setup(self) -> bool {
        matches!(
            self,
            Stage::Connect | Stage::Greeting | Stage::StartTls | Stage::Auth
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::Greeting => "the greeting or EHLO",
            Stage::StartTls => "STARTTLS",
            Stage::Auth => "AUTH",
            Stage::Reset => "RSET",
            Stage::MailFrom => "MAIL FROM",
            Stage::RcptTo => "RCPT TO",
            Stage::Data => "DATA",
            Stage::EndOfData => "the end of DATA",
        }
    }
}

/// The kind of failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server answered with a 4xx or 5xx reply (or an unexpected positive one).
    Reply(SmtpReply),
    /// No reply within the timeout for the command.
    Timeout,
    /// The connection could not be opened or broke: refused, reset, closed, a TLS failure,
    /// a reply that could not be parsed.
    Connection(String),
    /// The relay cannot be used as configured: STARTTLS required but not offered,
    /// credentials that would travel unencrypted, no AUTH mechanism in common.
    RelayUnusable(String),
    /// The message cannot be sent as it is: an address that has no SMTP form, 8-bit
    /// content for a relay without 8BITMIME.
    Unsendable(String),
}

/// A delivery attempt that did not end in a 2xx reply to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// The relay, as `host:port` (the first relay when the message was refused before any
    /// relay was tried).
    pub relay: String,
    pub stage: Stage,
    pub kind: ErrorKind,
}

impl DeliveryError {
    pub(crate) fn new(relay: &str, stage: Stage, kind: ErrorKind) -> Self {
        Self {
            relay: relay.to_owned(),
            stage,
            kind,
        }
    }

    /// The server's reply, when the failure is one.
    pub fn reply(&self) -> Option<&SmtpReply> {
        match &self.kind {
            ErrorKind::Reply(reply) => Some(reply),
            _ => None,
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (relay, stage) = (&self.relay, self.stage.describe());
        match &self.kind {
            ErrorKind::Reply(reply) => write!(f, "{relay} replied to {stage}: {reply}"),
            ErrorKind::Timeout => write!(f, "{relay} did not answer {stage} in time"),
            ErrorKind::Connection(detail) => {
                write!(f, "connection to {relay} failed during {stage}: {detail}")
            }
            ErrorKind::RelayUnusable(detail) => write!(f, "{relay} cannot be used: {detail}"),
            ErrorKind::Unsendable(detail) => {
                write!(f, "the message cannot be sent through {relay}: {detail}")
            }
        }
    }
}

impl std::error::Error for DeliveryError {}
