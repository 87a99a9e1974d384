//! Report filters as SQL over `crm_records r`.
//!
//! Text is compared on the `*_key` columns, which hold text folded by Herald, against
//! values folded the same way: case-insensitive, and identical on both backends (the
//! PostgreSQL key columns use the byte-order "C" collation, as SQLite does).

use herald_domain::crm::{
    Condition, FieldName, Logic, Operator, ReportFilter, StandardField, fold,
};

use super::fields::as_number;
use crate::sql::Sql;

/// Appends the filter as one parenthesised SQL condition.
pub(crate) fn push_filter(sql: &mut Sql, filter: &ReportFilter) {
    if filter.conditions().is_empty() {
        sql.push("1 = 1");
        return;
    }
    let joiner = match filter.logic() {
        Logic::And => " AND ",
        Logic::Or => " OR ",
    };
    sql.push("(");
    for (index, condition) in filter.conditions().iter().enumerate() {
        if index > 0 {
            sql.push(joiner);
        }
        push_condition(sql, condition);
    }
    sql.push(")");
}

fn push_condition(sql: &mut Sql, condition: &Condition) {
    let value = condition.value();
    match condition.field() {
        FieldName::Standard(StandardField::Id) => {
            let op = if condition.operator() == Operator::Equals {
                " = "
            } else {
                " <> "
            };
            sql.push("r.id").push(op).bind(value);
        }
        FieldName::Standard(StandardField::HasOptedOutOfEmail) => {
            let op = if condition.operator() == Operator::Equals {
                " = "
            } else {
                " <> "
            };
            sql.push("r.has_opted_out")
                .push(op)
                .bind(i64::from(value == "true"));
        }
        FieldName::Standard(field) => {
            let column = match field {
                StandardField::Email => "r.email_key",
                StandardField::FirstName => "r.first_name_key",
                StandardField::LastName => "r.last_name_key",
                _ => "r.external_id_key",
            };
            push_text(sql, column, condition.operator(), value);
        }
        FieldName::Custom(name) => push_custom(sql, name.as_str(), condition.operator(), value),
    }
}

/// A condition on a nullable folded text column.
fn push_text(sql: &mut Sql, column: &str, operator: Operator, value: &str) {
    match operator {
        Operator::Equals => {
            sql.push(column).push(" = ").bind(fold(value));
        }
        Operator::NotEquals => {
            sql.push(&format!("({column} IS NULL OR {column} <> "))
                .bind(fold(value))
                .push(")");
        }
        Operator::Contains | Operator::StartsWith => {
            sql.push(column)
                .push(" LIKE ")
                .bind(like_pattern(operator, value))
                .push(" ESCAPE '\\'");
        }
        Operator::LessThan => {
            sql.push(column).push(" < ").bind(fold(value));
        }
        Operator::GreaterThan => {
            sql.push(column).push(" > ").bind(fold(value));
        }
        Operator::IsEmpty => {
            sql.push(column).push(" IS NULL");
        }
        Operator::IsNotEmpty => {
            sql.push(column).push(" IS NOT NULL");
        }
    }
}

/// A condition on a custom field: a test on the record's value row, which exists only
/// when the field has a value.
fn push_custom(sql: &mut Sql, field: &str, operator: Operator, value: &str) {
    let negated = matches!(operator, Operator::NotEquals | Operator::IsEmpty);
    sql.push(if negated { "NOT EXISTS" } else { "EXISTS" })
        .push(" (SELECT 1 FROM crm_field_values v WHERE v.record_id = r.id AND v.field = ")
        .bind(field);
    match operator {
        Operator::Equals | Operator::NotEquals => {
            sql.push(" AND v.value_key = ").bind(fold(value));
        }
        Operator::Contains | Operator::StartsWith => {
            sql.push(" AND v.value_key LIKE ")
                .bind(like_pattern(operator, value))
                .push(" ESCAPE '\\'");
        }
        Operator::LessThan | Operator::GreaterThan => {
            let op = if operator == Operator::LessThan {
                " < "
            } else {
                " > "
            };
            match as_number(value) {
                Some(number) => sql.push(" AND v.value_number").push(op).bind(Some(number)),
                None => sql.push(" AND v.value_key").push(op).bind(fold(value)),
            };
        }
        Operator::IsEmpty | Operator::IsNotEmpty => {}
    }
    sql.push(")");
}

/// A LIKE pattern for `contains`/`startsWith`, with `\`, `%` and `_` escaped.
fn like_pattern(operator: Operator, value: &str) -> String {
    let mut pattern = String::with_capacity(value.len() + 2);
    if operator == Operator::Contains {
        pattern.push('%');
    }
    for character in fold(value).chars() {
        if matches!(character, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(
            like_pattern(Operator::Contains, "50%_A\\"),
            "%50\\%\\_a\\\\%"
        );
        assert_eq!(like_pattern(Operator::StartsWith, "Ann"), "ann%");
    }
}
