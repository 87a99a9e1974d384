//! What each family of routes requires of a token (contract section 1). A handler names
//! one of these in its `Authorized<…>` argument; that is the only place a route's scope
//! is declared.

use herald_domain::scope::Scope;

use super::Requirement;

macro_rules! requirement {
    ($(#[$doc:meta])* $name:ident => [$($scope:ident),+]) => {
        $(#[$doc])*
        pub struct $name;
        impl Requirement for $name {
            const ANY_OF: &'static [Scope] = &[$(Scope::$scope),+];
        }
    };
}

requirement!(/// Reading emails (Content Builder assets).
    EmailRead => [SavedContentRead, EmailRead]);
requirement!(/// Writing emails (Content Builder assets).
    EmailWrite => [SavedContentWrite, EmailWrite]);
requirement!(/// Reading send classifications, sender and delivery profiles.
    ClassificationRead => [EmailRead]);
requirement!(/// Writing send classifications, sender and delivery profiles.
    ClassificationWrite => [EmailWrite]);
requirement!(/// Reading the CRM audience.
    CrmRead => [ListAndSubscribersRead]);
requirement!(/// Writing the CRM audience.
    CrmWrite => [ListAndSubscribersWrite]);
requirement!(/// Reading Send API definitions and instances.
    SendRead => [MarketingCloudConnectRead]);
requirement!(/// Creating, updating and deleting Send API definitions.
    SendWrite => [MarketingCloudConnectWrite]);
requirement!(/// Scheduling, canceling, pausing and resuming sends.
    SendSchedule => [MarketingCloudConnectSend]);
requirement!(/// Reading event webhook subscriptions.
    WebhookRead => [WebhooksRead]);
requirement!(/// Creating and deleting event webhook subscriptions.
    WebhookWrite => [WebhooksWrite]);
