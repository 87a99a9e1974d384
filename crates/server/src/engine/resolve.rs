//! Audience resolution: from a started instance's targets to one recipient row per
//! message, written in batches, in bounded memory.
//!
//! Idempotent: a node that dies halfway leaves its lease to expire; the next node runs
//! the whole resolution again and the rows already written are skipped.

use std::collections::HashSet;

use futures_util::StreamExt;
use herald_domain::crm::CrmRecord;
use herald_domain::recipient::RecipientStatus;
use herald_store::{NewRecipient, SendInstance};
use serde_json::{Map, Value};

use super::Engine;
use super::plan::PlanError;
use crate::crm::CrmError;

/// Records per batch written (and per exclusion batch applied).
const BATCH: usize = 500;

/// Why resolution stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The instance cannot be sent; the message says why (it goes to the instance).
    #[error("{0}")]
    Unsendable(String),
    /// Another node took the instance over (this one's lease expired).
    #[error("the lease on the instance was lost")]
    LeaseLost,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<PlanError> for ResolveError {
    fn from(err: PlanError) -> Self {
        match err {
            PlanError::Unusable(message) => ResolveError::Unsendable(message),
            PlanError::Store(err) => ResolveError::Failed(err.into()),
        }
    }
}

impl From<herald_store::StoreError> for ResolveError {
    fn from(err: herald_store::StoreError) -> Self {
        ResolveError::Failed(err.into())
    }
}

impl From<CrmError> for ResolveError {
    fn from(err: CrmError) -> Self {
        match err {
            CrmError::UnknownTarget(target) => {
                ResolveError::Unsendable(format!("{} {} no longer exists", target.kind, target.id))
            }
            other => ResolveError::Failed(other.into()),
        }
    }
}

/// The personalization values of a record, by lower-case field name.
fn fields_json(record: &CrmRecord) -> String {
    let mut fields = Map::new();
    let mut put = |name: &str, value: Option<&str>| {
        fields.insert(
            name.to_ascii_lowercase(),
            value.map_or(Value::Null, |v| Value::String(v.to_owned())),
        );
    };
    put("Id", Some(record.id.as_str()));
    put("Email", Some(record.email.as_str()));
    put("FirstName", record.first_name.as_deref());
    put("LastName", record.last_name.as_deref());
    put(
        "HasOptedOutOfEmail",
        Some(if record.has_opted_out {
            "true"
        } else {
            "false"
        }),
    );
    put("ExternalId", record.external_id.as_deref());
    for (name, value) in &record.custom {
        put(name, Some(value));
    }
    Value::Object(fields).to_string()
}

impl Engine {
    /// Resolves the audience of an instance this node has just claimed, then lets its
    /// delivery begin; an instance that cannot be sent is put in `Error`.
    pub(super) async fn resolve(&self, instance: SendInstance) {
        let id = instance.id;
        match self.resolve_audience(&instance).await {
            Ok(()) => tracing::info!(instance = id, "audience resolved"),
            Err(ResolveError::Unsendable(message)) => {
                tracing::warn!(instance = id, %message, "send instance cannot be sent");
                let now = self.state.clock.now();
                if let Err(err) = self.state.store.fail_instance(id, &message, now).await {
                    tracing::error!(instance = id, error = %err, "could not record the error");
                }
            }
            Err(ResolveError::LeaseLost) => {
                tracing::warn!(instance = id, "another node took over the resolution")
            }
            // The lease expires and this or another node tries again.
            Err(ResolveError::Failed(err)) => {
                tracing::error!(instance = id, error = %format!("{err:#}"), "audience resolution failed")
            }
        }
    }

    async fn resolve_audience(&self, instance: &SendInstance) -> Result<(), ResolveError> {
        let mid = instance.mid;
        let crm = self.state.crm.as_ref();
        let plan = self.plan(instance).await?;
        let mut fields: HashSet<String> = HashSet::new();
        for target in instance.targets.iter().chain(&instance.exclusions) {
            let target = target.crm_ref();
            crm.target(mid, target)
                .await?
                .ok_or(CrmError::UnknownTarget(target))?;
        }
        for target in &instance.targets {
            let names = crm.fields(mid, target.crm_ref()).await?;
            fields.extend(names.into_iter().map(|name| name.to_ascii_lowercase()));
        }
        if let Some(undefined) = plan.undefined_names(&fields) {
            return Err(ResolveError::Unsendable(undefined));
        }
        let mut streamed: i64 = 0;
        let mut written: i64 = 0;
        for target in &instance.targets {
            let mut members = crm.members(mid, target.crm_ref()).chunks(BATCH);
            while let Some(chunk) = members.next().await {
                let batch = chunk
                    .into_iter()
                    .map(|record| {
                        let record = record?;
                        let opted_out = plan.commercial && record.has_opted_out;
                        Ok(NewRecipient {
                            instance_id: instance.id,
                            mid,
                            record_id: record.id.as_str().to_owned(),
                            email: record.email.as_str().to_owned(),
                            email_norm: record.email.normalized(),
                            domain: record.email.domain().to_owned(),
                            fields: fields_json(&record),
                            status: if opted_out {
                                RecipientStatus::Suppressed
                            } else {
                                RecipientStatus::Queued
                            },
                        })
                    })
                    .collect::<Result<Vec<_>, CrmError>>()?;
                streamed += batch.len() as i64;
                written += self.state.store.insert_recipients(&batch).await? as i64;
                self.keep_lease(instance.id).await?;
            }
        }
        for exclusion in &instance.exclusions {
            let mut members = crm.members(mid, exclusion.crm_ref()).chunks(BATCH);
            while let Some(chunk) = members.next().await {
                let records = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
                let ids: Vec<String> = records.iter().map(|r| r.id.as_str().to_owned()).collect();
                let emails: Vec<String> = records.iter().map(|r| r.email.normalized()).collect();
                self.state
                    .store
                    .exclude_recipients(instance.id, &ids, &emails)
                    .await?;
                self.keep_lease(instance.id).await?;
            }
        }
        let store = &self.state.store;
        // Failing to is only worth a warning: the plans are slower, not wrong.
        if let Err(err) = store.refresh_recipient_statistics().await {
            tracing::warn!(instance = instance.id, error = %err, "cannot refresh the database's statistics of recipients");
        }
        store
            .suppress_listed_recipients(instance.id, mid, plan.commercial)
            .await?;
        if instance.deduplicate_by_email {
            store.mark_duplicate_addresses(instance.id).await?;
        }
        let now = self.state.clock.now();
        let finished = store
            .finish_resolution(instance.id, &self.node, streamed, streamed - written, now)
            .await?;
        if finished {
            Ok(())
        } else {
            Err(ResolveError::LeaseLost)
        }
    }

    async fn keep_lease(&self, instance_id: i64) -> Result<(), ResolveError> {
        let until = self.state.clock.now() + self.lease;
        let kept = self
            .state
            .store
            .extend_instance_lease(instance_id, &self.node, until)
            .await?;
        if kept {
            Ok(())
        } else {
            Err(ResolveError::LeaseLost)
        }
    }
}
