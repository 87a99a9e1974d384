//! Where messages go: a pool of SMTP relays, or the capture outbox when none is
//! configured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_mail::smtp::{PoolConfig, Relay, SmtpPool};

/// How one instance's messages leave Herald.
#[derive(Clone)]
pub enum Transport {
    /// Kept in the database, readable through the outbox API.
    Capture,
    /// Delivered through these relays (failover in order).
    Smtp(Arc<SmtpPool>),
}

/// One SMTP pool per distinct relay list, shared by every instance that uses it, so the
/// pool's connection limit is the relay's limit on this node.
pub struct Transports {
    default_relays: Vec<Relay>,
    max_connections: usize,
    pools: Mutex<HashMap<Vec<Relay>, Arc<SmtpPool>>>,
    /// Each pool's relays as `host:port,…` (`Relay::address`, no credentials), by the pool's address: the
    /// name its rate limit has on every node.
    names: Mutex<HashMap<usize, String>>,
}

impl Transports {
    /// `default_relays`: the server relay list (`HERALD_SMTP_RELAY`), empty for capture.
    pub fn new(default_relays: Vec<Relay>, max_connections: usize) -> Self {
        Transports {
            default_relays,
            max_connections,
            pools: Mutex::new(HashMap::new()),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// The transport for a delivery profile's relays (empty: the server default).
    pub fn for_relays(&self, relays: &[Relay]) -> Result<Transport, String> {
        let relays = if relays.is_empty() {
            &self.default_relays
        } else {
            relays
        };
        if relays.is_empty() {
            return Ok(Transport::Capture);
        }
        let mut pools = self.pools.lock().expect("transport lock poisoned");
        if let Some(pool) = pools.get(relays) {
            return Ok(Transport::Smtp(pool.clone()));
        }

        let config = PoolConfig {
            max_connections: self.max_connections,
            ..PoolConfig::default()
        };
        let name = relays
            .iter()
            .map(Relay::address)
            .collect::<Vec<_>>()
            .join(",");
        let pool = Arc::new(SmtpPool::new(relays.to_vec(), config).map_err(|err| err.to_string())?);
        self.names
            .lock()
            .expect("transport lock poisoned")
            .insert(Arc::as_ptr(&pool) as usize, name);
        pools.insert(relays.to_vec(), pool.clone());
        Ok(Transport::Smtp(pool))
    }

    /// The relays of a pool as every node names them (`host:port,…`).
    pub fn name_of(&self, pool: &Arc<SmtpPool>) -> String {
        self.names
            .lock()
            .expect("transport lock poisoned")
            .get(&(Arc::as_ptr(pool) as usize))
            .cloned()
            .unwrap_or_default()
    }

    /// Every pool, for metrics and shutdown.
    pub fn pools(&self) -> Vec<Arc<SmtpPool>> {
        self.pools
            .lock()
            .expect("transport lock poisoned")
            .values()
            .cloned()
            .collect()
    }
}
