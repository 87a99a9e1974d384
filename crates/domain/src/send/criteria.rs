//! Search Definitions: which definitions a `Criteria` matches.
//!
//! The contract gives one flat shape, `{"Operation":"and"|"or","Name":…,"SubscriberListId":…}`:
//! `Name` matches when it is a case-insensitive substring of the definition's name,
//! `SubscriberListId` when it equals one of the definition's target ids (the 15- and
//! 18-character forms of an id are equal). `Operation` combines the conditions given;
//! no condition matches every definition.

use super::target::Target;
use crate::salesforce_id::{InvalidSalesforceId, SalesforceId};

/// How the conditions combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Operation {
    /// Every condition holds (the default).
    #[default]
    And,
    /// At least one condition holds.
    Or,
}

/// Criteria as the client sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriteriaInput {
    pub operation: Option<String>,
    pub name: Option<String>,
    pub subscriber_list_id: Option<String>,
}

/// Valid search criteria. The default matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchCriteria {
    operation: Operation,
    /// Lower-cased; `None` when absent or blank.
    name: Option<String>,
    /// `None` when absent or blank.
    subscriber_list_id: Option<SalesforceId>,
}

impl CriteriaInput {
    /// Checks the criteria: `Operation` is `and` or `or` in any case (absent: `and`),
    /// `SubscriberListId` is a Salesforce id. A blank `Name` or `SubscriberListId` is no
    /// condition at all.
    pub fn parse(self) -> Result<SearchCriteria, CriteriaError> {
        let operation = match self.operation.as_deref().map(str::trim) {
            None | Some("") => Operation::And,
            Some(text) if text.eq_ignore_ascii_case("and") => Operation::And,
            Some(text) if text.eq_ignore_ascii_case("or") => Operation::Or,
            Some(text) => return Err(CriteriaError::Operation(text.to_owned())),
        };
        let name = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_lowercase);
        let subscriber_list_id = match self.subscriber_list_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(SalesforceId::parse(text).map_err(|error| {
                CriteriaError::SubscriberListId {
                    id: text.to_owned(),
                    error,
                }
            })?),
        };
        Ok(SearchCriteria {
            operation,
            name,
            subscriber_list_id,
        })
    }
}

impl SearchCriteria {
    /// Whether these criteria let every definition through.
    pub fn matches_everything(&self) -> bool {
        self.name.is_none() && self.subscriber_list_id.is_none()
    }

    /// Whether a definition with this name and these targets matches.
    pub fn matches(&self, name: &str, targets: &[Target]) -> bool {
        let conditions = [
            self.name
                .as_ref()
                .map(|needle| name.to_lowercase().contains(needle.as_str())),
            self.subscriber_list_id
                .map(|id| targets.iter().any(|target| target.id == id)),
        ];
        let mut given = conditions.into_iter().flatten().peekable();
        if given.peek().is_none() {
            return true;
        }
        match self.operation {
            Operation::And => given.all(|holds| holds),
            Operation::Or => given.any(|holds| holds),
        }
    }
}

/// Why criteria are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error("Operation {0:?} is not supported: use and or or")]
    Operation(String),
    #[error("SubscriberListId {id:?} is not a Salesforce id: {error}")]
    SubscriberListId {
        id: String,
        error: InvalidSalesforceId,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::target::TargetType;

    fn criteria(operation: Option<&str>, name: Option<&str>, id: Option<&str>) -> SearchCriteria {
        CriteriaInput {
            operation: operation.map(str::to_owned),
            name: name.map(str::to_owned),
            subscriber_list_id: id.map(str::to_owned),
        }
        .parse()
        .unwrap()
    }

    fn report(id: &str) -> Target {
        Target {
            target_type: TargetType::Report,
            name: String::new(),
            id: SalesforceId::parse(id).unwrap(),
        }
    }

    const REPORT_15: &str = "00O000000000001";
    const REPORT_18: &str = "00O000000000001EAA";

    #[test]
    fn no_condition_matches_every_definition() {
        let all = SearchCriteria::default();
        assert!(all.matches_everything());
        assert!(all.matches("anything", &[]));
        let blank = criteria(Some("or"), Some("  "), Some(""));
        assert!(blank.matches_everything());
        assert!(blank.matches("anything", &[]));
    }

    #[test]
    fn name_is_a_case_insensitive_substring() {
        let by_name = criteria(None, Some("SPRING"), None);
        assert!(!by_name.matches_everything());
        assert!(by_name.matches("Spring Sale", &[]));
        assert!(by_name.matches("the springtime news", &[]));
        assert!(!by_name.matches("Autumn", &[]));
        assert!(criteria(None, Some("ÉTÉ"), None).matches("Soldes d'été", &[]));
    }

    #[test]
    fn subscriber_list_id_matches_any_target_in_either_id_form() {
        let targets = [report("00O000000000002"), report(REPORT_18)];
        assert!(criteria(None, None, Some(REPORT_15)).matches("x", &targets));
        assert!(criteria(None, None, Some(REPORT_18)).matches("x", &targets));
        assert!(!criteria(None, None, Some("00O000000000003")).matches("x", &targets));
    }

    #[test]
    fn and_needs_both_conditions_and_is_the_default() {
        let targets = [report(REPORT_15)];
        for operation in [None, Some("and"), Some("AND")] {
            let both = criteria(operation, Some("spring"), Some(REPORT_18));
            assert!(both.matches("Spring", &targets));
            assert!(!both.matches("Autumn", &targets));
            assert!(!both.matches("Spring", &[]));
        }
    }

    #[test]
    fn or_needs_either_condition() {
        let either = criteria(Some("Or"), Some("spring"), Some(REPORT_18));
        assert!(either.matches("Spring", &[]));
        assert!(either.matches("Autumn", &[report(REPORT_15)]));
        assert!(!either.matches("Autumn", &[]));
    }

    #[test]
    fn an_unknown_operation_or_a_malformed_id_is_refused() {
        let refused = CriteriaInput {
            operation: Some("xor".into()),
            ..CriteriaInput::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Operation \"xor\" is not supported: use and or or"
        );
        let refused = CriteriaInput {
            subscriber_list_id: Some("00O".into()),
            ..CriteriaInput::default()
        }
        .parse()
        .unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("SubscriberListId \"00O\" is not a Salesforce id"),
            "{refused}"
        );
    }
}
