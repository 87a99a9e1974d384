//! Delivery state: the recipients of each send instance, the per-account suppression
//! list, the capture outbox, the event log and what recipients do with their messages.

mod claims;
mod dkim;
mod engagement;
mod engine;
mod events;
mod outbox;
mod outcomes;
mod recipients;
mod suppressions;

pub use dkim::{DkimKeyRecord, DkimKeyStore};
pub use engagement::{
    EngagementCounts, EngagementStore, LinkClicks, RecipientResults, Unsubscribed,
};
pub use engine::{ActiveInstance, AttemptOutcome, ClaimedRecipient, EngineStore};
pub use events::{Event, EventStore, NewEvent};
pub use outbox::{CapturedMessage, NewCapturedMessage, OutboxStore};
pub use recipients::{NewRecipient, Recipient, RecipientCounts, RecipientStore};
pub use suppressions::{Suppression, SuppressionStore};
