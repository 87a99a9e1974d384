//! Writing one batch: duplicate keys caught, rows upserted in one store call, the
//! outcomes counted and rejects recorded in file order, the records added to the
//! campaign.

use std::collections::HashSet;
use std::sync::Arc;

use csv::ByteRecord;
use herald_domain::clock::Clock;
use herald_domain::crm::{CrmObject, RecordChanges};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{CrmWriteError, MatchOn, RowError, RowOutcome, Store, StoreError};
use time::OffsetDateTime;

use super::progress::Progress;
use super::rows::Row;
use super::summary::{Reject, RejectsFile, Summary};
use super::touched::TouchedIds;
use super::{Batch, ImportError};

/// Writes batches and keeps the summary.
pub(super) struct BatchWriter {
    pub(super) store: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) mid: Mid,
    pub(super) object: CrmObject,
    pub(super) match_on: MatchOn,
    /// The records written so far.
    pub(super) touched: TouchedIds,
    /// Rows imported when the database's statistics are next brought up to date.
    pub(super) next_statistics: u64,
    pub(super) summary: Summary,
    pub(super) rejects: Option<RejectsFile>,
    pub(super) progress: Progress,
}

/// A row that passed its checks, waiting for the store's verdict.
struct Candidate {
    line: u64,
    fields: ByteRecord,
}

impl BatchWriter {
    /// Writes one batch; an error (the reason the import stops) leaves the batch
    /// uncounted unless its rows were written.
    pub(super) async fn write(&mut self, batch: Batch) -> Result<(), String> {
        let span = span(&batch.rows);
        let rows_read = batch.rows.len() as u64;
        let mut rejects: Vec<(Reject, ByteRecord)> = Vec::new();
        let mut checked: Vec<(Candidate, RecordChanges)> = Vec::with_capacity(batch.rows.len());
        for row in batch.rows {
            let candidate = Candidate {
                line: row.line,
                fields: row.fields,
            };
            match row.changes {
                Ok(changes) => checked.push((candidate, changes)),
                Err(reason) => rejects.push(reject(candidate, reason)),
            }
        }
        let written_before = self
            .keys_written_before(&checked)
            .await
            .map_err(|err| format!("{span}: cannot read the CRM: {err}"))?;
        let mut seen = HashSet::new();
        let mut candidates = Vec::with_capacity(checked.len());
        let mut changes = Vec::with_capacity(checked.len());
        for (candidate, row) in checked {
            if let Some(key) = self.match_on.key(&row)
                && (written_before.contains(&key) || !seen.insert(key))
            {
                let field = self.match_on;
                let reason =
                    format!("duplicate {field}: an earlier row of this file has the same {field}");
                rejects.push(reject(candidate, reason));
                continue;
            }
            candidates.push(candidate);
            changes.push(row);
        }
        let now = self.clock.now();
        let outcomes = self
            .store
            .upsert_records(self.mid, self.object, self.match_on, changes, now)
            .await
            .map_err(|err| format!("{span}: the database refused them: {err}"))?;
        let mut written = Vec::with_capacity(outcomes.len());
        for (candidate, outcome) in candidates.into_iter().zip(outcomes) {
            match outcome {
                RowOutcome::Created(id) => {
                    self.summary.created += 1;
                    written.push(id);
                }
                RowOutcome::Updated(id) => {
                    self.summary.updated += 1;
                    written.push(id);
                }
                RowOutcome::Failed(err) => rejects.push(reject(candidate, row_error(err))),
            }
        }
        for id in &written {
            self.touched.insert(*id);
        }
        self.summary.rows_read += rows_read;
        rejects.sort_by_key(|(reject, _)| reject.line);
        for (reject, fields) in rejects {
            if let Some(file) = &mut self.rejects {
                file.write(&reject, &fields)
                    .map_err(|err| format!("cannot write the rejects file: {err}"))?;
            }
            self.summary.reject(reject);
        }
        self.progress
            .update(self.summary.rows_read, batch.bytes_read);
        self.refresh_statistics().await;
        self.join_campaign(&written, now)
            .await
            .map_err(|err| format!("{span} were imported but not added to the campaign: {err}"))
    }

    /// The keys of `rows` that match records this import has written already.
    async fn keys_written_before(
        &self,
        rows: &[(Candidate, RecordChanges)],
    ) -> Result<HashSet<String>, StoreError> {
        let keys: HashSet<String> = rows
            .iter()
            .filter_map(|(_, changes)| self.match_on.key(changes))
            .collect();
        let keys: Vec<String> = keys.into_iter().collect();
        let matches = self
            .store
            .matching_records(self.mid, self.object, self.match_on, &keys)
            .await?;
        Ok(matches
            .into_iter()
            .filter(|(_, id)| self.touched.contains(*id))
            .map(|(key, _)| key)
            .collect())
    }

    /// Brings the database's statistics up to date each time the rows imported have
    /// doubled, so look-ups keep using indexes as the tables grow (a handful of times
    /// even for millions of rows). Failing to is only worth a warning.
    async fn refresh_statistics(&mut self) {
        let imported = self.summary.imported();
        if imported < self.next_statistics {
            return;
        }
        self.next_statistics = imported * 2;
        self.refresh_statistics_now().await;
    }

    /// Brings the statistics up to date at once: at the end of an import, so the first
    /// send to what was imported is planned with the tables' real sizes.
    pub(super) async fn refresh_statistics_now(&self) {
        if let Err(err) = self.store.refresh_record_statistics().await {
            tracing::warn!(error = %err, "cannot refresh the database's statistics");
        }
    }

    /// Adds the records to the campaign, if there is one.
    async fn join_campaign(
        &mut self,
        records: &[SalesforceId],
        now: OffsetDateTime,
    ) -> Result<(), CrmWriteError> {
        let Some(campaign) = &mut self.summary.campaign else {
            return Ok(());
        };
        if records.is_empty() {
            return Ok(());
        }
        let change = self
            .store
            .add_campaign_members(self.mid, campaign.id, records, now)
            .await?;
        campaign.added += change.changed;
        Ok(())
    }

    /// The summary, or the reason for stopping with the summary so far.
    pub(super) fn finish(self, mut stopped: Option<String>) -> Result<Summary, ImportError> {
        self.progress.finish();
        let mut summary = self.summary;
        if let Some(file) = self.rejects
            && let Err(err) = file.finish()
        {
            stopped.get_or_insert(format!("cannot write the rejects file: {err}"));
        }
        match stopped {
            None => Ok(summary),
            Some(reason) => {
                summary.stopped = Some(reason);
                Err(ImportError::Stopped(Box::new(summary)))
            }
        }
    }
}

fn reject(candidate: Candidate, reason: String) -> (Reject, ByteRecord) {
    let reject = Reject {
        line: candidate.line,
        reason,
    };
    (reject, candidate.fields)
}

/// A store's reason, in the words of a file rather than a request.
fn row_error(err: RowError) -> String {
    match err {
        RowError::RepeatedInRequest(field) => {
            format!("duplicate {field}: another row of this file has the same {field}")
        }
        other => other.to_string(),
    }
}

/// Where a batch lies in the file.
fn span(rows: &[Row]) -> String {
    match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => format!("the rows of lines {} to {}", first.line, last.line),
        _ => "no rows".to_owned(),
    }
}
