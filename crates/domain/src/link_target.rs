//! What a signed link points at: the payload of a [`crate::signed_link`] token,
//! `kind:mid:instance:recipient`, and for a tracked link `…:url` (the original URL, so the
//! redirect can only lead where the message's own link led).

use crate::mid::Mid;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Unsubscribe,
    Profile,
    View,
    Open,
    Click,
}

impl LinkKind {
    const ALL: [LinkKind; 5] = [
        LinkKind::Unsubscribe,
        LinkKind::Profile,
        LinkKind::View,
        LinkKind::Open,
        LinkKind::Click,
    ];

    /// The payload's first field.
    pub fn code(self) -> char {
        match self {
            LinkKind::Unsubscribe => 'u',
            LinkKind::Profile => 'p',
            LinkKind::View => 'v',
            LinkKind::Open => 'o',
            LinkKind::Click => 'c',
        }
    }

    /// The URL path the link lives under (`{public_url}{path}/{token}`).
    pub fn path(self) -> &'static str {
        match self {
            LinkKind::Unsubscribe => "unsubscribe",
            LinkKind::Profile => "profile",
            LinkKind::View => "view",
            LinkKind::Open => "open",
            LinkKind::Click => "click",
        }
    }
}

/// One message's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    pub kind: LinkKind,
    pub mid: Mid,
    pub instance_id: i64,
    pub recipient_id: i64,
    /// Where a click leads (an http or https URL); `None` for every other kind.
    pub url: Option<String>,
}

impl LinkTarget {
    /// The text a token signs.
    pub fn payload(&self) -> String {
        let mut payload = format!(
            "{}:{}:{}:{}",
            self.kind.code(),
            self.mid,
            self.instance_id,
            self.recipient_id
        );
        if let Some(url) = &self.url {
            payload.push(':');
            payload.push_str(url);
        }
        payload
    }

    /// Reads a verified payload; `None` unless it is a well-formed link of `expected` kind.
    pub fn parse(payload: &str, expected: LinkKind) -> Option<LinkTarget> {
        let mut fields = payload.splitn(5, ':');
        let code = fields.next()?;
        let kind = LinkKind::ALL
            .into_iter()
            .find(|kind| code.len() == 1 && code.starts_with(kind.code()))?;
        let mid = Mid::from_stored(fields.next()?.parse().ok()?);
        let instance_id = fields.next()?.parse().ok()?;
        let recipient_id = fields.next()?.parse().ok()?;
        let url = fields.next().map(str::to_owned);
        let url_fits = match (kind, &url) {
            (LinkKind::Click, Some(url)) => is_web_url(url),
            (LinkKind::Click, None) => false,
            (_, url) => url.is_none(),
        };
        (kind == expected && url_fits).then_some(LinkTarget {
            kind,
            mid,
            instance_id,
            recipient_id,
            url,
        })
    }
}

/// Whether a link is one tracking may rewrite: an absolute http or https URL.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") && url.len() > 7)
        || (lower.starts_with("https://") && url.len() > 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(kind: LinkKind, url: Option<&str>) -> LinkTarget {
        LinkTarget {
            kind,
            mid: Mid::from_stored(100_000_002),
            instance_id: 42,
            recipient_id: 7,
            url: url.map(str::to_owned),
        }
    }

    #[test]
    fn a_link_round_trips_through_its_payload() {
        let unsubscribe = link(LinkKind::Unsubscribe, None);
        assert_eq!(unsubscribe.payload(), "u:100000002:42:7");
        assert_eq!(
            LinkTarget::parse(&unsubscribe.payload(), LinkKind::Unsubscribe),
            Some(unsubscribe)
        );
        let click = link(LinkKind::Click, Some("https://example.com/a?b=c:d"));
        assert_eq!(
            LinkTarget::parse(&click.payload(), LinkKind::Click),
            Some(click)
        );
    }

    #[test]
    fn a_payload_of_another_kind_or_shape_is_refused() {
        let open = link(LinkKind::Open, None).payload();
        assert_eq!(LinkTarget::parse(&open, LinkKind::Unsubscribe), None);
        assert_eq!(LinkTarget::parse("c:100000002:42:7", LinkKind::Click), None);
        assert_eq!(
            LinkTarget::parse("c:100000002:42:7:javascript:alert(1)", LinkKind::Click),
            None
        );
        assert_eq!(
            LinkTarget::parse("o:100000002:42:7:x", LinkKind::Open),
            None
        );
        assert_eq!(LinkTarget::parse("o:100000002:42", LinkKind::Open), None);
        assert_eq!(LinkTarget::parse("oo:100000002:42:7", LinkKind::Open), None);
        assert_eq!(LinkTarget::parse("o:abc:42:7", LinkKind::Open), None);
    }

    #[test]
    fn only_absolute_http_and_https_urls_are_web_urls() {
        assert!(is_web_url("https://example.com"));
        assert!(is_web_url("HTTP://example.com"));
        assert!(!is_web_url("mailto:a@example.com"));
        assert!(!is_web_url("https://"));
        assert!(!is_web_url("/relative"));
        assert!(!is_web_url("tel:123"));
    }
}
