//! Delivery state: the recipients of each send instance, the per-account suppression
//! list, and the capture outbox, and the
//! delivery limits shared by a cluster.

mod dkim;
mod engine;
mod limits;
mod outbox;
mod recipients;
mod suppressions;

pub use dkim::{DkimKeyRecord, DkimKeyStore};
pub use engine::{ActiveInstance, AttemptOutcome, ClaimedRecipient, EngineStore};
pub use limits::{BucketGrant, LimitStore, Rate};
pub use outbox::{CapturedMessage, NewCapturedMessage, OutboxStore};
pub use recipients::{NewRecipient, Recipient, RecipientCounts, RecipientStore};
pub use suppressions::{Suppression, SuppressionStore};
