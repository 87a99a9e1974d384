//! Herald's domain: pure types and rules, no I/O and no async.
//!
//! Values here are parsed once at the edge (`parse` constructors) and trusted after.

pub mod clock;
pub mod crm;
pub mod email_address;
pub mod header_text;
pub mod mid;
pub mod paging;
pub mod personalization;
pub mod salesforce_id;
pub mod scope;
