//! Parsing a relay URL, once, into a [`Relay`]: every check, from the scheme to the
//! connection options, so a relay that parses is one the SMTP client can use.

use percent_encoding::percent_decode_str;
use url::{Host, Url};

use super::{Credentials, Relay, Security};

/// Why a text is not a relay URL. Messages never repeat the URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRelay {
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
    /// Parses a relay URL; blanks around it are ignored. User name and password are
    /// percent-decoded (write `@` as `%40`).
    pub fn parse(text: &str) -> Result<Self, InvalidRelay> {
        let url = Url::parse(text.trim()).map_err(|err| InvalidRelay::Syntax(err.to_string()))?;
        let mut security = match url.scheme() {
            "smtp" => Security::Opportunistic,
            "smtps" => Security::Implicit,
            other => return Err(InvalidRelay::Scheme(other.to_owned())),
        };
        let host = match url.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(InvalidRelay::MissingHost),
        };
        if url.port() == Some(0) {
            return Err(InvalidRelay::PortZero);
        }
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(InvalidRelay::Extra);
        }
        let credentials = credentials(&url)?;
        let mut accept_invalid_certs = false;
        for (name, value) in url.query_pairs() {
            let refuse = |expected| InvalidRelay::Parameter {
                name: name.clone().into_owned(),
                value: value.clone().into_owned(),
                expected,
            };
            match name.as_ref() {
                "tls" => {
                    security = match (security, value.as_ref()) {
                        (Security::Implicit, "implicit") => Security::Implicit,
                        (Security::Opportunistic, "opportunistic") => Security::Opportunistic,
                        (Security::Opportunistic, "required") => Security::RequireStartTls,
                        (Security::Opportunistic, "none") => Security::Plain,
                        _ => return Err(refuse("opportunistic, required or none for smtp://")),
                    }
                }
                "insecure" => {
                    accept_invalid_certs = match value.as_ref() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(refuse("true or false")),
                    }
                }
                other => return Err(InvalidRelay::UnknownParameter(other.to_owned())),
            }
        }
        Ok(Relay {
            port: url.port().unwrap_or(Relay::default_port(security)),
            url,
            host,
            security,
            accept_invalid_certs,
            credentials,
        })
    }
}

fn credentials(url: &Url) -> Result<Option<Credentials>, InvalidRelay> {
    let decode = |text: &str| {
        percent_decode_str(text)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| InvalidRelay::Credentials)
    };
    let username = decode(url.username())?;
    let password = decode(url.password().unwrap_or(""))?;
    match (username.is_empty(), url.password().is_some()) {
        (true, false) => Ok(None),
        (true, true) => Err(InvalidRelay::PasswordWithoutUser),
        (false, _) => Ok(Some(Credentials { username, password })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_and_smtps_urls_with_or_without_credentials_and_port_parse() {
        for text in [
            "smtp://mail.example.com",
            "smtp://mail.example.com:587",
            "smtps://user:secret@mail.example.com:465",
            "smtp://user@127.0.0.1:2525/",
            " smtp://[::1]:25 ",
        ] {
            assert!(Relay::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn smtp_urls_default_to_port_25_and_opportunistic_starttls() {
        let relay = Relay::parse("smtp://mx.example.com").unwrap();
        assert_eq!(relay.host(), "mx.example.com");
        assert_eq!(relay.port(), 25);
        assert_eq!(relay.security(), Security::Opportunistic);
        assert!(!relay.accept_invalid_certs());
        assert_eq!(relay.credentials(), None);
        assert_eq!(relay.to_string(), "smtp://mx.example.com:25");
    }

    #[test]
    fn smtps_urls_default_to_port_465_with_implicit_tls() {
        let relay = Relay::parse("smtps://Relay.Example.com/").unwrap();
        assert_eq!(relay.port(), 465);
        assert_eq!(relay.security(), Security::Implicit);
        assert_eq!(relay.host(), "relay.example.com");
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_displayed() {
        let relay =
            Relay::parse("smtp://ann%40example.com:p%3As%20w@127.0.0.1:2525?tls=required").unwrap();
        let credentials = relay.credentials().unwrap();
        assert_eq!(credentials.username, "ann@example.com");
        assert_eq!(credentials.password, "p:s w");
        assert_eq!(relay.port(), 2525);
        assert_eq!(relay.security(), Security::RequireStartTls);
        assert_eq!(
            relay.to_string(),
            "smtp://ann@example.com:***@127.0.0.1:2525?tls=required"
        );
        assert!(!format!("{relay:?}").contains("p:s w"));
        assert!(!format!("{relay:?}").contains("p%3As%20w"));
    }

    #[test]
    fn parameters_choose_tls_and_certificate_checks() {
        let relay = Relay::parse("smtp://[::1]:2525?tls=none&insecure=true").unwrap();
        assert_eq!(relay.host(), "::1");
        assert_eq!(relay.security(), Security::Plain);
        assert!(relay.accept_invalid_certs());
        assert!(relay.is_loopback());
        assert_eq!(relay.address(), "[::1]:2525");
        assert_eq!(
            relay.to_string(),
            "smtp://[::1]:2525?tls=none&insecure=true"
        );
        assert!(
            Relay::parse("smtps://h?insecure=1")
                .unwrap()
                .accept_invalid_certs()
        );
        assert!(!Relay::parse("smtp://mx.example.com").unwrap().is_loopback());
    }

    #[test]
    fn bad_relay_urls_are_refused_with_a_reason() {
        let cases: &[(&str, InvalidRelay)] = &[
            (
                "http://mail.example.com",
                InvalidRelay::Scheme("http".into()),
            ),
            ("smtp://", InvalidRelay::MissingHost),
            ("smtp:mail.example.com", InvalidRelay::MissingHost),
            ("smtp://h.example:0", InvalidRelay::PortZero),
            ("smtp://h.example/x", InvalidRelay::Extra),
            ("smtp://h.example#f", InvalidRelay::Extra),
            (
                "smtp://:secret@mx.example.com",
                InvalidRelay::PasswordWithoutUser,
            ),
            (
                "smtp://mx.example.com?port=1",
                InvalidRelay::UnknownParameter("port".into()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&Relay::parse(text).unwrap_err(), expected, "{text}");
        }
        for text in [
            "",
            "mail.example.com",
            "smtp://h.example:99999",
            "smtp://h:x",
        ] {
            assert!(
                matches!(Relay::parse(text), Err(InvalidRelay::Syntax(_))),
                "{text}"
            );
        }
        for text in [
            "smtps://h?tls=required",
            "smtp://h?tls=maybe",
            "smtp://h?insecure=perhaps",
        ] {
            assert!(
                matches!(Relay::parse(text), Err(InvalidRelay::Parameter { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn errors_never_repeat_the_password() {
        let error = Relay::parse("ftp://user:hunter2@h.example").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }
}
