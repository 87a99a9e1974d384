//! The `$filter` text: `Property operator value`, joined with `and`/`or` (`and` binds
//! tighter), grouped with parentheses.
//!
//! Operators: `eq`, `neq` (also `ne`), `lt`, `lte`, `gt`, `gte`, `like`, `contains`,
//! `startsWith`, and `in` with a list: `id in (10001, 10002)`. Values are `'quoted text'`
//! (a quote inside is doubled: `'it''s'`; double quotes work too) or whole numbers.

use super::{Comparison, Filter, Literal, MAX_DEPTH, Operator, Property, QueryError, condition};

/// Parses a `$filter`; blank text means no filter.
pub fn parse_filter(text: &str) -> Result<Option<Filter>, QueryError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        end: text.chars().count() + 1,
    };
    let filter = parser.or_expression(0)?;
    match parser.peek() {
        None => Ok(Some(filter)),
        Some(token) => Err(parser.error_at(token.at, "expected and, or or the end of the filter")),
    }
}

/// Parses an operator name as `$filter` or the query body spells it, in any case.
pub(super) fn operator(name: &str) -> Option<Operator> {
    let operator = match name.to_ascii_lowercase().as_str() {
        "eq" | "equal" | "equals" => Operator::Compare(Comparison::Eq),
        "neq" | "ne" | "notequal" | "notequals" => Operator::Compare(Comparison::Neq),
        "lt" | "lessthan" => Operator::Compare(Comparison::Lt),
        "lte" | "le" | "lessthanorequal" => Operator::Compare(Comparison::Lte),
        "gt" | "greaterthan" => Operator::Compare(Comparison::Gt),
        "gte" | "ge" | "greaterthanorequal" => Operator::Compare(Comparison::Gte),
        "like" | "contains" | "mustcontain" => Operator::Contains,
        "startswith" => Operator::StartsWith,
        "in" => Operator::In,
        _ => return None,
    };
    Some(operator)
}

/// The operators `$filter` takes, for error messages.
pub(super) const FILTER_OPERATORS: &str =
    "eq, neq, lt, lte, gt, gte, like, contains, startsWith, in";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A property, operator or keyword.
    Word(String),
    Text(String),
    Number(i64),
    Open,
    Close,
    Comma,
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    /// 1-based character position.
    at: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().enumerate().peekable();
    while let Some((index, c)) = chars.next() {
        let at = index + 1;
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => Kind::Open,
            ')' => Kind::Close,
            ',' => Kind::Comma,
            '\'' | '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, q)) if q == c => {
                            if chars.peek().is_some_and(|(_, next)| *next == c) {
                                chars.next();
                                value.push(c);
                            } else {
                                break;
                            }
                        }
                        Some((_, other)) => value.push(other),
                        None => {
                            return Err(QueryError::Syntax {
                                at,
                                message: "unterminated quoted value".into(),
                            });
                        }
                    }
                }
                Kind::Text(value)
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut number = String::from(c);
                while let Some((_, next)) =
                    chars.next_if(|(_, n)| n.is_ascii_alphanumeric() || *n == '.')
                {
                    number.push(next);
                }
                let value = number.parse().map_err(|_| QueryError::Syntax {
                    at,
                    message: format!("{number:?} is not a whole number"),
                })?;
                Kind::Number(value)
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some((_, next)) =
                    chars.next_if(|(_, n)| n.is_ascii_alphanumeric() || matches!(n, '.' | '_'))
                {
                    word.push(next);
                }
                Kind::Word(word)
            }
            other => {
                return Err(QueryError::Syntax {
                    at,
                    message: format!("unexpected character {other:?}"),
                });
            }
        };
        tokens.push(Token { kind, at });
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// The position just past the text, for "expected … at the end" errors.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn error_at(&self, at: usize, message: &str) -> QueryError {
        QueryError::Syntax {
            at,
            message: message.to_owned(),
        }
    }

    /// An error at the next token (or the end), saying what was expected.
    fn expected(&self, what: &str) -> QueryError {
        match self.peek() {
            Some(token) => self.error_at(token.at, &format!("expected {what}")),
            None => self.error_at(self.end, &format!("expected {what}, found the end")),
        }
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        let found = matches!(self.peek(), Some(Token { kind: Kind::Word(word), .. })
            if word.eq_ignore_ascii_case(keyword));
        self.next += usize::from(found);
        found
    }

    fn or_expression(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let mut filter = self.and_expression(depth)?;
        while self.keyword("or") {
            filter = Filter::Or(Box::new(filter), Box::new(self.and_expression(depth)?));
        }
        Ok(filter)
    }

    fn and_expression(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let mut filter = self.primary(depth)?;
        while self.keyword("and") {
            filter = Filter::And(Box::new(filter), Box::new(self.primary(depth)?));
        }
        Ok(filter)
    }

    fn primary(&mut self, depth: usize) -> Result<Filter, QueryError> {
        if self.punctuation(&Kind::Open) {
            if depth >= MAX_DEPTH {
                return Err(QueryError::TooDeep(MAX_DEPTH));
            }
            let inner = self.or_expression(depth + 1)?;
            if !self.punctuation(&Kind::Close) {
                return Err(self.expected("a closing parenthesis"));
            }
            return Ok(inner);
        }
        let property = match self.peek().map(|token| &token.kind) {
            Some(Kind::Word(word)) => Property::parse(word)?,
            _ => return Err(self.expected("a property name")),
        };
        self.next += 1;
        let operator = match self.peek().map(|token| &token.kind) {
            Some(Kind::Word(word)) => {
                operator(word).ok_or_else(|| QueryError::UnknownOperator {
                    given: word.clone(),
                    known: FILTER_OPERATORS,
                })?
            }
            _ => return Err(self.expected("an operator")),
        };
        self.next += 1;
        let value = if operator == Operator::In {
            self.list()?
        } else {
            self.scalar()?
        };
        condition(property, operator, value)
    }

    /// Consumes the next token if it is `kind` (a parenthesis or a comma).
    fn punctuation(&mut self, kind: &Kind) -> bool {
        let found = self.peek().is_some_and(|token| token.kind == *kind);
        self.next += usize::from(found);
        found
    }

    fn list(&mut self) -> Result<Literal, QueryError> {
        if !self.punctuation(&Kind::Open) {
            return Err(self.expected("a parenthesised list of values after in"));
        }
        let mut items = vec![self.scalar()?];
        while self.punctuation(&Kind::Comma) {
            items.push(self.scalar()?);
        }
        if !self.punctuation(&Kind::Close) {
            return Err(self.expected("a comma or a closing parenthesis"));
        }
        Ok(Literal::List(items))
    }

    fn scalar(&mut self) -> Result<Literal, QueryError> {
        let literal = match self.peek().map(|token| &token.kind) {
            Some(Kind::Text(text)) => Literal::Text(text.clone()),
            Some(Kind::Number(number)) => Literal::Number(*number),
            _ => return Err(self.expected("a 'quoted' value or a whole number")),
        };
        self.next += 1;
        Ok(literal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset_query::{Column, TextMatch, Value};

    fn parsed(text: &str) -> Filter {
        parse_filter(text).unwrap().unwrap()
    }

    fn error(text: &str) -> String {
        parse_filter(text).unwrap_err().to_string()
    }

    #[test]
    fn the_contract_examples_parse() {
        assert_eq!(
            parsed("assetType.name eq 'htmlemail'"),
            Filter::In {
                column: Column::AssetType,
                values: vec![Value::Integer(208)]
            }
        );
        assert_eq!(
            parsed("name like 'spring'"),
            Filter::Match {
                column: Column::Name,
                how: TextMatch::Contains,
                fragment: "spring".into()
            }
        );
    }

    #[test]
    fn blank_filters_are_no_filter() {
        assert_eq!(parse_filter("").unwrap(), None);
        assert_eq!(parse_filter("   ").unwrap(), None);
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let a = || parsed("id eq 1");
        let b = || parsed("id eq 2");
        let c = || parsed("id eq 3");
        assert_eq!(
            parsed("id eq 1 or id eq 2 and id eq 3"),
            Filter::Or(
                Box::new(a()),
                Box::new(Filter::And(Box::new(b()), Box::new(c())))
            )
        );
        assert_eq!(
            parsed("(id eq 1 OR id eq 2) AND id eq 3"),
            Filter::And(
                Box::new(Filter::Or(Box::new(a()), Box::new(b()))),
                Box::new(c())
            )
        );
    }

    #[test]
    fn a_lowercased_url_still_parses() {
        assert_eq!(
            parsed("assettype.name EQ 'htmlemail'"),
            parsed("assetType.name eq 'htmlemail'")
        );
        assert_eq!(
            parsed("customerkey startswith 'w'"),
            Filter::Match {
                column: Column::CustomerKey,
                how: TextMatch::StartsWith,
                fragment: "w".into()
            }
        );
    }

    #[test]
    fn quotes_double_to_escape_and_lists_follow_in() {
        assert_eq!(
            parsed("name eq 'it''s'"),
            Filter::Compare {
                column: Column::Name,
                comparison: Comparison::Eq,
                value: Value::Text("it's".into())
            }
        );
        assert_eq!(
            parsed("id in (10001, '10002')"),
            Filter::In {
                column: Column::Id,
                values: vec![Value::Integer(10001), Value::Integer(10002)]
            }
        );
    }

    #[test]
    fn an_unknown_property_is_named_with_the_known_ones() {
        assert_eq!(
            error("colour eq 'red'"),
            "unknown property \"colour\"; the properties are: id, name, customerKey, objectID, \
             description, assetType.id, assetType.name, status.id, status.name, createdDate, \
             modifiedDate"
        );
    }

    #[test]
    fn syntax_errors_say_what_was_expected_and_where() {
        assert_eq!(
            error("name eq"),
            "$filter: expected a 'quoted' value or a whole number, found the end at character 8"
        );
        assert_eq!(
            error("name eq spring"),
            "$filter: expected a 'quoted' value or a whole number at character 9"
        );
        assert_eq!(
            error("name eq 'spring"),
            "$filter: unterminated quoted value at character 9"
        );
        assert_eq!(
            error("name eq 'a' name eq 'b'"),
            "$filter: expected and, or or the end of the filter at character 13"
        );
        assert_eq!(
            error("(id eq 1"),
            "$filter: expected a closing parenthesis, found the end at character 9"
        );
        assert_eq!(
            error("id eq 1.5"),
            "$filter: \"1.5\" is not a whole number at character 7"
        );
        assert_eq!(
            error("id = 1"),
            "$filter: unexpected character '=' at character 4"
        );
        assert!(error("name is 'x'").starts_with("unknown operator \"is\""));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}id eq 1{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(parse_filter(&deep), Err(QueryError::TooDeep(MAX_DEPTH)));
        let fine = format!("{}id eq 1{}", "(".repeat(10), ")".repeat(10));
        assert!(parse_filter(&fine).is_ok());
    }
}
