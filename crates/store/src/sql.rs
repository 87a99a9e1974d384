//! Building SQL that runs on both backends with a varying number of parameters (filters,
//! multi-row inserts, IN lists).
//!
//! Placeholders are numbered `$1, $2, …` in the order they are written, which is what
//! both backends need; values are only ever bound, never written into the text.

use std::fmt::Write;

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::Backend;

/// Values per statement in IN lists: well under the parameter limits of both backends.
pub(crate) const CHUNK: usize = 250;

/// The most parameters a multi-row insert binds. Kept this low because binding is
/// quadratic in the parameter count on SQLite (sqlx looks each parameter's name up, and
/// SQLite finds a name by walking the list): 500-row inserts of 14 columns spent most of
/// a bulk upsert there.
const MAX_INSERT_PARAMS: usize = 250;

/// Rows per multi-row insert of `columns` values each.
pub(crate) fn insert_rows(columns: usize) -> usize {
    (MAX_INSERT_PARAMS / columns).max(1)
}

/// A value to bind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Text(String),
    OptionalText(Option<String>),
    Int(i64),
    OptionalInt(Option<i64>),
    OptionalReal(Option<f64>),
}

impl From<&str> for Bind {
    fn from(text: &str) -> Self {
        Bind::Text(text.to_owned())
    }
}

impl From<String> for Bind {
    fn from(text: String) -> Self {
        Bind::Text(text)
    }
}

impl From<Option<String>> for Bind {
    fn from(text: Option<String>) -> Self {
        Bind::OptionalText(text)
    }
}

impl From<i64> for Bind {
    fn from(value: i64) -> Self {
        Bind::Int(value)
    }
}

impl From<Option<i64>> for Bind {
    fn from(value: Option<i64>) -> Self {
        Bind::OptionalInt(value)
    }
}

impl From<Option<f64>> for Bind {
    fn from(value: Option<f64>) -> Self {
        Bind::OptionalReal(value)
    }
}

/// SQL text and the values its placeholders stand for, in order.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            binds: Vec::new(),
        }
    }

    /// Appends SQL text (never a value).
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Bind>) -> &mut Self {
        self.binds.push(value.into());
        let _ = write!(self.text, "${}", self.binds.len());
        self
    }

    /// Appends `(v1, v2, …), (…), …`: one parenthesized row per item (a `VALUES` list).
    pub(crate) fn bind_rows<I, R, T>(&mut self, rows: I) -> &mut Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = T>,
        T: Into<Bind>,
    {
        for (index, row) in rows.into_iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.bind_list(row);
        }
        self
    }

    /// Appends `(v1, v2, …)`.
    pub(crate) fn bind_list<T: Into<Bind>>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.push("(");
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    /// The query, ready to run.
    pub(crate) fn query(self) -> Query<'static, Any, AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for bind in self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::OptionalText(text) => query.bind(text),
                Bind::Int(value) => query.bind(value),
                Bind::OptionalInt(value) => query.bind(value),
                Bind::OptionalReal(value) => query.bind(value),
            };
        }
        query
    }
}

/// The type of one column of rows passed as JSON (see [`Sql::bind_json_rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonColumn {
    Int(&'static str),
    Text(&'static str),
}

impl Sql {
    /// Appends `SELECT … FROM` a JSON array of rows bound as one parameter: column `i` of
    /// the select is element `i` of each row, named and typed by `columns[i]`. However
    /// many rows there are, this is one bind and one statement text, so the statement is
    /// prepared once per connection and binding costs nothing per row (a `VALUES` list
    /// of many rows is a new statement for every row count, and binds in quadratic time
    /// on SQLite).
    pub(crate) fn bind_json_rows(
        &mut self,
        backend: Backend,
        columns: &[JsonColumn],
        rows: Vec<serde_json::Value>,
    ) -> &mut Self {
        let select = columns
            .iter()
            .enumerate()
            .map(|(index, column)| match column {
                JsonColumn::Int(name) => format!("CAST(value ->> {index} AS BIGINT) AS {name}"),
                JsonColumn::Text(name) => format!("value ->> {index} AS {name}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.push("SELECT ").push(&select);
        let rows = serde_json::Value::Array(rows).to_string();
        match backend {
            Backend::Sqlite => self.push(" FROM json_each(").bind(rows).push(")"),
            Backend::Postgres => self
                .push(" FROM json_array_elements(CAST(")
                .bind(rows)
                .push(" AS json))"),
        }
    }
}

/// `$start, $start+1, …` for `count` values bound in a row (an `IN (…)` or `VALUES (…)`
/// list).
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_the_order_they_are_written() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b IN ").bind_list(["x", "y"]);
        assert_eq!(sql.text, "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(sql.binds, [Bind::Int(1), Bind::from("x"), Bind::from("y")]);
    }

    #[test]
    fn rows_are_written_as_a_values_list() {
        let mut sql = Sql::new("VALUES ");
        sql.bind_rows([
            [Bind::Int(1), Bind::from(None::<i64>)],
            [Bind::Int(2), Bind::Int(3)],
        ]);
        assert_eq!(sql.text, "VALUES ($1, $2), ($3, $4)");
        assert_eq!(sql.binds[1], Bind::OptionalInt(None));
    }
}
