//! The verdict on one delivery attempt, for the recipient's state machine: accepted,
//! transient (retry later) or permanent (bounce). Pure: no I/O.
//!
//! The rules, after RFC 5321 §4.2.1:
//! - 2xx to the end of DATA: accepted.
//! - 4xx: transient. 5xx to MAIL FROM, RCPT TO, DATA or the end of DATA: permanent, except
//!   552 to RCPT TO, which RFC 5321 §4.5.3.1.10 says to treat as 452 ("too many
//!   recipients"), and 530 ("authentication required", RFC 4954), which is this sender's
//!   relay configuration, not the recipient's fault.
//! - Any failure while setting up the session (connect, greeting, STARTTLS, AUTH),
//!   whatever the code: transient. It says the relay is unusable now, not that the
//!   message is bad.
//! - No reply (timeout, connection lost or refused, TLS failure): transient.
//! - A message that no relay could take as it is (no SMTP form for an address): permanent.

use super::error::{DeliveryError, ErrorKind, Stage};
use super::reply::{EnhancedStatus, SmtpReply};

/// The classified result of one delivery attempt, with the code and text to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The relay took responsibility for the message; the text usually holds its queue id.
    Accepted {
        code: u16,
        enhanced: Option<EnhancedStatus>,
        text: String,
    },
    /// Try again later. `code` is `None` when there was no reply (timeout, connection).
    Transient {
        code: Option<u16>,
        enhanced: Option<EnhancedStatus>,
        text: String,
    },
    /// Do not retry: bounce. `code` is `None` for a message refused before sending.
    Permanent {
        code: Option<u16>,
        enhanced: Option<EnhancedStatus>,
        text: String,
    },
}

impl Outcome {
    /// Classifies what [`SmtpPool::send`](super::SmtpPool::send) returned.
    pub fn of(result: &Result<SmtpReply, DeliveryError>) -> Self {
        match result {
            Ok(reply) => Self::of_final_reply(reply),
            Err(error) => Self::of_error(error),
        }
    }

    /// Classifies the reply to the end of DATA.
    pub fn of_final_reply(reply: &SmtpReply) -> Self {
        let code = Some(reply.code);
        let (enhanced, text) = (reply.enhanced, reply.text.clone());
        match reply.class() {
            2 => Self::Accepted {
                code: reply.code,
                enhanced,
                text,
            },
            5 => Self::Permanent {
                code,
                enhanced,
                text,
            },
            // 4xx, and the protocol violations 1xx/3xx: nothing was decided, try again.
            _ => Self::Transient {
                code,
                enhanced,
                text,
            },
        }
    }

    /// Classifies a failed attempt.
    pub fn of_error(error: &DeliveryError) -> Self {
        let text = error.to_string();
        match &error.kind {
            ErrorKind::Reply(reply) => {
                let (code, enhanced) = (Some(reply.code), reply.enhanced);
                if is_permanent_reply(error.stage, reply.code) {
                    Self::Permanent {
                        code,
                        enhanced,
                        text,
                    }
                } else {
                    Self::Transient {
                        code,
                        enhanced,
                        text,
                    }
                }
            }
            ErrorKind::Unsendable(_) => Self::Permanent {
                code: None,
                enhanced: None,
                text,
            },
            ErrorKind::Timeout | ErrorKind::Connection(_) | ErrorKind::RelayUnusable(_) => {
                Self::Transient {
                    code: None,
                    enhanced: None,
                    text,
                }
            }
        }
    }

    /// The reply code, when there was a reply.
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Accepted { code, .. } => Some(*code),
            Self::Transient { code, .. } | Self::Permanent { code, .. } => *code,
        }
    }

    /// The enhanced status code, when the server sent one.
    pub fn enhanced(&self) -> Option<EnhancedStatus> {
        match self {
            Self::Accepted { enhanced, .. }
            | Self::Transient { enhanced, .. }
            | Self::Permanent { enhanced, .. } => *enhanced,
        }
    }

    /// The server's text for an acceptance; a description with relay, stage and reply for
    /// a failure.
    pub fn text(&self) -> &str {
        match self {
            Self::Accepted { text, .. }
            | Self::Transient { text, .. }
            | Self::Permanent { text, .. } => text,
        }
    }

    /// Whether the relay accepted the message.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }

    /// Whether the attempt should be retried later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// Whether the recipient should be bounced.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent { .. })
    }
}

fn is_permanent_reply(stage: Stage, code: u16) -> bool {
    if stage.is_session_setup() || code / 100 != 5 {
        return false;
    }
    !matches!((stage, code), (_, 530) | (Stage::RcptTo, 552))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(stage: Stage, kind: ErrorKind) -> Result<SmtpReply, DeliveryError> {
        Err(DeliveryError::new("relay.example:25", stage, kind))
    }

    fn replied(stage: Stage, code: u16, text: &str) -> Result<SmtpReply, DeliveryError> {
        failed(stage, ErrorKind::Reply(SmtpReply::new(code, text)))
    }

    #[test]
    fn a_2xx_to_the_message_is_accepted_with_the_queue_id() {
        let outcome = Outcome::of(&Ok(SmtpReply::new(250, "2.0.0 Ok: queued as 4XyZ")));
        assert!(outcome.is_accepted());
        assert_eq!(outcome.code(), Some(250));
        assert_eq!(outcome.text(), "2.0.0 Ok: queued as 4XyZ");
        assert_eq!(outcome.enhanced().unwrap().to_string(), "2.0.0");
    }

    #[test]
    fn a_4xx_anywhere_is_transient_and_keeps_its_codes() {
        for stage in [
            Stage::MailFrom,
            Stage::RcptTo,
            Stage::Data,
            Stage::EndOfData,
        ] {
            let outcome = Outcome::of(&replied(stage, 451, "4.3.0 Try again later"));
            assert!(outcome.is_transient(), "{stage:?}");
            assert_eq!(outcome.code(), Some(451));
            assert_eq!(outcome.enhanced().unwrap().to_string(), "4.3.0");
            assert!(outcome.text().contains("451 4.3.0 Try again later"));
        }
    }

    #[test]
    fn a_5xx_to_the_transaction_is_permanent() {
        for stage in [
            Stage::MailFrom,
            Stage::RcptTo,
            Stage::Data,
            Stage::EndOfData,
        ] {
            let outcome = Outcome::of(&replied(stage, 550, "5.1.1 No such user"));
            assert!(outcome.is_permanent(), "{stage:?}");
            assert_eq!(outcome.code(), Some(550));
            assert_eq!(outcome.enhanced().unwrap().to_string(), "5.1.1");
        }
    }

    #[test]
    fn a_552_to_rcpt_is_treated_as_452() {
        assert!(
            Outcome::of(&replied(Stage::RcptTo, 552, "5.5.3 Too many recipients")).is_transient()
        );
        assert!(Outcome::of(&replied(Stage::EndOfData, 552, "5.3.4 Too big")).is_permanent());
    }

    #[test]
    fn authentication_required_is_a_configuration_problem_so_transient() {
        let outcome = Outcome::of(&replied(
            Stage::MailFrom,
            530,
            "5.7.0 Authentication required",
        ));
        assert!(outcome.is_transient());
        assert_eq!(outcome.code(), Some(530));
    }

    #[test]
    fn a_5xx_while_setting_up_the_session_is_transient() {
        for stage in [
            Stage::Greeting,
            Stage::StartTls,
            Stage::Auth,
            Stage::Connect,
        ] {
            let outcome = Outcome::of(&replied(stage, 535, "5.7.8 Authentication failed"));
            assert!(outcome.is_transient(), "{stage:?}");
            assert_eq!(outcome.code(), Some(535));
        }
        assert!(Outcome::of(&replied(Stage::Greeting, 554, "No SMTP service here")).is_transient());
    }

    #[test]
    fn no_reply_is_transient_without_a_code() {
        for kind in [
            ErrorKind::Timeout,
            ErrorKind::Connection("connection refused".into()),
            ErrorKind::RelayUnusable("STARTTLS is required but not offered".into()),
        ] {
            let outcome = Outcome::of(&failed(Stage::RcptTo, kind));
            assert!(outcome.is_transient());
            assert_eq!(outcome.code(), None);
        }
        let timeout = Outcome::of(&failed(Stage::EndOfData, ErrorKind::Timeout));
        assert_eq!(
            timeout.text(),
            "relay.example:25 did not answer the end of DATA in time"
        );
    }

    #[test]
    fn an_unsendable_message_is_permanent_without_a_code() {
        let outcome = Outcome::of(&failed(
            Stage::MailFrom,
            ErrorKind::Unsendable("8-bit content".into()),
        ));
        assert!(outcome.is_permanent());
        assert_eq!(outcome.code(), None);
    }

    #[test]
    fn a_421_closing_reply_is_transient() {
        assert!(Outcome::of(&replied(Stage::RcptTo, 421, "4.4.2 Timeout, closing")).is_transient());
    }

    #[test]
    fn final_replies_outside_2xx_4xx_5xx_are_transient() {
        assert!(Outcome::of_final_reply(&SmtpReply::new(354, "go on")).is_transient());
        assert!(Outcome::of_final_reply(&SmtpReply::new(554, "5.7.1 spam")).is_permanent());
        assert!(Outcome::of_final_reply(&SmtpReply::new(452, "4.3.1 full")).is_transient());
    }
}
