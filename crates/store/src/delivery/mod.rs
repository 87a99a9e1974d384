//! Delivery state: the recipients of each send instance and the per-account suppression
//! list.

mod recipients;
mod suppressions;

pub use recipients::{NewRecipient, Recipient, RecipientCounts, RecipientStore};
pub use suppressions::{Suppression, SuppressionStore};
