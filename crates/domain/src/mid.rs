//! Account ids (MIDs, Marketing Cloud "member ids" of a business unit).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of an account (business unit). Every object belongs to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mid(i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an account id (MID) is a positive whole number, got {0:?}")]
pub struct InvalidMid(pub String);

impl Mid {
    /// Wraps a value read from storage, where it was validated on the way in.
    pub const fn from_stored(value: i64) -> Self {
        Self(value)
    }

    /// Parses a MID as clients send it: digits, possibly surrounded by blanks.
    pub fn parse(text: &str) -> Result<Self, InvalidMid> {
        match text.trim().parse::<i64>() {
            Ok(value) if value > 0 => Ok(Self(value)),
            _ => Err(InvalidMid(text.to_owned())),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Mid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mid_parses_from_digits_and_refuses_anything_else() {
        assert_eq!(Mid::parse(" 100000001 ").unwrap().get(), 100000001);
        assert!(Mid::parse("0").is_err());
        assert!(Mid::parse("-5").is_err());
        assert!(Mid::parse("12a").is_err());
        assert!(Mid::parse("").is_err());
    }
}
