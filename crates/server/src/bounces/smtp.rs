//! A small SMTP listener for bounces (`HERALD_BOUNCE_SMTP_LISTEN`), for a bounce domain
//! whose MX is Herald itself, or a relay that forwards to it: it accepts mail only for
//! `bounces+…` local parts and takes each message in as `POST /herald/v1/bounces` would.
//! No authentication: the VERP signature is what makes a notification count. No TLS.
//!
//! Replies: a notification taken in (or already known, or of success): 250; not a
//! notification, or naming no message of Herald's: 550 (the sender's problem, not
//! worth a retry); a database failure: 451 (retry later).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::{IngestError, ingest};
use crate::metrics::Metrics;
use crate::state::AppState;

/// Connections served at once.
const CONNECTIONS: usize = 64;
/// How long a client may stay silent.
const IDLE: Duration = Duration::from_secs(60);
/// The longest command line accepted.
const MAX_LINE: usize = 1000;

/// Serves SMTP on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, state: AppState, mut shutdown: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let mut stream = stream;
            let _ = stream
                .write_all(b"421 4.3.2 too many connections, try later\r\n")
                .await;
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(err) = session(stream, &state).await {
                tracing::debug!(error = %err, "bounce SMTP session ended");
            }
        });
    }
}

async fn session(stream: TcpStream, state: &AppState) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let host = state
        .config
        .public_url
        .host_str()
        .unwrap_or("herald")
        .to_owned();
    write
        .write_all(format!("220 {host} Herald bounce listener ESMTP\r\n").as_bytes())
        .await?;
    let mut recipients = 0;
    let mut sender = false;
    loop {
        let Some(line) = read_line(&mut read).await? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or_default();
        let reply: String = match verb {
            "EHLO" => format!(
                "250-{host}\r\n250-8BITMIME\r\n250 SIZE {}",
                state.config.max_body_bytes
            ),
            "HELO" => format!("250 {host}"),
            "MAIL" if upper.starts_with("MAIL FROM:") => {
                sender = true;
                recipients = 0;
                "250 2.1.0 Ok".into()
            }
            "RCPT" if !sender => "503 5.5.1 MAIL FROM first".into(),
            "RCPT" if upper.starts_with("RCPT TO:") => {
                let address = line[8..].trim().trim_start_matches('<');
                if address.to_ascii_lowercase().starts_with("bounces+") {
                    recipients += 1;
                    "250 2.1.5 Ok".into()
                } else {
                    "550 5.1.1 only bounces+… addresses are served here".into()
                }
            }
            "DATA" if recipients == 0 => "503 5.5.1 RCPT TO first".into(),
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let message = read_data(&mut read, state.config.max_body_bytes).await?;
                sender = false;
                recipients = 0;
                match message {
                    Some(message) => take(state, &message).await,
                    None => "552 5.3.4 message too big".into(),
                }
            }
            "RSET" => {
                sender = false;
                recipients = 0;
                "250 2.0.0 Ok".into()
            }
            "NOOP" => "250 2.0.0 Ok".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 command not recognized".into(),
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
}

/// The reply to a message received: what the bounce endpoint would have said, in SMTP.
async fn take(state: &AppState, message: &[u8]) -> String {
    let (label, reply) = match ingest(state, message).await {
        Ok(ingested) => (ingested.outcome.as_str(), "250 2.0.0 taken in".to_owned()),
        Err(IngestError::NotANotification(err)) => {
            ("not_a_notification", format!("550 5.6.0 {err}"))
        }
        Err(err @ IngestError::UnknownMessage) => ("unknown_message", format!("550 5.1.1 {err}")),
        Err(IngestError::Store(err)) => {
            tracing::error!(error = %err, "could not record a bounce received by SMTP");
            ("error", "451 4.3.0 try again later".to_owned())
        }
    };
    Metrics::count_in(&state.metrics.bounce_notifications, label);
    reply
}

/// One command line without its line end; `None` at the end of the stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(read: &mut R) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = tokio::time::timeout(
        IDLE,
        (&mut *read)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut line),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle client"))??;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&line).trim_end().to_owned()))
}

/// The message after DATA, dot-unstuffed, up to the lone `.`; `None` when it is larger
/// than `limit` (the rest is read and dropped).
async fn read_data<R: AsyncBufReadExt + Unpin>(
    read: &mut R,
    limit: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_big = false;
    loop {
        let mut line = Vec::new();
        let n = tokio::time::timeout(IDLE, read.read_until(b'\n', &mut line))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle client"))??;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_big).then_some(message));
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if message.len() + line.len() > limit {
            too_big = true;
        } else {
            message.extend_from_slice(line);
        }
    }
}
