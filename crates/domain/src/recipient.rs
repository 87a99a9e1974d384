//! The life of one message of a send: its recipient's status.

use std::fmt;

/// Where one recipient of a send instance stands.
///
/// `Queued` and `Deferred` are waiting for an attempt; every other status is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientStatus {
    /// Waiting for its first attempt.
    Queued,
    /// A relay answered 4xx (or could not be reached); tried again later.
    Deferred,
    /// A relay accepted the message (2xx).
    Sent,
    /// A relay refused the message permanently (5xx).
    Bounced,
    /// Given up: still deferred when the retry window closed.
    Failed,
    /// A member of one of the definition's exclusions.
    Excluded,
    /// Not sent by policy: opted out, unsubscribed or hard-bounced before.
    Suppressed,
    /// Another message of the same send already goes to this address.
    Duplicate,
    /// The send was canceled before this message was handed to a relay.
    Canceled,
}

impl RecipientStatus {
    pub const ALL: [RecipientStatus; 9] = [
        RecipientStatus::Queued,
        RecipientStatus::Deferred,
        RecipientStatus::Sent,
        RecipientStatus::Bounced,
        RecipientStatus::Failed,
        RecipientStatus::Excluded,
        RecipientStatus::Suppressed,
        RecipientStatus::Duplicate,
        RecipientStatus::Canceled,
    ];

    /// The name stored and shown on the wire (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Queued => "queued",
            RecipientStatus::Deferred => "deferred",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Bounced => "bounced",
            RecipientStatus::Failed => "failed",
            RecipientStatus::Excluded => "excluded",
            RecipientStatus::Suppressed => "suppressed",
            RecipientStatus::Duplicate => "duplicate",
            RecipientStatus::Canceled => "canceled",
        }
    }

    /// Parses a stored or requested name, case-insensitively.
    pub fn parse(text: &str) -> Option<RecipientStatus> {
        RecipientStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether the recipient still waits for an attempt.
    pub fn is_pending(self) -> bool {
        matches!(self, RecipientStatus::Queued | RecipientStatus::Deferred)
    }
}

impl fmt::Display for RecipientStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an address is on an account's suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionReason {
    /// A relay refused it permanently: no mail of any kind goes there again.
    HardBounce,
    /// The recipient unsubscribed: no commercial mail goes there again.
    Unsubscribe,
    /// Added by an operator: treated like an unsubscribe.
    Manual,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::Unsubscribe => "unsubscribe",
            SuppressionReason::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<SuppressionReason> {
        [
            SuppressionReason::HardBounce,
            SuppressionReason::Unsubscribe,
            SuppressionReason::Manual,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }

    /// Whether this reason stops transactional mail too (only hard bounces do).
    pub fn blocks_transactional(self) -> bool {
        self == SuppressionReason::HardBounce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in RecipientStatus::ALL {
            assert_eq!(RecipientStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RecipientStatus::parse("SENT"), Some(RecipientStatus::Sent));
        assert_eq!(RecipientStatus::parse("nope"), None);
    }

    #[test]
    fn only_queued_and_deferred_recipients_are_pending() {
        let pending: Vec<_> = RecipientStatus::ALL
            .into_iter()
            .filter(|s| s.is_pending())
            .collect();
        assert_eq!(
            pending,
            [RecipientStatus::Queued, RecipientStatus::Deferred]
        );
    }

    #[test]
    fn only_hard_bounces_block_transactional_mail() {
        assert!(SuppressionReason::HardBounce.blocks_transactional());
        assert!(!SuppressionReason::Unsubscribe.blocks_transactional());
        assert!(!SuppressionReason::Manual.blocks_transactional());
        for reason in ["hard_bounce", "unsubscribe", "manual"] {
            assert_eq!(SuppressionReason::parse(reason).unwrap().as_str(), reason);
        }
    }
}
