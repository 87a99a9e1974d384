//! The body of `POST /asset/v1/content/assets/query`:
//! `{"page":{"page","pageSize"},"query":…,"sort":[{"property","direction"}],"fields":[…]}`.
//!
//! A query is simple, `{"property","simpleOperator","value"}`, or compound,
//! `{"leftOperand","logicalOperator":"AND"|"OR","rightOperand"}`. The simple operators are
//! Marketing Cloud's: equal, notEqual, lessThan, lessThanOrEqual, greaterThan,
//! greaterThanOrEqual, like, contains, mustContain, startsWith, in (with an array).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::filter::operator;
use super::order::{bounded, sort};
use super::{
    AssetQuery, DEFAULT_PAGE_SIZE, FieldSelection, Filter, Literal, MAX_DEPTH, MAX_PAGE_SIZE,
    Property, QueryError, condition,
};
use crate::paging::PageRequest;

/// The whole request body; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryBody {
    #[serde(default)]
    pub page: Option<BodyPage>,
    #[serde(default)]
    pub query: Option<QueryNode>,
    #[serde(default)]
    pub sort: Vec<BodySort>,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// `{"page":1,"pageSize":50}`. Wide integers, so that out-of-range values get Herald's
/// message rather than a type error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyPage {
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

/// `{"property":"name","direction":"ASC"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BodySort {
    pub property: String,
    #[serde(default)]
    pub direction: Option<String>,
}

/// A simple or compound query node, as sent; [`QueryBody::into_query`] tells which.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryNode {
    pub property: Option<String>,
    pub simple_operator: Option<String>,
    pub value: Option<Literal>,
    pub left_operand: Option<Box<QueryNode>>,
    pub logical_operator: Option<String>,
    pub right_operand: Option<Box<QueryNode>>,
}

const SIMPLE_OPERATORS: &str = "equal, notEqual, lessThan, lessThanOrEqual, greaterThan, \
                                greaterThanOrEqual, like, contains, mustContain, startsWith, in";

impl QueryBody {
    /// The query to run and the fields to return.
    pub fn into_query(self) -> Result<(AssetQuery, FieldSelection), QueryError> {
        let page = self.page.unwrap_or_default();
        let text = |n: Option<i64>| n.map(|n| n.to_string());
        let page = PageRequest::parse(
            text(page.page).as_deref(),
            text(page.page_size).as_deref(),
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )?;
        let query = AssetQuery {
            filter: self
                .query
                .map(|node| node.into_filter(0)?.bounded())
                .transpose()?,
            sort: bounded(
                self.sort
                    .iter()
                    .map(|key| sort(&key.property, key.direction.as_deref()))
                    .collect::<Result<_, _>>()?,
            )?,
            page,
        };
        let fields = FieldSelection::from_names(self.fields.iter().map(String::as_str));
        Ok((query, fields))
    }
}

impl QueryNode {
    fn into_filter(self, depth: usize) -> Result<Filter, QueryError> {
        if depth > MAX_DEPTH {
            return Err(QueryError::TooDeep(MAX_DEPTH));
        }
        match self {
            QueryNode {
                property: Some(property),
                simple_operator,
                value,
                left_operand: None,
                logical_operator: None,
                right_operand: None,
            } => {
                let property = Property::parse(&property)?;
                let name = simple_operator.as_deref().ok_or_else(|| {
                    QueryError::Shape(format!(
                        "query on {}: simpleOperator is required",
                        property.wire_name()
                    ))
                })?;
                let operator = operator(name).ok_or_else(|| QueryError::UnknownOperator {
                    given: name.to_owned(),
                    known: SIMPLE_OPERATORS,
                })?;
                let value = value.ok_or_else(|| {
                    QueryError::Shape(format!(
                        "query on {}: value is required",
                        property.wire_name()
                    ))
                })?;
                condition(property, operator, value)
            }
            QueryNode {
                property: None,
                simple_operator: None,
                value: None,
                left_operand: Some(left),
                logical_operator: Some(logical),
                right_operand: Some(right),
            } => {
                let left = Box::new(left.into_filter(depth + 1)?);
                let right = Box::new(right.into_filter(depth + 1)?);
                match logical.trim().to_ascii_uppercase().as_str() {
                    "AND" => Ok(Filter::And(left, right)),
                    "OR" => Ok(Filter::Or(left, right)),
                    _ => Err(QueryError::UnknownOperator {
                        given: logical,
                        known: "AND, OR",
                    }),
                }
            }
            _ => Err(QueryError::Shape(
                "a query is either {\"property\",\"simpleOperator\",\"value\"} or \
                 {\"leftOperand\",\"logicalOperator\",\"rightOperand\"}"
                    .into(),
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Literal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LiteralVisitor)
    }
}

struct LiteralVisitor;

impl<'de> Visitor<'de> for LiteralVisitor {
    type Value = Literal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text, a whole number or an array of them")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Literal, E> {
        Ok(Literal::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Literal, E> {
        Ok(Literal::Text(text))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Literal, E> {
        Ok(Literal::Number(number))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Literal, E> {
        i64::try_from(number)
            .map(Literal::Number)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(number), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Literal, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = items.next_element()? {
            list.push(item);
        }
        Ok(Literal::List(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset_query::{Column, Comparison, MAX_VALUES, Sort, TextMatch, Value};

    fn body(json: &str) -> Result<(AssetQuery, FieldSelection), QueryError> {
        serde_json::from_str::<QueryBody>(json)
            .unwrap()
            .into_query()
    }

    #[test]
    fn an_empty_body_lists_everything_on_the_first_page() {
        let (query, fields) = body("{}").unwrap();
        assert_eq!(query.filter, None);
        assert_eq!(query.sort, vec![]);
        assert_eq!(
            query.page,
            PageRequest {
                page: 1,
                page_size: 50
            }
        );
        assert_eq!(fields, FieldSelection::all());
    }

    #[test]
    fn a_simple_query_with_paging_sort_and_fields() {
        let (query, fields) = body(
            r#"{"page":{"page":2,"pageSize":10},
                "query":{"property":"name","simpleOperator":"like","value":"spring"},
                "sort":[{"property":"modifiedDate","direction":"DESC"}],
                "fields":["name","views"]}"#,
        )
        .unwrap();
        assert_eq!(
            query.page,
            PageRequest {
                page: 2,
                page_size: 10
            }
        );
        assert_eq!(
            query.filter,
            Some(Filter::Match {
                column: Column::Name,
                how: TextMatch::Contains,
                fragment: "spring".into()
            })
        );
        assert_eq!(
            query.sort,
            vec![Sort {
                property: Property::ModifiedDate,
                descending: true
            }]
        );
        assert!(fields.includes("views") && !fields.includes("status"));
    }

    #[test]
    fn a_compound_query_nests() {
        let (query, _) = body(
            r#"{"query":{
                "leftOperand":{"property":"assetType.id","simpleOperator":"in","value":[208,209]},
                "logicalOperator":"or",
                "rightOperand":{"property":"id","simpleOperator":"greaterThanOrEqual","value":10005}}}"#,
        )
        .unwrap();
        assert_eq!(
            query.filter,
            Some(Filter::Or(
                Box::new(Filter::In {
                    column: Column::AssetType,
                    values: vec![Value::Integer(208), Value::Integer(209)]
                }),
                Box::new(Filter::Compare {
                    column: Column::Id,
                    comparison: Comparison::Gte,
                    value: Value::Integer(10005)
                })
            ))
        );
    }

    #[test]
    fn every_simple_operator_of_marketing_cloud_is_known() {
        for name in SIMPLE_OPERATORS.split(", ") {
            assert!(operator(name).is_some(), "{name}");
        }
    }

    #[test]
    fn malformed_queries_get_clear_errors() {
        let err = |json: &str| body(json).unwrap_err().to_string();
        assert!(
            err(r#"{"query":{"property":"name","simpleOperator":"matches","value":"x"}}"#)
                .starts_with("unknown operator \"matches\"; the operators are: equal,")
        );
        assert_eq!(
            err(r#"{"query":{"property":"name","simpleOperator":"equal"}}"#),
            "query on name: value is required"
        );
        assert!(
            err(r#"{"query":{"property":"size","simpleOperator":"equal","value":1}}"#)
                .starts_with("unknown property \"size\"")
        );
        assert!(
            err(
                r#"{"query":{"leftOperand":{"property":"id","simpleOperator":"equal","value":1}}}"#
            )
            .starts_with("a query is either")
        );
        assert!(err(r#"{"page":{"pageSize":501}}"#).contains("pageSize"));
        assert!(err(r#"{"page":{"page":0}}"#).contains("page"));
        assert!(
            err(r#"{"sort":[{"property":"name","direction":"sideways"}]}"#).contains("sideways")
        );
    }

    #[test]
    fn a_filter_comparing_with_too_many_values_is_refused() {
        let ids: Vec<i64> = (0..=MAX_VALUES as i64).collect();
        let json =
            format!(r#"{{"query":{{"property":"id","simpleOperator":"in","value":{ids:?}}}}}"#);
        assert_eq!(body(&json).unwrap_err(), QueryError::TooLarge(MAX_VALUES));
        let ids: Vec<i64> = (1..=MAX_VALUES as i64).collect();
        let json =
            format!(r#"{{"query":{{"property":"id","simpleOperator":"in","value":{ids:?}}}}}"#);
        assert!(body(&json).is_ok());
    }

    #[test]
    fn values_of_other_json_types_are_refused_while_parsing() {
        let parsed = serde_json::from_str::<QueryBody>(
            r#"{"query":{"property":"id","simpleOperator":"equal","value":true}}"#,
        );
        assert!(
            parsed
                .unwrap_err()
                .to_string()
                .contains("expected text, a whole number or an array of them")
        );
    }
}
