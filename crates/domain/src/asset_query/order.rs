//! Sorting: `$orderBy=name asc, modifiedDate desc` and the query body's
//! `"sort":[{"property":"name","direction":"ASC"}]`. Without a direction, ascending.

use super::{Property, QueryError, Sort};

/// The most sort keys one request may give.
pub const MAX_SORT_KEYS: usize = 10;

/// Parses a `$orderBy`: comma-separated `property [asc|desc]`; blank means none.
pub fn parse_order_by(text: &str) -> Result<Vec<Sort>, QueryError> {
    let sort = text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let mut words = item.split_whitespace();
            let property = words.next().unwrap_or_default();
            let direction = words.next();
            if let Some(extra) = words.next() {
                return Err(QueryError::Shape(format!(
                    "$orderBy: expected `property asc` or `property desc`, found {extra:?} \
                     after {item:?}"
                )));
            }
            sort(property, direction)
        })
        .collect::<Result<Vec<_>, _>>()?;
    bounded(sort)
}

/// The sort keys, unless there are more than [`MAX_SORT_KEYS`].
pub(super) fn bounded(sort: Vec<Sort>) -> Result<Vec<Sort>, QueryError> {
    if sort.len() > MAX_SORT_KEYS {
        return Err(QueryError::Shape(format!(
            "at most {MAX_SORT_KEYS} sort keys may be given"
        )));
    }
    Ok(sort)
}

/// One sort key from a property name and an optional `asc`/`desc` (any case).
pub(super) fn sort(property: &str, direction: Option<&str>) -> Result<Sort, QueryError> {
    let property = Property::parse(property)?;
    let descending = match direction.map(str::trim) {
        None | Some("") => false,
        Some(word) if word.eq_ignore_ascii_case("asc") => false,
        Some(word) if word.eq_ignore_ascii_case("desc") => true,
        Some(other) => return Err(QueryError::Direction(other.to_owned())),
    };
    Ok(Sort {
        property,
        descending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_keys_parse_with_or_without_a_direction() {
        assert_eq!(
            parse_order_by("name asc, modifiedDate DESC,id").unwrap(),
            vec![
                Sort {
                    property: Property::Name,
                    descending: false
                },
                Sort {
                    property: Property::ModifiedDate,
                    descending: true
                },
                Sort {
                    property: Property::Id,
                    descending: false
                },
            ]
        );
        assert_eq!(parse_order_by(" ").unwrap(), vec![]);
    }

    #[test]
    fn unknown_properties_and_directions_are_refused() {
        assert!(matches!(
            parse_order_by("colour asc"),
            Err(QueryError::UnknownProperty(name)) if name == "colour"
        ));
        assert_eq!(
            parse_order_by("name up"),
            Err(QueryError::Direction("up".into()))
        );
        assert!(parse_order_by("name asc desc").is_err());
        assert!(parse_order_by(&["id"; MAX_SORT_KEYS].join(",")).is_ok());
        assert!(parse_order_by(&["id"; MAX_SORT_KEYS + 1].join(",")).is_err());
    }
}
