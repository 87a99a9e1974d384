//! Messages read back by Python's `email` package (policy=default) and by `mail-parser`.

use crate::support::address;
use herald_domain::header_text::HeaderUnsafe;
use herald_mail::message::{Mailbox, MessageError, MessageParts};
use herald_test_support::peers::run_python;
use mail_parser::{HeaderName, MessageParser};
use serde_json::Value;

const TEXT: &str = "Grüße, Ann!\r\n\r\n.A line that starts with a dot.\r\nPrices: 50 € — \
                    日本語のテキスト.\r\n";
const HTML: &str = "<!DOCTYPE html>\r\n<html><head><title>Autumn</title></head>\r\n\
                    <body style=\"margin:0\"><p>Grüße, <b>Ann</b> — 50 €</p></body></html>\r\n";

fn parts() -> MessageParts {
    MessageParts {
        from: Mailbox::named("Café Crème, Ltd. \"News\"", address("news@example.com")),
        reply_to: Some(Mailbox::named(
            "Service Client",
            address("help@example.com"),
        )),
        to: Mailbox::named("Ann Müller", address("ann@bücher.example")),
        subject: "Grüße from Café Crème — 50 % off everything this autumn, 日本語も ✓".into(),
        preheader: Some("Our <autumn> menu & more".into()),
        html: Some(HTML.into()),
        text: TEXT.into(),
        date: time::macros::datetime!(2025-01-02 03:04:05 UTC),
        message_id: "<inst-42.rcpt-7@example.com>".into(),
        list_unsubscribe_url: Some("https://example.com/unsubscribe/abc?x=1".parse().unwrap()),
        list_unsubscribe_mailto: Some(address("unsubscribe@example.com")),
        extra_headers: vec![
            ("X-Herald-Instance".into(), "inst-42".into()),
            ("X-Campaign".into(), "Automne été".into()),
        ],
    }
}

fn python_view(message: &[u8]) -> Value {
    let output = run_python("parse_message.py", &[], message);
    assert!(
        output.status.success(),
        "parse_message.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("parse_message.py prints JSON")
}

fn header<'a>(view: &'a Value, name: &str) -> &'a str {
    view["headers"][name][0]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} header in {view}"))
}

#[test]
fn a_multipart_message_has_no_defects_and_decodes_to_the_same_text_in_python() {
    let bytes = parts().build().unwrap();
    assert!(bytes.is_ascii(), "every part is transfer-encoded to 7 bits");
    let view = python_view(&bytes);

    assert_eq!(view["defects"], Value::Array(Vec::new()), "{view}");
    assert_eq!(view["content_type"], "multipart/alternative");
    let text_part = &view["parts"][0];
    let html_part = &view["parts"][1];
    assert_eq!(text_part["content_type"], "text/plain");
    assert_eq!(text_part["charset"], "utf-8");
    assert_eq!(text_part["content"], TEXT);
    assert_eq!(html_part["content_type"], "text/html");
    let html = html_part["content"].as_str().unwrap();
    assert!(
        html.starts_with(
            "<!DOCTYPE html>\r\n<html><head><title>Autumn</title></head>\r\n\
             <body style=\"margin:0\"><div style=\"display:none;"
        ),
        "{html}"
    );
    assert!(html.ends_with(
        ">Our &lt;autumn&gt; menu &amp; more</div><p>Grüße, <b>Ann</b> — 50 €</p></body></html>\r\n"
    ));
    for part in [text_part, html_part] {
        let encoding = part["transfer_encoding"].as_str().unwrap();
        assert!(
            ["quoted-printable", "base64"].contains(&encoding),
            "{encoding}"
        );
    }
}

#[test]
fn headers_decode_to_the_given_names_subject_and_values_in_python() {
    let view = python_view(&parts().build().unwrap());
    assert_eq!(
        view["from"],
        serde_json::json!([["Café Crème, Ltd. \"News\"", "news@example.com"]])
    );
    assert_eq!(
        view["to"],
        serde_json::json!([["Ann Müller", "ann@xn--bcher-kva.example"]])
    );
    assert_eq!(
        view["reply_to"],
        serde_json::json!([["Service Client", "help@example.com"]])
    );
    assert_eq!(
        header(&view, "subject"),
        "Grüße from Café Crème — 50 % off everything this autumn, 日本語も ✓"
    );
    assert_eq!(header(&view, "date"), "Thu, 02 Jan 2025 03:04:05 +0000");
    assert_eq!(header(&view, "message-id"), "<inst-42.rcpt-7@example.com>");
    assert_eq!(
        header(&view, "list-unsubscribe"),
        "<https://example.com/unsubscribe/abc?x=1>, <mailto:unsubscribe@example.com>"
    );
    assert_eq!(
        header(&view, "list-unsubscribe-post"),
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(header(&view, "mime-version"), "1.0");
    assert_eq!(header(&view, "x-herald-instance"), "inst-42");
    assert_eq!(header(&view, "x-campaign"), "Automne été");
    assert!(view["headers"].get("return-path").is_none());
}

#[test]
fn without_html_the_message_is_a_single_text_part() {
    let mut text_only = parts();
    text_only.html = None;
    text_only.list_unsubscribe_url = None;
    let view = python_view(&text_only.build().unwrap());
    assert_eq!(view["defects"], Value::Array(Vec::new()), "{view}");
    assert_eq!(view["content_type"], "text/plain");
    assert_eq!(view["parts"].as_array().unwrap().len(), 1);
    assert_eq!(view["parts"][0]["content"], TEXT);
    // Only a mailto: no one-click POST promise.
    assert_eq!(
        header(&view, "list-unsubscribe"),
        "<mailto:unsubscribe@example.com>"
    );
    assert!(view["headers"].get("list-unsubscribe-post").is_none());
}

#[test]
fn without_unsubscribe_links_there_are_no_list_headers() {
    let mut transactional = parts();
    transactional.list_unsubscribe_url = None;
    transactional.list_unsubscribe_mailto = None;
    let view = python_view(&transactional.build().unwrap());
    assert!(view["headers"].get("list-unsubscribe").is_none());
    assert!(view["headers"].get("list-unsubscribe-post").is_none());
}

#[test]
fn mail_parser_reads_the_same_message() {
    let bytes = parts().build().unwrap();
    let message = MessageParser::default()
        .parse(&bytes)
        .expect("mail-parser parses it");
    assert_eq!(
        message.subject(),
        Some("Grüße from Café Crème — 50 % off everything this autumn, 日本語も ✓")
    );
    let from = message.from().and_then(|from| from.first()).unwrap();
    assert_eq!(from.name(), Some("Café Crème, Ltd. \"News\""));
    assert_eq!(from.address(), Some("news@example.com"));
    let to = message.to().and_then(|to| to.first()).unwrap();
    assert_eq!(to.name(), Some("Ann Müller"));
    assert_eq!(to.address(), Some("ann@xn--bcher-kva.example"));
    assert_eq!(message.message_id(), Some("inst-42.rcpt-7@example.com"));
    assert_eq!(
        message.date().map(|date| date.to_timestamp()),
        Some(1_735_787_045)
    );
    assert_eq!(message.body_text(0).as_deref(), Some(TEXT));
    let html = message.body_html(0).unwrap();
    assert!(html.contains("<p>Grüße, <b>Ann</b> — 50 €</p>"));
    // mail-parser decodes unknown headers only when told to (and then only those).
    let extra = MessageParser::new()
        .header_text(HeaderName::Other("X-Campaign".into()))
        .parse(&bytes)
        .unwrap();
    assert_eq!(
        extra.header("X-Campaign").and_then(|value| value.as_text()),
        Some("Automne été")
    );
}

#[test]
fn header_values_with_line_breaks_are_refused() {
    const INJECTED: &str = "Hello\r\nBcc: everyone@example.com";
    let unsafe_at_6 = HeaderUnsafe {
        character: '\r',
        position: 6,
    };
    type Change = Box<dyn Fn(&mut MessageParts)>;
    let cases: Vec<(&str, Change)> = vec![
        ("Subject", Box::new(|p| p.subject = INJECTED.into())),
        ("From", Box::new(|p| p.from.name = Some(INJECTED.into()))),
        ("To", Box::new(|p| p.to.name = Some(INJECTED.into()))),
        (
            "Reply-To",
            Box::new(|p| p.reply_to = Some(Mailbox::named(INJECTED, address("a@example.com")))),
        ),
        (
            "X-Herald-Instance",
            Box::new(|p| p.extra_headers[0].1 = INJECTED.into()),
        ),
    ];
    for (field, change) in cases {
        let mut message = parts();
        change(&mut message);
        assert_eq!(
            message.build(),
            Err(MessageError::HeaderUnsafe {
                field: field.into(),
                source: unsafe_at_6.clone(),
            }),
            "{field}"
        );
    }
    let mut bad_id = parts();
    bad_id.message_id = "<a@b>\r\nBcc: x@y".into();
    assert!(matches!(
        bad_id.build(),
        Err(MessageError::InvalidMessageId(_))
    ));
    let mut bad_name = parts();
    bad_name.extra_headers = vec![("X-Evil\r\nBcc".into(), "x".into())];
    assert!(matches!(
        bad_name.build(),
        Err(MessageError::InvalidHeaderName(_))
    ));
}

#[test]
fn extra_headers_cannot_replace_the_standard_ones() {
    for name in [
        "from",
        "Message-Id",
        "LIST-UNSUBSCRIBE",
        "Return-Path",
        "DKIM-Signature",
    ] {
        let mut message = parts();
        message.extra_headers = vec![(name.into(), "x".into())];
        assert!(
            matches!(message.build(), Err(MessageError::ReservedHeader(_))),
            "{name}"
        );
    }
}

#[test]
fn an_unsubscribe_url_must_be_http_or_https() {
    let mut message = parts();
    message.list_unsubscribe_url = Some("ftp://example.com/u".parse().unwrap());
    assert_eq!(
        message.build(),
        Err(MessageError::UnsubscribeScheme("ftp".into()))
    );
}
