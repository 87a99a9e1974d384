//! `/crm/v1/…`: the built-in CRM. Contacts and Leads (with bulk upserts), campaigns and
//! their members, reports (saved filters) with member previews, and the targets a send
//! can point at. Reads need `CrmRead`, writes `CrmWrite`; ids in paths may be given in
//! their 15- or 18-character form.

mod bulk;
mod campaigns;
mod kinds;
mod records;
mod reports;
mod targets;
mod wire;

use axum::Router;

use crate::state::AppState;

/// Every CRM route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(records::routes::<records::Contacts>("/crm/v1/contacts"))
        .merge(records::routes::<records::Leads>("/crm/v1/leads"))
        .merge(kinds::routes::<herald_store::Campaigns>())
        .merge(kinds::routes::<herald_store::Reports>())
        .merge(targets::routes())
}
