//! One `property operator value` condition, checked and typed: the meeting point of the
//! `$filter` text and the query body.

use std::cmp::Ordering;

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::{Column, Comparison, Filter, Operator, Property, QueryError, TextMatch, Value};
use crate::asset::{AssetStatus, AssetType};

/// A value as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Number(i64),
    /// Only the `in` operator takes a list.
    List(Vec<Literal>),
}

/// What kind of values a property holds.
enum Kind {
    Integer(Column),
    Text(Column),
    Time(Column),
    /// A name with a known set of values, stored as their ids.
    Named(Column, Vec<(&'static str, i64)>),
}

fn kind(property: Property) -> Kind {
    match property {
        Property::Id => Kind::Integer(Column::Id),
        Property::AssetTypeId => Kind::Integer(Column::AssetType),
        Property::StatusId => Kind::Integer(Column::Status),
        Property::Name => Kind::Text(Column::Name),
        Property::CustomerKey => Kind::Text(Column::CustomerKey),
        Property::ObjectId => Kind::Text(Column::ObjectId),
        Property::Description => Kind::Text(Column::Description),
        Property::CreatedDate => Kind::Time(Column::CreatedDate),
        Property::ModifiedDate => Kind::Time(Column::ModifiedDate),
        Property::AssetTypeName => Kind::Named(
            Column::AssetType,
            AssetType::ALL.iter().map(|t| (t.name(), t.id())).collect(),
        ),
        Property::StatusName => Kind::Named(
            Column::Status,
            AssetStatus::ALL
                .iter()
                .map(|s| (s.name(), s.id()))
                .collect(),
        ),
    }
}

/// Checks that `operator` applies to `property` and that `value` fits it, and returns the
/// condition on stored columns.
pub fn condition(
    property: Property,
    operator: Operator,
    value: Literal,
) -> Result<Filter, QueryError> {
    let name = property.wire_name();
    let invalid = |message: &str| QueryError::Value {
        property: name,
        message: message.to_owned(),
    };
    if matches!(value, Literal::List(_)) != (operator == Operator::In) {
        return Err(invalid(
            "the in operator takes a list of values, and only it does",
        ));
    }
    match (kind(property), operator) {
        (Kind::Named(column, known), _) => named(column, &known, operator, value, name),
        (Kind::Text(column), Operator::Contains | Operator::StartsWith) => Ok(Filter::Match {
            column,
            how: if operator == Operator::StartsWith {
                TextMatch::StartsWith
            } else {
                TextMatch::Contains
            },
            fragment: text(value),
        }),
        (Kind::Integer(_) | Kind::Time(_), Operator::Contains | Operator::StartsWith) => Err(
            invalid("like, contains and startsWith apply to text properties only"),
        ),
        (kind, Operator::In) => Ok(Filter::In {
            column: kind.column(),
            values: list(value)
                .into_iter()
                .map(|item| kind.value(name, item))
                .collect::<Result<_, _>>()?,
        }),
        (kind, Operator::Compare(comparison)) => Ok(Filter::Compare {
            column: kind.column(),
            comparison,
            value: kind.value(name, value)?,
        }),
    }
}

impl Kind {
    fn column(&self) -> Column {
        match self {
            Kind::Integer(column) | Kind::Text(column) | Kind::Time(column) => *column,
            Kind::Named(column, _) => *column,
        }
    }

    /// `value` as this kind of property holds it.
    fn value(&self, property: &'static str, value: Literal) -> Result<Value, QueryError> {
        match self {
            Kind::Integer(_) => integer(property, value),
            Kind::Time(_) => time(property, value),
            Kind::Text(_) | Kind::Named(..) => text_value(property, value),
        }
    }
}

/// Resolves a condition on a name with known values into the ids it matches.
fn named(
    column: Column,
    known: &[(&'static str, i64)],
    operator: Operator,
    value: Literal,
    property: &'static str,
) -> Result<Filter, QueryError> {
    let wanted: Vec<String> = list(value)
        .into_iter()
        .map(|item| match item {
            Literal::List(_) => Err(nested_list(property)),
            other => Ok(text(other).to_ascii_lowercase()),
        })
        .collect::<Result<_, _>>()?;
    let matches = |name: &str| {
        let name = name.to_ascii_lowercase();
        let first = wanted.first().map(String::as_str).unwrap_or_default();
        match operator {
            Operator::Compare(comparison) => holds(comparison, name.as_str().cmp(first)),
            Operator::Contains => name.contains(first),
            Operator::StartsWith => name.starts_with(first),
            Operator::In => wanted.contains(&name),
        }
    };
    Ok(Filter::In {
        column,
        values: known
            .iter()
            .filter(|(name, _)| matches(name))
            .map(|(_, id)| Value::Integer(*id))
            .collect(),
    })
}

fn holds(comparison: Comparison, ordering: Ordering) -> bool {
    match comparison {
        Comparison::Eq => ordering.is_eq(),
        Comparison::Neq => ordering.is_ne(),
        Comparison::Lt => ordering.is_lt(),
        Comparison::Lte => ordering.is_le(),
        Comparison::Gt => ordering.is_gt(),
        Comparison::Gte => ordering.is_ge(),
    }
}

/// The items of a list, or the value itself.
fn list(value: Literal) -> Vec<Literal> {
    match value {
        Literal::List(items) => items,
        other => vec![other],
    }
}

/// A scalar as text (numbers as their digits).
fn text(value: Literal) -> String {
    match value {
        Literal::Text(text) => text,
        Literal::Number(number) => number.to_string(),
        Literal::List(_) => String::new(),
    }
}

fn nested_list(property: &'static str) -> QueryError {
    QueryError::Value {
        property,
        message: "a list cannot hold lists".into(),
    }
}

fn text_value(property: &'static str, value: Literal) -> Result<Value, QueryError> {
    match value {
        Literal::List(_) => Err(nested_list(property)),
        other => Ok(Value::Text(text(other))),
    }
}

fn integer(property: &'static str, value: Literal) -> Result<Value, QueryError> {
    match value {
        Literal::Number(number) => Ok(Value::Integer(number)),
        Literal::Text(text) => {
            text.trim()
                .parse()
                .map(Value::Integer)
                .map_err(|_| QueryError::Value {
                    property,
                    message: format!("expected a whole number, got {text:?}"),
                })
        }
        Literal::List(_) => Err(nested_list(property)),
    }
}

fn time(property: &'static str, value: Literal) -> Result<Value, QueryError> {
    let invalid = |given: String| QueryError::Value {
        property,
        message: format!(
            "expected a date (2026-11-26) or a date and time (2026-11-26T09:00:00-06:00; \
             UTC when no offset is given), got {given:?}"
        ),
    };
    match value {
        Literal::Text(text) => parse_time(text.trim())
            .map(Value::Time)
            .ok_or_else(|| invalid(text)),
        Literal::Number(number) => Err(invalid(number.to_string())),
        Literal::List(_) => Err(nested_list(property)),
    }
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    if let Ok(at) = PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(at.assume_utc());
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|date| date.midnight().assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn text_lit(text: &str) -> Literal {
        Literal::Text(text.into())
    }

    #[test]
    fn an_asset_type_name_becomes_the_ids_it_matches() {
        assert_eq!(
            condition(
                Property::AssetTypeName,
                Operator::Compare(Comparison::Eq),
                text_lit("HTMLEmail")
            ),
            Ok(Filter::In {
                column: Column::AssetType,
                values: vec![Value::Integer(208)]
            })
        );
        assert_eq!(
            condition(
                Property::AssetTypeName,
                Operator::Compare(Comparison::Neq),
                text_lit("htmlemail")
            ),
            Ok(Filter::In {
                column: Column::AssetType,
                values: vec![Value::Integer(207), Value::Integer(209)]
            })
        );
        assert_eq!(
            condition(
                Property::AssetTypeName,
                Operator::Contains,
                text_lit("text")
            ),
            Ok(Filter::In {
                column: Column::AssetType,
                values: vec![Value::Integer(209)]
            })
        );
        assert_eq!(
            condition(
                Property::StatusName,
                Operator::In,
                Literal::List(vec![text_lit("published"), text_lit("gone")])
            ),
            Ok(Filter::In {
                column: Column::Status,
                values: vec![Value::Integer(2)]
            })
        );
    }

    #[test]
    fn an_unknown_asset_type_name_matches_nothing() {
        assert_eq!(
            condition(
                Property::AssetTypeName,
                Operator::Compare(Comparison::Eq),
                text_lit("webpage")
            ),
            Ok(Filter::In {
                column: Column::AssetType,
                values: vec![]
            })
        );
    }

    #[test]
    fn numbers_accept_digits_in_quotes_and_refuse_words() {
        assert_eq!(
            condition(
                Property::Id,
                Operator::Compare(Comparison::Gt),
                text_lit("10001")
            ),
            Ok(Filter::Compare {
                column: Column::Id,
                comparison: Comparison::Gt,
                value: Value::Integer(10001)
            })
        );
        let err = condition(
            Property::Id,
            Operator::Compare(Comparison::Eq),
            text_lit("x"),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "id: expected a whole number, got \"x\"");
    }

    #[test]
    fn dates_take_an_offset_a_bare_time_in_utc_or_a_day() {
        let at = |text: &str| match condition(
            Property::CreatedDate,
            Operator::Compare(Comparison::Gte),
            text_lit(text),
        ) {
            Ok(Filter::Compare {
                value: Value::Time(at),
                ..
            }) => at,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            at("2026-11-26T09:00:00-06:00"),
            datetime!(2026-11-26 15:00 UTC)
        );
        assert_eq!(
            at("2026-11-26T09:00:00.5"),
            datetime!(2026-11-26 09:00:00.5 UTC)
        );
        assert_eq!(at("2026-11-26"), datetime!(2026-11-26 00:00 UTC));
        assert!(
            condition(
                Property::ModifiedDate,
                Operator::Compare(Comparison::Lt),
                text_lit("yesterday")
            )
            .is_err()
        );
    }

    #[test]
    fn like_applies_to_text_only_and_in_only_to_lists() {
        assert!(condition(Property::Id, Operator::Contains, text_lit("1")).is_err());
        assert!(condition(Property::CreatedDate, Operator::StartsWith, text_lit("2")).is_err());
        assert_eq!(
            condition(Property::Name, Operator::Contains, Literal::Number(5)),
            Ok(Filter::Match {
                column: Column::Name,
                how: TextMatch::Contains,
                fragment: "5".into()
            })
        );
        assert!(condition(Property::Name, Operator::In, text_lit("a")).is_err());
        assert!(
            condition(
                Property::Name,
                Operator::Compare(Comparison::Eq),
                Literal::List(vec![])
            )
            .is_err()
        );
        assert!(
            condition(
                Property::Id,
                Operator::In,
                Literal::List(vec![Literal::List(vec![])])
            )
            .is_err()
        );
    }
}
