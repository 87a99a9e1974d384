//! The parameters of every Send API path: `{integrationType}/{channel}` (only
//! `salesforce/email` exists), and the definition or instance id after it. Each is
//! checked for the verb of its route: any other `integrationType` or `channel` is a
//! business error naming the supported one.

use herald_domain::send::message::Verb;
use serde::Deserialize;
use utoipa::IntoParams;

use super::reply::{SendResult, check_path};

/// `…/{integrationType}/{channel}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ChannelPath {
    /// Only `salesforce` (any letter case); any other value is a business error naming it.
    integration_type: String,
    /// Only `email` (any letter case); any other value is a business error naming it.
    channel: String,
}

/// `…/{integrationType}/{channel}/{definitionId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct DefinitionPath {
    /// Only `salesforce` (any letter case); any other value is a business error naming it.
    integration_type: String,
    /// Only `email` (any letter case); any other value is a business error naming it.
    channel: String,
    /// A definition id: a string of digits. Another account's ids, and text that is not
    /// an id, are not found (a business error).
    definition_id: String,
}

/// `…/{integrationType}/{channel}/instance/{instanceId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct InstancePath {
    /// Only `salesforce` (any letter case); any other value is a business error naming it.
    integration_type: String,
    /// Only `email` (any letter case); any other value is a business error naming it.
    channel: String,
    /// An instance id: a string of digits. Another account's ids are not found (a
    /// business error).
    instance_id: String,
}

impl ChannelPath {
    /// Checks the channel for `verb`.
    pub fn check(&self, verb: Verb) -> SendResult<()> {
        check_path(verb, &self.integration_type, &self.channel)
    }
}

impl DefinitionPath {
    /// The definition id as the client wrote it, once the channel is checked for `verb`.
    pub fn id(self, verb: Verb) -> SendResult<String> {
        check_path(verb, &self.integration_type, &self.channel)?;
        Ok(self.definition_id)
    }
}

impl InstancePath {
    /// The instance id as the client wrote it, once the channel is checked for `verb`.
    pub fn id(self, verb: Verb) -> SendResult<String> {
        check_path(verb, &self.integration_type, &self.channel)?;
        Ok(self.instance_id)
    }
}
