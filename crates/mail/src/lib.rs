//! Herald's mail pieces, with no database and no HTTP: what the send engine calls to turn
//! one personalized recipient into a delivered message.
//!
//! - [`message`] builds the RFC 5322 bytes (MIME, encodings, unsubscribe headers);
//! - [`dkim`] generates, stores and loads DKIM keys and signs those bytes (CPU-bound and
//!   synchronous: run it on a blocking pool);
//! - [`smtp`] delivers them through pooled connections to one or more relays and
//!   classifies every outcome as accepted, transient or permanent.

mod address;
pub mod dkim;
pub mod message;
pub mod smtp;
