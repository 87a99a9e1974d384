//! Reading and writing the columns the two send tables share.

use herald_domain::mid::Mid;
use herald_domain::send::counts::SendCounts;
use herald_domain::send::status::InstanceStatus;
use herald_domain::send::target::Target;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{SendDefinition, SendInstance};
use crate::row::{Flag, JsonText, Millis, StoredMid};
use crate::timestamp::from_millis;

/// The columns [`definition`] reads.
pub(super) const DEFINITION_COLUMNS: &str = "id, mid, external_key, name, description, \
     email_id, send_classification_id, targets, exclusions, deduplicate_by_email, \
     created_at, modified_at, version";

/// The columns [`instance`] reads.
pub(crate) const INSTANCE_COLUMNS: &str = "id, mid, definition_id, status, email_id, \
     send_classification_id, targets, exclusions, deduplicate_by_email, \
     all_recipients_opted_in, scheduled_at, started_at, completed_at, sync_id, job_id, \
     message, targeted, excluded, suppressed, duplicates, sent, deferred, bounced, failed, \
     created_at, modified_at";

/// Targets as stored: a JSON array.
pub(super) fn targets_json(targets: &[Target]) -> Result<String, sqlx::Error> {
    serde_json::to_string(targets).map_err(|err| sqlx::Error::Encode(err.into()))
}

fn targets(row: &AnyRow, column: &str) -> Result<Vec<Target>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|err| sqlx::Error::Decode(err.into()))
}

fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// A row of `send_definitions`, as [`DEFINITION_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
struct DefinitionRow {
    id: i64,
    #[sqlx(try_from = "i64")]
    mid: StoredMid,
    external_key: String,
    name: String,
    description: String,
    email_id: i64,
    send_classification_id: i64,
    #[sqlx(try_from = "String")]
    targets: JsonText<Vec<Target>>,
    #[sqlx(try_from = "String")]
    exclusions: JsonText<Vec<Target>>,
    #[sqlx(try_from = "i64")]
    deduplicate_by_email: Flag,
    #[sqlx(try_from = "i64")]
    created_at: Millis,
    #[sqlx(try_from = "i64")]
    modified_at: Millis,
    version: i64,
}

pub(super) fn definition(row: &AnyRow) -> Result<SendDefinition, sqlx::Error> {
    let row = DefinitionRow::from_row(row)?;
    Ok(SendDefinition {
        id: row.id,
        mid: row.mid.0,
        external_key: row.external_key,
        name: row.name,
        description: row.description,
        email_id: row.email_id,
        send_classification_id: row.send_classification_id,
        targets: row.targets.0,
        exclusions: row.exclusions.0,
        deduplicate_by_email: row.deduplicate_by_email.0,
        created_at: row.created_at.0,
        modified_at: row.modified_at.0,
        version: row.version,
    })
}

pub(crate) fn instance(row: &AnyRow) -> Result<SendInstance, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let optional_time = |column: &str| -> Result<_, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(column)?.map(from_millis))
    };
    Ok(SendInstance {
        id: row.try_get("id")?,
        mid: Mid::from_stored(row.try_get("mid")?),
        definition_id: row.try_get("definition_id")?,
        status: InstanceStatus::parse(&status).map_err(|err| sqlx::Error::Decode(err.into()))?,
        email_id: row.try_get("email_id")?,
        send_classification_id: row.try_get("send_classification_id")?,
        targets: targets(row, "targets")?,
        exclusions: targets(row, "exclusions")?,
        deduplicate_by_email: flag(row, "deduplicate_by_email")?,
        all_recipients_opted_in: flag(row, "all_recipients_opted_in")?,
        scheduled_at: from_millis(row.try_get("scheduled_at")?),
        started_at: optional_time("started_at")?,
        completed_at: optional_time("completed_at")?,
        sync_id: row.try_get("sync_id")?,
        job_id: row.try_get("job_id")?,
        message: row.try_get("message")?,
        counts: SendCounts {
            targeted: row.try_get("targeted")?,
            excluded: row.try_get("excluded")?,
            suppressed: row.try_get("suppressed")?,
            duplicates: row.try_get("duplicates")?,
            sent: row.try_get("sent")?,
            deferred: row.try_get("deferred")?,
            bounced: row.try_get("bounced")?,
            failed: row.try_get("failed")?,
        },
        created_at: from_millis(row.try_get("created_at")?),
        modified_at: from_millis(row.try_get("modified_at")?),
    })
}

/// Booleans are stored as 0 or 1.
pub(super) fn to_flag(value: bool) -> i64 {
    i64::from(value)
}
