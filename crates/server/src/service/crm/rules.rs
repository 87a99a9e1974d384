//! What a campaign and a report each check of a create or an update: the hooks of the
//! generic use cases in `targets.rs`.

use std::future::Future;

use herald_domain::crm::{Condition, CrmObject, Logic, ReportFilter};
use herald_domain::mid::Mid;
use herald_store::{
    Campaign, CampaignDefinition, Campaigns, CrmTargetStore, Report, ReportDefinition, Reports,
    Store, TargetTable,
};

use super::text;
use crate::service::{Error, Problem, Result};
use crate::state::AppState;

/// One kind of target's rules: how a request's input becomes a definition to write.
pub trait TargetRules: TargetTable {
    /// What a request names; on an update, what it leaves out stays as it is.
    type Input: Send;

    /// The store's part for this kind.
    fn store(store: &dyn Store) -> &dyn CrmTargetStore<Self>;

    /// The version an object was read at.
    fn version(saved: &Self::Saved) -> i64;

    /// The definition a create makes of `input`, every field checked.
    fn create(
        state: &AppState,
        mid: Mid,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Definition>> + Send;

    /// The definition an update of `current` makes of `input`: what `input` names,
    /// checked, and the rest as it was.
    fn update(
        state: &AppState,
        mid: Mid,
        input: Self::Input,
        current: Self::Saved,
    ) -> impl Future<Output = Result<Self::Definition>> + Send;
}

/// A campaign's fields as a request gives them.
#[derive(Debug, Default)]
pub struct CampaignInput {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

impl TargetRules for Campaigns {
    type Input = CampaignInput;

    fn store(store: &dyn Store) -> &dyn CrmTargetStore<Campaigns> {
        store
    }

    fn version(saved: &Campaign) -> i64 {
        saved.version
    }

    async fn create(_: &AppState, _: Mid, input: CampaignInput) -> Result<CampaignDefinition> {
        let name = text::name(&input.name.ok_or_else(|| missing("name"))?)?;
        let description = text::description(input.description.flatten().as_deref())?;
        Ok(CampaignDefinition { name, description })
    }

    async fn update(
        _: &AppState,
        _: Mid,
        input: CampaignInput,
        current: Campaign,
    ) -> Result<CampaignDefinition> {
        let name = match input.name {
            Some(name) => text::name(&name)?,
            None => current.name,
        };
        let description = match input.description {
            Some(description) => text::description(description.as_deref())?,
            None => current.description,
        };
        Ok(CampaignDefinition { name, description })
    }
}

/// A report's fields as a request gives them.
#[derive(Debug, Default)]
pub struct ReportInput {
    pub name: Option<String>,
    /// `Contact` or `Lead`.
    pub object: Option<String>,
    /// `and` or `or`.
    pub logic: Option<String>,
    /// When given, replace all the conditions.
    pub conditions: Option<Vec<ConditionInput>>,
}

/// One condition as a request gives it.
#[derive(Debug)]
pub struct ConditionInput {
    pub field: String,
    pub operator: String,
    /// The value as text (numbers and booleans written out), None when absent.
    pub value: Result<Option<String>, NotComparable>,
}

/// A condition value of a type no condition compares (a list, an object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotComparable;

impl TargetRules for Reports {
    type Input = ReportInput;

    fn store(store: &dyn Store) -> &dyn CrmTargetStore<Reports> {
        store
    }

    fn version(saved: &Report) -> i64 {
        saved.version
    }

    async fn create(state: &AppState, mid: Mid, input: ReportInput) -> Result<ReportDefinition> {
        let name = text::name(input.name.as_deref().ok_or_else(|| missing("name"))?)?;
        let object = object(input.object.as_deref().ok_or_else(|| missing("object"))?)?;
        let logic = input
            .logic
            .as_deref()
            .map(logic)
            .transpose()?
            .unwrap_or_default();
        let conditions = conditions(input.conditions.unwrap_or_default())?;
        definition(state, mid, name, object, logic, conditions).await
    }

    /// The result is checked as a whole (conditions against a changed object, say).
    async fn update(
        state: &AppState,
        mid: Mid,
        input: ReportInput,
        current: Report,
    ) -> Result<ReportDefinition> {
        let name = match input.name.as_deref() {
            Some(name) => text::name(name)?,
            None => current.name,
        };
        let object = input
            .object
            .as_deref()
            .map(object)
            .transpose()?
            .unwrap_or(current.object);
        let logic = input
            .logic
            .as_deref()
            .map(logic)
            .transpose()?
            .unwrap_or(current.filter.logic());
        let conditions = match input.conditions {
            Some(inputs) => conditions(inputs)?,
            None => current.filter.conditions().to_vec(),
        };
        definition(state, mid, name, object, logic, conditions).await
    }
}

fn conditions(inputs: Vec<ConditionInput>) -> Result<Vec<Condition>> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| {
            let value = input.value.map_err(|NotComparable| {
                Error::invalid(format!(
                    "conditions[{index}].value: expected a text, a number, true or false"
                ))
            })?;
            Condition::parse(&input.field, &input.operator, value.as_deref())
                .map_err(|err| Error::invalid(format!("conditions[{index}]: {err}")))
        })
        .collect()
}

/// A report's definition, its custom fields checked against those `object` has in `mid`.
async fn definition(
    state: &AppState,
    mid: Mid,
    name: String,
    object: CrmObject,
    logic: Logic,
    conditions: Vec<Condition>,
) -> Result<ReportDefinition> {
    let invalid = |err: herald_domain::crm::FilterError| Error::invalid(err.to_string());
    let known = state.store.custom_fields(mid, object).await?;
    let filter = ReportFilter::new(logic, conditions)
        .map_err(invalid)?
        .resolve(object, &known)
        .map_err(invalid)?;
    Ok(ReportDefinition {
        name,
        object,
        filter,
    })
}

fn object(text: &str) -> Result<CrmObject> {
    CrmObject::parse(text).map_err(|err| Error::invalid(err.to_string()))
}

fn logic(text: &str) -> Result<Logic> {
    Logic::parse(text).map_err(|err| Error::invalid(err.to_string()))
}

fn missing(field: &str) -> Error {
    Error::Invalid {
        problem: Problem::Missing,
        message: format!("Missing field: {field}"),
    }
}
