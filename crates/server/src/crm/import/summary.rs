//! What an import did: counts, the rejected rows (the first [`MAX_LISTED`] of them), and
//! the rejects file that keeps them all.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;

use csv::ByteRecord;
use herald_domain::salesforce_id::SalesforceId;
use serde::Serialize;

use super::header::Header;

/// The most rejected rows a summary lists; the rejects file has every one.
pub const MAX_LISTED: usize = 1000;

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    pub reason: String,
}

/// Members added to the campaign given with `--campaign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignSummary {
    pub id: SalesforceId,
    /// Records that became members (ones already in are not counted).
    pub added: u64,
}

/// The outcome of an import, printed as text or as one JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub file: String,
    /// `Contact` or `Lead`.
    pub object: &'static str,
    pub account_id: i64,
    /// `Email` or `ExternalId`.
    pub match_on: &'static str,
    /// Records after the header row, imported or not.
    pub rows_read: u64,
    pub created: u64,
    pub updated: u64,
    pub rejected: u64,
    pub campaign: Option<CampaignSummary>,
    /// The first [`MAX_LISTED`] rejected rows, in file order.
    pub rejects: Vec<Reject>,
    /// Rejected rows beyond those listed.
    pub rejects_not_listed: u64,
    /// Where every rejected row was written, with `--rejects`.
    pub rejects_file: Option<String>,
    /// Why the import stopped before the end of the file, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl Summary {
    /// Counts a rejected row, listing it while fewer than [`MAX_LISTED`] are.
    pub fn reject(&mut self, reject: Reject) {
        self.rejected += 1;
        if self.rejects.len() < MAX_LISTED {
            self.rejects.push(reject);
        } else {
            self.rejects_not_listed += 1;
        }
    }

    /// Rows that went in.
    pub fn imported(&self) -> u64 {
        self.created + self.updated
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Read {} rows of {} as {}s of account {}, matched on {}:",
            self.rows_read, self.file, self.object, self.account_id, self.match_on
        )?;
        writeln!(f, "  created:  {}", self.created)?;
        writeln!(f, "  updated:  {}", self.updated)?;
        writeln!(f, "  rejected: {}", self.rejected)?;
        if let Some(campaign) = &self.campaign {
            writeln!(f, "  added to campaign {}: {}", campaign.id, campaign.added)?;
        }
        if !self.rejects.is_empty() {
            writeln!(f, "Rejected rows:")?;
        }
        for reject in &self.rejects {
            writeln!(f, "  line {}: {}", reject.line, reject.reason)?;
        }
        match (&self.rejects_file, self.rejects_not_listed) {
            (Some(path), 0) => writeln!(f, "Rejected rows are in {path}.")?,
            (Some(path), more) => writeln!(f, "  … and {more} more, all in {path}.")?,
            (None, 0) => {}
            (None, more) => writeln!(f, "  … and {more} more (--rejects FILE.csv lists all).")?,
        }
        if let Some(reason) = &self.stopped {
            writeln!(f, "Stopped early: {reason}")?;
        }
        Ok(())
    }
}

/// A CSV file of rejected rows: `line` and `reason`, then the row's fields as they were
/// under the import file's own header.
pub struct RejectsFile {
    writer: csv::Writer<File>,
}

impl RejectsFile {
    /// Creates (or replaces) the file and writes its header row.
    pub fn create(path: &Path, header: &Header) -> io::Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(File::create(path)?);
        let names = header.names().iter().map(String::as_str);
        writer.write_record(["line", "reason"].into_iter().chain(names))?;
        Ok(RejectsFile { writer })
    }

    pub fn write(&mut self, reject: &Reject, fields: &ByteRecord) -> io::Result<()> {
        let line = reject.line.to_string();
        let leading = [line.as_bytes(), reject.reason.as_bytes()];
        self.writer
            .write_record(leading.into_iter().chain(fields.iter()))?;
        Ok(())
    }

    /// Writes out what is buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            file: "people.csv".into(),
            object: "Contact",
            account_id: 100_000_001,
            match_on: "Email",
            rows_read: 0,
            created: 0,
            updated: 0,
            rejected: 0,
            campaign: None,
            rejects: Vec::new(),
            rejects_not_listed: 0,
            rejects_file: None,
            stopped: None,
        }
    }

    #[test]
    fn the_listing_stops_at_its_cap_and_says_how_many_more() {
        let mut summary = summary();
        for line in 0..MAX_LISTED as u64 + 5 {
            summary.reject(Reject {
                line,
                reason: "bad".into(),
            });
        }
        assert_eq!(summary.rejected, MAX_LISTED as u64 + 5);
        assert_eq!(summary.rejects.len(), MAX_LISTED);
        assert_eq!(summary.rejects_not_listed, 5);
        let text = summary.to_string();
        assert!(
            text.ends_with("  … and 5 more (--rejects FILE.csv lists all).\n"),
            "{text}"
        );
    }

    #[test]
    fn the_rejects_file_keeps_each_row_as_it_was_after_its_line_and_reason() {
        let dir = herald_test_support::temp_dir("herald-rejects");
        let path = dir.join("rejects.csv");
        let header = Header::parse(
            &ByteRecord::from(vec!["Email", "FirstName"]),
            herald_store::MatchOn::Email,
        )
        .unwrap();
        let mut file = RejectsFile::create(&path, &header).unwrap();
        let reject = Reject {
            line: 7,
            reason: "invalid UTF-8 in column FirstName".into(),
        };
        let fields = ByteRecord::from(vec![&b"ann@example.com"[..], b"R\xe9, \"Ann\""]);
        file.write(&reject, &fields).unwrap();
        file.write(
            &Reject {
                line: 9,
                reason: "expected 2 fields, found 1".into(),
            },
            &ByteRecord::from(vec!["x"]),
        )
        .unwrap();
        file.finish().unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(
            written,
            b"line,reason,Email,FirstName\n\
              7,invalid UTF-8 in column FirstName,ann@example.com,\"R\xe9, \"\"Ann\"\"\"\n\
              9,\"expected 2 fields, found 1\",x\n"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
