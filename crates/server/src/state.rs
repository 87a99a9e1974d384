//! What every handler can reach.

use std::sync::Arc;

use herald_domain::clock::Clock;
use herald_store::Store;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
}
