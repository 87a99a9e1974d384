//! The `{integrationType}/{channel}` part of every Send API path.

/// The only integration type: Salesforce CRM.
pub const INTEGRATION_TYPE: &str = "salesforce";
/// The only channel: email.
pub const CHANNEL: &str = "email";

/// Accepts `salesforce/email` (in any letter case: some clients lower-case whole URLs,
/// others may not); anything else is refused naming the supported value.
pub fn check_route(integration_type: &str, channel: &str) -> Result<(), UnsupportedRoute> {
    if !integration_type.eq_ignore_ascii_case(INTEGRATION_TYPE) {
        return Err(UnsupportedRoute::IntegrationType(
            integration_type.to_owned(),
        ));
    }
    if !channel.eq_ignore_ascii_case(CHANNEL) {
        return Err(UnsupportedRoute::Channel(channel.to_owned()));
    }
    Ok(())
}

/// A path naming an integration type or channel Herald does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedRoute {
    #[error("integrationType {0:?} is not supported: the Send API supports {INTEGRATION_TYPE:?}")]
    IntegrationType(String),
    #[error("channel {0:?} is not supported: the Send API supports {CHANNEL:?}")]
    Channel(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_email_is_the_one_route_in_any_case() {
        assert_eq!(check_route("salesforce", "email"), Ok(()));
        assert_eq!(check_route("Salesforce", "EMAIL"), Ok(()));
    }

    #[test]
    fn anything_else_names_the_supported_value() {
        assert_eq!(
            check_route("dynamics", "email").unwrap_err().to_string(),
            "integrationType \"dynamics\" is not supported: the Send API supports \"salesforce\""
        );
        assert_eq!(
            check_route("salesforce", "sms").unwrap_err().to_string(),
            "channel \"sms\" is not supported: the Send API supports \"email\""
        );
    }
}
