//! One SMTP session to a relay: lettre speaks the protocol, over a TCP stream opened here
//! with `TCP_NODELAY` (lettre 0.11 never sets it, and Nagle plus delayed ACKs costs ~44 ms
//! per message).

use super::data::DataContent;
use super::error::{DeliveryError, ErrorKind, Stage};
use super::pool::Timeouts;
use super::reply::SmtpReply;
use super::tls::TlsSetup;
use herald_domain::relay::{Relay, Security};
use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// An open, greeted, possibly encrypted and authenticated session.
pub(crate) struct Connection {
    inner: AsyncSmtpConnection,
    relay: String,
    pipelining: bool,
    eight_bit_mime: bool,
    /// The last transaction ended before its final `.`: RSET before the next one.
    needs_reset: bool,
    /// Messages this connection carried to the end of DATA.
    pub(crate) messages: u32,
    pub(crate) last_used: Instant,
}

/// The result of one transaction and what it says about the connection.
pub(crate) struct Attempt {
    pub(crate) result: Result<SmtpReply, DeliveryError>,
    /// The connection can carry another message.
    pub(crate) reusable: bool,
    /// The very first reply never came (or was 421, the server closing): on a pooled
    /// connection this means the server had dropped it while idle, and nothing of this
    /// message was taken, so it is safe to retry on a fresh connection.
    pub(crate) stale: bool,
}

/// One command of the transaction and the reply class that lets it go on.
struct Step {
    stage: Stage,
    command: String,
    expected_class: u16,
}

/// The commands that open one transaction, as one connection must send them.
pub(crate) struct Envelope {
    steps: Vec<Step>,
}

impl Envelope {
    /// The commands as one pipelined group.
    pub(crate) fn wire(&self) -> String {
        self.steps
            .iter()
            .map(|step| step.command.as_str())
            .collect()
    }
}

impl Connection {
    /// Connects, reads the greeting, says EHLO, upgrades with STARTTLS as the relay's
    /// security asks, and authenticates when it has credentials.
    pub(crate) async fn open(
        relay: &Relay,
        tls: &TlsSetup,
        hello: &ClientId,
        timeouts: &Timeouts,
    ) -> Result<Self, DeliveryError> {
        let address = relay.address();
        let fail = |stage, kind| DeliveryError::new(&address, stage, kind);

        let tcp = timed(timeouts.connect, connect_tcp(relay.host(), relay.port()))
            .await
            .map_err(|kind| fail(Stage::Connect, kind))?;
        let stream: Box<dyn AsyncTokioStream> = if relay.security() == Security::Implicit {
            let tls_stream = timed(timeouts.command, async {
                tls.handshake(tcp)
                    .await
                    .map_err(|error| ErrorKind::Connection(format!("TLS handshake: {error}")))
            })
            .await
            .map_err(|kind| fail(Stage::Connect, kind))?;
            Box::new(tls_stream)
        } else {
            Box::new(tcp)
        };

        let mut inner = timed(timeouts.command, async {
            AsyncSmtpConnection::connect_with_transport(stream, hello)
                .await
                .map_err(error_kind)
        })
        .await
        .map_err(|kind| fail(Stage::Greeting, kind))?;

        let starttls = match relay.security() {
            Security::Opportunistic => inner.can_starttls(),
            Security::RequireStartTls if !inner.can_starttls() => {
                return Err(fail(
                    Stage::StartTls,
                    ErrorKind::RelayUnusable(
                        "STARTTLS is required (tls=required) but the relay does not offer it"
                            .into(),
                    ),
                ));
            }
            Security::RequireStartTls => true,
            Security::Plain | Security::Implicit => false,
        };
        if starttls {
            timed(timeouts.command, async {
                inner
                    .starttls(tls.starttls.clone(), hello)
                    .await
                    .map_err(error_kind)
            })
            .await
            .map_err(|kind| fail(Stage::StartTls, kind))?;
        }

        // lettre keeps only some EHLO keywords (not PIPELINING): ask again and read them all.
        let ehlo = timed(timeouts.command, async {
            inner
                .command(Ehlo::new(hello.clone()))
                .await
                .map_err(error_kind)
        })
        .await
        .map_err(|kind| fail(Stage::Greeting, kind))?;
        let keywords: Vec<String> = ehlo
            .message()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect();
        let offers = |keyword: &str| keywords.iter().any(|offered| offered == keyword);

        if let Some(credentials) = relay.credentials() {
            if !inner.is_encrypted() && !relay.is_loopback() {
                return Err(fail(
                    Stage::Auth,
                    ErrorKind::RelayUnusable(
                        "refusing to send credentials unencrypted: use smtps:// or a relay \
                         that offers STARTTLS"
                            .into(),
                    ),
                ));
            }
            let credentials =
                Credentials::new(credentials.username.clone(), credentials.password.clone());
            timed(timeouts.command, async {
                inner
                    .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                    .await
                    .map_err(error_kind)
            })
            .await
            .map_err(|kind| fail(Stage::Auth, kind))?;
        }

        Ok(Self {
            pipelining: offers("PIPELINING"),
            eight_bit_mime: offers("8BITMIME"),
            inner,
            relay: address,
            needs_reset: false,
            messages: 0,
            last_used: Instant::now(),
        })
    }

    /// The commands that open a transaction from `from` to `to` on this connection, up to
    /// DATA (with an RSET in front when the last transaction was cut short); `Err` when the
    /// message cannot go this way (8-bit content to a relay without 8BITMIME).
    pub(crate) fn envelope(
        &self,
        from: &Address,
        to: &Address,
        eight_bit: bool,
    ) -> Result<Envelope, Attempt> {
        let mut parameters = Vec::new();
        if eight_bit {
            if !self.eight_bit_mime {
                return Err(self
                    .refuse("it has 8-bit content and the relay does not offer 8BITMIME".into()));
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mut steps = Vec::with_capacity(4);
        if self.needs_reset {
            steps.push(Step {
                stage: Stage::Reset,
                command: "RSET\r\n".into(),
                expected_class: 2,
            });
        }
        steps.push(Step {
            stage: Stage::MailFrom,
            command: Mail::new(Some(from.clone()), parameters).to_string(),
            expected_class: 2,
        });
        steps.push(Step {
            stage: Stage::RcptTo,
            command: Rcpt::new(to.clone(), Vec::new()).to_string(),
            expected_class: 2,
        });
        steps.push(Step {
            stage: Stage::Data,
            command: "DATA\r\n".into(),
            expected_class: 3,
        });
        Ok(Envelope { steps })
    }

    /// Asked while a transaction's DATA is open: whether the next transaction can open in
    /// the same write as this content (RFC 2920 §3.1: content may start a group of
    /// pipelined commands) and still fit in the connection's `max_messages`.
    pub(crate) fn can_pipeline_next(&self, max_messages: u32) -> bool {
        // The current message will be the `messages + 1`th; the next one more.
        self.pipelining && self.messages + 2 <= max_messages
    }

    /// One transaction: the envelope (pipelined when the relay offers PIPELINING, or
    /// already `written` by the connection's previous transaction), then the message and
    /// its final `.`. Once DATA is open, `next` may give the commands that open the next
    /// transaction ([`Envelope::wire`]), which then go in the same write as this content.
    pub(crate) async fn send(
        &mut self,
        envelope: &Envelope,
        written: bool,
        message: &[u8],
        timeouts: &Timeouts,
        next: impl FnOnce(&Self) -> Option<String>,
    ) -> Attempt {
        self.last_used = Instant::now();
        let steps = &envelope.steps;
        let (replies, failure) = self.exchange(envelope, written, timeouts.command).await;
        // A 421 is the server closing the session; it also explains a failure that follows.
        if let Some(index) = replies.iter().position(|reply| reply.code == 421) {
            let reply = ErrorKind::Reply(replies[index].clone());
            return self.broken(steps[index].stage, reply, index == 0);
        }
        if let Some((index, kind)) = failure {
            return self.broken(steps[index].stage, kind, index == 0);
        }
        if let Some(index) = replies
            .iter()
            .zip(steps)
            .position(|(reply, step)| reply.class() != step.expected_class)
        {
            let reply = ErrorKind::Reply(replies[index].clone());
            // A server that opened DATA although MAIL or RCPT failed is waiting for content
            // that must not be sent: drop the session rather than send an empty message.
            let data_opened = replies.len() == steps.len()
                && replies.last().is_some_and(|last| last.class() == 3);
            if data_opened {
                return self.broken(steps[index].stage, reply, false);
            }
            self.needs_reset = true;
            return Attempt {
                result: Err(self.error(steps[index].stage, reply)),
                reusable: true,
                stale: false,
            };
        }

        // The server resets itself after a completed transaction (RFC 5321 §4.1.1.4).
        self.needs_reset = false;
        let reply = timed(timeouts.data, async {
            match DataContent::encode(message) {
                // Written as is (a "command" is written verbatim, then its reply read).
                Some(content) => {
                    let content = match next(self) {
                        Some(commands) => content.then(&commands),
                        None => content,
                    };
                    as_reply(self.inner.command(content).await)
                }
                None => {
                    // lettre ends the content with CRLF . CRLF; the message's own last
                    // CRLF is that one.
                    let body = message.strip_suffix(b"\r\n").unwrap_or(message);
                    as_reply(self.inner.message(body).await)
                }
            }
        })
        .await;
        match reply {
            Err(kind) => self.broken(Stage::EndOfData, kind, false),
            Ok(reply) => {
                self.messages += 1;
                let reusable = reply.code != 421;
                let result = if reply.is_positive() {
                    Ok(reply)
                } else {
                    Err(self.error(Stage::EndOfData, ErrorKind::Reply(reply)))
                };
                Attempt {
                    result,
                    reusable,
                    stale: false,
                }
            }
        }
    }

    /// Sends the steps, all at once when pipelining (RFC 2920), else one by one stopping at
    /// the first unexpected reply; steps already `written` (pipelined) only have their
    /// replies read. Returns the replies read, and the step whose reply never
    /// came (timeout or transport failure). Reading stops at a 421: the server is closing.
    async fn exchange(
        &mut self,
        envelope: &Envelope,
        written: bool,
        timeout: Duration,
    ) -> (Vec<SmtpReply>, Option<(usize, ErrorKind)>) {
        let steps = &envelope.steps;
        let mut replies = Vec::with_capacity(steps.len());
        let group = if self.pipelining && !written {
            envelope.wire()
        } else {
            String::new()
        };
        for (index, step) in steps.iter().enumerate() {
            let reply = if !self.pipelining {
                timed(timeout, async {
                    as_reply(self.inner.command(&step.command).await)
                })
                .await
            } else if index == 0 && !written {
                timed(timeout, async {
                    as_reply(self.inner.command(&group).await)
                })
                .await
            } else {
                timed(timeout, async {
                    as_reply(self.inner.read_response().await)
                })
                .await
            };
            match reply {
                Err(kind) => return (replies, Some((index, kind))),
                Ok(reply) => {
                    let stop = reply.code == 421
                        || (!self.pipelining && reply.class() != step.expected_class);
                    replies.push(reply);
                    if stop {
                        break;
                    }
                }
            }
        }
        (replies, None)
    }

    /// Says QUIT and closes, waiting at most `timeout`.
    pub(crate) async fn quit(mut self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.quit()).await;
    }

    fn error(&self, stage: Stage, kind: ErrorKind) -> DeliveryError {
        DeliveryError::new(&self.relay, stage, kind)
    }

    fn broken(&self, stage: Stage, kind: ErrorKind, stale: bool) -> Attempt {
        Attempt {
            result: Err(self.error(stage, kind)),
            reusable: false,
            stale,
        }
    }

    fn refuse(&self, detail: String) -> Attempt {
        Attempt {
            result: Err(self.error(Stage::MailFrom, ErrorKind::Unsendable(detail))),
            reusable: true,
            stale: false,
        }
    }
}

/// Opens TCP to the first address of `host` that answers, with `TCP_NODELAY`.
async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, ErrorKind> {
    let addresses = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| ErrorKind::Connection(format!("resolving {host}: {error}")))?;
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                stream
                    .set_nodelay(true)
                    .map_err(|error| ErrorKind::Connection(error.to_string()))?;
                return Ok(stream);
            }
            Err(error) => last_error = error,
        }
    }
    Err(ErrorKind::Connection(last_error.to_string()))
}

/// Runs `work`, turning an elapsed `limit` into [`ErrorKind::Timeout`].
async fn timed<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, ErrorKind>>,
) -> Result<T, ErrorKind> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(ErrorKind::Timeout))
}

/// Any reply, positive or negative, as a reply; only a transport failure as an error.
fn as_reply(
    result: Result<Response, lettre::transport::smtp::Error>,
) -> Result<SmtpReply, ErrorKind> {
    match result {
        Ok(response) => Ok(SmtpReply::from_response(&response)),
        Err(error) => match error_kind(error) {
            ErrorKind::Reply(reply) => Ok(reply),
            other => Err(other),
        },
    }
}

/// What a lettre error means here.
fn error_kind(error: lettre::transport::smtp::Error) -> ErrorKind {
    match SmtpReply::from_lettre_error(&error) {
        Some(reply) => ErrorKind::Reply(reply),
        None if error.is_client() => ErrorKind::RelayUnusable(error.to_string()),
        None => ErrorKind::Connection(error.to_string()),
    }
}
