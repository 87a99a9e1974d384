//! Relay URLs: `smtp://[user:pass@]host[:port][?tls=…&insecure=true]` and `smtps://…`.

use percent_encoding::percent_decode_str;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use url::{Host, Url};

/// How a connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: STARTTLS when the relay offers it, plain text otherwise. With
    /// credentials on a non-loopback relay, TLS is required all the same.
    Opportunistic,
    /// `smtp://…?tls=required`: STARTTLS, and a relay that does not offer it is unusable.
    RequireStartTls,
    /// `smtp://…?tls=none`: never STARTTLS, even when offered.
    Plain,
    /// `smtps://`: TLS from the first byte (RFC 8314).
    Implicit,
}

/// Credentials for AUTH PLAIN or LOGIN. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// One relay Herald delivers through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// A host name or an IP address (without brackets).
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Accept any certificate (self-signed, expired, another name): for lab relays only.
    pub accept_invalid_certs: bool,
    pub credentials: Option<Credentials>,
}

/// Why a relay URL was refused. Messages never repeat the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayUrlError {
    #[error("the relay URL is not a URL: {0}")]
    NotAUrl(String),
    #[error("the relay URL must start with smtp:// or smtps://, got {0}://")]
    Scheme(String),
    #[error("the relay URL has no host")]
    NoHost,
    #[error("the relay URL cannot have a path, a fragment or a port 0")]
    Extra,
    #[error("the user name and password in the relay URL must be UTF-8 once percent-decoded")]
    Credentials,
    #[error("the relay URL gives a password without a user name")]
    PasswordWithoutUser,
    #[error("the relay URL parameter {name}={value:?} is not valid: {expected}")]
    Parameter {
        name: String,
        value: String,
        expected: &'static str,
    },
    #[error("the relay URL parameter {0:?} is unknown (known: tls, insecure)")]
    UnknownParameter(String),
}

impl Relay {
    /// The default port: 25 for `smtp://`, 465 for `smtps://`.
    pub fn default_port(security: Security) -> u16 {
        match security {
            Security::Implicit => 465,
            _ => 25,
        }
    }

    /// Parses a relay URL. User name and password are percent-decoded (write `@` as `%40`).
    pub fn parse(text: &str) -> Result<Self, RelayUrlError> {
        let url =
            Url::parse(text.trim()).map_err(|error| RelayUrlError::NotAUrl(error.to_string()))?;
        let mut security = match url.scheme() {
            "smtp" => Security::Opportunistic,
            "smtps" => Security::Implicit,
            other => return Err(RelayUrlError::Scheme(other.to_owned())),
        };
        let host = match url.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(RelayUrlError::NoHost),
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() || url.port() == Some(0) {
            return Err(RelayUrlError::Extra);
        }
        let credentials = credentials(&url)?;
        let mut accept_invalid_certs = false;
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "tls" => {
                    security = match (security, value.as_ref()) {
                        (Security::Implicit, "implicit") => Security::Implicit,
                        (Security::Opportunistic, "opportunistic") => Security::Opportunistic,
                        (Security::Opportunistic, "required") => Security::RequireStartTls,
                        (Security::Opportunistic, "none") => Security::Plain,
                        _ => {
                            return Err(RelayUrlError::Parameter {
                                name: name.into_owned(),
                                value: value.into_owned(),
                                expected: "opportunistic, required or none for smtp://",
                            });
                        }
                    }
                }
                "insecure" => {
                    accept_invalid_certs = match value.as_ref() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => {
                            return Err(RelayUrlError::Parameter {
                                name: name.into_owned(),
                                value: value.into_owned(),
                                expected: "true or false",
                            });
                        }
                    }
                }
                other => return Err(RelayUrlError::UnknownParameter(other.to_owned())),
            }
        }
        Ok(Self {
            port: url.port().unwrap_or(Self::default_port(security)),
            host,
            security,
            accept_invalid_certs,
            credentials,
        })
    }

    /// `host:port` (`[v6]:port` for IPv6), for messages and logs.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the relay is this machine, where credentials may travel in plain text.
    pub(crate) fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl FromStr for Relay {
    type Err = RelayUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The URL without the password: `smtp://user:***@host:port?tls=required`.
impl fmt::Display for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::Implicit => "smtps",
            _ => "smtp",
        };
        write!(f, "{scheme}://")?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}:***@", credentials.username)?;
        }
        write!(f, "{}", self.address())?;
        let mut parameters = Vec::new();
        match self.security {
            Security::RequireStartTls => parameters.push("tls=required"),
            Security::Plain => parameters.push("tls=none"),
            Security::Opportunistic | Security::Implicit => {}
        }
        if self.accept_invalid_certs {
            parameters.push("insecure=true");
        }
        if !parameters.is_empty() {
            write!(f, "?{}", parameters.join("&"))?;
        }
        Ok(())
    }
}

fn credentials(url: &Url) -> Result<Option<Credentials>, RelayUrlError> {
    let decode = |text: &str| {
        percent_decode_str(text)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| RelayUrlError::Credentials)
    };
    let username = decode(url.username())?;
    let password = decode(url.password().unwrap_or(""))?;
    match (username.is_empty(), url.password().is_some()) {
        (true, false) => Ok(None),
        (true, true) => Err(RelayUrlError::PasswordWithoutUser),
        (false, _) => Ok(Some(Credentials { username, password })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_default_to_port_25_and_opportunistic_starttls() {
        let relay = Relay::parse("smtp://mx.example.com").unwrap();
        assert_eq!(
            relay,
            Relay {
                host: "mx.example.com".into(),
                port: 25,
                security: Security::Opportunistic,
                accept_invalid_certs: false,
                credentials: None,
            }
        );
        assert_eq!(relay.to_string(), "smtp://mx.example.com:25");
    }

    #[test]
    fn smtps_urls_default_to_port_465_with_implicit_tls() {
        let relay = Relay::parse("smtps://Relay.Example.com/").unwrap();
        assert_eq!(relay.port, 465);
        assert_eq!(relay.security, Security::Implicit);
        assert_eq!(relay.host, "relay.example.com");
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_displayed() {
        let relay =
            Relay::parse("smtp://ann%40example.com:p%3As%20w@127.0.0.1:2525?tls=required").unwrap();
        let credentials = relay.credentials.clone().unwrap();
        assert_eq!(credentials.username, "ann@example.com");
        assert_eq!(credentials.password, "p:s w");
        assert_eq!(relay.port, 2525);
        assert_eq!(relay.security, Security::RequireStartTls);
        assert_eq!(
            relay.to_string(),
            "smtp://ann@example.com:***@127.0.0.1:2525?tls=required"
        );
        assert!(!format!("{relay:?}").contains("p:s w"));
    }

    #[test]
    fn parameters_choose_tls_and_certificate_checks() {
        let relay = Relay::parse("smtp://[::1]:2525?tls=none&insecure=true").unwrap();
        assert_eq!(relay.host, "::1");
        assert_eq!(relay.security, Security::Plain);
        assert!(relay.accept_invalid_certs);
        assert!(relay.is_loopback());
        assert_eq!(relay.address(), "[::1]:2525");
        assert_eq!(
            relay.to_string(),
            "smtp://[::1]:2525?tls=none&insecure=true"
        );
        assert!(
            Relay::parse("smtps://h?insecure=1")
                .unwrap()
                .accept_invalid_certs
        );
        assert!(!Relay::parse("smtp://mx.example.com").unwrap().is_loopback());
    }

    #[test]
    fn bad_relay_urls_are_refused_with_a_reason() {
        let cases: &[(&str, RelayUrlError)] = &[
            (
                "mx.example.com",
                RelayUrlError::NotAUrl("relative URL without a base".into()),
            ),
            (
                "http://mx.example.com",
                RelayUrlError::Scheme("http".into()),
            ),
            ("smtp://", RelayUrlError::NoHost),
            ("smtp://mx.example.com/path", RelayUrlError::Extra),
            ("smtp://mx.example.com:0", RelayUrlError::Extra),
            (
                "smtp://:secret@mx.example.com",
                RelayUrlError::PasswordWithoutUser,
            ),
            (
                "smtp://mx.example.com?port=1",
                RelayUrlError::UnknownParameter("port".into()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&Relay::parse(text).unwrap_err(), expected, "{text}");
        }
        for text in [
            "smtps://h?tls=required",
            "smtp://h?tls=maybe",
            "smtp://h?insecure=perhaps",
        ] {
            assert!(
                matches!(Relay::parse(text), Err(RelayUrlError::Parameter { .. })),
                "{text}"
            );
        }
    }
}
