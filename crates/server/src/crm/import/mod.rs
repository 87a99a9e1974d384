//! Importing Contacts or Leads from a CSV file (`herald crm import`).
//!
//! The file is streamed: a thread reads and checks rows (each field exactly as the REST
//! API checks it, through `RecordChanges::set`) and hands them over in batches of
//! [`BATCH_ROWS`]; each batch is written by one store call, in one transaction, while the
//! next is read. At most three batches exist at once, so memory stays the same whatever
//! the size of the file.
//!
//! Rows are matched on Email (or ExternalId): a match is updated, anything else created.
//! A row that cannot be imported is rejected with its line number and the reason, and
//! the others go on. Two rows of one file with the same key are a mistake in the file,
//! not an update: the later one is rejected. Within a batch that is seen from the keys;
//! across batches, from the records this import has written (a bitmap of their ids, in
//! `touched`), so no key needs to be remembered.
//!
//! Everything that can be checked before writing (the file, its header row, the
//! account, the campaign) is checked first: a fatal error there writes nothing.

mod header;
mod lines;
mod progress;
mod rows;
mod summary;
mod touched;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use herald_domain::clock::Clock;
use herald_domain::crm::CrmObject;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{Campaigns, MatchOn, Store, StoreError};
use tokio::sync::mpsc;

pub use header::HeaderError;
use progress::Progress;
pub use rows::ReadError;
use rows::{Row, RowReader};
use summary::RejectsFile;
pub use summary::{CampaignSummary, MAX_LISTED, Reject, Summary};
use touched::TouchedIds;
use writer::BatchWriter;

/// Rows per store call (and per transaction).
pub const BATCH_ROWS: usize = 2000;

/// What to import, and how.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub object: CrmObject,
    pub file: PathBuf,
    /// The account; the first one when not given.
    pub mid: Option<Mid>,
    pub match_on: MatchOn,
    /// A campaign the imported records join.
    pub campaign: Option<SalesforceId>,
    /// Where to write every rejected row.
    pub rejects: Option<PathBuf>,
}

/// Why an import did not run to the end of its file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {reason}")]
    Open {
        path: String,
        reason: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Header { path: String, reason: ReadError },
    #[error("no account exists yet: create one with `herald account create`")]
    NoAccount,
    #[error("there is no account with MID {0}; `herald account list` shows them")]
    UnknownAccount(Mid),
    #[error("there is no campaign {campaign} in account {mid}")]
    UnknownCampaign { campaign: SalesforceId, mid: Mid },
    #[error("cannot create the rejects file {path}: {reason}")]
    RejectsFile {
        path: String,
        reason: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stopped part way; the summary says what went in before.
    #[error(
        "{}; {} rows were imported before that ({} created, {} updated)",
        .0.stopped.as_deref().unwrap_or("stopped"), .0.imported(), .0.created, .0.updated
    )]
    Stopped(Box<Summary>),
}

/// Imports `request.file`, showing progress on stderr. Returns the summary when the
/// whole file was read, rejected rows or not.
pub async fn import(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    request: ImportRequest,
) -> Result<Summary, ImportError> {
    let path = request.file.display().to_string();
    let file = File::open(&request.file).map_err(|reason| ImportError::Open {
        path: path.clone(),
        reason,
    })?;
    let file_size = file.metadata().map(|meta| meta.len()).unwrap_or_default();
    let reader = RowReader::new(file, request.match_on).map_err(|reason| ImportError::Header {
        path: path.clone(),
        reason,
    })?;
    let mid = account(store.as_ref(), request.mid).await?;
    if let Some(campaign) = request.campaign
        && store.get_target(Campaigns, mid, campaign).await?.is_none()
    {
        return Err(ImportError::UnknownCampaign { campaign, mid });
    }
    let rejects = match &request.rejects {
        Some(rejects) => Some(create_rejects(rejects, &reader)?),
        None => None,
    };
    let summary = Summary {
        file: path,
        object: request.object.name(),
        account_id: mid.get(),
        match_on: request.match_on.name(),
        rows_read: 0,
        created: 0,
        updated: 0,
        rejected: 0,
        campaign: request.campaign.map(|id| CampaignSummary { id, added: 0 }),
        rejects: Vec::new(),
        rejects_not_listed: 0,
        rejects_file: request.rejects.map(|path| path.display().to_string()),
        stopped: None,
    };
    let mut writer = BatchWriter {
        store,
        clock,
        mid,
        object: request.object,
        match_on: request.match_on,
        touched: TouchedIds::default(),
        next_statistics: BATCH_ROWS as u64,
        summary,
        rejects,
        progress: Progress::new(file_size),
    };
    let (sender, mut receiver) = mpsc::channel(1);
    let reading = tokio::task::spawn_blocking(move || read_batches(reader, &sender));
    let mut stopped = None;
    while let Some(batch) = receiver.recv().await {
        let written = match batch {
            Ok(batch) => writer.write(batch).await,
            Err(err) => Err(err.to_string()),
        };
        if let Err(reason) = written {
            stopped = Some(reason);
            break;
        }
    }
    // Dropping the receiver ends the reading thread at its next batch.
    drop(receiver);
    if let Err(err) = reading.await {
        stopped.get_or_insert(format!("reading the file failed: {err}"));
    }
    writer.refresh_statistics_now().await;
    writer.finish(stopped)
}

/// The account to import into: the one asked for, or the first.
async fn account(store: &dyn Store, mid: Option<Mid>) -> Result<Mid, ImportError> {
    match mid {
        Some(mid) if store.get_account(mid).await?.is_some() => Ok(mid),
        Some(mid) => Err(ImportError::UnknownAccount(mid)),
        None => Ok(store
            .list_accounts()
            .await?
            .first()
            .ok_or(ImportError::NoAccount)?
            .mid),
    }
}

fn create_rejects(path: &Path, reader: &RowReader<File>) -> Result<RejectsFile, ImportError> {
    RejectsFile::create(path, reader.header()).map_err(|reason| ImportError::RejectsFile {
        path: path.display().to_string(),
        reason,
    })
}

/// Rows read together, and how far into the file they end.
struct Batch {
    rows: Vec<Row>,
    bytes_read: u64,
}

/// Reads the file into batches until its end, a fatal error, or the receiver is gone.
fn read_batches(mut reader: RowReader<File>, sender: &mpsc::Sender<Result<Batch, ReadError>>) {
    loop {
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let end = loop {
            match reader.next_row() {
                Ok(Some(row)) => {
                    rows.push(row);
                    if rows.len() == BATCH_ROWS {
                        break None;
                    }
                }
                Ok(None) => break Some(Ok(())),
                Err(err) => break Some(Err(err)),
            }
        };
        let bytes_read = reader.bytes_read();
        if !rows.is_empty()
            && sender
                .blocking_send(Ok(Batch { rows, bytes_read }))
                .is_err()
        {
            return;
        }
        match end {
            None => {}
            Some(Ok(())) => return,
            Some(Err(err)) => {
                let _ = sender.blocking_send(Err(err));
                return;
            }
        }
    }
}
