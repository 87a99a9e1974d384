//! The use cases: one function per thing a caller can do, shared by every way in (the
//! REST API, the command line, and the SOAP subset and web UI to come).
//!
//! A use case takes the [`AppState`](crate::state::AppState), the account (MID) it acts
//! for and domain input (already parsed from the wire: no JSON, no HTTP), checks every
//! rule, calls the store and returns a domain result or an [`Error`]. A handler only
//! parses its request, calls one use case and maps the result to its wire shape.
//!
//! Updates are to be read-check-write in one step: the caller passes the `version` of the
//! object it read (every updatable table has the column since migration 20), the store
//! writes only if the object is still at that version and increments it, in one statement
//! or transaction; an object changed in between is [`Error::Stale`], a 409, and nothing is
//! written. The resources move here one by one; the three classification kinds check
//! their version already (in the store), the others not yet.

pub mod classifications;
pub mod crm;
pub mod outbox;
pub mod send;
pub mod suppressions;
pub mod webhooks;

use herald_store::StoreError;

/// Why a use case refused or failed, in words any way in can show.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not acceptable: `message` names the field at fault first.
    #[error("{message}")]
    Invalid { problem: Problem, message: String },
    /// The object does not exist for this account (another account's objects included).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (a duplicate key, an object in use).
    #[error("{0}")]
    Conflict(String),
    /// The object changed since the caller read it; nothing was written.
    #[error("{0}")]
    Stale(String),
    /// Something went wrong inside Herald; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// What is wrong with an invalid input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A value of the wrong type.
    WrongType,
    /// A required field is absent.
    Missing,
    /// A value that parsed but is not acceptable.
    Value,
    /// The input is not well-formed at all.
    Malformed,
}

impl Error {
    /// An unacceptable value (the commonest refusal).
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            problem: Problem::Value,
            message: message.into(),
        }
    }

    /// The standard refusal of an update whose object changed since it was read.
    pub fn stale(what: impl std::fmt::Display) -> Self {
        Error::Stale(format!(
            "{what} was changed by another request since it was read; read it again and \
             retry the change"
        ))
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        Error::Internal(err.into())
    }
}

/// The result of a use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;
