//! OAuth scopes, by their Marketing Cloud names.

use std::collections::BTreeSet;
use std::fmt;

/// One permission a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read Send API definitions and instances.
    MarketingCloudConnectRead,
    /// Create, update and delete Send API definitions.
    MarketingCloudConnectWrite,
    /// Schedule, cancel, pause and resume Send API instances.
    MarketingCloudConnectSend,
    /// Read Content Builder assets (emails).
    SavedContentRead,
    /// Write Content Builder assets (emails).
    SavedContentWrite,
    /// Read emails, send classifications and profiles.
    EmailRead,
    /// Write emails, send classifications and profiles.
    EmailWrite,
    /// Read the CRM audience (contacts, leads, campaigns, reports).
    ListAndSubscribersRead,
    /// Write the CRM audience.
    ListAndSubscribersWrite,
    /// Read event webhook subscriptions.
    WebhooksRead,
    /// Create and delete event webhook subscriptions.
    WebhooksWrite,
}

impl Scope {
    /// Every scope Herald knows, in a stable order.
    pub const ALL: [Scope; 11] = [
        Scope::MarketingCloudConnectRead,
        Scope::MarketingCloudConnectWrite,
        Scope::MarketingCloudConnectSend,
        Scope::SavedContentRead,
        Scope::SavedContentWrite,
        Scope::EmailRead,
        Scope::EmailWrite,
        Scope::ListAndSubscribersRead,
        Scope::ListAndSubscribersWrite,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::MarketingCloudConnectRead => "marketing_cloud_connect_read",
            Scope::MarketingCloudConnectWrite => "marketing_cloud_connect_write",
            Scope::MarketingCloudConnectSend => "marketing_cloud_connect_send",
            Scope::SavedContentRead => "saved_content_read",
            Scope::SavedContentWrite => "saved_content_write",
            Scope::EmailRead => "email_read",
            Scope::EmailWrite => "email_write",
            Scope::ListAndSubscribersRead => "list_and_subscribers_read",
            Scope::ListAndSubscribersWrite => "list_and_subscribers_write",
            Scope::WebhooksRead => "webhooks_read",
            Scope::WebhooksWrite => "webhooks_write",
        }
    }

    /// What the scope allows, as the API's documentation words it.
    pub fn description(self) -> &'static str {
        match self {
            Scope::MarketingCloudConnectRead => "Send API: read definitions and instances",
            Scope::MarketingCloudConnectWrite => "Send API: create, update and delete definitions",
            Scope::MarketingCloudConnectSend => "Send API: schedule, cancel, pause and resume",
            Scope::SavedContentRead => "Emails: read",
            Scope::SavedContentWrite => "Emails: write",
            Scope::EmailRead => "Emails and classifications: read",
            Scope::EmailWrite => "Emails and classifications: write",
            Scope::ListAndSubscribersRead => "CRM: read",
            Scope::ListAndSubscribersWrite => "CRM: write",
            Scope::WebhooksRead => "Event webhook subscriptions: read",
            Scope::WebhooksWrite => "Event webhook subscriptions: create and delete",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.name() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of scopes, written on the wire as space-separated names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(BTreeSet<Scope>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl ScopeSet {
    pub fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// Parses space-separated scope names; blanks around and between names are ignored.
    pub fn parse(text: &str) -> Result<Self, UnknownScope> {
        text.split_whitespace()
            .map(|name| Scope::from_name(name).ok_or_else(|| UnknownScope(name.to_owned())))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `self` that `granted` does not hold.
    pub fn missing_from(&self, granted: &ScopeSet) -> Vec<Scope> {
        self.0.difference(&granted.0).copied().collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|scope| scope.name()).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readmes_scope_list_names_exactly_the_scopes_herald_knows() {
        let readme = include_str!("../../../README.md");
        let list = readme
            .split("\nScopes: ")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .expect("README.md has a line starting with `Scopes: `");
        let listed: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
        let known: Vec<&str> = Scope::ALL.iter().map(|scope| scope.name()).collect();
        assert_eq!(listed, known);
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::from_name(scope.name()), Some(scope));
        }
    }

    #[test]
    fn a_scope_set_parses_space_separated_names_and_prints_them_back() {
        let set = ScopeSet::parse("  email_read   saved_content_read ").unwrap();
        assert!(set.contains(Scope::EmailRead));
        assert!(!set.contains(Scope::EmailWrite));
        assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
    }

    #[test]
    fn an_unknown_scope_name_is_refused_by_name() {
        assert_eq!(
            ScopeSet::parse("email_read root"),
            Err(UnknownScope("root".into()))
        );
    }

    #[test]
    fn missing_scopes_are_those_not_granted() {
        let asked = ScopeSet::parse("email_read email_write").unwrap();
        let granted = ScopeSet::parse("email_read").unwrap();
        assert_eq!(asked.missing_from(&granted), vec![Scope::EmailWrite]);
        assert!(granted.missing_from(&asked).is_empty());
    }
}
