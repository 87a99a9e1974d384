//! Delivery state: the recipients of each send instance, the per-account suppression
//! list, the capture outbox, the event log, what recipients do with their messages,
//! asynchronous bounces, event webhooks and the delivery limits shared by a cluster.

mod bounces;
mod claims;
mod dkim;
mod engagement;
mod engine;
mod events;
mod limits;
mod outbox;
mod outcomes;
mod recipients;
mod suppressions;
mod webhooks;

pub(crate) use claims::ClaimCursors;

pub use bounces::{AsyncBounce, BounceRecorded, BounceStore, BouncedMessage};
pub use dkim::{DkimKeyRecord, DkimKeyStore};
pub use engagement::{
    EngagementCounts, EngagementStore, LinkClicks, RecipientResults, Unsubscribed,
};
pub use engine::{
    ActiveInstance, AttemptOutcome, ClaimedRecipient, DeliveryTurn, EngineStore, Settled,
};
pub use events::{Event, EventStore, NewEvent};
pub use limits::{BucketGrant, LimitStore, Rate};
pub use outbox::{CapturedMessage, NewCapturedMessage, OutboxStore};
pub use recipients::{NewRecipient, Recipient, RecipientCounts, RecipientStore};
pub use suppressions::{Suppression, SuppressionStore};
pub use webhooks::{NewWebhook, Webhook, WebhookEvent, WebhookStore};
