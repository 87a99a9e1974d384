//! The Send API's bodies, exactly as clients send and receive them.
//!
//! Requests are parsed in two stages. `api::json::parse` (or `ApiJson`) turns the bytes
//! into these structs: a body that is not JSON is a 400 with errorcode 10004, a value of
//! the wrong JSON type a 400 with errorcode 10001. Every field here is optional, so a
//! missing field is never a 400: the domain's checks (`into_spec`, `parse`) name what
//! is missing or wrong, and the route answers that as a business error, HTTP 200 with
//! [`Failure`]'s `{"IsError":true,"Message":"Error <verb> integrated send definition: …"}`.

mod recipients;
mod request;
mod response;
mod results;

pub use recipients::{RecipientList, RecipientOutcome};
pub use request::{
    CriteriaBody, DefinitionBody, EmailDefinition, ScheduleBody, ScheduleFields, SearchBody,
    TargetBody, parse_optional_body,
};
pub use response::{
    CountsView, Created, DefinitionFound, DefinitionList, DefinitionSummary, DefinitionView, Done,
    Failure, InstanceList, InstanceStatusResponse, InstanceView, Scheduled, TargetView, wire_time,
};
pub use results::{ResultsView, StatisticsView};
