//! One recipient's message: personalized, built as MIME, signed.

use std::borrow::Cow;

use herald_domain::content::{RenderedContent, SystemValues};
use herald_domain::email_address::EmailAddress;
use herald_domain::link_target::{LinkKind, LinkTarget};
use herald_domain::signed_link::LinkKey;
use herald_domain::verp;
use herald_mail::message::{Mailbox, MessageParts};
use herald_store::Recipient;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

use super::plan::Plan;
use super::tracking::{self, Pixel};

/// Signs the links a message carries (unsubscribe, profile, view online).
#[derive(Clone)]
pub struct Links {
    pub key: LinkKey,
    /// The public base URL, ending in `/`.
    pub base: String,
}

impl Links {
    /// `{base}{path}/{token}`, the token carrying `kind:mid:instance:recipient`.
    pub fn url(&self, kind: LinkKind, plan: &Plan, recipient_id: i64) -> String {
        self.signed(&LinkTarget {
            kind,
            mid: plan.mid,
            instance_id: plan.instance_id,
            recipient_id,
            url: None,
        })
    }

    /// The URL of `target`, carrying its signed token.
    pub fn signed(&self, target: &LinkTarget) -> String {
        let token = self.key.sign(&target.payload());
        format!("{}{}/{token}", self.base, target.kind.path())
    }
}

/// A message ready for a transport.
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub subject: String,
    pub envelope_from: EmailAddress,
    pub to: EmailAddress,
}

/// Renders and builds the message for `recipient`. An error is a message that cannot be
/// built (the recipient fails; nothing is sent).
pub fn render(
    plan: &Plan,
    recipient: &Recipient,
    links: &Links,
    now: OffsetDateTime,
) -> Result<Rendered, String> {
    let Personalized {
        to,
        unsubscribe,
        content,
    } = personalize(plan, recipient, links, now)?;
    let text = match &content.text {
        Some(text) => text.clone(),
        None => content
            .html
            .as_deref()
            .map(text_of_html)
            .unwrap_or_default(),
    };
    let parts = MessageParts {
        from: Mailbox {
            name: Some(content.from_name.clone()).filter(|n| !n.is_empty()),
            address: plan.from_address.clone(),
        },
        reply_to: plan.reply_to.as_ref().map(|(name, address)| Mailbox {
            name: name.clone(),
            address: address.clone(),
        }),
        to: Mailbox::bare(to.clone()),
        subject: content.subject.clone(),
        preheader: Some(content.preheader.clone()).filter(|p| !p.is_empty()),
        html: content
            .html
            .map(|html| tracking::apply(&html, plan, recipient.id, links, Pixel::Add)),
        text,
        date: now,
        message_id: format!(
            "<h{}.{}@{}>",
            plan.instance_id,
            recipient.id,
            plan.from_address.domain()
        ),
        list_unsubscribe_url: plan
            .commercial
            .then(|| Url::parse(&unsubscribe).ok())
            .flatten(),
        list_unsubscribe_mailto: None,
        extra_headers: vec![("X-Herald-Job".to_owned(), plan.job_id.to_string())],
    };
    let built = parts.build().map_err(|err| err.to_string())?;
    let bytes = match &plan.signer {
        Some(signer) => signer.sign(&built).map_err(|err| err.to_string())?,
        None => built,
    };
    Ok(Rendered {
        bytes,
        subject: content.subject,
        envelope_from: envelope_sender(plan, recipient.id, &links.key)?,
        to,
    })
}

/// One recipient's content, personalized, before tracking and MIME.
struct Personalized {
    to: EmailAddress,
    unsubscribe: String,
    content: RenderedContent,
}

fn personalize(
    plan: &Plan,
    recipient: &Recipient,
    links: &Links,
    now: OffsetDateTime,
) -> Result<Personalized, String> {
    let to = EmailAddress::parse(&recipient.email).map_err(|err| err.to_string())?;
    let fields: Map<String, Value> = serde_json::from_str(&recipient.fields).unwrap_or_default();
    let unsubscribe = links.url(LinkKind::Unsubscribe, plan, recipient.id);
    let profile = links.url(LinkKind::Profile, plan, recipient.id);
    let view = links.url(LinkKind::View, plan, recipient.id);
    let system = SystemValues {
        email: to.as_str(),
        subscriber_key: &recipient.record_id,
        job_id: plan.job_id,
        email_id: plan.email_id,
        email_name: &plan.email_name,
        today: now.date(),
        member: &plan.member,
        unsub_center_url: &unsubscribe,
        profile_center_url: &profile,
        view_email_url: &view,
    };
    // Names were checked against the audience when the send started: a record without a
    // value for a known field renders it empty.
    let content = plan
        .templates
        .render(|key| {
            system.get(key).or_else(|| {
                Some(match fields.get(key) {
                    Some(Value::String(text)) => Cow::Owned(text.clone()),
                    Some(Value::Null) | None => Cow::Borrowed(""),
                    Some(other) => Cow::Owned(other.to_string()),
                })
            })
        })
        .map_err(|err| err.to_string())?;
    Ok(Personalized {
        to,
        unsubscribe,
        content,
    })
}

/// The HTML of `recipient`'s message as it was sent, for the view-online page: links
/// tracked as in the message (when tracking is on), no open pixel. `None` for an email
/// without HTML.
pub fn view_html(
    plan: &Plan,
    recipient: &Recipient,
    links: &Links,
    now: OffsetDateTime,
) -> Result<Option<String>, String> {
    let html = personalize(plan, recipient, links, now)?.content.html;
    Ok(html.map(|html| tracking::apply(&html, plan, recipient.id, links, Pixel::Leave)))
}

/// The message's own Return-Path (VERP), so that a bounce names the message it is about.
fn envelope_sender(plan: &Plan, recipient_id: i64, key: &LinkKey) -> Result<EmailAddress, String> {
    let local = verp::local_part(key, plan.mid, plan.instance_id, recipient_id);
    EmailAddress::parse(&format!("{local}@{}", plan.bounce_domain))
        .map_err(|err| format!("the bounce address is not usable: {err}"))
}

/// A plain-text version of an HTML body, for emails that have no text view: tags
/// dropped, block ends as line breaks, the common entities decoded. Runs once per
/// message, so it allocates one buffer per step (tags, entities, lines) and nothing per
/// tag or line.
fn text_of_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = memchr::memchr(b'<', rest.as_bytes()) {
        text.push_str(&rest[..open]);
        let Some(close) = memchr::memchr(b'>', &rest.as_bytes()[open..]) else {
            rest = "";
            break;
        };
        if breaks_line(&rest[open + 1..open + close]) {
            text.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    trimmed_lines(&decode_entities(&text))
}

/// Whether a tag (its text between `<` and `>`) ends a block of text.
fn breaks_line(tag: &str) -> bool {
    const BLOCKS: [&str; 8] = ["p", "br", "div", "tr", "h1", "h2", "h3", "li"];
    let name = tag.trim_start_matches('/');
    let end = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    BLOCKS
        .iter()
        .any(|block| name[..end].eq_ignore_ascii_case(block))
}

/// Every line trimmed, and the whole without leading or trailing blank lines.
fn trimmed_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    for end in ends {
        out.push_str(text[start..end].trim());
        out.push('\n');
        start = end + 1;
    }
    out.truncate(out.trim_end().len());
    let leading = out.len() - out.trim_start().len();
    out.drain(..leading);
    out
}

/// The common HTML entities decoded, in one pass (`&amp;lt;` stays `&lt;`).
fn decode_entities(text: &str) -> String {
    const ENTITIES: [(&str, &str); 6] = [
        ("&nbsp;", " "),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ENTITIES.iter().find(|(name, _)| rest.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &rest[name.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::text_of_html;

    #[test]
    fn html_without_a_text_view_becomes_readable_text() {
        let html = "<html><body><h1>Hi Ann</h1><p>Fish &amp; chips&nbsp;today.</p>\
                    <p>Bye<br/>Team</p></body></html>";
        assert_eq!(
            text_of_html(html),
            "Hi Ann\n\nFish & chips today.\n\nBye\nTeam"
        );
    }

    #[test]
    fn entities_are_decoded_once_and_unknown_ones_are_kept() {
        let html = "<p>a &amp;lt; b &lt; c &copy; d &#39;e&#39; &quot;f&quot; &</p>";
        assert_eq!(text_of_html(html), "a &lt; b < c &copy; d 'e' \"f\" &");
    }
}
