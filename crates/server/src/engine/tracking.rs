//! Open and click tracking, applied to one recipient's HTML at render time: every
//! `<a href>` to an http or https URL becomes `{public_url}click/{token}`, the token
//! carrying the original URL (so the redirect can only lead where the message led), and
//! an open pixel `{public_url}open/{token}` goes before `</body>`. Herald's own links
//! (unsubscribe, profile, view online), `mailto:` and every other scheme stay as they are.

use herald_domain::link_target::{LinkKind, LinkTarget, is_web_url};

use super::plan::Plan;
use super::render::Links;

/// Whether the open pixel goes in (not on the view-online page: viewing it there is not
/// an open of the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixel {
    Add,
    Leave,
}

/// `html` with its links tracked and (with [`Pixel::Add`]) the open pixel, or unchanged
/// when the plan's delivery profile turned tracking off.
pub fn apply(html: &str, plan: &Plan, recipient_id: i64, links: &Links, pixel: Pixel) -> String {
    if !plan.tracking {
        return html.to_owned();
    }
    let target = |kind, url| LinkTarget {
        kind,
        mid: plan.mid,
        instance_id: plan.instance_id,
        recipient_id,
        url,
    };
    let tracked = rewrite_links(html, |url| {
        (is_web_url(url) && !url.starts_with(&links.base))
            .then(|| links.signed(&target(LinkKind::Click, Some(url.to_owned()))))
    });
    match pixel {
        Pixel::Add => add_pixel(&tracked, &links.signed(&target(LinkKind::Open, None))),
        Pixel::Leave => tracked,
    }
}

/// Replaces the `href` of every `<a>` tag for which `replace` (given the decoded URL)
/// returns a new URL; everything else is copied as it is.
fn rewrite_links(html: &str, mut replace: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 4);
    let mut rest = html;
    while let Some(start) = find_anchor(rest) {
        let tag_end = tag_end(&rest[start..]).map_or(rest.len(), |end| start + end);
        out.push_str(&rest[..start]);
        let tag = &rest[start..tag_end];
        match href_span(tag) {
            Some((from, to)) => match replace(&decode_entities(unquote(&tag[from..to]))) {
                Some(url) => {
                    out.push_str(&tag[..from]);
                    out.push('"');
                    out.push_str(&url.replace('"', "%22"));
                    out.push('"');
                    out.push_str(&tag[to..]);
                }
                None => out.push_str(tag),
            },
            None => out.push_str(tag),
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

/// Where the next `<a` tag (followed by white space or `>`) starts.
fn find_anchor(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut from = 0;
    while let Some(offset) = html[from..].find('<') {
        let at = from + offset;
        let is_anchor = bytes
            .get(at + 1)
            .is_some_and(|b| b.eq_ignore_ascii_case(&b'a'))
            && bytes
                .get(at + 2)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>');
        if is_anchor {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The end (after `>`) of the tag starting at 0, quotes respected.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The byte range of the `href` attribute's value (quotes included) in a tag.
fn href_span(tag: &str) -> Option<(usize, usize)> {
    let bytes = tag.as_bytes();
    let mut i = 2; // after "<a"
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && !b" \t\r\n=>/".contains(&bytes[i]) {
            i += 1;
        }
        let name = &tag[name_start..i];
        if name.is_empty() {
            return None;
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value_start = i;
        match bytes.get(i) {
            Some(&q) if q == b'"' || q == b'\'' => {
                i += 1 + tag[i + 1..].find(q as char)? + 1;
            }
            _ => {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
            }
        }
        if name.eq_ignore_ascii_case("href") {
            return Some((value_start, i));
        }
    }
    None
}

fn unquote(value: &str) -> &str {
    let trimmed = value.trim_matches(|c| c == '"' || c == '\'');
    trimmed.trim()
}

/// The common character references an attribute value may hold (personalized values
/// are HTML-escaped).
fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// `html` with a 1x1 image fetching `url` before its last `</body>`, else at its end.
fn add_pixel(html: &str, url: &str) -> String {
    let pixel = format!(
        "<img src=\"{url}\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0;width:1px;height:1px\">"
    );
    let at = html
        .to_ascii_lowercase()
        .rfind("</body")
        .unwrap_or(html.len());
    format!("{}{pixel}{}", &html[..at], &html[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(html: &str) -> String {
        rewrite_links(html, |url| {
            (is_web_url(url) && !url.starts_with("https://herald.example/"))
                .then(|| format!("T[{url}]"))
        })
    }

    #[test]
    fn http_links_are_rewritten_and_the_rest_of_the_tag_is_kept() {
        assert_eq!(
            tracked(r#"<p><a class="x" href="https://shop.example/a?b=1&amp;c=2">Shop</a></p>"#),
            r#"<p><a class="x" href="T[https://shop.example/a?b=1&c=2]">Shop</a></p>"#
        );
        assert_eq!(
            tracked("<A HREF='http://a.example/'>a</A> <a href=http://b.example/>b</a>"),
            r#"<A HREF="T[http://a.example/]">a</A> <a href="T[http://b.example/]">b</a>"#
        );
    }

    #[test]
    fn mailto_relative_own_and_non_anchor_links_stay() {
        let html = concat!(
            r#"<a href="mailto:a@example.com">m</a><a href="/x">r</a>"#,
            r#"<a href="https://herald.example/unsubscribe/t">u</a>"#,
            r#"<abbr href="https://x.example/">x</abbr><a name="top">t</a>"#,
            r#"<link href="https://x.example/s.css"><a data-x=">" href="tel:1">t</a>"#
        );
        assert_eq!(tracked(html), html);
    }

    #[test]
    fn a_tag_left_open_is_copied_as_it_is() {
        assert_eq!(
            tracked(r#"x <a href="https://a.example/"#),
            r#"x <a href="https://a.example/"#
        );
    }

    #[test]
    fn the_pixel_goes_before_the_end_of_the_body() {
        assert_eq!(
            add_pixel("<html><BODY>hi</BODY></html>", "https://h/o"),
            "<html><BODY>hi<img src=\"https://h/o\" width=\"1\" height=\"1\" alt=\"\" \
             style=\"border:0;width:1px;height:1px\"></BODY></html>"
        );
        assert!(add_pixel("hi", "u").starts_with("hi<img src=\"u\""));
    }
}
