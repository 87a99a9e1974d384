//! The demo account's audience: 30 contacts and 20 leads with a `Company__c` field (a few
//! opted out), a report of the contacts at Demo Co, and a campaign of ten.

use herald_domain::crm::{Condition, CrmObject, FieldInput, Logic, RecordChanges, ReportFilter};
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{
    CampaignDefinition, Campaigns, MatchOn, ReportDefinition, Reports, RowOutcome, Store,
};
use time::OffsetDateTime;

const FIRST_NAMES: [&str; 10] = [
    "Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "June",
];
const LAST_NAMES: [&str; 5] = ["Lovelace", "Okafor", "Moreau", "Patel", "Schmidt"];
const COMPANIES: [&str; 3] = ["Demo Co", "Acme", "Globex"];
const CONTACTS: usize = 30;
const PEOPLE: usize = FIRST_NAMES.len() * LAST_NAMES.len();

/// Person `n` of the demo (0..50): the first 30 are contacts, the rest leads.
fn person(n: usize) -> anyhow::Result<RecordChanges> {
    let first = FIRST_NAMES[n % FIRST_NAMES.len()];
    let last = LAST_NAMES[n / FIRST_NAMES.len()];
    let email = format!("{first}.{last}@demo.herald.example").to_lowercase();
    let mut changes = RecordChanges::default();
    changes.set("Email", FieldInput::Text(&email))?;
    changes.set("FirstName", FieldInput::Text(first))?;
    changes.set("LastName", FieldInput::Text(last))?;
    changes.set(
        "Company__c",
        FieldInput::Text(COMPANIES[n % COMPANIES.len()]),
    )?;
    changes.set("HasOptedOutOfEmail", FieldInput::Bool(n % 9 == 4))?;
    Ok(changes)
}

/// Loads `rows` as `object` records and returns their ids.
async fn load(
    store: &dyn Store,
    mid: Mid,
    object: CrmObject,
    rows: Vec<RecordChanges>,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<SalesforceId>> {
    let outcomes = store
        .upsert_records(mid, object, MatchOn::Email, rows, now)
        .await?;
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            RowOutcome::Created(id) | RowOutcome::Updated(id) => Ok(id),
            RowOutcome::Failed(err) => Err(anyhow::anyhow!("demo record refused: {err}")),
        })
        .collect()
}

/// Seeds the demo audience into `mid` (a fresh account).
pub async fn seed(store: &dyn Store, mid: Mid, now: OffsetDateTime) -> anyhow::Result<()> {
    let contacts = (0..CONTACTS).map(person).collect::<anyhow::Result<_>>()?;
    let leads = (CONTACTS..PEOPLE)
        .map(person)
        .collect::<anyhow::Result<_>>()?;
    let contacts = load(store, mid, CrmObject::Contact, contacts, now).await?;
    let leads = load(store, mid, CrmObject::Lead, leads, now).await?;
    let condition = Condition::parse("Company__c", "equals", Some("Demo Co"))?;
    let known = store.custom_fields(mid, CrmObject::Contact).await?;
    let filter =
        ReportFilter::new(Logic::And, vec![condition])?.resolve(CrmObject::Contact, &known)?;
    store
        .create_target(
            Reports,
            mid,
            ReportDefinition {
                name: "Contacts at Demo Co".into(),
                object: CrmObject::Contact,
                filter,
            },
            now,
        )
        .await?;
    let campaign = store
        .create_target(
            Campaigns,
            mid,
            CampaignDefinition {
                name: "Demo Launch".into(),
                description: Some("Six contacts and four leads".into()),
            },
            now,
        )
        .await?;
    let members: Vec<SalesforceId> = contacts
        .iter()
        .take(6)
        .chain(leads.iter().take(4))
        .copied()
        .collect();
    store
        .add_campaign_members(mid, campaign.id, &members, now)
        .await?;
    Ok(())
}
