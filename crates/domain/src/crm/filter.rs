//! Report filters: conditions on fields of one object, joined by `and` or `or`.
//!
//! Text comparisons ignore case (as Salesforce report filters do). `Id` is compared
//! exactly, with `equals` or `notEquals` only. `equals ""` means `isEmpty`
//! and `notEquals ""` means `isNotEmpty`: an empty field is an absent one.
//! `lessThan`/`greaterThan` compare numbers when the value is a number and the field a
//! custom one; otherwise they compare text.

use std::fmt;

use super::field::{FieldName, StandardField};
use super::object::CrmObject;
use crate::salesforce_id::SalesforceId;

/// The most conditions a report can have.
pub const MAX_CONDITIONS: usize = 20;
/// The longest value a condition compares with, in characters.
const MAX_VALUE: usize = 1000;

/// How a condition compares a field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Equals,
    NotEquals,
    Contains,
    StartsWith,
    LessThan,
    GreaterThan,
    IsEmpty,
    IsNotEmpty,
}

impl Operator {
    /// Every operator, in the order error messages list them.
    pub const ALL: [Operator; 8] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::Contains,
        Operator::StartsWith,
        Operator::LessThan,
        Operator::GreaterThan,
        Operator::IsEmpty,
        Operator::IsNotEmpty,
    ];

    /// The wire name (`startsWith`).
    pub fn name(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "notEquals",
            Operator::Contains => "contains",
            Operator::StartsWith => "startsWith",
            Operator::LessThan => "lessThan",
            Operator::GreaterThan => "greaterThan",
            Operator::IsEmpty => "isEmpty",
            Operator::IsNotEmpty => "isNotEmpty",
        }
    }

    /// Parses a wire name, in any case.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        Operator::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| FilterError::UnknownOperator(text.to_owned()))
    }

    /// Whether the operator compares with a value (all but `isEmpty`/`isNotEmpty`).
    fn takes_value(self) -> bool {
        !matches!(self, Operator::IsEmpty | Operator::IsNotEmpty)
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a report's conditions combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Logic {
    /// Every condition holds.
    #[default]
    And,
    /// At least one condition holds.
    Or,
}

impl Logic {
    /// The wire name (`and`, `or`).
    pub fn name(self) -> &'static str {
        match self {
            Logic::And => "and",
            Logic::Or => "or",
        }
    }

    /// Parses `and` or `or`, in any case.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        [Logic::And, Logic::Or]
            .into_iter()
            .find(|logic| logic.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| FilterError::UnknownLogic(text.to_owned()))
    }
}

/// One condition, checked: the operator suits the field and the value suits both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    field: FieldName,
    operator: Operator,
    /// Empty for `isEmpty`/`isNotEmpty`; `true`/`false` for `HasOptedOutOfEmail`; the
    /// 18-character form for `Id`.
    value: String,
}

impl Condition {
    /// Checks a condition as a client wrote it. The field must be a standard field or a
    /// well-formed custom name; whether the custom field exists is checked by
    /// [`ReportFilter::resolve`].
    pub fn parse(field: &str, operator: &str, value: Option<&str>) -> Result<Self, FilterError> {
        let field = FieldName::parse(field.trim())
            .map_err(|_| FilterError::UnknownField(field.trim().to_owned()))?;
        let mut operator = Operator::parse(operator)?;
        let mut value = value.unwrap_or_default().to_owned();
        // An empty field is an absent one, so comparing with "" is an emptiness test.
        if value.is_empty() {
            operator = match operator {
                Operator::Equals => Operator::IsEmpty,
                Operator::NotEquals => Operator::IsNotEmpty,
                other => other,
            };
        }
        let field_name = field.as_str().to_owned();
        match (&field, operator.takes_value(), value.is_empty()) {
            (_, true, true) => {
                return Err(FilterError::ValueRequired {
                    field: field_name,
                    operator,
                });
            }
            (_, false, false) => {
                return Err(FilterError::ValueNotAllowed {
                    field: field_name,
                    operator,
                });
            }
            _ => {}
        }
        if value.chars().count() > MAX_VALUE {
            return Err(FilterError::ValueTooLong { field: field_name });
        }
        if let Some(control) = value.chars().find(|c| c.is_control()) {
            return Err(FilterError::ValueControl {
                field: field_name,
                control,
            });
        }
        let equality = matches!(operator, Operator::Equals | Operator::NotEquals);
        match field {
            FieldName::Standard(StandardField::HasOptedOutOfEmail) => {
                let flag = ["true", "false"]
                    .into_iter()
                    .find(|flag| flag.eq_ignore_ascii_case(value.trim()));
                match flag {
                    Some(flag) if equality => value = flag.to_owned(),
                    _ => return Err(FilterError::BooleanField),
                }
            }
            FieldName::Standard(StandardField::Id) => match SalesforceId::parse(&value) {
                Ok(id) if equality => value = id.to_string(),
                _ => return Err(FilterError::IdField),
            },
            _ => {}
        }
        Ok(Condition {
            field,
            operator,
            value,
        })
    }

    pub fn field(&self) -> &FieldName {
        &self.field
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The value compared with (empty for `isEmpty`/`isNotEmpty`).
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// A report's saved filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportFilter {
    logic: Logic,
    conditions: Vec<Condition>,
}

impl ReportFilter {
    /// A filter of at most [`MAX_CONDITIONS`] conditions. No conditions: every record.
    pub fn new(logic: Logic, conditions: Vec<Condition>) -> Result<Self, FilterError> {
        if conditions.len() > MAX_CONDITIONS {
            return Err(FilterError::TooManyConditions(conditions.len()));
        }
        Ok(ReportFilter { logic, conditions })
    }

    pub fn logic(&self) -> Logic {
        self.logic
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Checks every custom field against the fields `object` has (`known_custom`, by
    /// their canonical names) and spells each as the known one. An unknown field is an
    /// error that names it and lists the known fields.
    pub fn resolve(
        mut self,
        object: CrmObject,
        known_custom: &[String],
    ) -> Result<Self, FilterError> {
        for condition in &mut self.conditions {
            let FieldName::Custom(name) = &condition.field else {
                continue;
            };
            let known = known_custom
                .iter()
                .find(|known| known.eq_ignore_ascii_case(name.as_str()));
            match known.map(|known| FieldName::parse(known)) {
                Some(Ok(canonical)) => condition.field = canonical,
                _ => {
                    let mut fields: Vec<String> = StandardField::ALL
                        .iter()
                        .map(|field| field.name().to_owned())
                        .collect();
                    fields.extend(known_custom.iter().cloned());
                    return Err(FilterError::UnknownObjectField {
                        field: name.to_string(),
                        object,
                        known: fields.join(", "),
                    });
                }
            }
        }
        Ok(self)
    }
}

/// Why a filter is refused. Messages name the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "unknown field {0:?}: use a standard field ({standard}) or a custom field ending in __c",
        standard = StandardField::names()
    )]
    UnknownField(String),
    #[error("unknown field {field:?} on {object}: the known fields are {known}")]
    UnknownObjectField {
        field: String,
        object: CrmObject,
        known: String,
    },
    #[error(
        "unknown operator {0:?}: use equals, notEquals, contains, startsWith, lessThan, \
         greaterThan, isEmpty or isNotEmpty"
    )]
    UnknownOperator(String),
    #[error("unknown logic {0:?}: use and or or")]
    UnknownLogic(String),
    #[error("the condition on {field} with {operator} needs a value")]
    ValueRequired { field: String, operator: Operator },
    #[error("the condition on {field} with {operator} takes no value")]
    ValueNotAllowed { field: String, operator: Operator },
    #[error("the value of the condition on {field} is longer than {MAX_VALUE} characters")]
    ValueTooLong { field: String },
    #[error(
        "the value of the condition on {field} cannot contain control characters, \
         found {control:?}"
    )]
    ValueControl { field: String, control: char },
    #[error("HasOptedOutOfEmail is compared with equals or notEquals and the value true or false")]
    BooleanField,
    #[error("Id is compared with equals or notEquals and a valid 15- or 18-character id")]
    IdField,
    #[error("a report has at most {MAX_CONDITIONS} conditions, got {0}")]
    TooManyConditions(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(field: &str, operator: &str, value: Option<&str>) -> Condition {
        Condition::parse(field, operator, value).unwrap()
    }

    #[test]
    fn operators_and_logic_parse_in_any_case_and_refuse_others_by_name() {
        assert_eq!(Operator::parse("STARTSWITH"), Ok(Operator::StartsWith));
        assert_eq!(Logic::parse("Or"), Ok(Logic::Or));
        let err = Operator::parse("like").unwrap_err().to_string();
        assert!(
            err.contains("\"like\"") && err.contains("isNotEmpty"),
            "{err}"
        );
        assert!(Logic::parse("xor").unwrap_err().to_string().contains("xor"));
    }

    #[test]
    fn comparing_with_an_empty_value_is_an_emptiness_test() {
        assert_eq!(
            condition("FirstName", "equals", Some("")).operator(),
            Operator::IsEmpty
        );
        assert_eq!(
            condition("Company__c", "notEquals", None).operator(),
            Operator::IsNotEmpty
        );
    }

    #[test]
    fn operators_that_compare_need_a_value_and_the_others_refuse_one() {
        assert_eq!(
            Condition::parse("LastName", "contains", Some("")),
            Err(FilterError::ValueRequired {
                field: "LastName".into(),
                operator: Operator::Contains
            })
        );
        assert_eq!(
            Condition::parse("LastName", "isEmpty", Some("x")),
            Err(FilterError::ValueNotAllowed {
                field: "LastName".into(),
                operator: Operator::IsEmpty
            })
        );
        assert!(Condition::parse("LastName", "contains", Some(&"x".repeat(1001))).is_err());
        assert_eq!(
            Condition::parse("LastName", "equals", Some("a\nb")),
            Err(FilterError::ValueControl {
                field: "LastName".into(),
                control: '\n'
            })
        );
    }

    #[test]
    fn the_opt_out_flag_takes_equality_with_true_or_false() {
        let parsed = condition("hasoptedoutofemail", "equals", Some("TRUE"));
        assert_eq!(parsed.value(), "true");
        assert_eq!(parsed.field().as_str(), "HasOptedOutOfEmail");
        for (operator, value) in [("contains", "t"), ("equals", "yes"), ("isEmpty", "")] {
            assert_eq!(
                Condition::parse("HasOptedOutOfEmail", operator, Some(value)),
                Err(FilterError::BooleanField),
                "{operator} {value}"
            );
        }
    }

    #[test]
    fn an_id_condition_takes_equality_with_a_valid_id_in_either_form() {
        let parsed = condition("Id", "notEquals", Some("003000000000001"));
        assert_eq!(parsed.value(), "003000000000001AAA");
        assert_eq!(
            Condition::parse("Id", "equals", Some("003000000000001AAB")),
            Err(FilterError::IdField)
        );
        assert_eq!(
            Condition::parse("Id", "startsWith", Some("003000000000001")),
            Err(FilterError::IdField)
        );
    }

    #[test]
    fn resolving_spells_custom_fields_as_known_and_refuses_unknown_ones() {
        let known = vec!["Company__c".to_owned()];
        let filter = ReportFilter::new(
            Logic::Or,
            vec![condition("company__C", "equals", Some("Acme"))],
        )
        .unwrap()
        .resolve(CrmObject::Contact, &known)
        .unwrap();
        assert_eq!(filter.conditions()[0].field().as_str(), "Company__c");
        let err = ReportFilter::new(
            Logic::And,
            vec![condition("Compny__c", "equals", Some("Acme"))],
        )
        .unwrap()
        .resolve(CrmObject::Contact, &known)
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "unknown field \"Compny__c\" on Contact: the known fields are Id, Email, \
             FirstName, LastName, HasOptedOutOfEmail, ExternalId, Company__c"
        );
    }

    #[test]
    fn a_field_that_is_neither_standard_nor_custom_is_refused_by_name() {
        let err = Condition::parse("Phone", "equals", Some("1")).unwrap_err();
        assert_eq!(err, FilterError::UnknownField("Phone".into()));
    }

    #[test]
    fn a_report_has_at_most_twenty_conditions() {
        let many = vec![condition("Email", "contains", Some("a")); 21];
        assert_eq!(
            ReportFilter::new(Logic::And, many),
            Err(FilterError::TooManyConditions(21))
        );
        assert!(ReportFilter::new(Logic::And, vec![]).is_ok());
    }
}
