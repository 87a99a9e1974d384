//! One RFC 5322 message from already-personalized parts.
//!
//! ```
//! use herald_domain::email_address::EmailAddress;
//! use herald_mail::message::{Mailbox, MessageParts};
//!
//! let parts = MessageParts {
//!     from: Mailbox::named("Café Team", EmailAddress::parse("news@example.com").unwrap()),
//!     reply_to: None,
//!     to: Mailbox::bare(EmailAddress::parse("ann@example.org").unwrap()),
//!     subject: "Grüße".into(),
//!     preheader: Some("Our autumn menu".into()),
//!     html: Some("<html><body><p>Hello Ann</p></body></html>".into()),
//!     text: "Hello Ann".into(),
//!     date: time::macros::datetime!(2025-01-02 03:04:05 UTC),
//!     message_id: "<instance-1.recipient-7@example.com>".into(),
//!     list_unsubscribe_url: Some("https://example.com/u/abc".parse().unwrap()),
//!     list_unsubscribe_mailto: None,
//!     extra_headers: vec![("X-Herald-Instance".into(), "instance-1".into())],
//! };
//! let bytes: Vec<u8> = parts.build().unwrap();
//! assert!(bytes.starts_with(b"From: "));
//! ```
//!
//! Bodies are UTF-8; mail-builder picks quoted-printable or base64 per part, and headers
//! with non-ASCII text become RFC 2047 encoded words. Internationalized domains are written
//! in their ASCII (punycode) form, so the message needs no SMTPUTF8.

use crate::address::ascii_address;
use herald_domain::email_address::EmailAddress;
use herald_domain::header_text::{HeaderUnsafe, header_safe};
use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::headers::url::URL;
use time::OffsetDateTime;
use url::Url;

/// A display name and an address, as in `"Café Team" <news@example.com>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Shown by mail clients; `None` or empty writes the bare address.
    pub name: Option<String>,
    pub address: EmailAddress,
}

impl Mailbox {
    /// A mailbox with a display name.
    pub fn named(name: impl Into<String>, address: EmailAddress) -> Self {
        Self {
            name: Some(name.into()),
            address,
        }
    }

    /// A mailbox without a display name.
    pub fn bare(address: EmailAddress) -> Self {
        Self {
            name: None,
            address,
        }
    }
}

/// Everything one recipient's message is made of, already personalized.
///
/// The envelope sender (Return-Path) is not part of the message: the caller gives it to
/// the SMTP client, and the receiving MTA records it.
#[derive(Debug, Clone)]
pub struct MessageParts {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Mailbox,
    pub subject: String,
    /// The preview text clients show after the subject: written as a hidden `<div>` at
    /// the top of the HTML body. Not used for a text-only message.
    pub preheader: Option<String>,
    /// With HTML the message is `multipart/alternative` (text, then HTML); without, it is
    /// a single `text/plain` part.
    pub html: Option<String>,
    pub text: String,
    /// The `Date` header (written in UTC, to the second).
    pub date: OffsetDateTime,
    /// The deterministic Message-ID, with or without angle brackets, e.g.
    /// `<{instance}.{recipient}@{domain}>`: downstream deduplicates on it.
    pub message_id: String,
    /// The one-click unsubscribe URL (RFC 8058 wants `https`): adds it to
    /// `List-Unsubscribe` and adds `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub list_unsubscribe_url: Option<Url>,
    /// An unsubscribe mailbox, added to `List-Unsubscribe` as `<mailto:…>`.
    pub list_unsubscribe_mailto: Option<EmailAddress>,
    /// More headers (name, value), e.g. `X-Herald-Instance`, written in this order after
    /// the standard ones. Names that this module writes itself are refused.
    pub extra_headers: Vec<(String, String)>,
}

/// Why a message could not be built. Nothing is half-built: the caller gets no bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the {field} header cannot hold line breaks or control characters: {source}")]
    HeaderUnsafe {
        field: String,
        #[source]
        source: HeaderUnsafe,
    },
    #[error(
        "{0:?} is not a header name: use 1 to 76 printable ASCII characters without ':' or blanks"
    )]
    InvalidHeaderName(String),
    #[error("the {0} header is written by Herald itself and cannot be given as an extra header")]
    ReservedHeader(String),
    #[error(
        "the Message-ID must look like <left@right>, in printable ASCII without blanks, got {0:?}"
    )]
    InvalidMessageId(String),
    #[error("the unsubscribe URL must be http or https, got {0:?}")]
    UnsubscribeScheme(String),
    #[error("the domain of an address cannot be written in ASCII (IDNA)")]
    InternationalDomain,
    #[error("the date is outside the years a Date header can carry")]
    DateOutOfRange,
}

/// Headers this module writes; an extra header cannot replace them.
const RESERVED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    // Written by the final MTA from the envelope sender (RFC 5321 §4.4).
    "Return-Path",
    // Added after building, by the DKIM signer.
    "DKIM-Signature",
];

impl MessageParts {
    /// Builds the message: CRLF line endings, ready to sign and send.
    pub fn build(&self) -> Result<Vec<u8>, MessageError> {
        let message_id = message_id_text(&self.message_id)?;
        let mut builder = MessageBuilder::new()
            .from(mailbox_header("From", &self.from)?)
            .to(mailbox_header("To", &self.to)?);
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(mailbox_header("Reply-To", reply_to)?);
        }
        builder = builder
            .subject(Text::new(checked("Subject", &self.subject)?))
            .date(Date::new(unix_seconds(self.date)?))
            .message_id(MessageId::new(message_id));
        if let Some(list_unsubscribe) = self.list_unsubscribe()? {
            builder = builder.header("List-Unsubscribe", HeaderType::from(list_unsubscribe));
            if self.list_unsubscribe_url.is_some() {
                builder = builder.header(
                    "List-Unsubscribe-Post",
                    HeaderType::from(Raw::new("List-Unsubscribe=One-Click")),
                );
            }
        }
        for (name, value) in &self.extra_headers {
            check_extra_header_name(name)?;
            builder = builder.header(
                name.as_str(),
                HeaderType::from(Text::new(checked(name, value)?)),
            );
        }
        builder = builder.text_body(self.text.as_str());
        if let Some(html) = &self.html {
            builder = builder.html_body(with_preheader(html, self.preheader.as_deref()));
        }
        let mut bytes = Vec::new();
        builder.serialize(&mut bytes);
        Ok(bytes)
    }

    /// The `List-Unsubscribe` value: `<https://…>, <mailto:…>`, when either is given.
    fn list_unsubscribe(&self) -> Result<Option<URL<'static>>, MessageError> {
        let mut urls = Vec::with_capacity(2);
        if let Some(url) = &self.list_unsubscribe_url {
            if !matches!(url.scheme(), "https" | "http") {
                return Err(MessageError::UnsubscribeScheme(url.scheme().to_owned()));
            }
            // `Url` serializes to ASCII (punycode host, percent-encoded path and query).
            urls.push(url.as_str().to_owned());
        }
        if let Some(mailbox) = &self.list_unsubscribe_mailto {
            let address = ascii_address(mailbox).map_err(|_| MessageError::InternationalDomain)?;
            urls.push(format!("mailto:{address}"));
        }
        Ok((!urls.is_empty()).then(|| URL::from(urls)))
    }
}

fn checked<'a>(field: &str, text: &'a str) -> Result<&'a str, MessageError> {
    header_safe(text).map_err(|source| MessageError::HeaderUnsafe {
        field: field.to_owned(),
        source,
    })
}

fn mailbox_header(field: &str, mailbox: &Mailbox) -> Result<Address<'static>, MessageError> {
    let address = ascii_address(&mailbox.address).map_err(|_| MessageError::InternationalDomain)?;
    let name = match mailbox.name.as_deref() {
        Some(name) if !name.trim().is_empty() => Some(checked(field, name)?.trim().to_owned()),
        _ => None,
    };
    Ok(Address::new_address(name, address))
}

/// The id without angle brackets (mail-builder adds them), checked to be `left@right` in
/// printable ASCII with no blanks, brackets or a second `@`.
fn message_id_text(given: &str) -> Result<String, MessageError> {
    let invalid = || MessageError::InvalidMessageId(given.to_owned());
    let trimmed = given.trim();
    let inner = match trimmed.strip_prefix('<') {
        Some(rest) => rest.strip_suffix('>').ok_or_else(invalid)?,
        None => trimmed,
    };
    let valid_character =
        |c: char| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '(' | ')' | ',');
    match inner.split_once('@') {
        Some((left, right))
            if !left.is_empty()
                && !right.is_empty()
                && !right.contains('@')
                && inner.chars().all(valid_character) =>
        {
            Ok(inner.to_owned())
        }
        _ => Err(invalid()),
    }
}

fn check_extra_header_name(name: &str) -> Result<(), MessageError> {
    let valid = (1..=76).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b':');
    if !valid {
        return Err(MessageError::InvalidHeaderName(name.to_owned()));
    }
    match RESERVED_HEADERS
        .iter()
        .find(|reserved| reserved.eq_ignore_ascii_case(name))
    {
        Some(reserved) => Err(MessageError::ReservedHeader((*reserved).to_owned())),
        None => Ok(()),
    }
}

fn unix_seconds(date: OffsetDateTime) -> Result<i64, MessageError> {
    // RFC 5322 dates have four-digit years.
    if (1900..=9999).contains(&date.year()) {
        Ok(date.unix_timestamp())
    } else {
        Err(MessageError::DateOutOfRange)
    }
}

/// The style that hides a preheader in the body while clients still show it as preview.
const HIDDEN_STYLE: &str = "display:none;font-size:1px;line-height:1px;max-height:0;\
max-width:0;opacity:0;overflow:hidden;mso-hide:all;";

/// Puts the preheader, escaped, in a hidden `<div>` right after `<body …>` (or first,
/// when the HTML has no body tag).
fn with_preheader(html: &str, preheader: Option<&str>) -> String {
    let Some(preheader) = preheader.filter(|text| !text.trim().is_empty()) else {
        return html.to_owned();
    };
    let div = format!(
        "<div style=\"{HIDDEN_STYLE}\">{}</div>",
        escape_html(preheader)
    );
    let insert_at = body_content_start(html).unwrap_or(0);
    let mut out = String::with_capacity(html.len() + div.len());
    out.push_str(&html[..insert_at]);
    out.push_str(&div);
    out.push_str(&html[insert_at..]);
    out
}

/// The byte index just after the `>` of the first `<body` tag, if there is one.
fn body_content_start(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let tag = bytes
        .windows(5)
        .enumerate()
        .find(|(index, window)| {
            window.eq_ignore_ascii_case(b"<body")
                && bytes
                    .get(index + 5)
                    .is_none_or(|next| next.is_ascii_whitespace() || *next == b'>' || *next == b'/')
        })?
        .0;
    html[tag..].find('>').map(|end| tag + end + 1)
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preheader_goes_right_after_the_body_tag_escaped() {
        let html = "<html><head><title>t</title></head><BODY class=\"x\"><p>Hi</p></BODY></html>";
        let out = with_preheader(html, Some("Deals <50% & more"));
        assert!(out.starts_with(
            "<html><head><title>t</title></head><BODY class=\"x\"><div style=\"display:none;"
        ));
        assert!(out.contains(">Deals &lt;50% &amp; more</div><p>Hi</p>"));
    }

    #[test]
    fn without_a_body_tag_the_preheader_comes_first() {
        let out = with_preheader("<p>Hi</p><bodyguard>", Some("Pre"));
        assert!(out.starts_with("<div style="));
        assert!(out.ends_with(">Pre</div><p>Hi</p><bodyguard>"));
    }

    #[test]
    fn a_blank_preheader_leaves_the_html_unchanged() {
        assert_eq!(
            with_preheader("<body>x</body>", Some("  ")),
            "<body>x</body>"
        );
        assert_eq!(with_preheader("<body>x</body>", None), "<body>x</body>");
    }

    #[test]
    fn message_ids_are_accepted_with_or_without_brackets() {
        assert_eq!(message_id_text("<a.b@c.d>").unwrap(), "a.b@c.d");
        assert_eq!(message_id_text("a.b@c.d").unwrap(), "a.b@c.d");
        for bad in [
            "", "<>", "a b@c", "ab", "<a@b", "a@b@c", "@b", "a@", "a@b>\r\n", "<é@b>",
        ] {
            assert!(
                matches!(message_id_text(bad), Err(MessageError::InvalidMessageId(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn extra_header_names_must_be_printable_and_not_reserved() {
        assert!(check_extra_header_name("X-Herald-Instance").is_ok());
        assert_eq!(
            check_extra_header_name("message-id"),
            Err(MessageError::ReservedHeader("Message-ID".into()))
        );
        for bad in ["", "X Bad", "X:Bad", "X-Bad\r\n", "Ünicode"] {
            assert!(
                matches!(
                    check_extra_header_name(bad),
                    Err(MessageError::InvalidHeaderName(_))
                ),
                "{bad:?}"
            );
        }
    }
}
