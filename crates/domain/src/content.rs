//! An email's personalized parts (subject, preheader, HTML, text, from name) as one unit:
//! parsed once per send, checked against the names the audience defines, rendered once
//! per recipient with the right escaping for each part.

use std::borrow::Cow;
use std::fmt;

use time::Date;

use crate::personalization::{Escape, MissingName, SYSTEM_NAMES, Template, TemplateError};

/// Which part of a message a template belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentPart {
    Subject,
    Preheader,
    Html,
    Text,
    FromName,
}

impl ContentPart {
    fn escape(self) -> Escape {
        match self {
            ContentPart::Html => Escape::Html,
            ContentPart::Text => Escape::None,
            ContentPart::Subject | ContentPart::Preheader | ContentPart::FromName => Escape::Header,
        }
    }
}

impl fmt::Display for ContentPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContentPart::Subject => "subject",
            ContentPart::Preheader => "preheader",
            ContentPart::Html => "HTML body",
            ContentPart::Text => "text body",
            ContentPart::FromName => "from name",
        })
    }
}

/// The texts of an email before personalization.
#[derive(Debug, Clone, Copy)]
pub struct ContentSource<'a> {
    pub subject: &'a str,
    pub preheader: &'a str,
    pub html: Option<&'a str>,
    pub text: Option<&'a str>,
    pub from_name: &'a str,
}

/// A part that is not a valid template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {error}")]
pub struct ContentError {
    pub part: ContentPart,
    pub error: TemplateError,
}

/// A personalization string used somewhere that nothing defines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("%%{name}%% in the {part} is neither a field of the audience nor a system string")]
pub struct UndefinedName {
    pub part: ContentPart,
    /// As the template spells it.
    pub name: String,
}

/// The parsed parts of an email.
#[derive(Debug, Clone)]
pub struct ContentTemplates {
    parts: Vec<(ContentPart, Template)>,
}

/// One recipient's message texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedContent {
    pub subject: String,
    pub preheader: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub from_name: String,
}

impl ContentTemplates {
    pub fn parse(source: ContentSource<'_>) -> Result<Self, ContentError> {
        let texts = [
            (ContentPart::Subject, Some(source.subject)),
            (ContentPart::Preheader, Some(source.preheader)),
            (ContentPart::Html, source.html),
            (ContentPart::Text, source.text),
            (ContentPart::FromName, Some(source.from_name)),
        ];
        let parts = texts
            .into_iter()
            .filter_map(|(part, text)| text.map(|text| (part, text)))
            .map(|(part, text)| {
                Template::parse(text)
                    .map(|template| (part, template))
                    .map_err(|error| ContentError { part, error })
            })
            .collect::<Result<_, _>>()?;
        Ok(ContentTemplates { parts })
    }

    /// Every name used that is neither a system string nor accepted by `is_field`
    /// (which receives lower-case keys).
    pub fn undefined_names(&self, is_field: impl Fn(&str) -> bool) -> Vec<UndefinedName> {
        self.parts
            .iter()
            .flat_map(|(part, template)| {
                let known = |key: &str| SYSTEM_NAMES.contains(&key) || is_field(key);
                // Rendering with a lookup that only knows the names finds the first unknown
                // one with its spelling; repeat without it until none is left.
                let mut missing = Vec::new();
                let mut skip: Vec<String> = Vec::new();
                while let Err(MissingName { name }) = template.render(
                    |key| {
                        (known(key) || skip.iter().any(|s| s == key)).then_some(Cow::Borrowed(""))
                    },
                    Escape::None,
                ) {
                    skip.push(name.to_ascii_lowercase());
                    missing.push(UndefinedName { part: *part, name });
                }
                missing
            })
            .collect()
    }

    /// Renders every part for one recipient; `lookup` receives lower-case keys.
    pub fn render<'v>(
        &self,
        mut lookup: impl FnMut(&str) -> Option<Cow<'v, str>>,
    ) -> Result<RenderedContent, MissingName> {
        let mut rendered = RenderedContent::default();
        for (part, template) in &self.parts {
            let text = template.render(&mut lookup, part.escape())?;
            match part {
                ContentPart::Subject => rendered.subject = text,
                ContentPart::Preheader => rendered.preheader = text,
                ContentPart::Html => rendered.html = Some(text),
                ContentPart::Text => rendered.text = Some(text),
                ContentPart::FromName => rendered.from_name = text,
            }
        }
        Ok(rendered)
    }
}

/// The account's physical address, as the `Member_*` strings give it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberAddress {
    pub business_name: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
}

/// The values of the system personalization strings for one recipient.
#[derive(Debug, Clone)]
pub struct SystemValues<'a> {
    pub email: &'a str,
    pub subscriber_key: &'a str,
    pub job_id: i64,
    pub email_id: i64,
    pub email_name: &'a str,
    pub today: Date,
    pub member: &'a MemberAddress,
    pub unsub_center_url: &'a str,
    pub profile_center_url: &'a str,
    pub view_email_url: &'a str,
}

impl SystemValues<'_> {
    /// The value of a system string (lower-case key), if `key` is one.
    pub fn get(&self, key: &str) -> Option<Cow<'_, str>> {
        let value = match key {
            "emailaddr" => Cow::Borrowed(self.email),
            "_subscriberkey" => Cow::Borrowed(self.subscriber_key),
            "jobid" => Cow::Owned(self.job_id.to_string()),
            "_emailid" => Cow::Owned(self.email_id.to_string()),
            "emailname_" => Cow::Borrowed(self.email_name),
            "xtmonth" => Cow::Owned(self.today.month().to_string()),
            "xtday" => Cow::Owned(self.today.day().to_string()),
            "xtyear" => Cow::Owned(self.today.year().to_string()),
            "xtshortdate" => Cow::Owned(format!(
                "{}/{}/{}",
                u8::from(self.today.month()),
                self.today.day(),
                self.today.year()
            )),
            "xtlongdate" => Cow::Owned(format!(
                "{}, {} {}, {}",
                self.today.weekday(),
                self.today.month(),
                self.today.day(),
                self.today.year()
            )),
            "member_busname" => Cow::Borrowed(self.member.business_name.as_str()),
            "member_addr" => Cow::Borrowed(self.member.street.as_str()),
            "member_city" => Cow::Borrowed(self.member.city.as_str()),
            "member_state" => Cow::Borrowed(self.member.state.as_str()),
            "member_postalcode" => Cow::Borrowed(self.member.postal_code.as_str()),
            "member_country" => Cow::Borrowed(self.member.country.as_str()),
            "unsub_center_url" => Cow::Borrowed(self.unsub_center_url),
            "profile_center_url" => Cow::Borrowed(self.profile_center_url),
            "view_email_url" => Cow::Borrowed(self.view_email_url),
            _ => return None,
        };
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::date;

    fn source<'a>(subject: &'a str, html: &'a str) -> ContentSource<'a> {
        ContentSource {
            subject,
            preheader: "Hi %%FirstName%%",
            html: Some(html),
            text: Some("Hello %%FirstName%%, %%unsub_center_url%%"),
            from_name: "Team %%Member_Busname%%",
        }
    }

    fn member() -> MemberAddress {
        MemberAddress {
            business_name: "Acme".into(),
            street: "1 Main St".into(),
            city: "Springfield".into(),
            state: "IL".into(),
            postal_code: "62701".into(),
            country: "US".into(),
        }
    }

    #[test]
    fn a_malformed_part_is_reported_with_its_name() {
        let err = ContentTemplates::parse(source("Hi %%First", "<p></p>")).unwrap_err();
        assert_eq!(err.part, ContentPart::Subject);
        assert!(
            err.to_string().starts_with("subject: unterminated"),
            "{err}"
        );
    }

    #[test]
    fn names_the_audience_lacks_are_listed_with_their_part_and_spelling() {
        let templates = ContentTemplates::parse(source(
            "Hi %%FirstName%% %%Nickname%%",
            "<p>%%Company__c%% %%NICKNAME%%</p>",
        ))
        .unwrap();
        let undefined = templates.undefined_names(|key| key == "firstname");
        let described: Vec<String> = undefined
            .iter()
            .map(|u| format!("{}:{}", u.part, u.name))
            .collect();
        assert_eq!(
            described,
            [
                "subject:Nickname",
                "HTML body:Company__c",
                "HTML body:NICKNAME"
            ]
        );
        assert!(
            templates
                .undefined_names(|key| ["firstname", "nickname", "company__c"].contains(&key))
                .is_empty()
        );
    }

    #[test]
    fn each_part_is_escaped_for_where_it_goes() {
        let templates =
            ContentTemplates::parse(source("Hi %%FirstName%%", "<p>%%FirstName%%</p>")).unwrap();
        let fields: HashMap<&str, &str> = [("firstname", "Ann <b>\r\nBcc: x")].into();
        let member = member();
        let system = SystemValues {
            email: "ann@example.com",
            subscriber_key: "003000000000001AAA",
            job_id: 42,
            email_id: 7,
            email_name: "Welcome",
            today: date!(2026 - 11 - 26),
            member: &member,
            unsub_center_url: "https://h/u/t",
            profile_center_url: "https://h/p/t",
            view_email_url: "https://h/v/t",
        };
        let rendered = templates
            .render(|key| {
                system
                    .get(key)
                    .or_else(|| fields.get(key).map(|v| Cow::Borrowed(*v)))
            })
            .unwrap();
        assert_eq!(rendered.subject, "Hi Ann <b>  Bcc: x");
        assert_eq!(
            rendered.html.as_deref(),
            Some("<p>Ann &lt;b&gt;\r\nBcc: x</p>")
        );
        assert_eq!(
            rendered.text.as_deref(),
            Some("Hello Ann <b>\r\nBcc: x, https://h/u/t")
        );
        assert_eq!(rendered.from_name, "Team Acme");
    }

    #[test]
    fn system_strings_cover_the_documented_names() {
        let member = member();
        let system = SystemValues {
            email: "ann@example.com",
            subscriber_key: "k",
            job_id: 42,
            email_id: 7,
            email_name: "Welcome",
            today: date!(2026 - 11 - 26),
            member: &member,
            unsub_center_url: "u",
            profile_center_url: "p",
            view_email_url: "v",
        };
        for name in SYSTEM_NAMES {
            assert!(system.get(name).is_some(), "{name}");
        }
        assert_eq!(system.get("xtshortdate").unwrap(), "11/26/2026");
        assert_eq!(
            system.get("xtlongdate").unwrap(),
            "Thursday, November 26, 2026"
        );
        assert_eq!(system.get("xtmonth").unwrap(), "November");
        assert_eq!(system.get("firstname"), None);
    }
}
