//! The Send API's use cases: definitions (create, read, update, delete, search), Schedule
//! Send, and instances (status, lists, recipients, cancel, pause, resume).
//!
//! A business refusal is an [`Error`] whose message is already the Send API's whole text,
//! `Error <verb> integrated send definition: <detail>` ([`message::failure`]): the verb
//! belongs to the use case (a create that schedules refuses its schedule as
//! `scheduling`), so every way in shows the same words. An unacceptable value is
//! [`Error::Invalid`], an id the account does not have [`Error::NotFound`], a definition
//! still in use [`Error::Conflict`]; an update whose definition changed since it was read
//! is [`Error::Stale`].

mod definitions;
mod instances;
mod references;
mod schedule;

use std::fmt;

use herald_domain::mid::Mid;
use herald_domain::send::ids::parse_id;
use herald_domain::send::message::{self, Verb};
use herald_store::{SendDefinition, SendInstance};

use super::Error;
use crate::state::AppState;

pub use definitions::{
    create_definition, delete_definition, get_definition, search_definitions, update_definition,
};
pub use instances::{
    RecipientsPage, instance_status, list_instances, list_recipients, request_instance,
};
pub use schedule::schedule_send;

/// The refusal `Error <verb> integrated send definition: <detail>` of a value.
fn refused(verb: Verb, detail: impl fmt::Display) -> Error {
    Error::invalid(message::failure(verb, detail))
}

/// The same for an id the account does not have.
fn not_found(verb: Verb, detail: impl fmt::Display) -> Error {
    Error::NotFound(message::failure(verb, detail))
}

/// The definition id `text` names, or not found when the text cannot name one.
fn definition_id(verb: Verb, mid: Mid, text: &str) -> Result<i64, Error> {
    parse_id(text).ok_or_else(|| not_found(verb, message::definition_not_found(text, mid)))
}

/// The definition `text` names in account `mid`; another account's is not found.
async fn find_definition(
    state: &AppState,
    mid: Mid,
    verb: Verb,
    text: &str,
) -> Result<SendDefinition, Error> {
    let id = definition_id(verb, mid, text)?;
    state
        .store
        .get_send_definition(mid, id)
        .await?
        .ok_or_else(|| not_found(verb, message::definition_not_found(text, mid)))
}

/// The instance `text` names in account `mid`; another account's is not found.
async fn find_instance(
    state: &AppState,
    mid: Mid,
    verb: Verb,
    text: &str,
) -> Result<SendInstance, Error> {
    let not_found = || not_found(verb, message::instance_not_found(text, mid));
    let id = parse_id(text).ok_or_else(not_found)?;
    state
        .store
        .get_send_instance(mid, id)
        .await?
        .ok_or_else(not_found)
}
