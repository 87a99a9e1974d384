//! Reading a CSV file one record at a time: the header row first, then rows, each with
//! its line number and either the changes it asks for or why it cannot be imported.
//!
//! Records are read as bytes, so a cell that is not UTF-8 rejects its row, not the file.
//! The number of fields is checked against the header (the parser is not flexible): a
//! row with too many or too few, often the sign of a quote left open, is rejected and
//! reading goes on after it. Only a record that runs past the size limit stops reading,
//! since the parser cannot find where the next one starts.

use std::io::Read;

use csv::{ByteRecord, ErrorKind};
use herald_domain::crm::RecordChanges;
use herald_store::MatchOn;

use super::header::{Header, HeaderError};
use super::lines::{LineTracker, Lines, RecordTooLong};

/// The parser's buffer: the file is read this many bytes at a time.
const READ_BUFFER: usize = 64 * 1024;

/// One record after the header.
#[derive(Debug)]
pub struct Row {
    /// The line the record starts on.
    pub line: u64,
    /// The record as it was in the file (for the rejects file).
    pub fields: ByteRecord,
    /// The changes it asks for, or why it cannot be imported.
    pub changes: Result<RecordChanges, String>,
}

/// Why reading stopped before the end of the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Header(#[from] HeaderError),
    #[error("line {line}: {reason}; is a quote left open? The rest of the file cannot be read")]
    TooLong { line: u64, reason: RecordTooLong },
    #[error("line {line}: cannot read the file: {reason}")]
    Io { line: u64, reason: std::io::Error },
}

/// Reads rows from a CSV source.
pub struct RowReader<R> {
    csv: csv::Reader<LineTracker<R>>,
    header: Header,
}

impl<R: Read> RowReader<R> {
    /// Reads and checks the header row.
    pub fn new(source: R, match_on: MatchOn) -> Result<Self, ReadError> {
        let mut csv = csv::ReaderBuilder::new()
            .buffer_capacity(READ_BUFFER)
            .from_reader(LineTracker::new(source));
        let header = match csv.byte_headers() {
            Ok(record) if record.is_empty() => return Err(HeaderError::Missing.into()),
            Ok(record) => Header::parse(record, match_on)?,
            Err(err) => return Err(fatal(err, 1)),
        };
        let end = csv.position().byte();
        csv.get_mut().finish_record(end);
        Ok(RowReader { csv, header })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// How far into the file the reader is, in bytes.
    pub fn bytes_read(&self) -> u64 {
        self.csv.position().byte()
    }

    /// The next row, `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row>, ReadError> {
        let mut fields = ByteRecord::new();
        let changes = match self.csv.read_byte_record(&mut fields) {
            Ok(false) => return Ok(None),
            Ok(true) => Ok(()),
            Err(err) => match err.kind() {
                ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => Err((*expected_len, *len)),
                _ => return Err(fatal(err, self.csv.get_ref().pending_line())),
            },
        };
        let end = self.csv.position().byte();
        let lines = self.csv.get_mut().finish_record(end);
        let changes = match changes {
            Ok(()) => self.header.row(&fields),
            Err((expected, found)) => Err(field_count(expected, found, lines)),
        };
        Ok(Some(Row {
            line: lines.first,
            fields,
            changes,
        }))
    }
}

/// Why a record with the wrong number of fields is rejected.
fn field_count(expected: u64, found: u64, lines: Lines) -> String {
    let mut reason = format!("expected {expected} fields, found {found}");
    if lines.last > lines.first {
        reason.push_str(&format!(
            " in a record running from line {} to line {}: is a quote left open?",
            lines.first, lines.last
        ));
    }
    reason
}

/// A read error that stops the import, at `line`.
fn fatal(err: csv::Error, line: u64) -> ReadError {
    match err.into_kind() {
        ErrorKind::Io(reason) => {
            if reason
                .get_ref()
                .is_some_and(|inner| inner.is::<RecordTooLong>())
            {
                ReadError::TooLong {
                    line,
                    reason: RecordTooLong,
                }
            } else {
                ReadError::Io { line, reason }
            }
        }
        // Byte records are neither decoded as UTF-8 nor deserialized, and field counts
        // are handled by the caller: no other error is expected, but report it whole.
        other => ReadError::Io {
            line,
            reason: std::io::Error::other(format!("{other:?}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[u8]) -> Vec<(u64, Result<String, String>)> {
        let mut reader = RowReader::new(data, MatchOn::Email).unwrap();
        let mut found = Vec::new();
        while let Some(row) = reader.next_row().unwrap() {
            let email = row
                .changes
                .map(|changes| changes.email.map(|e| e.to_string()).unwrap_or_default());
            found.push((row.line, email));
        }
        found
    }

    #[test]
    fn good_rows_come_with_their_line_numbers() {
        let found = rows(b"\xef\xbb\xbfEmail,FirstName\r\nann@example.com,Ann\r\n\r\nbob@example.com,\"Bob\"\r\n");
        assert_eq!(
            found,
            [
                (2, Ok("ann@example.com".into())),
                (4, Ok("bob@example.com".into()))
            ]
        );
    }

    #[test]
    fn bad_rows_are_rejected_one_by_one_and_reading_goes_on() {
        let data = b"Email,FirstName\n\
            ann@localhost,Ann\n\
            ,NoEmail\n\
            cy@example.com,C\xffy\n\
            dee@example.com\n\
            eve@example.com,Eve,extra\n\
            \"fay@example.com,Fay\ngus@example.com,Gus\nhal@example.com,\"Hal\"\n\
            ivy@example.com,Ivy\n";
        let found = rows(data);
        let lines: Vec<u64> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 10]);
        assert!(found[0].1.as_ref().unwrap_err().starts_with("Email: "));
        assert_eq!(
            found[1].1,
            Err("Email: an Email is required and cannot be cleared".into())
        );
        assert_eq!(found[2].1, Err("invalid UTF-8 in column FirstName".into()));
        assert_eq!(found[3].1, Err("expected 2 fields, found 1".into()));
        assert_eq!(found[4].1, Err("expected 2 fields, found 3".into()));
        assert_eq!(
            found[5].1,
            Err(
                "expected 2 fields, found 1 in a record running from line 7 to line 9: \
                 is a quote left open?"
                    .into()
            )
        );
        assert_eq!(found[6].1, Ok("ivy@example.com".into()));
    }

    #[test]
    fn an_empty_file_or_a_bad_header_stops_before_any_row() {
        for (data, message) in [
            (&b""[..], "the file is empty"),
            (b"\n\n", "the file is empty"),
            (
                b"Email,Phone\nann@example.com,1\n",
                "column 2 of the header row",
            ),
        ] {
            let Err(err) = RowReader::new(data, MatchOn::Email) else {
                panic!("{data:?} was accepted");
            };
            assert!(err.to_string().starts_with(message), "{err}");
        }
    }

    #[test]
    fn a_record_past_the_size_limit_stops_reading_at_its_first_line() {
        let mut data = b"Email\nann@example.com\n\"bob@example.com\n".to_vec();
        data.extend(b"more\n".repeat(super::super::lines::MAX_RECORD_BYTES / 4));
        let mut reader = RowReader::new(&data[..], MatchOn::Email).unwrap();
        assert!(reader.next_row().unwrap().unwrap().changes.is_ok());
        let err = reader.next_row().unwrap_err();
        assert!(matches!(err, ReadError::TooLong { line: 3, .. }), "{err}");
    }
}
