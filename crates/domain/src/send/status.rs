//! The life of a send instance: its statuses, the changes between them, and what a
//! client's cancel, pause or resume does in each.
//!
//! ```text
//! Scheduled ──start──▶ Sending ──all done──▶ Complete
//!   │  ▲                 │  ▲
//!   │  └──resume─┐       │  └──resume──┐
//!   ├──pause──▶ Paused ◀─┴──pause──────┘
//!   │             │ cancel (started) ─▶ Cancel Pending ──in flight done──▶ Canceled
//!   │             └ cancel (not yet) ─▶ Canceled            ▲
//!   └──cancel──▶ Canceled        Sending ──cancel──▶ Cancel Pending
//! any live status ──failure──▶ Error
//! ```
//! A send that has started has messages in flight, so canceling it cannot be instant:
//! it becomes `Cancel Pending` and the engine settles it. Complete, Canceled and Error
//! are final.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The status of a send instance. Its text (`as_str`) is the wire value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceStatus {
    /// Waiting for its time (or for the scheduler to pick it up).
    Scheduled,
    /// The audience is being resolved or messages are being delivered.
    Sending,
    /// Every recipient has a final outcome.
    Complete,
    /// Canceled while messages were in flight; the engine is winding it down.
    CancelPending,
    /// Canceled; nothing more will be sent.
    Canceled,
    /// The send could not go on (its message says why).
    Error,
    /// Held by a client (a Herald extension); resume continues it.
    Paused,
}

use InstanceStatus::{CancelPending, Canceled, Complete, Error, Paused, Scheduled, Sending};

impl InstanceStatus {
    /// Every status, in the order of the contract.
    pub const ALL: [InstanceStatus; 7] = [
        Scheduled,
        Sending,
        Complete,
        CancelPending,
        Canceled,
        Error,
        Paused,
    ];

    /// Statuses with work still ahead. A definition with an instance in one of these
    /// cannot be deleted.
    pub const LIVE: [InstanceStatus; 4] = [Scheduled, Sending, Paused, CancelPending];

    /// The wire text: `Scheduled`, `Sending`, `Complete`, `Cancel Pending`, `Canceled`,
    /// `Error`, `Paused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheduled => "Scheduled",
            Sending => "Sending",
            Complete => "Complete",
            CancelPending => "Cancel Pending",
            Canceled => "Canceled",
            Error => "Error",
            Paused => "Paused",
        }
    }

    /// Reads a wire text exactly as [`as_str`](Self::as_str) writes it.
    pub fn parse(text: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }

    /// Whether nothing can happen to the instance any more.
    pub fn is_final(self) -> bool {
        matches!(self, Complete | Canceled | Error)
    }

    /// Whether an instance may move from `self` to `next` (the diagram above). Staying
    /// in the same status is not a change, so it is not allowed here.
    pub fn can_become(self, next: InstanceStatus) -> bool {
        match self {
            Scheduled => matches!(next, Sending | Paused | Canceled | Error),
            Sending => matches!(next, Complete | Paused | CancelPending | Error),
            Paused => matches!(next, Scheduled | Sending | CancelPending | Canceled | Error),
            CancelPending => matches!(next, Canceled | Complete | Error),
            Complete | Canceled | Error => false,
        }
    }

    /// What `action` does to an instance in this status. `started` says whether the send
    /// had begun (the instance has a start time); it decides where a paused instance goes.
    ///
    /// Asking for what is already under way (canceling a canceled instance, pausing a
    /// paused one, resuming a running one) is not an error: it is [`StatusChange::Stay`],
    /// so a client that retries gets the same answer.
    pub fn on_request(
        self,
        action: InstanceAction,
        started: bool,
    ) -> Result<StatusChange, TransitionError> {
        use InstanceAction::{Cancel, Pause, Resume};
        let change = match (action, self) {
            (Cancel, Scheduled) => StatusChange::Move(Canceled),
            (Cancel, Paused) if started => StatusChange::Move(CancelPending),
            (Cancel, Paused) => StatusChange::Move(Canceled),
            (Cancel, Sending) => StatusChange::Move(CancelPending),
            (Cancel, CancelPending | Canceled) => StatusChange::Stay,
            (Pause, Scheduled | Sending) => StatusChange::Move(Paused),
            (Pause, Paused) => StatusChange::Stay,
            (Resume, Paused) if started => StatusChange::Move(Sending),
            (Resume, Paused) => StatusChange::Move(Scheduled),
            (Resume, Scheduled | Sending) => StatusChange::Stay,
            (_, status) => {
                return Err(TransitionError { status, action });
            }
        };
        Ok(change)
    }
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Written as the wire text.
impl Serialize for InstanceStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read from the wire text.
impl<'de> Deserialize<'de> for InstanceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A text that is not one of the instance statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a send instance status: use Scheduled, Sending, Complete, Cancel Pending, \
     Canceled, Error or Paused"
)]
pub struct UnknownStatus(pub String);

/// What a client asks of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceAction {
    Cancel,
    /// A Herald extension.
    Pause,
    /// A Herald extension.
    Resume,
}

impl InstanceAction {
    /// The past participle, for messages: `canceled`, `paused`, `resumed`.
    pub fn done(self) -> &'static str {
        match self {
            InstanceAction::Cancel => "canceled",
            InstanceAction::Pause => "paused",
            InstanceAction::Resume => "resumed",
        }
    }
}

/// The outcome of a request on an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// The instance moves to this status.
    Move(InstanceStatus),
    /// The instance already is where the request would take it: nothing to change.
    Stay,
}

/// A request the instance's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the send instance is {status} and can no longer be {}", action.done())]
pub struct TransitionError {
    pub status: InstanceStatus,
    pub action: InstanceAction,
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceAction::{Cancel, Pause, Resume};

    #[test]
    fn statuses_have_their_exact_wire_texts_and_read_back() {
        let texts: Vec<&str> = InstanceStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Scheduled",
                "Sending",
                "Complete",
                "Cancel Pending",
                "Canceled",
                "Error",
                "Paused"
            ]
        );
        for status in InstanceStatus::ALL {
            assert_eq!(InstanceStatus::parse(status.as_str()), Ok(status));
        }
        assert!(InstanceStatus::parse("CancelPending").is_err());
        assert!(InstanceStatus::parse("scheduled").is_err());
    }

    #[test]
    fn a_status_serializes_as_its_wire_text() {
        assert_eq!(
            serde_json::to_string(&CancelPending).unwrap(),
            "\"Cancel Pending\""
        );
        let read: InstanceStatus = serde_json::from_str("\"Cancel Pending\"").unwrap();
        assert_eq!(read, CancelPending);
        let refused = serde_json::from_str::<InstanceStatus>("\"Done\"").unwrap_err();
        assert!(refused.to_string().contains("Cancel Pending"), "{refused}");
    }

    #[test]
    fn final_statuses_go_nowhere() {
        for status in InstanceStatus::ALL {
            let anywhere = InstanceStatus::ALL
                .iter()
                .any(|next| status.can_become(*next));
            assert_eq!(status.is_final(), !anywhere, "{status}");
        }
    }

    #[test]
    fn the_allowed_changes_are_exactly_the_diagram() {
        let allowed: Vec<(InstanceStatus, InstanceStatus)> = InstanceStatus::ALL
            .iter()
            .flat_map(|from| InstanceStatus::ALL.iter().map(move |to| (*from, *to)))
            .filter(|(from, to)| from.can_become(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (Scheduled, Sending),
                (Scheduled, Canceled),
                (Scheduled, Error),
                (Scheduled, Paused),
                (Sending, Complete),
                (Sending, CancelPending),
                (Sending, Error),
                (Sending, Paused),
                (CancelPending, Complete),
                (CancelPending, Canceled),
                (CancelPending, Error),
                (Paused, Scheduled),
                (Paused, Sending),
                (Paused, CancelPending),
                (Paused, Canceled),
                (Paused, Error),
            ]
        );
    }

    #[test]
    fn cancel_is_immediate_before_the_send_starts_and_pending_after() {
        assert_eq!(
            Scheduled.on_request(Cancel, false),
            Ok(StatusChange::Move(Canceled))
        );
        assert_eq!(
            Sending.on_request(Cancel, true),
            Ok(StatusChange::Move(CancelPending))
        );
        assert_eq!(
            Paused.on_request(Cancel, false),
            Ok(StatusChange::Move(Canceled))
        );
        assert_eq!(
            Paused.on_request(Cancel, true),
            Ok(StatusChange::Move(CancelPending))
        );
    }

    #[test]
    fn asking_again_for_what_is_under_way_changes_nothing() {
        assert_eq!(
            CancelPending.on_request(Cancel, true),
            Ok(StatusChange::Stay)
        );
        assert_eq!(Canceled.on_request(Cancel, false), Ok(StatusChange::Stay));
        assert_eq!(Paused.on_request(Pause, true), Ok(StatusChange::Stay));
        assert_eq!(Sending.on_request(Resume, true), Ok(StatusChange::Stay));
        assert_eq!(Scheduled.on_request(Resume, false), Ok(StatusChange::Stay));
    }

    #[test]
    fn resume_returns_a_paused_instance_to_where_it_was() {
        assert_eq!(
            Paused.on_request(Resume, false),
            Ok(StatusChange::Move(Scheduled))
        );
        assert_eq!(
            Paused.on_request(Resume, true),
            Ok(StatusChange::Move(Sending))
        );
        assert_eq!(
            Scheduled.on_request(Pause, false),
            Ok(StatusChange::Move(Paused))
        );
        assert_eq!(
            Sending.on_request(Pause, true),
            Ok(StatusChange::Move(Paused))
        );
    }

    #[test]
    fn a_finished_or_winding_down_instance_refuses_with_its_status() {
        for (status, action) in [
            (Complete, Cancel),
            (Error, Cancel),
            (Complete, Pause),
            (Canceled, Pause),
            (CancelPending, Pause),
            (CancelPending, Resume),
            (Canceled, Resume),
            (Error, Resume),
        ] {
            assert_eq!(
                status.on_request(action, true),
                Err(TransitionError { status, action })
            );
        }
        assert_eq!(
            Complete.on_request(Cancel, true).unwrap_err().to_string(),
            "the send instance is Complete and can no longer be canceled"
        );
    }

    #[test]
    fn every_move_a_request_makes_is_an_allowed_change() {
        for status in InstanceStatus::ALL {
            for action in [Cancel, Pause, Resume] {
                for started in [false, true] {
                    if let Ok(StatusChange::Move(next)) = status.on_request(action, started) {
                        assert!(status.can_become(next), "{status} -> {next}");
                    }
                }
            }
        }
    }
}
