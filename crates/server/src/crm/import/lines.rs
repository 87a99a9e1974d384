//! A reader between the file and the CSV parser that keeps the bytes the parser has not
//! finished with, so that every record gets its true line numbers, and that refuses a
//! record longer than a limit.
//!
//! The csv crate's own line count drifts after blank lines and with CRLF line ends, so
//! lines are counted here instead, from the byte offsets the parser reports. The limit
//! matters when a quote is left open: the parser would otherwise pull the rest of the
//! file into one field, and so into memory.

use std::collections::VecDeque;
use std::io::{self, Read};

/// The longest record accepted, in bytes. A custom field holds up to 10,000 characters,
/// so this leaves room for dozens of full ones.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Why a read was refused: a record runs past [`MAX_RECORD_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("a record runs past {} MiB", MAX_RECORD_BYTES >> 20)]
pub struct RecordTooLong;

/// Where a record lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    /// The line the record starts on (1-based, blank lines before it skipped).
    pub first: u64,
    /// The line its last character is on.
    pub last: u64,
}

/// Wraps the file; the CSV parser reads through it.
pub struct LineTracker<R> {
    inner: R,
    /// Bytes read but not yet retired; `window[0]` is at offset `base`.
    window: VecDeque<u8>,
    base: u64,
    /// The line number of offset `base`.
    line_at_base: u64,
}

impl<R> LineTracker<R> {
    pub fn new(inner: R) -> Self {
        LineTracker {
            inner,
            window: VecDeque::new(),
            base: 0,
            line_at_base: 1,
        }
    }

    /// The lines of the record that ends at offset `end`, the previous one having ended
    /// where this one starts. Forgets the bytes before `end`.
    pub fn finish_record(&mut self, end: u64) -> Lines {
        let length = usize::try_from(end.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.window.len());
        let lines = self.scan(length);
        self.window.drain(..length);
        self.base += length as u64;
        self.line_at_base = lines.after;
        Lines {
            first: lines.first,
            last: lines.last,
        }
    }

    /// The line where the unfinished record (the one after the last finished) starts.
    pub fn pending_line(&self) -> u64 {
        self.scan(self.window.len()).first
    }

    /// Line numbers over the first `length` bytes of the window.
    fn scan(&self, length: usize) -> Scan {
        let mut line = self.line_at_base;
        let (mut first, mut last) = (None, line);
        for &byte in self.window.iter().take(length) {
            if byte == b'\n' {
                line += 1;
            } else if byte != b'\r' {
                first.get_or_insert(line);
                last = line;
            }
        }
        Scan {
            first: first.unwrap_or(line),
            last,
            after: line,
        }
    }
}

struct Scan {
    first: u64,
    last: u64,
    /// The line number just past the bytes scanned.
    after: u64,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // The window holds the current record and what was read ahead of it.
        if self.window.len() > MAX_RECORD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
        }
        let read = self.inner.read(buf)?;
        self.window.extend(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of each record of `data`, as the csv crate splits it.
    fn record_lines(data: &[u8]) -> Vec<(Vec<String>, Lines)> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineTracker::new(data));
        let mut record = csv::ByteRecord::new();
        let mut found = Vec::new();
        while csv.read_byte_record(&mut record).unwrap() {
            let end = csv.position().byte();
            let lines = csv.get_mut().finish_record(end);
            let fields = record
                .iter()
                .map(|field| String::from_utf8_lossy(field).into_owned())
                .collect();
            found.push((fields, lines));
        }
        found
    }

    fn lines(first: u64, last: u64) -> Lines {
        Lines { first, last }
    }

    #[test]
    fn lines_are_true_after_blank_lines_and_with_crlf_line_ends() {
        let found = record_lines(b"Email,X\r\na,b\r\n\r\n\r\nc,d\r\n\ne,f");
        let found: Vec<Lines> = found.into_iter().map(|(_, lines)| lines).collect();
        assert_eq!(found, [lines(1, 1), lines(2, 2), lines(5, 5), lines(7, 7)]);
    }

    #[test]
    fn a_record_with_line_breaks_in_quotes_spans_its_lines() {
        let found = record_lines(b"h\n\"a\nb\nc\",d\ne,f\n");
        assert_eq!(found[1].0, ["a\nb\nc", "d"]);
        assert_eq!(found[1].1, lines(2, 4));
        assert_eq!(found[2].1, lines(5, 5));
    }

    #[test]
    fn a_quote_left_open_is_stopped_at_the_size_limit_where_its_record_starts() {
        let mut data = b"Email\nann@example.com\n\"open\n".to_vec();
        data.extend(b"x\n".repeat(MAX_RECORD_BYTES));
        let mut csv = csv::ReaderBuilder::new().from_reader(LineTracker::new(&data[..]));
        let end = {
            csv.byte_headers().unwrap();
            csv.position().byte()
        };
        csv.get_mut().finish_record(end);
        let mut record = csv::ByteRecord::new();
        assert!(csv.read_byte_record(&mut record).unwrap());
        let end = csv.position().byte();
        assert_eq!(csv.get_mut().finish_record(end), lines(2, 2));
        let err = csv.read_byte_record(&mut record).unwrap_err();
        assert!(matches!(err.kind(), csv::ErrorKind::Io(_)), "{err}");
        assert_eq!(csv.get_ref().pending_line(), 3);
    }
}
