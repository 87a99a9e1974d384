//! SMTP replies: the three-digit code, the RFC 3463 enhanced status code, the text.

use std::fmt;

/// One reply from an SMTP server, e.g. `250 2.0.0 Ok: queued as 4XyZ`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    /// The reply code (RFC 5321 §4.2), 200 to 599.
    pub code: u16,
    /// The enhanced status code at the start of the text, when the server sent one whose
    /// class agrees with the reply code (RFC 3463, RFC 2034).
    pub enhanced: Option<EnhancedStatus>,
    /// The text after the code, lines joined with spaces, enhanced code included.
    pub text: String,
}

/// An enhanced status code, `class.subject.detail` (RFC 3463), e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedStatus {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl SmtpReply {
    /// A reply, with its enhanced status code read from the start of `text`.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        let text = text.into();
        let enhanced = EnhancedStatus::parse_prefix(&text)
            .filter(|status| u16::from(status.class) == code / 100);
        Self {
            code,
            enhanced,
            text,
        }
    }

    /// The first digit: 2 positive, 3 intermediate, 4 transient, 5 permanent.
    pub fn class(&self) -> u16 {
        self.code / 100
    }

    /// Whether the reply is a positive completion (2xx).
    pub fn is_positive(&self) -> bool {
        self.class() == 2
    }

    pub(crate) fn from_response(response: &lettre::transport::smtp::response::Response) -> Self {
        let text = response.message().collect::<Vec<_>>().join(" ");
        Self::new(u16::from(response.code()), text)
    }

    /// The reply behind a lettre error for a 4xx/5xx reply (lettre keeps the code and the
    /// joined text as the error's source); `None` for any other error.
    pub(crate) fn from_lettre_error(error: &lettre::transport::smtp::Error) -> Option<Self> {
        let code = u16::from(error.status()?);
        let text = std::error::Error::source(error)
            .map(ToString::to_string)
            .unwrap_or_default();
        Some(Self::new(code, text))
    }
}

impl fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.text)
        }
    }
}

impl EnhancedStatus {
    /// Reads `class.subject.detail` as the first word of `text`: class 2, 4 or 5, subject
    /// and detail of one to three digits.
    pub fn parse_prefix(text: &str) -> Option<Self> {
        let word = text.split_whitespace().next()?;
        let mut parts = word.splitn(3, '.');
        let class = parts.next()?;
        let subject = parts.next()?;
        let detail = parts.next()?;
        let number = |part: &str| {
            (1..=3).contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit())
        };
        if !matches!(class, "2" | "4" | "5") || !number(subject) || !number(detail) {
            return None;
        }
        Some(Self {
            class: class.parse().ok()?,
            subject: subject.parse().ok()?,
            detail: detail.parse().ok()?,
        })
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enhanced_code_is_read_from_the_start_of_the_text() {
        let reply = SmtpReply::new(550, "5.1.1 <ann@example.org>: Recipient address rejected");
        assert_eq!(
            reply.enhanced,
            Some(EnhancedStatus {
                class: 5,
                subject: 1,
                detail: 1
            })
        );
        assert_eq!(reply.enhanced.unwrap().to_string(), "5.1.1");
        assert_eq!(
            reply.to_string(),
            "550 5.1.1 <ann@example.org>: Recipient address rejected"
        );
    }

    #[test]
    fn an_enhanced_code_that_disagrees_with_the_reply_code_is_ignored() {
        assert_eq!(SmtpReply::new(450, "5.1.1 odd").enhanced, None);
        assert_eq!(SmtpReply::new(250, "Ok: queued as 123").enhanced, None);
        assert_eq!(SmtpReply::new(250, "2.0.0").enhanced.unwrap().class, 2);
    }

    #[test]
    fn text_that_only_looks_like_an_enhanced_code_is_not_one() {
        for text in [
            "1.2.3 x",
            "5.1 x",
            "5.1.1.1 x",
            "5.1234.1 x",
            "5.a.1 x",
            "",
            "5..1",
        ] {
            assert_eq!(EnhancedStatus::parse_prefix(text), None, "{text:?}");
        }
        assert_eq!(
            EnhancedStatus::parse_prefix("4.7.999 greylisted"),
            Some(EnhancedStatus {
                class: 4,
                subject: 7,
                detail: 999
            })
        );
    }

    #[test]
    fn classes_follow_the_first_digit() {
        assert!(SmtpReply::new(250, "Ok").is_positive());
        assert_eq!(SmtpReply::new(354, "go ahead").class(), 3);
        assert!(!SmtpReply::new(421, "bye").is_positive());
        assert_eq!(SmtpReply::new(221, "").to_string(), "221");
    }
}
