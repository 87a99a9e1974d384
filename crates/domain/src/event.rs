//! What can happen to a message after it is queued: the kinds of the event log that
//! individual results, instance statistics and webhooks read.

use std::fmt;

/// One kind of event in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A relay accepted the message (or the capture outbox kept it).
    Sent,
    /// A relay refused it (5xx) or a delivery status notification reported a failure.
    Bounced,
    /// The open pixel was fetched.
    Opened,
    /// A tracked link was followed.
    Clicked,
    /// The recipient unsubscribed through the message's link.
    Unsubscribed,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Sent,
        EventKind::Bounced,
        EventKind::Opened,
        EventKind::Clicked,
        EventKind::Unsubscribed,
    ];

    /// The name stored and shown on the wire (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Sent => "sent",
            EventKind::Bounced => "bounced",
            EventKind::Opened => "opened",
            EventKind::Clicked => "clicked",
            EventKind::Unsubscribed => "unsubscribed",
        }
    }

    /// Parses a stored or requested name, case-insensitively.
    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse(" Opened "), Some(EventKind::Opened));
        assert_eq!(EventKind::parse("delivered"), None);
    }
}
