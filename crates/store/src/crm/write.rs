//! Writing Contacts and Leads: one record or a batch (an upsert matched on Email or
//! ExternalId), decided row by row. A row that breaks a rule is reported and not written;
//! the others are written together, in one transaction.
//!
//! Every rule is checked before anything is written (under a per-account lock), so no
//! row can fail inside the database and take the batch down with it.

use std::collections::{HashMap, HashSet};
use std::fmt;

use herald_domain::crm::{CrmObject, RecordChanges, fold};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::MAX_CUSTOM_FIELDS;
use super::decode::id_column;
use super::fields::{self, as_number};
use super::ids::{lock_account, mint};
use crate::sql::{Bind, CHUNK, Sql, insert_rows};
use crate::timestamp::to_millis;
use crate::{SqlStore, StoreError};

/// The field a batch upsert matches existing records on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOn {
    /// The same address, compared without regard to case.
    Email,
    /// The same ExternalId, compared without regard to case.
    ExternalId,
}

impl MatchOn {
    /// Both, Email first.
    pub const ALL: [MatchOn; 2] = [MatchOn::Email, MatchOn::ExternalId];

    /// The field's API name.
    pub fn name(self) -> &'static str {
        match self {
            MatchOn::Email => "Email",
            MatchOn::ExternalId => "ExternalId",
        }
    }

    /// `Email` or `ExternalId`, in any case.
    pub fn parse(text: &str) -> Option<MatchOn> {
        MatchOn::ALL
            .into_iter()
            .find(|candidate| candidate.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The key a row is matched on (its folded Email or ExternalId), if it has one. Two
    /// rows with the same key match the same records.
    pub fn key(self, changes: &RecordChanges) -> Option<String> {
        match self {
            MatchOn::Email => changes.email.as_ref().map(|email| email.normalized()),
            MatchOn::ExternalId => external_key(changes),
        }
    }

    /// The column holding keys (a fixed name, never client text).
    pub(crate) fn key_column(self) -> &'static str {
        match self {
            MatchOn::Email => "email_key",
            MatchOn::ExternalId => "external_id_key",
        }
    }
}

impl fmt::Display for MatchOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What became of one row of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Created(SalesforceId),
    Updated(SalesforceId),
    /// Not written, for this reason.
    Failed(RowError),
}

/// Why a row was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("no such record")]
    NotFound,
    #[error("the record was changed by another request since it was read")]
    Stale,
    #[error("an Email is required to create a record")]
    EmailRequired,
    #[error("matching on {0} needs an {0} in every row")]
    MatchKeyMissing(MatchOn),
    #[error("another row of this request has the same {0}")]
    RepeatedInRequest(MatchOn),
    #[error("{0} records have this Email: match on ExternalId, or update them one by one")]
    AmbiguousEmail(usize),
    #[error("another record has this ExternalId")]
    ExternalIdTaken,
    #[error("custom field {0} is given twice")]
    RepeatedField(String),
    #[error(
        "{object} has its maximum of {MAX_CUSTOM_FIELDS} custom fields: {field} would be one more"
    )]
    TooManyFields { object: CrmObject, field: String },
}

/// What a row asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowTarget {
    Create,
    /// The record with this id, if it is still at this version.
    Update(SalesforceId, i64),
    Match(MatchOn),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Insert,
    Update(SalesforceId),
}

/// Custom field changes of one row, by canonical name.
type CustomValues = Vec<(String, Option<String>)>;

/// Checks and writes `rows` of `object` in `mid`, returning one outcome per row, in order.
pub(crate) async fn write_rows(
    store: &SqlStore,
    mid: Mid,
    object: CrmObject,
    rows: Vec<(RowTarget, RecordChanges)>,
    now: OffsetDateTime,
) -> Result<Vec<RowOutcome>, StoreError> {
    let mut tx = store.write_tx().await?;
    lock_account(&mut tx, store.backend, mid).await?;
    let existing = Existing::load(&mut tx, mid, object, &rows).await?;
    let mut plans = plan_rows(&rows, &existing);
    let known = fields::custom_field_names(&mut tx, mid, object).await?;
    let (custom, new_fields) = resolve_custom(object, &rows, &mut plans, &known);
    let inserts = plans
        .iter()
        .filter(|plan| plan == &&Ok(Plan::Insert))
        .count();
    let mut minted = mint(&mut tx, object.key_prefix(), inserts)
        .await?
        .into_iter();
    let outcomes: Vec<RowOutcome> = plans
        .into_iter()
        .map(|plan| match plan {
            Ok(Plan::Insert) => {
                RowOutcome::Created(minted.next().expect("one id was minted per insert"))
            }
            Ok(Plan::Update(id)) => RowOutcome::Updated(id),
            Err(err) => RowOutcome::Failed(err),
        })
        .collect();
    insert_records(&mut tx, mid, object, &rows, &outcomes, now).await?;
    update_records(&mut tx, mid, &rows, &outcomes, now).await?;
    write_custom(&mut tx, mid, &outcomes, &custom).await?;
    fields::define(&mut tx, mid, object, &new_fields, now).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// What the database holds for the keys a batch mentions.
struct Existing {
    /// Records by folded Email (only for rows matched on Email).
    by_email: HashMap<String, Vec<SalesforceId>>,
    /// Records by folded ExternalId (every ExternalId a row matches on or sets).
    by_external_id: HashMap<String, SalesforceId>,
    /// Records that rows want to update by id and that exist, with their versions.
    versions: HashMap<SalesforceId, i64>,
}

impl Existing {
    async fn load(
        conn: &mut AnyConnection,
        mid: Mid,
        object: CrmObject,
        rows: &[(RowTarget, RecordChanges)],
    ) -> Result<Self, StoreError> {
        let emails: HashSet<String> = rows
            .iter()
            .filter(|(target, _)| matches!(target, RowTarget::Match(MatchOn::Email)))
            .filter_map(|(_, changes)| MatchOn::Email.key(changes))
            .collect();
        let external_ids: HashSet<String> = rows
            .iter()
            .filter_map(|(_, changes)| external_key(changes))
            .collect();
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|(target, _)| match target {
                RowTarget::Update(id, _) => Some(id.to_string()),
                _ => None,
            })
            .collect();
        let mut existing = Existing {
            by_email: HashMap::new(),
            by_external_id: HashMap::new(),
            versions: HashMap::new(),
        };
        for (key, id) in lookup(conn, mid, object, MatchOn::Email.key_column(), emails).await? {
            existing.by_email.entry(key).or_default().push(id);
        }
        let external_id_key = MatchOn::ExternalId.key_column();
        existing.by_external_id = lookup(conn, mid, object, external_id_key, external_ids)
            .await?
            .into_iter()
            .collect();
        existing.versions = versions(conn, mid, object, &ids).await?;
        Ok(existing)
    }
}

/// The versions of the records of `object` in `mid` with these ids.
async fn versions(
    conn: &mut AnyConnection,
    mid: Mid,
    object: CrmObject,
    ids: &[String],
) -> Result<HashMap<SalesforceId, i64>, StoreError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new("SELECT id, version FROM crm_records WHERE mid = ");
        sql.bind(mid.get())
            .push(" AND object = ")
            .bind(object.name())
            .push(" AND id IN ")
            .bind_list(chunk.iter().cloned());
        for row in sql.query().fetch_all(&mut *conn).await? {
            found.insert(id_column(&row, "id")?, row.try_get("version")?);
        }
    }
    Ok(found)
}

/// The folded ExternalId a row sets, if it sets one.
fn external_key(changes: &RecordChanges) -> Option<String> {
    changes.external_id.as_ref()?.as_deref().map(fold)
}

/// `(value, id)` of the records of `object` in `mid` whose `column` is one of `values`.
/// `column` is one of a few fixed names, never client text.
pub(crate) async fn lookup(
    conn: &mut AnyConnection,
    mid: Mid,
    object: CrmObject,
    column: &'static str,
    values: HashSet<String>,
) -> Result<Vec<(String, SalesforceId)>, StoreError> {
    let values: Vec<String> = values.into_iter().collect();
    let mut found = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let mut sql = Sql::new(&format!(
            "SELECT id, {column} AS matched FROM crm_records WHERE mid = "
        ));
        sql.bind(mid.get())
            .push(" AND object = ")
            .bind(object.name())
            .push(&format!(" AND {column} IN "))
            .bind_list(chunk.iter().cloned());
        for row in sql.query().fetch_all(&mut *conn).await? {
            found.push((row.try_get("matched")?, id_column(&row, "id")?));
        }
    }
    Ok(found)
}

/// Decides, for each row, whether it creates or updates a record, or why it cannot.
fn plan_rows(
    rows: &[(RowTarget, RecordChanges)],
    existing: &Existing,
) -> Vec<Result<Plan, RowError>> {
    let mut email_rows: HashMap<String, usize> = HashMap::new();
    let mut external_id_rows: HashMap<String, usize> = HashMap::new();
    for (target, changes) in rows {
        if let (RowTarget::Match(MatchOn::Email), Some(key)) = (target, MatchOn::Email.key(changes))
        {
            *email_rows.entry(key).or_default() += 1;
        }
        if let Some(key) = external_key(changes) {
            *external_id_rows.entry(key).or_default() += 1;
        }
    }
    rows.iter()
        .map(|(target, changes)| {
            let plan = match target {
                RowTarget::Create => Plan::Insert,
                RowTarget::Update(id, version) => match existing.versions.get(id) {
                    None => return Err(RowError::NotFound),
                    Some(current) if current != version => return Err(RowError::Stale),
                    Some(_) => Plan::Update(*id),
                },
                RowTarget::Match(MatchOn::Email) => {
                    let key = MatchOn::Email
                        .key(changes)
                        .ok_or(RowError::MatchKeyMissing(MatchOn::Email))?;
                    if email_rows[&key] > 1 {
                        return Err(RowError::RepeatedInRequest(MatchOn::Email));
                    }
                    match existing.by_email.get(&key).map(Vec::as_slice) {
                        None | Some([]) => Plan::Insert,
                        Some([id]) => Plan::Update(*id),
                        Some(many) => return Err(RowError::AmbiguousEmail(many.len())),
                    }
                }
                RowTarget::Match(MatchOn::ExternalId) => {
                    let key = MatchOn::ExternalId
                        .key(changes)
                        .ok_or(RowError::MatchKeyMissing(MatchOn::ExternalId))?;
                    existing
                        .by_external_id
                        .get(&key)
                        .map_or(Plan::Insert, |id| Plan::Update(*id))
                }
            };
            if plan == Plan::Insert && changes.email.is_none() {
                return Err(RowError::EmailRequired);
            }
            if let Some(key) = external_key(changes) {
                if external_id_rows[&key] > 1 {
                    return Err(RowError::RepeatedInRequest(MatchOn::ExternalId));
                }
                match existing.by_external_id.get(&key) {
                    Some(owner) if plan != Plan::Update(*owner) => {
                        return Err(RowError::ExternalIdTaken);
                    }
                    _ => {}
                }
            }
            Ok(plan)
        })
        .collect()
}

/// Spells each row's custom fields as the object knows them, and finds the fields that
/// are new. A row that repeats a field, or would take the object past its field limit,
/// fails. Clearing a field the object does not have is nothing to do.
fn resolve_custom(
    object: CrmObject,
    rows: &[(RowTarget, RecordChanges)],
    plans: &mut [Result<Plan, RowError>],
    known: &[String],
) -> (Vec<CustomValues>, Vec<String>) {
    let mut catalog: HashMap<String, String> = known
        .iter()
        .map(|name| (name.to_ascii_lowercase(), name.clone()))
        .collect();
    let mut new_fields: Vec<String> = Vec::new();
    let mut resolved = Vec::with_capacity(rows.len());
    for ((_, changes), plan) in rows.iter().zip(plans.iter_mut()) {
        let mut values = CustomValues::new();
        if plan.is_ok() {
            let room = MAX_CUSTOM_FIELDS.saturating_sub(catalog.len());
            match resolve_row(object, changes, &catalog, room) {
                Ok((row_values, added)) => {
                    for name in added {
                        catalog.insert(name.to_ascii_lowercase(), name.clone());
                        new_fields.push(name);
                    }
                    values = row_values;
                }
                Err(err) => *plan = Err(err),
            }
        }
        resolved.push(values);
    }
    (resolved, new_fields)
}

/// One row's custom values by canonical name, and the names it adds (at most `room`).
fn resolve_row(
    object: CrmObject,
    changes: &RecordChanges,
    catalog: &HashMap<String, String>,
    room: usize,
) -> Result<(CustomValues, Vec<String>), RowError> {
    let mut seen = HashSet::new();
    let mut added: Vec<String> = Vec::new();
    let mut values = CustomValues::new();
    for (name, value) in &changes.custom {
        let key = name.key();
        if !seen.insert(key.clone()) {
            return Err(RowError::RepeatedField(name.to_string()));
        }
        let canonical = match catalog.get(&key) {
            Some(canonical) => canonical.clone(),
            None if value.is_none() => continue,
            None if added.len() >= room => {
                return Err(RowError::TooManyFields {
                    object,
                    field: name.to_string(),
                });
            }
            None => {
                added.push(name.to_string());
                name.to_string()
            }
        };
        values.push((canonical, value.clone()));
    }
    Ok((values, added))
}

async fn insert_records(
    conn: &mut AnyConnection,
    mid: Mid,
    object: CrmObject,
    rows: &[(RowTarget, RecordChanges)],
    outcomes: &[RowOutcome],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let created: Vec<(SalesforceId, &RecordChanges)> = rows
        .iter()
        .zip(outcomes)
        .filter_map(|((_, changes), outcome)| match outcome {
            RowOutcome::Created(id) => Some((*id, changes)),
            _ => None,
        })
        .collect();
    for chunk in created.chunks(insert_rows(14)) {
        let mut sql = Sql::new(
            "INSERT INTO crm_records (id, mid, object, email, email_key, first_name, \
             first_name_key, last_name, last_name_key, has_opted_out, external_id, \
             external_id_key, created_at, modified_at) VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|(id, changes)| {
            let email = (changes.email.as_ref()).expect("a row without an Email is not created");
            let first_name = changes.first_name.clone().flatten();
            let last_name = changes.last_name.clone().flatten();
            let external_id = changes.external_id.clone().flatten();
            [
                Bind::Text(id.to_string()),
                Bind::Int(mid.get()),
                Bind::from(object.name()),
                Bind::from(email.as_str()),
                Bind::Text(email.normalized()),
                Bind::from(first_name.clone()),
                Bind::from(first_name.as_deref().map(fold)),
                Bind::from(last_name.clone()),
                Bind::from(last_name.as_deref().map(fold)),
                Bind::Int(i64::from(changes.has_opted_out.unwrap_or(false))),
                Bind::from(external_id.clone()),
                Bind::from(external_id.as_deref().map(fold)),
                Bind::Int(to_millis(now)),
                Bind::Int(to_millis(now)),
            ]
        }));
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn update_records(
    conn: &mut AnyConnection,
    mid: Mid,
    rows: &[(RowTarget, RecordChanges)],
    outcomes: &[RowOutcome],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for ((_, changes), outcome) in rows.iter().zip(outcomes) {
        let RowOutcome::Updated(id) = outcome else {
            continue;
        };
        let mut sql = Sql::new("UPDATE crm_records SET version = version + 1, modified_at = ");
        sql.bind(to_millis(now));
        if let Some(email) = &changes.email {
            sql.push(", email = ")
                .bind(email.as_str())
                .push(", email_key = ")
                .bind(email.normalized());
        }
        let texts = [
            ("first_name", &changes.first_name),
            ("last_name", &changes.last_name),
            ("external_id", &changes.external_id),
        ];
        for (column, change) in texts {
            if let Some(value) = change {
                sql.push(&format!(", {column} = "))
                    .bind(value.clone())
                    .push(&format!(", {column}_key = "))
                    .bind(value.as_deref().map(fold));
            }
        }
        if let Some(opted_out) = changes.has_opted_out {
            sql.push(", has_opted_out = ").bind(i64::from(opted_out));
        }
        sql.push(" WHERE mid = ")
            .bind(mid.get())
            .push(" AND id = ")
            .bind(id.to_string());
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets and clears custom field values of the rows that were written.
async fn write_custom(
    conn: &mut AnyConnection,
    mid: Mid,
    outcomes: &[RowOutcome],
    custom: &[CustomValues],
) -> Result<(), StoreError> {
    let mut set: Vec<(SalesforceId, &str, &str)> = Vec::new();
    for (outcome, values) in outcomes.iter().zip(custom) {
        let (RowOutcome::Created(id) | RowOutcome::Updated(id)) = outcome else {
            continue;
        };
        for (field, value) in values {
            match (value, outcome) {
                (Some(value), _) => set.push((*id, field, value)),
                (None, RowOutcome::Updated(_)) => {
                    sqlx::query("DELETE FROM crm_field_values WHERE record_id = $1 AND field = $2")
                        .bind(id.to_string())
                        .bind(field.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
                (None, _) => {}
            }
        }
    }
    for chunk in set.chunks(insert_rows(6)) {
        let mut sql = Sql::new(
            "INSERT INTO crm_field_values (record_id, field, mid, value, value_key, value_number) \
             VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|(id, field, value)| {
            [
                Bind::Text(id.to_string()),
                Bind::from(*field),
                Bind::Int(mid.get()),
                Bind::from(*value),
                Bind::Text(fold(value)),
                Bind::from(as_number(value)),
            ]
        }));
        sql.push(
            " ON CONFLICT (record_id, field) DO UPDATE SET value = excluded.value, \
             value_key = excluded.value_key, value_number = excluded.value_number",
        );
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}
