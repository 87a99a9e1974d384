//! What every handler can reach.

use std::sync::Arc;

use herald_domain::clock::Clock;
use herald_domain::signed_link::LinkKey;
use herald_store::Store;

use crate::config::Config;
use crate::crm::CrmConnector;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Where send audiences come from (the built-in CRM unless configured otherwise).
    pub crm: Arc<dyn CrmConnector>,
    /// Signs and checks the links in messages (unsubscribe, view online).
    pub link_key: LinkKey,
    pub metrics: Arc<Metrics>,
}
