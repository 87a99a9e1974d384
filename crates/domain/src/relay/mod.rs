//! SMTP relays: `smtp://[user:pass@]host[:port][?tls=…&insecure=true]` (STARTTLS when
//! offered) and `smtps://…` (TLS from the first byte).
//!
//! A [`Relay`] is parsed once at each edge (the configuration, a delivery profile's
//! `relays`, a stored profile) and is the one type from there to a connection: the SMTP
//! client reads its host, port, security and credentials, the engine keys its pools by it
//! and names its rate limit by [`Relay::address`].
//!
//! A relay may carry a password, so it never prints whole: [`Relay::masked`], `Display`
//! and `Debug` hide it, and only [`Relay::expose`] gives the real text (to store it).

mod parse;

use std::fmt;
use std::net::IpAddr;

pub use parse::InvalidRelay;

/// What clients see in place of a relay's password.
pub const PASSWORD_MASK: &str = "****";

/// How a connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Clone, PartialEq, Eq, Hash)]
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

/// One relay Herald delivers through, known to be usable (see [`Relay::parse`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Relay {
    /// The URL as given (normalised by the URL parser), password included.
    url: url::Url,
    /// A host name (lower case) or an IP address (without brackets).
    host: String,
    port: u16,
    security: Security,
    accept_invalid_certs: bool,
    credentials: Option<Credentials>,
}

impl Relay {
    /// The default port: 25 for `smtp://`, 465 for `smtps://`.
    pub fn default_port(security: Security) -> u16 {
        match security {
            Security::Implicit => 465,
            _ => 25,
        }
    }

    /// A host name (lower case) or an IP address (without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn security(&self) -> Security {
        self.security
    }

    /// Accept any certificate (self-signed, expired, another name): for lab relays only.
    pub fn accept_invalid_certs(&self) -> bool {
        self.accept_invalid_certs
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// `host:port` (`[v6]:port` for IPv6), for messages, logs and the name of the relay's
    /// rate limit on every node.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the relay is this machine, where credentials may travel in plain text.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The whole URL, password included: for storage, never for display.
    pub fn expose(&self) -> &str {
        self.url.as_str()
    }

    /// The URL as given with its password, if any, replaced by [`PASSWORD_MASK`]: what
    /// the API shows.
    pub fn masked(&self) -> String {
        if self.url.password().is_none() {
            return self.url.to_string();
        }
        let mut masked = self.url.clone();
        // Setting a password only fails on URLs without a host, which parse refused.
        let _ = masked.set_password(Some(PASSWORD_MASK));
        masked.to_string()
    }

    /// Whether the password is the mask that [`Relay::masked`] shows: a client sent back
    /// what it read.
    pub fn has_masked_password(&self) -> bool {
        self.url.password() == Some(PASSWORD_MASK)
    }

    /// Replaces a masked password with the password of the relay among `known` that has the
    /// same scheme, user, host and port; `None` when there is none. A relay without a
    /// masked password is returned as it is.
    pub fn unmask(self, known: &[Relay]) -> Option<Relay> {
        if !self.has_masked_password() {
            return Some(self);
        }
        known
            .iter()
            .find(|relay| relay.same_endpoint(&self) && !relay.has_masked_password())
            .cloned()
    }

    fn same_endpoint(&self, other: &Relay) -> bool {
        self.url.scheme() == other.url.scheme()
            && self.url.username() == other.url.username()
            && self.url.host_str() == other.url.host_str()
            && self.url.port() == other.url.port()
    }
}

impl std::str::FromStr for Relay {
    type Err = InvalidRelay;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The relay as the SMTP client sees it, without the password, for logs and errors:
/// `smtp://user:***@host:port?tls=required`.
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

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Relay").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(text: &str) -> Relay {
        Relay::parse(text).unwrap()
    }

    #[test]
    fn the_password_never_shows_outside_expose() {
        let url = relay("smtps://user:hunter2@mail.example.com:465");
        assert_eq!(url.masked(), "smtps://user:****@mail.example.com:465");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.expose(), "smtps://user:hunter2@mail.example.com:465");
        assert!(!url.to_string().contains("hunter2"));
    }

    #[test]
    fn a_url_without_a_password_masks_to_itself() {
        assert_eq!(
            relay("smtp://user@mail.example.com").masked(),
            "smtp://user@mail.example.com"
        );
    }

    #[test]
    fn a_masked_password_is_restored_from_the_same_endpoint_only() {
        let known = [
            relay("smtp://user:one@a.example:25"),
            relay("smtp://user:two@b.example:25"),
        ];
        let back = relay("smtp://user:****@b.example:25")
            .unmask(&known)
            .unwrap();
        assert_eq!(back.expose(), "smtp://user:two@b.example:25");
        assert!(
            relay("smtp://user:****@b.example:26")
                .unmask(&known)
                .is_none()
        );
        assert!(
            relay("smtp://other:****@a.example:25")
                .unmask(&known)
                .is_none()
        );
        let fresh = relay("smtp://user:new@c.example");
        assert_eq!(fresh.clone().unmask(&known), Some(fresh));
    }
}
