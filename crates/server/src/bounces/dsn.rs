//! Delivery status notifications (RFC 3464): a `multipart/report` whose
//! `message/delivery-status` part has one block of per-message fields and one block per
//! recipient (`Final-Recipient`, `Action`, `Status`, `Diagnostic-Code`).

use mail_parser::{MessageParser, MimeHeaders};

/// One per-recipient block of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower case).
    pub action: String,
    /// The enhanced status code, such as `5.1.1`.
    pub status: String,
    pub diagnostic: Option<String>,
    pub final_recipient: Option<String>,
}

/// What a notification says about the message it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A permanent failure: `Action: failed` with a 5.x.x status.
    Hard(RecipientReport),
    /// A temporary one: `Action: delayed`, or a 4.x.x status.
    Soft(RecipientReport),
    /// Delivered, relayed or expanded: nothing to record.
    NotAFailure(RecipientReport),
}

/// A parsed notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its own Message-ID, if it has one.
    pub message_id: Option<String>,
    pub recipients: Vec<RecipientReport>,
}

/// Why a body is not a delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotANotification {
    #[error("the body is not an RFC 5322 message")]
    NotAMessage,
    #[error(
        "the message is not a delivery status notification (RFC 3464): it has no \
         message/delivery-status part"
    )]
    NoDeliveryStatus,
    #[error(
        "the delivery status names no recipient with an Action and a Status (RFC 3464 \
         per-recipient fields)"
    )]
    NoRecipient,
}

impl Notification {
    pub fn parse(raw: &[u8]) -> Result<Notification, NotANotification> {
        let message = MessageParser::default()
            .parse(raw)
            .filter(|m| !m.root_part().headers.is_empty())
            .ok_or(NotANotification::NotAMessage)?;
        let status = message
            .parts
            .iter()
            .find(|part| {
                part.content_type().is_some_and(|ct| {
                    ct.ctype().eq_ignore_ascii_case("message")
                        && ct.subtype().is_some_and(|sub| {
                            sub.eq_ignore_ascii_case("delivery-status")
                                || sub.eq_ignore_ascii_case("global-delivery-status")
                        })
                })
            })
            .ok_or(NotANotification::NoDeliveryStatus)?;
        let text = String::from_utf8_lossy(status.contents());
        let recipients: Vec<RecipientReport> = blocks(&text)
            .into_iter()
            .filter_map(|fields| {
                let get = |name: &str| {
                    fields
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.clone())
                };
                Some(RecipientReport {
                    action: get("Action")?.to_ascii_lowercase(),
                    status: get("Status")?
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    diagnostic: get("Diagnostic-Code").map(|d| strip_type(&d)),
                    final_recipient: get("Final-Recipient").map(|r| strip_type(&r)),
                })
            })
            .collect();
        if recipients.is_empty() {
            return Err(NotANotification::NoRecipient);
        }
        Ok(Notification {
            message_id: message.message_id().map(str::to_owned),
            recipients,
        })
    }

    /// The notification's verdict: the worst of its recipients' (a permanent failure
    /// over a temporary one over a success).
    pub fn verdict(&self) -> Verdict {
        let verdicts = self.recipients.iter().map(|r| {
            let class = r.status.chars().next();
            if r.action == "failed" && class == Some('5') {
                Verdict::Hard(r.clone())
            } else if r.action == "failed" || r.action == "delayed" || class == Some('4') {
                Verdict::Soft(r.clone())
            } else {
                Verdict::NotAFailure(r.clone())
            }
        });
        verdicts
            .max_by_key(|v| match v {
                Verdict::Hard(_) => 2,
                Verdict::Soft(_) => 1,
                Verdict::NotAFailure(_) => 0,
            })
            .expect("a notification has at least one recipient")
    }
}

/// `rfc822; user@example.com` → `user@example.com`; `smtp; 550 …` → `550 …`.
fn strip_type(value: &str) -> String {
    match value.split_once(';') {
        Some((_, rest)) => rest.trim().to_owned(),
        None => value.trim().to_owned(),
    }
}

/// The blocks of header-like fields of a delivery-status body, folded lines unfolded.
fn blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = vec![Vec::new()];
    for line in text.lines() {
        let current: &mut Vec<(String, String)> = blocks.last_mut().expect("one block at least");
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(Vec::new());
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    blocks.retain(|b| !b.is_empty());
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/dsn/{name}.eml",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path)
            .unwrap()
            .replace(
                "{VERP}",
                "bounces+1-1-000000000000000000000000@herald.example",
            )
            .replace("{RCPT}", "ann@example.org")
            .into_bytes()
    }

    fn hard(name: &str) -> RecipientReport {
        match Notification::parse(&fixture(name)).unwrap().verdict() {
            Verdict::Hard(report) => report,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn postfix_exchange_and_gmail_failures_are_hard_bounces() {
        let postfix = hard("postfix_hard");
        assert_eq!(postfix.status, "5.1.1");
        assert_eq!(postfix.final_recipient.as_deref(), Some("ann@example.org"));
        assert_eq!(
            postfix.diagnostic.as_deref(),
            Some(
                "550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown in \
                 virtual mailbox table"
            )
        );
        let exchange = hard("exchange_hard");
        assert_eq!(exchange.status, "5.1.10");
        assert!(
            exchange
                .diagnostic
                .unwrap()
                .contains("RESOLVER.ADR.RecipientNotFound")
        );
        let gmail = hard("gmail_hard");
        assert_eq!(gmail.status, "5.1.1");
        assert!(gmail.diagnostic.unwrap().ends_with("- gsmtp"));
    }

    #[test]
    fn a_delay_warning_is_a_soft_bounce() {
        let notification = Notification::parse(&fixture("postfix_delayed")).unwrap();
        assert_eq!(
            notification.message_id.as_deref(),
            Some("6Br2TQ1mXkz4LdP@relay.herald.example")
        );
        match notification.verdict() {
            Verdict::Soft(report) => {
                assert_eq!(
                    (report.action.as_str(), report.status.as_str()),
                    ("delayed", "4.4.1")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_autoreply_or_garbage_is_not_a_notification() {
        assert_eq!(
            Notification::parse(&fixture("out_of_office")),
            Err(NotANotification::NoDeliveryStatus)
        );
        assert_eq!(
            Notification::parse(b"\x00\x01 not mail at all"),
            Err(NotANotification::NoDeliveryStatus)
        );
        assert_eq!(Notification::parse(b""), Err(NotANotification::NotAMessage));
        let empty_status = "Content-Type: multipart/report; boundary=b\n\n--b\n\
                            Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n--b--\n";
        assert_eq!(
            Notification::parse(empty_status.as_bytes()),
            Err(NotANotification::NoRecipient)
        );
    }

    #[test]
    fn a_failure_with_a_temporary_status_is_soft_and_a_delivery_is_no_failure() {
        let report = |action: &str, status: &str| RecipientReport {
            action: action.into(),
            status: status.into(),
            diagnostic: None,
            final_recipient: None,
        };
        let of = |reports: Vec<RecipientReport>| {
            Notification {
                message_id: None,
                recipients: reports,
            }
            .verdict()
        };
        assert!(matches!(
            of(vec![report("failed", "4.4.7")]),
            Verdict::Soft(_)
        ));
        assert!(matches!(
            of(vec![report("delivered", "2.0.0")]),
            Verdict::NotAFailure(_)
        ));
        assert!(matches!(
            of(vec![report("delayed", "4.4.1"), report("failed", "5.2.2")]),
            Verdict::Hard(_)
        ));
    }
}
