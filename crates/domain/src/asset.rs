//! Emails as Content Builder assets: their kinds, statuses and the rules their content
//! follows before it is saved (send-api.md sections 3 and 5).
//!
//! [`EmailContent::parse`] is the one way to get content that may be stored: a name, header
//! fields without line breaks, and views whose `%%Name%%` strings are well formed.

use crate::header_text::header_safe;
use crate::personalization::{Template, TemplateError};

/// The kinds of asset Herald keeps: the three email kinds of Content Builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetType {
    /// 207: an email built from a template (rendered from its HTML view).
    TemplateBasedEmail,
    /// 208: an HTML email, with an optional text view.
    HtmlEmail,
    /// 209: a text-only email.
    TextOnlyEmail,
}

impl AssetType {
    /// Every asset type, by id.
    pub const ALL: [AssetType; 3] = [
        AssetType::TemplateBasedEmail,
        AssetType::HtmlEmail,
        AssetType::TextOnlyEmail,
    ];

    /// Content Builder's numeric id.
    pub fn id(self) -> i64 {
        match self {
            AssetType::TemplateBasedEmail => 207,
            AssetType::HtmlEmail => 208,
            AssetType::TextOnlyEmail => 209,
        }
    }

    /// Content Builder's name (`htmlemail`).
    pub fn name(self) -> &'static str {
        match self {
            AssetType::TemplateBasedEmail => "templatebasedemail",
            AssetType::HtmlEmail => "htmlemail",
            AssetType::TextOnlyEmail => "textonlyemail",
        }
    }

    /// The label Content Builder shows (`HTML Email`).
    pub fn display_name(self) -> &'static str {
        match self {
            AssetType::TemplateBasedEmail => "Template-Based Email",
            AssetType::HtmlEmail => "HTML Email",
            AssetType::TextOnlyEmail => "Text Only Email",
        }
    }

    pub fn from_id(id: i64) -> Option<AssetType> {
        AssetType::ALL.into_iter().find(|t| t.id() == id)
    }

    /// Finds a type by name, whatever its case.
    pub fn from_name(name: &str) -> Option<AssetType> {
        AssetType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }

    /// "207 templatebasedemail, 208 htmlemail, 209 textonlyemail", for error messages.
    pub fn supported() -> String {
        let names: Vec<String> = AssetType::ALL
            .iter()
            .map(|t| format!("{} {}", t.id(), t.name()))
            .collect();
        names.join(", ")
    }
}

/// Where an asset is in its life. Herald sends either; the status is for the author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetStatus {
    /// 1: being written (the default for a new asset).
    Draft,
    /// 2: finished.
    Published,
}

impl AssetStatus {
    /// Every status, by id.
    pub const ALL: [AssetStatus; 2] = [AssetStatus::Draft, AssetStatus::Published];

    pub fn id(self) -> i64 {
        match self {
            AssetStatus::Draft => 1,
            AssetStatus::Published => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AssetStatus::Draft => "Draft",
            AssetStatus::Published => "Published",
        }
    }

    pub fn from_id(id: i64) -> Option<AssetStatus> {
        AssetStatus::ALL.into_iter().find(|s| s.id() == id)
    }

    /// Finds a status by name, whatever its case.
    pub fn from_name(name: &str) -> Option<AssetStatus> {
        AssetStatus::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }

    /// "1 Draft, 2 Published", for error messages.
    pub fn supported() -> String {
        let names: Vec<String> = AssetStatus::ALL
            .iter()
            .map(|s| format!("{} {}", s.id(), s.name()))
            .collect();
        names.join(", ")
    }
}

/// The text views of an email, named as on the wire (`views.<name>.content`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Subjectline,
    Preheader,
    Html,
    Text,
}

impl View {
    /// The view's key under `views`.
    pub fn name(self) -> &'static str {
        match self {
            View::Subjectline => "subjectline",
            View::Preheader => "preheader",
            View::Html => "html",
            View::Text => "text",
        }
    }
}

/// The longest name Herald keeps, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest customer key, in characters.
pub const MAX_CUSTOMER_KEY_CHARS: usize = 200;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// An email as a client sent it, before any rule is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailFields {
    pub name: String,
    pub description: String,
    pub subject: String,
    pub preheader: String,
    pub html: Option<String>,
    pub text: Option<String>,
}

/// Content that follows every rule and may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    asset_type: AssetType,
    fields: EmailFields,
}

/// Why an email's content cannot be saved. Messages are written for the API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("name is required")]
    MissingName,
    #[error("name is too long: at most {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("description is too long: at most {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
    #[error("views.{view} cannot hold line breaks or control characters: {reason}")]
    HeaderUnsafe { view: &'static str, reason: String },
    #[error(
        "views.{view}.content is not a valid template at line {line}, column {column}: {reason}"
    )]
    Template {
        view: &'static str,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("an asset of type {asset_type} needs views.{view}.content")]
    MissingView {
        asset_type: &'static str,
        view: &'static str,
    },
    #[error(
        "an asset of type textonlyemail has no HTML view; use htmlemail for an email with HTML"
    )]
    HtmlInTextOnly,
}

impl EmailContent {
    /// Checks `fields` against the rules for `asset_type`; the name is trimmed.
    pub fn parse(asset_type: AssetType, mut fields: EmailFields) -> Result<Self, ContentError> {
        fields.name = fields.name.trim().to_owned();
        if fields.name.is_empty() {
            return Err(ContentError::MissingName);
        }
        if fields.name.chars().count() > MAX_NAME_CHARS {
            return Err(ContentError::NameTooLong);
        }
        if fields.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ContentError::DescriptionTooLong);
        }
        for (view, text) in [
            (View::Subjectline, &fields.subject),
            (View::Preheader, &fields.preheader),
        ] {
            header_safe(text).map_err(|err| ContentError::HeaderUnsafe {
                view: view.name(),
                reason: err.to_string(),
            })?;
        }
        let views = [
            (View::Subjectline, Some(&fields.subject)),
            (View::Preheader, Some(&fields.preheader)),
            (View::Html, fields.html.as_ref()),
            (View::Text, fields.text.as_ref()),
        ];
        for (view, text) in views {
            if let Some(text) = text {
                check_template(view, text)?;
            }
        }
        let needed = match asset_type {
            AssetType::TemplateBasedEmail | AssetType::HtmlEmail => (View::Html, &fields.html),
            AssetType::TextOnlyEmail => (View::Text, &fields.text),
        };
        if needed
            .1
            .as_deref()
            .is_none_or(|text| text.trim().is_empty())
        {
            return Err(ContentError::MissingView {
                asset_type: asset_type.name(),
                view: needed.0.name(),
            });
        }
        if asset_type == AssetType::TextOnlyEmail && fields.html.is_some() {
            return Err(ContentError::HtmlInTextOnly);
        }
        Ok(Self { asset_type, fields })
    }

    pub fn asset_type(&self) -> AssetType {
        self.asset_type
    }

    pub fn fields(&self) -> &EmailFields {
        &self.fields
    }
}

fn check_template(view: View, text: &str) -> Result<(), ContentError> {
    Template::parse(text).map(drop).map_err(|err| {
        let position = err.position();
        let reason = match err {
            TemplateError::Unterminated(_) => "unterminated personalization string".to_owned(),
            TemplateError::InvalidCharacter { character, .. } => {
                format!("invalid character {character:?} in personalization string")
            }
            TemplateError::EmptyName(_) => "empty personalization string %%%%".to_owned(),
            TemplateError::AmpScript(_) => "AMPscript blocks are not supported".to_owned(),
        };
        ContentError::Template {
            view: view.name(),
            line: position.line,
            column: position.column,
            reason,
        }
    })
}

/// Why a customer key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerKeyError {
    #[error("customerKey cannot be empty")]
    Empty,
    #[error("customerKey is too long: at most {MAX_CUSTOMER_KEY_CHARS} characters")]
    TooLong,
    #[error("customerKey cannot contain control characters")]
    ControlCharacter,
}

/// A client's key for an asset, unique within its account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerKey(String);

impl CustomerKey {
    /// Trims `text` and checks it is 1 to 200 characters without control characters.
    pub fn parse(text: &str) -> Result<Self, CustomerKeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CustomerKeyError::Empty);
        }
        if text.chars().count() > MAX_CUSTOMER_KEY_CHARS {
            return Err(CustomerKeyError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(CustomerKeyError::ControlCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_email() -> EmailFields {
        EmailFields {
            name: "  Welcome ".into(),
            subject: "Hello %%FirstName%%".into(),
            html: Some("<p>Hi %%FirstName%%</p>".into()),
            ..EmailFields::default()
        }
    }

    #[test]
    fn types_and_statuses_are_found_by_id_and_by_name_in_any_case() {
        for asset_type in AssetType::ALL {
            assert_eq!(AssetType::from_id(asset_type.id()), Some(asset_type));
            assert_eq!(
                AssetType::from_name(&asset_type.name().to_uppercase()),
                Some(asset_type)
            );
        }
        assert_eq!(AssetType::from_id(196), None);
        assert_eq!(AssetType::from_name("webpage"), None);
        assert_eq!(
            AssetStatus::from_name("published"),
            Some(AssetStatus::Published)
        );
        assert_eq!(AssetStatus::from_id(3), None);
        assert_eq!(
            AssetType::supported(),
            "207 templatebasedemail, 208 htmlemail, 209 textonlyemail"
        );
    }

    #[test]
    fn a_valid_html_email_is_kept_with_its_name_trimmed() {
        let content = EmailContent::parse(AssetType::HtmlEmail, html_email()).unwrap();
        assert_eq!(content.fields().name, "Welcome");
        assert_eq!(content.asset_type(), AssetType::HtmlEmail);
    }

    #[test]
    fn a_blank_name_is_refused() {
        let fields = EmailFields {
            name: "   ".into(),
            ..html_email()
        };
        assert_eq!(
            EmailContent::parse(AssetType::HtmlEmail, fields),
            Err(ContentError::MissingName)
        );
    }

    #[test]
    fn a_line_break_in_the_subject_or_preheader_is_refused_naming_the_view() {
        let fields = EmailFields {
            subject: "Hi\r\nBcc: x@example.com".into(),
            ..html_email()
        };
        let err = EmailContent::parse(AssetType::HtmlEmail, fields).unwrap_err();
        assert!(err.to_string().starts_with("views.subjectline "), "{err}");
        let fields = EmailFields {
            preheader: "a\nb".into(),
            ..html_email()
        };
        let err = EmailContent::parse(AssetType::HtmlEmail, fields).unwrap_err();
        assert!(err.to_string().starts_with("views.preheader "), "{err}");
    }

    #[test]
    fn a_malformed_personalization_string_is_refused_naming_view_line_and_column() {
        let fields = EmailFields {
            html: Some("<p>\nHi %%First Name%%</p>".into()),
            ..html_email()
        };
        let err = EmailContent::parse(AssetType::HtmlEmail, fields).unwrap_err();
        assert_eq!(
            err,
            ContentError::Template {
                view: "html",
                line: 2,
                column: 11,
                reason: "invalid character ' ' in personalization string".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "views.html.content is not a valid template at line 2, column 11: \
             invalid character ' ' in personalization string"
        );
        let fields = EmailFields {
            text: Some("Save 50%% now".into()),
            ..html_email()
        };
        let err = EmailContent::parse(AssetType::HtmlEmail, fields).unwrap_err();
        assert!(err.to_string().contains("views.text.content"), "{err}");
    }

    #[test]
    fn each_type_needs_its_main_view() {
        let fields = EmailFields {
            html: None,
            text: Some("Hi".into()),
            ..html_email()
        };
        assert_eq!(
            EmailContent::parse(AssetType::HtmlEmail, fields.clone()),
            Err(ContentError::MissingView {
                asset_type: "htmlemail",
                view: "html"
            })
        );
        assert!(EmailContent::parse(AssetType::TextOnlyEmail, fields).is_ok());
        assert_eq!(
            EmailContent::parse(AssetType::TextOnlyEmail, html_email()),
            Err(ContentError::MissingView {
                asset_type: "textonlyemail",
                view: "text"
            })
        );
        let both = EmailFields {
            text: Some("Hi".into()),
            ..html_email()
        };
        assert_eq!(
            EmailContent::parse(AssetType::TextOnlyEmail, both),
            Err(ContentError::HtmlInTextOnly)
        );
    }

    #[test]
    fn customer_keys_are_trimmed_and_bounded() {
        assert_eq!(CustomerKey::parse(" welcome ").unwrap().as_str(), "welcome");
        assert_eq!(CustomerKey::parse(" "), Err(CustomerKeyError::Empty));
        assert_eq!(
            CustomerKey::parse(&"k".repeat(201)),
            Err(CustomerKeyError::TooLong)
        );
        assert_eq!(
            CustomerKey::parse("a\tb"),
            Err(CustomerKeyError::ControlCharacter)
        );
    }
}
