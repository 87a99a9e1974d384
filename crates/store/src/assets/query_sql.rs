//! Turns an [`AssetQuery`] into SQL. Only the column names and operators written here
//! reach the SQL text; every value the client sent is a bound parameter.

use std::fmt::Write;

use herald_domain::asset::{AssetStatus, AssetType};
use herald_domain::asset_query::{
    AssetQuery, Column, Comparison, Filter, Property, Sort, TextMatch, Value,
};
use herald_domain::mid::Mid;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use super::COLUMNS;
use crate::timestamp::to_millis;

/// A value to bind.
#[derive(Debug, Clone)]
enum Bind {
    Integer(i64),
    Text(String),
}

/// The WHERE clause of a listing, its values, and the ORDER BY and paging that follow it.
pub(super) struct Listing {
    condition: String,
    binds: Vec<Bind>,
    order_by: String,
    limit: i64,
    offset: i64,
}

type AnyQuery = Query<'static, sqlx::Any, AnyArguments>;

impl Listing {
    pub(super) fn new(mid: Mid, query: &AssetQuery) -> Self {
        let mut builder = Builder::default();
        builder.sql.push_str("mid = ");
        builder.bind(Bind::Integer(mid.get()));
        if let Some(filter) = &query.filter {
            builder.sql.push_str(" AND ");
            builder.filter(filter);
        }
        Listing {
            condition: builder.sql,
            binds: builder.binds,
            order_by: order_by(&query.sort),
            limit: i64::from(query.page.page_size),
            offset: i64::try_from(query.page.offset()).unwrap_or(i64::MAX),
        }
    }

    /// `SELECT COUNT(*) AS total` over the matching assets.
    pub(super) fn count(&self) -> AnyQuery {
        let sql = format!(
            "SELECT COUNT(*) AS total FROM assets WHERE {}",
            self.condition
        );
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &self.binds)
    }

    /// The page's assets, in order.
    pub(super) fn page(&self) -> AnyQuery {
        let next = self.binds.len() + 1;
        let sql = format!(
            "SELECT {COLUMNS} FROM assets WHERE {} ORDER BY {} LIMIT ${next} OFFSET ${}",
            self.condition,
            self.order_by,
            next + 1
        );
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &self.binds)
            .bind(self.limit)
            .bind(self.offset)
    }
}

fn bind_all(mut query: AnyQuery, binds: &[Bind]) -> AnyQuery {
    for bind in binds {
        query = match bind {
            Bind::Integer(value) => query.bind(*value),
            Bind::Text(value) => query.bind(value.clone()),
        };
    }
    query
}

#[derive(Default)]
struct Builder {
    sql: String,
    binds: Vec<Bind>,
}

impl Builder {
    /// Appends the next placeholder and remembers its value.
    fn bind(&mut self, value: Bind) {
        self.binds.push(value);
        let _ = write!(self.sql, "${}", self.binds.len());
    }

    fn filter(&mut self, filter: &Filter) {
        match filter {
            Filter::Compare {
                column,
                comparison,
                value,
            } => {
                self.operand(*column, value);
                self.sql.push_str(comparison_sql(*comparison));
                self.value(value);
            }
            Filter::Match {
                column,
                how,
                fragment,
            } => {
                let escaped = fragment
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let pattern = match how {
                    TextMatch::Contains => format!("%{escaped}%"),
                    TextMatch::StartsWith => format!("{escaped}%"),
                };
                let _ = write!(self.sql, "LOWER({}) LIKE ", column_sql(*column));
                self.value(&Value::Text(pattern));
                self.sql.push_str(" ESCAPE '\\'");
            }
            Filter::In { values, .. } if values.is_empty() => self.sql.push_str("1 = 0"),
            Filter::In { column, values } => {
                self.operand(*column, &values[0]);
                self.sql.push_str(" IN (");
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        self.sql.push_str(", ");
                    }
                    self.value(value);
                }
                self.sql.push(')');
            }
            Filter::And(left, right) => self.join(left, " AND ", right),
            Filter::Or(left, right) => self.join(left, " OR ", right),
        }
    }

    fn join(&mut self, left: &Filter, operator: &str, right: &Filter) {
        self.sql.push('(');
        self.filter(left);
        self.sql.push_str(operator);
        self.filter(right);
        self.sql.push(')');
    }

    /// The column, lowered when it is compared with text (text comparisons ignore case).
    fn operand(&mut self, column: Column, value: &Value) {
        match value {
            Value::Text(_) => {
                let _ = write!(self.sql, "LOWER({})", column_sql(column));
            }
            Value::Integer(_) | Value::Time(_) => self.sql.push_str(column_sql(column)),
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Integer(number) => self.bind(Bind::Integer(*number)),
            Value::Time(at) => self.bind(Bind::Integer(to_millis(*at))),
            Value::Text(text) => {
                self.sql.push_str("LOWER(");
                self.bind(Bind::Text(text.clone()));
                self.sql.push(')');
            }
        }
    }
}

fn column_sql(column: Column) -> &'static str {
    match column {
        Column::Id => "id",
        Column::Name => "name",
        Column::CustomerKey => "customer_key",
        Column::ObjectId => "object_id",
        Column::Description => "description",
        Column::AssetType => "asset_type",
        Column::Status => "status",
        Column::CreatedDate => "created_at",
        Column::ModifiedDate => "modified_at",
    }
}

fn comparison_sql(comparison: Comparison) -> &'static str {
    match comparison {
        Comparison::Eq => " = ",
        Comparison::Neq => " <> ",
        Comparison::Lt => " < ",
        Comparison::Lte => " <= ",
        Comparison::Gt => " > ",
        Comparison::Gte => " >= ",
    }
}

/// The sort keys, then the id, so that pages never overlap.
fn order_by(sort: &[Sort]) -> String {
    let mut keys: Vec<String> = sort
        .iter()
        .map(|key| {
            let direction = if key.descending { "DESC" } else { "ASC" };
            format!("{} {direction}", sort_expression(key.property))
        })
        .collect();
    keys.push("id ASC".to_owned());
    keys.join(", ")
}

fn sort_expression(property: Property) -> String {
    match property {
        Property::Id => "id".to_owned(),
        Property::Name => "LOWER(name)".to_owned(),
        Property::CustomerKey => "LOWER(customer_key)".to_owned(),
        Property::ObjectId => "object_id".to_owned(),
        Property::Description => "LOWER(description)".to_owned(),
        Property::AssetTypeId => "asset_type".to_owned(),
        Property::StatusId => "status".to_owned(),
        Property::CreatedDate => "created_at".to_owned(),
        Property::ModifiedDate => "modified_at".to_owned(),
        // Names are fixed words of Herald's, never client input.
        Property::AssetTypeName => case(
            "asset_type",
            AssetType::ALL.iter().map(|t| (t.id(), t.name())),
        ),
        Property::StatusName => case(
            "status",
            AssetStatus::ALL.iter().map(|s| (s.id(), s.name())),
        ),
    }
}

fn case(column: &str, names: impl Iterator<Item = (i64, &'static str)>) -> String {
    let mut sql = format!("CASE {column}");
    for (id, name) in names {
        let _ = write!(sql, " WHEN {id} THEN '{name}'");
    }
    sql.push_str(" END");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::asset_query::parse_filter;
    use herald_domain::paging::PageRequest;

    fn listing(filter: &str, sort: Vec<Sort>) -> Listing {
        let query = AssetQuery {
            filter: parse_filter(filter).unwrap(),
            sort,
            page: PageRequest {
                page: 3,
                page_size: 10,
            },
        };
        Listing::new(Mid::from_stored(100_000_001), &query)
    }

    #[test]
    fn values_are_bound_in_order_and_never_written_into_the_sql() {
        let listing = listing(
            "name like '50%_off' and (id gt 10001 or assetType.name eq 'htmlemail')",
            vec![],
        );
        assert_eq!(
            listing.condition,
            "mid = $1 AND (LOWER(name) LIKE LOWER($2) ESCAPE '\\' AND (id > $3 OR asset_type IN ($4)))"
        );
        assert!(matches!(&listing.binds[1], Bind::Text(p) if p == "%50\\%\\_off%"));
        assert_eq!(listing.offset, 20);
        assert_eq!(listing.limit, 10);
    }

    #[test]
    fn a_condition_that_matches_nothing_is_false() {
        assert_eq!(
            listing("status.name eq 'archived'", vec![]).condition,
            "mid = $1 AND 1 = 0"
        );
    }

    #[test]
    fn sorting_ends_with_the_id_and_names_of_types_sort_as_words() {
        let sort = vec![
            Sort {
                property: Property::AssetTypeName,
                descending: true,
            },
            Sort {
                property: Property::Name,
                descending: false,
            },
        ];
        assert_eq!(
            listing("", sort).order_by,
            "CASE asset_type WHEN 207 THEN 'templatebasedemail' WHEN 208 THEN 'htmlemail' \
             WHEN 209 THEN 'textonlyemail' END DESC, LOWER(name) ASC, id ASC"
        );
    }
}
