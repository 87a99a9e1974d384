//! Herald's domain: pure types and rules, no I/O and no async.
//!
//! Values here are parsed once at the edge (`parse` constructors) and trusted after.

pub mod asset;
pub mod asset_query;
pub mod classification;
pub mod clock;
pub mod content;
pub mod crm;
pub mod email_address;
pub mod event;
pub mod header_text;
pub mod link_target;
pub mod mid;
pub mod paging;
pub mod personalization;
pub mod recipient;
pub mod relay;
pub mod retry;
pub mod salesforce_id;
pub mod scope;
pub mod send;
pub mod signed_link;
pub mod verp;
pub mod wire_time;
