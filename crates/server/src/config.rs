//! Typed configuration: defaults, then an optional `herald.toml`, then `HERALD_*`
//! environment variables. Validated once at boot; every problem names its key and source.

use std::collections::BTreeMap;
use std::fmt;

use herald_domain::relay::Relay;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

/// A value that must never be printed (database URLs may carry passwords).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Herald's whole configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// `listen`: the address the HTTP server binds.
    pub listen: SocketAddr,
    /// `data_dir`: where the embedded database (and later, captured mail) lives.
    pub data_dir: PathBuf,
    /// `database_url`: `sqlite://PATH` or `postgres://…`.
    pub database_url: Secret,
    /// `public_url`: the base URL clients and recipients see, without a trailing slash.
    pub public_url: Url,
    /// `max_body_bytes`: the largest request body accepted.
    pub max_body_bytes: usize,
    /// `token_failures_per_client`: failed token requests per client id per window.
    pub token_failures_per_client: i64,
    /// `token_failures_per_address`: failed token requests per source address per window.
    pub token_failures_per_address: i64,
    /// `token_failure_window_secs`: the throttling window.
    pub token_failure_window_secs: i64,
    /// `log`: a tracing filter such as `info` or `herald=debug,info`.
    pub log: String,
    /// `log_format`: `text` or `json`.
    pub log_format: LogFormat,
    /// `smtp_relay`: the default relay(s), `smtp://user:pass@host:port` or `smtps://…`,
    /// several separated by commas for failover; none keeps mail in the capture outbox.
    /// (`Debug` hides their passwords.)
    pub smtp_relay: Vec<Relay>,
    /// `workers`: messages in flight at once on this node (being rendered, signed, waiting
    /// for a relay connection, sent or recorded; default 256).
    pub workers: usize,
    /// `relay_connections`: open SMTP connections per relay list, per node (default 20,
    /// as Postfix's per-destination limit).
    pub relay_connections: usize,
    /// `lease_secs`: how long a node's claim on work lasts (an instance's audience
    /// resolution, a recipient's delivery attempt) before another node may take it over,
    /// in seconds (default 60). After a crash, unfinished work waits this long; a lease
    /// shorter than the slowest SMTP transaction lets two nodes send the same message.
    pub lease_secs: i64,
    /// `node_id`: this process's name in leases (default: host name and process id).
    pub node_id: String,
    /// `domain_concurrency`: messages in flight at once per recipient domain, across the
    /// cluster (every node on the database).
    pub domain_concurrency: usize,
    /// `relay_rate`: messages per second per relay list, across the cluster (0: unlimited).
    pub relay_rate: u32,
    /// `domain_rate`: messages per second per recipient domain, across the cluster (0:
    /// unlimited).
    pub domain_rate: u32,
    /// `engine`: whether this node runs the send engine (`on`, the default) or only
    /// serves the API (`off`).
    pub engine: bool,
    /// `bounce_domain`: the domain of every message's VERP envelope sender
    /// (`bounces+…@DOMAIN`); unset, the From domain of each send.
    pub bounce_domain: Option<String>,
    /// `bounce_secret`: the shared secret a relay presents (`Authorization: Bearer …`) to
    /// `POST /herald/v1/bounces`; unset, bounce ingestion is off.
    pub bounce_secret: Option<Secret>,
    /// `bounce_smtp_listen`: where the bounce SMTP listener binds (e.g. `0.0.0.0:25`);
    /// unset, there is none.
    pub bounce_smtp_listen: Option<SocketAddr>,
    /// `webhook_workers`: event webhook subscriptions delivered at once by this node.
    pub webhook_workers: usize,
}

/// Every key, as written in `herald.toml`; the environment variable is `HERALD_` + upper case.
pub const KEYS: [&str; 23] = [
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "max_body_bytes",
    "token_failures_per_client",
    "token_failures_per_address",
    "token_failure_window_secs",
    "log",
    "log_format",
    "smtp_relay",
    "workers",
    "relay_connections",
    "lease_secs",
    "node_id",
    "engine",
    "domain_concurrency",
    "relay_rate",
    "domain_rate",
    "bounce_domain",
    "bounce_secret",
    "bounce_smtp_listen",
    "webhook_workers",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("{key} ({origin}): {reason}")]
    Invalid {
        key: String,
        origin: String,
        reason: String,
    },
}

/// Raw values by key, each with where it came from.
#[derive(Default)]
struct Sources(BTreeMap<&'static str, (String, String)>);

impl Config {
    /// Loads from `HERALD_CONFIG` (or `./herald.toml` when present) and the process environment.
    pub fn load() -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("HERALD_CONFIG") {
            Some(path) => Some(PathBuf::from(path)),
            None => Some(PathBuf::from("herald.toml")).filter(|p| p.exists()),
        };
        Config::from_sources(file.as_deref(), &env)
    }

    /// Builds a configuration from an optional TOML file and an environment map.
    pub fn from_sources(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut sources = Sources::default();
        if let Some(path) = file {
            sources.read_file(path)?;
        }
        for key in KEYS {
            let var = format!("HERALD_{}", key.to_uppercase());
            if let Some(value) = env.get(&var) {
                sources
                    .0
                    .insert(key, (value.clone(), format!("environment {var}")));
            }
        }
        sources.build()
    }
}

impl Sources {
    fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file_error = |reason: String| ConfigError::File {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|err| file_error(err.to_string()))?;
        let table: toml::Table = text
            .parse()
            .map_err(|err: toml::de::Error| file_error(err.to_string()))?;
        for (name, value) in table {
            let key = KEYS.into_iter().find(|k| *k == name).ok_or_else(|| {
                file_error(format!(
                    "unknown key {name:?}; known keys: {}",
                    KEYS.join(", ")
                ))
            })?;
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                other => {
                    return Err(file_error(format!(
                        "{name}: expected a string or a number, got {other}"
                    )));
                }
            };
            self.0
                .insert(key, (value, format!("file {}", path.display())));
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&(String, String)> {
        self.0.get(key)
    }

    fn parse<T>(
        &self,
        key: &'static str,
        default: T,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some((value, source)) => parse(value.trim()).map_err(|reason| ConfigError::Invalid {
                key: key.to_owned(),
                origin: source.clone(),
                reason,
            }),
        }
    }

    fn build(self) -> Result<Config, ConfigError> {
        let listen = self.parse("listen", SocketAddr::from(([127, 0, 0, 1], 8080)), |v| {
            v.parse()
                .map_err(|_| format!("{v:?} is not a socket address such as 127.0.0.1:8080"))
        })?;
        let data_dir = self.parse("data_dir", PathBuf::from("herald-data"), |v| {
            if v.is_empty() {
                Err("must not be empty".into())
            } else {
                Ok(PathBuf::from(v))
            }
        })?;
        let default_db = format!("sqlite://{}", data_dir.join("herald.db").display());
        let database_url = self.parse("database_url", default_db, |v| {
            herald_store::Backend::from_url(v)
                .map(|_| v.to_owned())
                .map_err(|err| err.to_string())
        })?;
        let public_url = self.parse("public_url", default_public_url(listen), parse_public_url)?;
        let max_body_bytes = self.parse("max_body_bytes", 4 * 1024 * 1024, |v| {
            positive(v).map(|n| n as usize)
        })?;
        let token_failures_per_client = self.parse("token_failures_per_client", 10, positive)?;
        let token_failures_per_address = self.parse("token_failures_per_address", 50, positive)?;
        let token_failure_window_secs = self.parse("token_failure_window_secs", 300, positive)?;
        let log = self.parse("log", "info".to_owned(), |v| {
            tracing_subscriber::EnvFilter::try_new(v)
                .map(|_| v.to_owned())
                .map_err(|err| err.to_string())
        })?;
        let log_format = self.parse("log_format", LogFormat::Text, |v| match v {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{v:?} is not one of: text, json")),
        })?;
        let smtp_relay = self.parse("smtp_relay", Vec::new(), |v| {
            if v.is_empty() {
                return Ok(Vec::new());
            }
            v.split(',')
                .map(str::trim)
                .enumerate()
                .map(|(n, relay)| {
                    Relay::parse(relay)
                        .map_err(|err| format!("relay {} of the list is not usable: {err}", n + 1))
                })
                .collect()
        })?;
        let workers = self.parse("workers", 256, |v| positive(v).map(|n| n as usize))?;
        let relay_connections =
            self.parse("relay_connections", 20, |v| positive(v).map(|n| n as usize))?;
        let lease_secs = self.parse("lease_secs", 60, positive)?;
        let node_id = self.parse("node_id", default_node_id(), |v| {
            if v.is_empty() || v.len() > 128 {
                Err("must be 1 to 128 characters".into())
            } else {
                Ok(v.to_owned())
            }
        })?;
        let engine = self.parse("engine", true, |v| match v {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(format!("{v:?} is not one of: on, off")),
        })?;
        let domain_concurrency = self.parse("domain_concurrency", 20, |v| {
            positive(v).map(|n| n as usize)
        })?;
        let rate = |v: &str| {
            v.parse::<u32>().map_err(|_| {
                format!("{v:?} is not a whole number of messages per second (0: unlimited)")
            })
        };
        let relay_rate = self.parse("relay_rate", 0, rate)?;
        let domain_rate = self.parse("domain_rate", 0, rate)?;
        let bounce_domain = self.parse("bounce_domain", None, |v| {
            if v.is_empty() {
                return Ok(None);
            }
            herald_domain::email_address::EmailAddress::parse(&format!("bounces@{v}"))
                .map(|address| Some(address.domain().to_owned()))
                .map_err(|err| format!("{v:?} is not a mail domain: {err}"))
        })?;
        let bounce_secret = self.parse("bounce_secret", None, |v| match v.len() {
            0 => Ok(None),
            1..24 => Err("must be at least 24 characters (or empty: ingestion off)".into()),
            _ => Ok(Some(Secret(v.to_owned()))),
        })?;
        let bounce_smtp_listen = self.parse("bounce_smtp_listen", None, |v| match v {
            "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| format!("{v:?} is not a socket address such as 0.0.0.0:25")),
        })?;
        let webhook_workers =
            self.parse("webhook_workers", 8, |v| positive(v).map(|n| n as usize))?;
        Ok(Config {
            listen,
            data_dir,
            database_url: Secret(database_url),
            public_url,
            max_body_bytes,
            token_failures_per_client,
            token_failures_per_address,
            token_failure_window_secs,
            log,
            log_format,
            smtp_relay,
            workers,
            relay_connections,
            lease_secs,
            node_id,
            engine,
            domain_concurrency,
            relay_rate,
            domain_rate,
            bounce_domain,
            bounce_secret,
            bounce_smtp_listen,
            webhook_workers,
        })
    }
}

fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "herald".to_owned());
    format!("{host}-{}", std::process::id())
}

fn positive(v: &str) -> Result<i64, String> {
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{v:?} is not a positive whole number")),
    }
}

fn default_public_url(listen: SocketAddr) -> Url {
    let host = match listen.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Url::parse(&format!("http://{host}:{}", listen.port())).expect("a socket address makes a URL")
}

fn parse_public_url(v: &str) -> Result<Url, String> {
    let url =
        Url::parse(v.trim_end_matches('/')).map_err(|err| format!("{v:?} is not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{v:?} must be an http:// or https:// URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{v:?} must not have a query or fragment"));
    }
    Ok(url)
}

impl Config {
    /// The public base URL with exactly one trailing slash, as token responses give it.
    pub fn public_base(&self) -> String {
        format!("{}/", self.public_url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_give_a_local_sqlite_server() {
        let config = Config::from_sources(None, &env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.database_url.expose(),
            "sqlite://herald-data/herald.db"
        );
        assert_eq!(config.public_base(), "http://127.0.0.1:8080/");
        assert_eq!(config.lease_secs, 60);
    }

    #[test]
    fn the_engine_lease_is_a_positive_number_of_seconds() {
        let config = Config::from_sources(None, &env(&[("HERALD_LEASE_SECS", "2")])).unwrap();
        assert_eq!(config.lease_secs, 2);
        for bad in ["0", "-5", "1.5", "soon"] {
            let err = Config::from_sources(None, &env(&[("HERALD_LEASE_SECS", bad)])).unwrap_err();
            assert!(err.to_string().contains("HERALD_LEASE_SECS"), "{err}");
        }
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = herald_test_support::temp_dir("herald-config");
        let file = dir.join("herald.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 1000\n").unwrap();
        let config =
            Config::from_sources(Some(&file), &env(&[("HERALD_LISTEN", "127.0.0.1:9001")]))
                .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(config.max_body_bytes, 1000);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_bad_value_names_its_key_and_source() {
        let err = Config::from_sources(None, &env(&[("HERALD_LISTEN", "localhost")])).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("listen") && message.contains("HERALD_LISTEN"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_file_key_is_refused_with_the_known_ones() {
        let dir = herald_test_support::temp_dir("herald-config");
        let file = dir.join("herald.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let message = Config::from_sources(Some(&file), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("lisen") && message.contains("listen"),
            "{message}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_database_password_never_shows_in_debug_output_or_errors() {
        let config = Config::from_sources(
            None,
            &env(&[("HERALD_DATABASE_URL", "postgres://u:hunter2@db/herald")]),
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        let err = Config::from_sources(
            None,
            &env(&[("HERALD_DATABASE_URL", "mysql://u:hunter2@db/x")]),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn the_bounce_domain_must_be_a_mail_domain_and_the_bounce_secret_long() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("HERALD_BOUNCE_DOMAIN", "Bounces.Example.com"),
                ("HERALD_BOUNCE_SECRET", "0123456789abcdef01234567"),
                ("HERALD_BOUNCE_SMTP_LISTEN", "0.0.0.0:2525"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.bounce_smtp_listen.map(|a| a.to_string()).as_deref(),
            Some("0.0.0.0:2525")
        );
        assert_eq!(config.bounce_domain.as_deref(), Some("bounces.example.com"));
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
        for (key, bad) in [
            ("HERALD_BOUNCE_DOMAIN", "no_dot"),
            ("HERALD_BOUNCE_SECRET", "short"),
            ("HERALD_BOUNCE_SMTP_LISTEN", "port 25"),
        ] {
            let err = Config::from_sources(None, &env(&[(key, bad)])).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn the_public_url_must_be_http_without_a_query() {
        for bad in ["ftp://x", "http://x/?a=1", "not a url"] {
            assert!(
                Config::from_sources(None, &env(&[("HERALD_PUBLIC_URL", bad)])).is_err(),
                "{bad}"
            );
        }
        let config = Config::from_sources(
            None,
            &env(&[("HERALD_PUBLIC_URL", "https://mail.example.com/herald/")]),
        )
        .unwrap();
        assert_eq!(config.public_base(), "https://mail.example.com/herald/");
    }
}
