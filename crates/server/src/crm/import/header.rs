//! The header row, which names the field of each column, and reading a row with it.

use csv::ByteRecord;
use herald_domain::crm::{FieldInput, FieldName, RecordChanges, RecordFieldError};
use herald_store::MatchOn;

/// A header row whose every column names a field that can be written, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field names as the file spells them.
    names: Vec<String>,
}

/// Why a header row is refused. Columns are counted from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(
        "the file is empty: its first line must name the fields, such as Email,FirstName,LastName"
    )]
    Missing,
    #[error("column {0} of the header row is not valid UTF-8")]
    NotUtf8(usize),
    #[error("column {0} of the header row has no name")]
    Blank(usize),
    #[error("column {column} of the header row: {error}")]
    Field {
        column: usize,
        error: RecordFieldError,
    },
    #[error(
        "columns {first} and {second} of the header row both name {field} \
         (names are compared without regard to case)"
    )]
    Repeated {
        field: String,
        first: usize,
        second: usize,
    },
    #[error("matching on {0} needs an {0} column in the header row")]
    NoKeyColumn(MatchOn),
}

impl Header {
    /// Checks the header row: every name a writable field, none twice, and the field
    /// rows are matched on among them.
    pub fn parse(record: &ByteRecord, match_on: MatchOn) -> Result<Header, HeaderError> {
        let mut names = Vec::with_capacity(record.len());
        let mut fields: Vec<FieldName> = Vec::with_capacity(record.len());
        for (index, bytes) in record.iter().enumerate() {
            let column = index + 1;
            let name = std::str::from_utf8(bytes)
                .map_err(|_| HeaderError::NotUtf8(column))?
                .trim();
            if name.is_empty() {
                return Err(HeaderError::Blank(column));
            }
            let field = RecordChanges::writable_field(name)
                .map_err(|error| HeaderError::Field { column, error })?;
            if let Some(first) = fields.iter().position(|known| same(known, &field)) {
                return Err(HeaderError::Repeated {
                    field: name.to_owned(),
                    first: first + 1,
                    second: column,
                });
            }
            names.push(name.to_owned());
            fields.push(field);
        }
        let key = FieldName::parse(match_on.name()).expect("Email and ExternalId are fields");
        if !fields.iter().any(|field| same(field, &key)) {
            return Err(HeaderError::NoKeyColumn(match_on));
        }
        Ok(Header { names })
    }

    /// The field names as the file spells them.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The changes a row asks for, or why it cannot be imported. The row has as many
    /// fields as the header (the CSV reader sees to that).
    pub fn row(&self, record: &ByteRecord) -> Result<RecordChanges, String> {
        let mut changes = RecordChanges::default();
        for (name, bytes) in self.names.iter().zip(record.iter()) {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| format!("invalid UTF-8 in column {name}"))?;
            changes
                .set(name, FieldInput::Text(text))
                .map_err(|err| err.to_string())?;
        }
        Ok(changes)
    }
}

/// Whether two field names are the same field (custom names in any case).
fn same(a: &FieldName, b: &FieldName) -> bool {
    a.as_str().eq_ignore_ascii_case(b.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::crm::FieldProblem;

    fn header(names: &[&str]) -> Result<Header, HeaderError> {
        Header::parse(&ByteRecord::from(names.to_vec()), MatchOn::Email)
    }

    fn row(header: &Header, cells: &[&[u8]]) -> Result<RecordChanges, String> {
        header.row(&ByteRecord::from(cells.to_vec()))
    }

    #[test]
    fn standard_and_custom_fields_are_named_in_any_case() {
        let parsed = header(&["email", " FirstName ", "LASTNAME", "Company__c"]).unwrap();
        assert_eq!(
            parsed.names(),
            ["email", "FirstName", "LASTNAME", "Company__c"]
        );
        let changes = row(&parsed, &[b"Ann@Example.com", b"Ann", b"", b"Acme"]).unwrap();
        assert_eq!(changes.email.unwrap().as_str(), "Ann@example.com");
        assert_eq!(changes.first_name, Some(Some("Ann".into())));
        assert_eq!(changes.last_name, Some(None), "an empty cell clears");
        assert_eq!(changes.custom[0].1.as_deref(), Some("Acme"));
    }

    #[test]
    fn unknown_read_only_and_repeated_names_are_refused_with_their_column() {
        let err = header(&["Email", "Phone"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("column 2 of the header row: Phone: unknown field"),
            "{err}"
        );
        let HeaderError::Field { column: 1, error } = header(&["Id", "Email"]).unwrap_err() else {
            panic!("Id is read-only");
        };
        assert_eq!(error.problem, FieldProblem::ReadOnly);
        assert_eq!(
            header(&["Email", "Company__c", "COMPANY__C"]).unwrap_err(),
            HeaderError::Repeated {
                field: "COMPANY__C".into(),
                first: 2,
                second: 3
            }
        );
        assert_eq!(
            header(&["Email", "FirstName", ""]),
            Err(HeaderError::Blank(3))
        );
        assert_eq!(
            Header::parse(&ByteRecord::from(vec![&b"Em\xffail"[..]]), MatchOn::Email),
            Err(HeaderError::NotUtf8(1))
        );
    }

    #[test]
    fn the_field_rows_are_matched_on_must_have_a_column() {
        assert_eq!(
            header(&["FirstName"]).unwrap_err().to_string(),
            "matching on Email needs an Email column in the header row"
        );
        let by_external_id = ByteRecord::from(vec!["Email", "FirstName"]);
        assert_eq!(
            Header::parse(&by_external_id, MatchOn::ExternalId),
            Err(HeaderError::NoKeyColumn(MatchOn::ExternalId))
        );
    }

    #[test]
    fn a_row_is_refused_for_bad_bytes_or_a_bad_value_naming_the_column() {
        let parsed = header(&["Email", "FirstName", "HasOptedOutOfEmail"]).unwrap();
        assert_eq!(
            row(&parsed, &[b"ann@example.com", b"Ren\xe9", b"true"]).unwrap_err(),
            "invalid UTF-8 in column FirstName"
        );
        assert_eq!(
            row(&parsed, &[b"", b"Ann", b"false"]).unwrap_err(),
            "Email: an Email is required and cannot be cleared"
        );
        assert!(
            row(&parsed, &[b"ann@localhost", b"Ann", b"0"])
                .unwrap_err()
                .starts_with("Email: ")
        );
        assert_eq!(
            row(&parsed, &[b"ann@example.com", b"Ann", b"yes"]).unwrap_err(),
            "HasOptedOutOfEmail: expected true or false"
        );
    }
}
