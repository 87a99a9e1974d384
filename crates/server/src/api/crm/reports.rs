//! `/crm/v1/reports`: saved filters over Contacts or Leads, with member previews (the
//! routes every target has, see `kinds.rs`).

use herald_store::{Report, Reports};
use serde::Deserialize;
use serde_json::{Value, json};

use super::kinds::TargetRoute;
use super::wire::date;
use crate::service::crm::{ConditionInput, NotComparable, ReportInput};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportBody {
    name: Option<String>,
    /// `Contact` or `Lead`.
    object: Option<String>,
    /// `and` (the default) or `or`.
    logic: Option<String>,
    conditions: Option<Vec<ConditionBody>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionBody {
    field: String,
    operator: String,
    /// A text, number or boolean; absent or null for `isEmpty`/`isNotEmpty`.
    #[serde(default)]
    value: Value,
}

impl TargetRoute for Reports {
    const BASE: &'static str = "/crm/v1/reports";
    type Body = ReportBody;

    fn input(body: ReportBody) -> ReportInput {
        ReportInput {
            name: body.name,
            object: body.object,
            logic: body.logic,
            conditions: body
                .conditions
                .map(|conditions| conditions.into_iter().map(condition).collect()),
        }
    }

    fn wire(report: Report) -> Value {
        let conditions: Vec<Value> = report
            .filter
            .conditions()
            .iter()
            .map(|condition| {
                let value = Some(condition.value()).filter(|value| !value.is_empty());
                json!({
                    "field": condition.field().as_str(),
                    "operator": condition.operator().name(),
                    "value": value,
                })
            })
            .collect();
        json!({
            "id": report.id,
            "name": report.name,
            "object": report.object.name(),
            "logic": report.filter.logic().name(),
            "conditions": conditions,
            "createdDate": date(report.created_at),
            "modifiedDate": date(report.modified_at),
        })
    }
}

fn condition(body: ConditionBody) -> ConditionInput {
    let value = match body.value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::Bool(flag) => Ok(Some(flag.to_string())),
        Value::Array(_) | Value::Object(_) => Err(NotComparable),
    };
    ConditionInput {
        field: body.field,
        operator: body.operator,
        value,
    }
}
