//! SMTP relay addresses: `smtp://user:pass@host:port` (STARTTLS when offered) and
//! `smtps://…` (TLS from the first byte).
//!
//! A relay URL may carry a password, so it never prints whole: [`RelayUrl::masked`] and
//! `Debug` show `****` in its place, and only [`RelayUrl::expose`] gives the real text (to
//! store it, or to connect).

use std::fmt;

/// What clients see in place of a relay's password.
pub const PASSWORD_MASK: &str = "****";

/// A relay URL known to be usable: scheme `smtp` or `smtps`, a host, an optional port.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayUrl(url::Url);

/// Why a text is not a relay URL. Messages never repeat the URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRelayUrl {
    #[error("a relay URL looks like smtp://user:password@host:port or smtps://…: {0}")]
    Syntax(String),
    #[error("a relay URL starts with smtp:// or smtps://, got scheme {0:?}")]
    Scheme(String),
    #[error("a relay URL needs a host, as in smtp://mail.example.com:587")]
    MissingHost,
    #[error("a relay URL's port is from 1 to 65535")]
    PortZero,
    #[error("a relay URL has no path or fragment after host:port (options go in the query)")]
    Extra,
}

impl RelayUrl {
    /// Parses a relay URL; blanks around it are ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidRelayUrl> {
        let url =
            url::Url::parse(text.trim()).map_err(|err| InvalidRelayUrl::Syntax(err.to_string()))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(InvalidRelayUrl::Scheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(InvalidRelayUrl::MissingHost);
        }
        if url.port() == Some(0) {
            return Err(InvalidRelayUrl::PortZero);
        }
        // The query holds connection options (`?tls=required`, `?insecure=true`); the SMTP
        // client checks their names and values.
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(InvalidRelayUrl::Extra);
        }
        Ok(Self(url))
    }

    /// The whole URL, password included: for storage and for connecting, never for display.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The URL with its password, if any, replaced by [`PASSWORD_MASK`].
    pub fn masked(&self) -> String {
        if self.0.password().is_none() {
            return self.0.to_string();
        }
        let mut masked = self.0.clone();
        // Setting a password only fails on URLs without a host, which parse refused.
        let _ = masked.set_password(Some(PASSWORD_MASK));
        masked.to_string()
    }

    /// Whether the password is the mask that [`RelayUrl::masked`] shows: a client sent back
    /// what it read.
    pub fn has_masked_password(&self) -> bool {
        self.0.password() == Some(PASSWORD_MASK)
    }

    /// Replaces a masked password with the password of the relay among `known` that has the
    /// same scheme, user, host and port; `None` when there is none. A URL without a masked
    /// password is returned as it is.
    pub fn unmask(self, known: &[RelayUrl]) -> Option<RelayUrl> {
        if !self.has_masked_password() {
            return Some(self);
        }
        known
            .iter()
            .find(|relay| relay.same_endpoint(&self) && !relay.has_masked_password())
            .cloned()
    }

    fn same_endpoint(&self, other: &RelayUrl) -> bool {
        self.0.scheme() == other.0.scheme()
            && self.0.username() == other.0.username()
            && self.0.host_str() == other.0.host_str()
            && self.0.port() == other.0.port()
    }
}

impl fmt::Debug for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RelayUrl").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(text: &str) -> RelayUrl {
        RelayUrl::parse(text).unwrap()
    }

    #[test]
    fn smtp_and_smtps_urls_with_or_without_credentials_and_port_parse() {
        for text in [
            "smtp://mail.example.com",
            "smtp://mail.example.com:587",
            "smtps://user:secret@mail.example.com:465",
            "smtp://user@127.0.0.1:2525/",
            " smtp://[::1]:25 ",
        ] {
            assert!(RelayUrl::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn other_schemes_missing_hosts_and_extra_parts_are_refused() {
        assert_eq!(
            RelayUrl::parse("http://mail.example.com"),
            Err(InvalidRelayUrl::Scheme("http".into()))
        );
        assert_eq!(
            RelayUrl::parse("smtp://"),
            Err(InvalidRelayUrl::MissingHost)
        );
        assert_eq!(
            RelayUrl::parse("smtp:mail.example.com"),
            Err(InvalidRelayUrl::MissingHost)
        );
        assert_eq!(
            RelayUrl::parse("smtp://h.example:0"),
            Err(InvalidRelayUrl::PortZero)
        );
        for text in ["smtp://h.example/x", "smtp://h.example#f"] {
            assert_eq!(RelayUrl::parse(text), Err(InvalidRelayUrl::Extra), "{text}");
        }
        for text in [
            "",
            "mail.example.com",
            "smtp://h.example:99999",
            "smtp://h:x",
        ] {
            assert!(
                matches!(RelayUrl::parse(text), Err(InvalidRelayUrl::Syntax(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn the_password_never_shows_outside_expose() {
        let url = relay("smtps://user:hunter2@mail.example.com:465");
        assert_eq!(url.masked(), "smtps://user:****@mail.example.com:465");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.expose(), "smtps://user:hunter2@mail.example.com:465");
        let error = RelayUrl::parse("ftp://user:hunter2@h.example").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
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
