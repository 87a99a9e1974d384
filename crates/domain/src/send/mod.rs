//! The Send API's rules, free of HTTP and storage: what a valid send definition is, when
//! a send may start, which status changes an instance allows, how a search matches, and
//! the texts of the API's business errors.
//!
//! Inputs arrive as plain `…Input` structs (every field optional, as the client sent it);
//! their `parse`/`into_…` methods return either a value known to be good or an error
//! whose `Display` is the detail text the API shows after
//! `Error <verb> integrated send definition: ` (see [`message`]).

pub mod counts;
pub mod criteria;
pub mod definition;
pub mod ids;
pub mod message;
pub mod route;
pub mod schedule;
pub mod status;
pub mod target;
