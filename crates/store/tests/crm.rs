//! The built-in CRM store, on SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use herald_domain::crm::{
    Condition, CrmObject, FieldInput, Logic, RecordChanges, ReportFilter, TargetRef,
};
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::{
    CampaignDefinition, Campaigns, CrmWriteError, MAX_CUSTOM_FIELDS, MatchOn, ReportDefinition,
    Reports, RowError, RowOutcome, Slice, Store,
};
use herald_test_support::{Db, TestDatabase, backend_tests};
use time::OffsetDateTime;
use time::macros::datetime;

struct Harness {
    store: Arc<dyn Store>,
    _db: TestDatabase,
}

async fn setup(db: Db) -> Option<Harness> {
    let db = TestDatabase::create(db).await?;
    let store = herald_store::open(&db.url).await.expect("open store");
    Some(Harness { store, _db: db })
}

const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);
fn mid() -> Mid {
    Mid::from_stored(100_000_001)
}
const ALL: Slice = Slice {
    offset: 0,
    limit: 1000,
};

fn changes(fields: &[(&str, &str)]) -> RecordChanges {
    let mut changes = RecordChanges::default();
    for (name, value) in fields {
        changes.set(name, FieldInput::Text(value)).unwrap();
    }
    changes
}

fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

async fn contact(h: &Harness, fields: &[(&str, &str)]) -> SalesforceId {
    h.store
        .create_record(mid(), CrmObject::Contact, changes(fields), NOW)
        .await
        .unwrap()
        .record
        .id
}

/// A campaign's definition.
fn campaign_named(name: &str, description: Option<&str>) -> CampaignDefinition {
    CampaignDefinition {
        name: name.into(),
        description: description.map(str::to_owned),
    }
}

/// A condition as a client writes it: field, operator, value.
type ConditionText<'a> = (&'a str, &'a str, Option<&'a str>);

fn filter(logic: Logic, conditions: &[ConditionText]) -> ReportFilter {
    let conditions = conditions
        .iter()
        .map(|(field, operator, value)| Condition::parse(field, operator, *value).unwrap())
        .collect();
    ReportFilter::new(logic, conditions).unwrap()
}

async fn report(h: &Harness, object: CrmObject, filter: ReportFilter) -> TargetRef {
    let known = h.store.custom_fields(mid(), object).await.unwrap();
    let definition = ReportDefinition {
        name: "Report".into(),
        object,
        filter: filter.resolve(object, &known).unwrap(),
    };
    TargetRef::report(
        h.store
            .create_target(Reports, mid(), definition, NOW)
            .await
            .unwrap()
            .id,
    )
}

async fn member_ids(h: &Harness, target: TargetRef) -> BTreeSet<SalesforceId> {
    let page = h
        .store
        .members_at(mid(), target, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.count, page.items.len() as i64);
    page.items.iter().map(|record| record.id).collect()
}

async fn a_record_is_created_read_in_either_id_form_updated_and_deleted(h: Harness) {
    let created = h
        .store
        .create_record(
            mid(),
            CrmObject::Contact,
            changes(&[
                ("Email", "Ann@Example.com"),
                ("FirstName", "Ann"),
                ("Company__c", "Acme"),
            ]),
            NOW,
        )
        .await
        .unwrap();
    let (id, version) = (created.record.id, created.version);
    assert_eq!(id.as_str(), "003000000000001AAA");
    assert_eq!(created.record.email.as_str(), "Ann@example.com");
    assert_eq!(created.record.custom["Company__c"], "Acme");
    assert!(!created.record.has_opted_out);
    let short = SalesforceId::parse(id.as_15()).unwrap();
    let read = h
        .store
        .get_record(mid(), CrmObject::Contact, short)
        .await
        .unwrap();
    assert_eq!(read, Some(created));
    let later = NOW + time::Duration::minutes(5);
    let updated = h
        .store
        .update_record(
            mid(),
            CrmObject::Contact,
            id,
            version,
            changes(&[("LastName", "Lee"), ("company__C", "")]),
            later,
        )
        .await
        .unwrap();
    assert_eq!(updated.record.first_name.as_deref(), Some("Ann"));
    assert_eq!(updated.record.last_name.as_deref(), Some("Lee"));
    assert!(updated.record.custom.is_empty());
    assert_eq!((updated.created_at, updated.modified_at), (NOW, later));
    assert_eq!(
        h.store
            .custom_fields(mid(), CrmObject::Contact)
            .await
            .unwrap(),
        ["Company__c"]
    );
    assert!(
        h.store
            .delete_record(mid(), CrmObject::Contact, id)
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .delete_record(mid(), CrmObject::Contact, id)
            .await
            .unwrap()
    );
    assert_eq!(
        h.store
            .get_record(mid(), CrmObject::Contact, id)
            .await
            .unwrap(),
        None
    );
}

async fn contacts_and_leads_get_ids_with_their_own_prefixes(h: Harness) {
    let contact = contact(&h, &[("Email", "a@example.com")]).await;
    let lead = h
        .store
        .create_record(
            mid(),
            CrmObject::Lead,
            changes(&[("Email", "b@example.com")]),
            NOW,
        )
        .await
        .unwrap()
        .record
        .id;
    assert_eq!(contact.key_prefix(), "003");
    assert_eq!(lead.key_prefix(), "00Q");
    // A lead is not found as a contact, and the other way round.
    assert_eq!(
        h.store
            .get_record(mid(), CrmObject::Contact, lead)
            .await
            .unwrap(),
        None
    );
    assert!(
        !h.store
            .delete_record(mid(), CrmObject::Lead, contact)
            .await
            .unwrap()
    );
}

async fn another_accounts_records_do_not_exist(h: Harness) {
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    let id = contact(&h, &[("Email", "a@example.com")]).await;
    assert_eq!(
        h.store
            .get_record(other, CrmObject::Contact, id)
            .await
            .unwrap(),
        None
    );
    let update = h
        .store
        .update_record(
            other,
            CrmObject::Contact,
            id,
            1,
            changes(&[("FirstName", "X")]),
            NOW,
        )
        .await;
    assert!(matches!(update, Err(CrmWriteError::NotFound)), "{update:?}");
    assert!(
        !h.store
            .delete_record(other, CrmObject::Contact, id)
            .await
            .unwrap()
    );
    assert!(!h.store.set_opted_out(other, id, true, NOW).await.unwrap());
    let page = h
        .store
        .list_records(other, CrmObject::Contact, None, ALL)
        .await
        .unwrap();
    assert_eq!((page.count, page.items.len()), (0, 0));
    let unchanged = h
        .store
        .get_record(mid(), CrmObject::Contact, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.record.first_name, None);
    assert!(!unchanged.record.has_opted_out);
}

async fn a_record_without_an_email_is_not_created(h: Harness) {
    let result = h
        .store
        .create_record(
            mid(),
            CrmObject::Contact,
            changes(&[("FirstName", "Ann")]),
            NOW,
        )
        .await;
    assert!(
        matches!(result, Err(CrmWriteError::Row(RowError::EmailRequired))),
        "{result:?}"
    );
    let page = h
        .store
        .list_records(mid(), CrmObject::Contact, None, ALL)
        .await
        .unwrap();
    assert_eq!(page.count, 0);
}

async fn an_external_id_is_unique_per_account_and_object_whatever_its_case(h: Harness) {
    contact(&h, &[("Email", "a@example.com"), ("ExternalId", "ABC-1")]).await;
    let taken = h
        .store
        .create_record(
            mid(),
            CrmObject::Contact,
            changes(&[("Email", "b@example.com"), ("ExternalId", "abc-1")]),
            NOW,
        )
        .await;
    assert!(
        matches!(taken, Err(CrmWriteError::Row(RowError::ExternalIdTaken))),
        "{taken:?}"
    );
    h.store
        .create_record(
            mid(),
            CrmObject::Lead,
            changes(&[("Email", "b@example.com"), ("ExternalId", "ABC-1")]),
            NOW,
        )
        .await
        .unwrap();
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    h.store
        .create_record(
            other,
            CrmObject::Contact,
            changes(&[("Email", "b@example.com"), ("ExternalId", "ABC-1")]),
            NOW,
        )
        .await
        .unwrap();
    let page = h
        .store
        .list_records(mid(), CrmObject::Contact, None, ALL)
        .await
        .unwrap();
    assert_eq!(page.count, 1);
}

async fn records_are_listed_in_creation_order_and_filtered_by_email(h: Harness) {
    for n in 0..5 {
        contact(&h, &[("Email", &format!("p{n}@example.com"))]).await;
    }
    contact(&h, &[("Email", "P2@EXAMPLE.com")]).await;
    let page = h
        .store
        .list_records(
            mid(),
            CrmObject::Contact,
            None,
            Slice {
                offset: 2,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.count, 6);
    let emails: Vec<&str> = page.items.iter().map(|r| r.record.email.as_str()).collect();
    assert_eq!(emails, ["p2@example.com", "p3@example.com"]);
    let matching = h
        .store
        .list_records(
            mid(),
            CrmObject::Contact,
            Some(&email("p2@example.COM")),
            ALL,
        )
        .await
        .unwrap();
    assert_eq!(matching.count, 2);
}

async fn a_batch_upsert_by_email_writes_the_good_rows_and_explains_the_others(h: Harness) {
    let existing = contact(&h, &[("Email", "ann@example.com")]).await;
    contact(&h, &[("Email", "twin@example.com")]).await;
    contact(&h, &[("Email", "twin@example.com")]).await;
    let rows = vec![
        changes(&[("Email", "new@example.com"), ("Company__c", "New Co")]),
        changes(&[("Email", "ANN@example.com"), ("FirstName", "Ann")]),
        changes(&[("FirstName", "No email")]),
        changes(&[("Email", "dup@example.com")]),
        changes(&[("Email", "Dup@example.com")]),
        changes(&[("Email", "twin@example.com")]),
    ];
    let outcomes = h
        .store
        .upsert_records(mid(), CrmObject::Contact, MatchOn::Email, rows, NOW)
        .await
        .unwrap();
    let RowOutcome::Created(created) = outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(outcomes[1], RowOutcome::Updated(existing));
    assert_eq!(
        outcomes[2..],
        [
            RowOutcome::Failed(RowError::MatchKeyMissing(MatchOn::Email)),
            RowOutcome::Failed(RowError::RepeatedInRequest(MatchOn::Email)),
            RowOutcome::Failed(RowError::RepeatedInRequest(MatchOn::Email)),
            RowOutcome::Failed(RowError::AmbiguousEmail(2)),
        ]
    );
    let page = h
        .store
        .list_records(mid(), CrmObject::Contact, None, ALL)
        .await
        .unwrap();
    assert_eq!(page.count, 4, "only the new row was added");
    let ann = h
        .store
        .get_record(mid(), CrmObject::Contact, existing)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.record.first_name.as_deref(), Some("Ann"));
    assert_eq!(ann.record.email.as_str(), "ANN@example.com");
    let new = h
        .store
        .get_record(mid(), CrmObject::Contact, created)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.record.custom["Company__c"], "New Co");
}

async fn a_batch_upsert_by_external_id_refuses_rows_without_one_or_taking_anothers(h: Harness) {
    let first = contact(&h, &[("Email", "a@example.com"), ("ExternalId", "E1")]).await;
    contact(&h, &[("Email", "b@example.com"), ("ExternalId", "E2")]).await;
    let rows = vec![
        changes(&[("ExternalId", "e1"), ("LastName", "Updated")]),
        changes(&[("ExternalId", "E3"), ("Email", "c@example.com")]),
        changes(&[("ExternalId", "E4")]),
        changes(&[("Email", "d@example.com")]),
    ];
    let outcomes = h
        .store
        .upsert_records(mid(), CrmObject::Contact, MatchOn::ExternalId, rows, NOW)
        .await
        .unwrap();
    assert_eq!(outcomes[0], RowOutcome::Updated(first));
    assert!(matches!(outcomes[1], RowOutcome::Created(_)));
    assert_eq!(outcomes[2], RowOutcome::Failed(RowError::EmailRequired));
    assert_eq!(
        outcomes[3],
        RowOutcome::Failed(RowError::MatchKeyMissing(MatchOn::ExternalId))
    );
    // Matching on Email, a row cannot take an ExternalId another record has.
    let outcomes = h
        .store
        .upsert_records(
            mid(),
            CrmObject::Contact,
            MatchOn::Email,
            vec![changes(&[("Email", "a@example.com"), ("ExternalId", "E2")])],
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(outcomes, [RowOutcome::Failed(RowError::ExternalIdTaken)]);
    let page = h
        .store
        .list_records(mid(), CrmObject::Contact, None, ALL)
        .await
        .unwrap();
    assert_eq!(page.count, 3);
}

async fn matching_records_finds_what_an_upsert_would_match_in_this_account_and_object(h: Harness) {
    let ann = contact(&h, &[("Email", "Ann@example.com"), ("ExternalId", "E1")]).await;
    let twin = contact(&h, &[("Email", "ann@EXAMPLE.com")]).await;
    h.store
        .create_record(
            mid(),
            CrmObject::Lead,
            changes(&[("Email", "ann@example.com")]),
            NOW,
        )
        .await
        .unwrap();
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    h.store
        .create_record(
            other,
            CrmObject::Contact,
            changes(&[("Email", "ann@example.com")]),
            NOW,
        )
        .await
        .unwrap();
    let row = changes(&[("Email", "ANN@example.com"), ("ExternalId", "e1")]);
    let by_email = MatchOn::Email.key(&row).unwrap();
    let mut found = h
        .store
        .matching_records(
            mid(),
            CrmObject::Contact,
            MatchOn::Email,
            &[by_email.clone(), "nobody@example.com".into()],
        )
        .await
        .unwrap();
    found.sort();
    let mut expected = vec![(by_email.clone(), ann), (by_email, twin)];
    expected.sort();
    assert_eq!(found, expected);
    let by_external_id = MatchOn::ExternalId.key(&row).unwrap();
    let found = h
        .store
        .matching_records(
            mid(),
            CrmObject::Contact,
            MatchOn::ExternalId,
            std::slice::from_ref(&by_external_id),
        )
        .await
        .unwrap();
    assert_eq!(found, [(by_external_id, ann)]);
    assert_eq!(
        MatchOn::ExternalId.key(&changes(&[("ExternalId", " ")])),
        None
    );
    // A bulk load refreshes the statistics as it goes; that changes no data.
    h.store.refresh_record_statistics().await.unwrap();
    let listed = h
        .store
        .list_records(mid(), CrmObject::Contact, None, ALL)
        .await
        .unwrap();
    assert_eq!(listed.count, 2);
}

async fn custom_field_names_are_kept_as_first_spelled_and_capped(h: Harness) {
    contact(&h, &[("Email", "a@example.com"), ("Company__c", "Acme")]).await;
    let second = contact(&h, &[("Email", "b@example.com"), ("COMPANY__c", "Beta")]).await;
    let read = h
        .store
        .get_record(mid(), CrmObject::Contact, second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.record.custom["Company__c"], "Beta");
    assert!(
        h.store
            .custom_fields(mid(), CrmObject::Lead)
            .await
            .unwrap()
            .is_empty()
    );
    // Fill the object up to its limit, then one more field is refused.
    let mut full = RecordChanges::default();
    full.set("Email", FieldInput::Text("c@example.com"))
        .unwrap();
    for n in 1..MAX_CUSTOM_FIELDS {
        full.set(&format!("F{n}__c"), FieldInput::Number("1"))
            .unwrap();
    }
    h.store
        .create_record(mid(), CrmObject::Contact, full, NOW)
        .await
        .unwrap();
    let fields = h
        .store
        .custom_fields(mid(), CrmObject::Contact)
        .await
        .unwrap();
    assert_eq!(fields.len(), MAX_CUSTOM_FIELDS);
    let over = h
        .store
        .create_record(
            mid(),
            CrmObject::Contact,
            changes(&[("Email", "d@example.com"), ("Extra__c", "x")]),
            NOW,
        )
        .await;
    assert!(
        matches!(
            over,
            Err(CrmWriteError::Row(RowError::TooManyFields { .. }))
        ),
        "{over:?}"
    );
}

async fn report_filters_select_exactly_the_matching_records(h: Harness) {
    let ann = contact(
        &h,
        &[
            ("Email", "ann@acme.example"),
            ("FirstName", "Ann"),
            ("Company__c", "Acme"),
            ("Score__c", "9"),
        ],
    )
    .await;
    let bob = contact(
        &h,
        &[
            ("Email", "bob@beta.example"),
            ("FirstName", "Bob"),
            ("Company__c", "Beta 50%"),
            ("Score__c", "10"),
        ],
    )
    .await;
    let cid = contact(
        &h,
        &[
            ("Email", "cid@acme.example"),
            ("LastName", "Ünal"),
            ("Score__c", "x"),
        ],
    )
    .await;
    h.store.set_opted_out(mid(), bob, true, NOW).await.unwrap();
    h.store
        .create_record(
            mid(),
            CrmObject::Lead,
            changes(&[("Email", "lead@acme.example")]),
            NOW,
        )
        .await
        .unwrap();
    let cases: Vec<(Logic, Vec<ConditionText>, Vec<SalesforceId>)> = vec![
        (Logic::And, vec![], vec![ann, bob, cid]),
        (
            Logic::And,
            vec![("Company__c", "equals", Some("ACME"))],
            vec![ann],
        ),
        (
            Logic::And,
            vec![("Company__c", "notEquals", Some("acme"))],
            vec![bob, cid],
        ),
        (
            Logic::And,
            vec![("Company__c", "contains", Some("50%"))],
            vec![bob],
        ),
        (
            Logic::And,
            vec![("Company__c", "contains", Some("0_"))],
            vec![],
        ),
        (
            Logic::And,
            vec![("Email", "startsWith", Some("ANN@"))],
            vec![ann],
        ),
        (
            Logic::And,
            vec![("Email", "contains", Some("@acme."))],
            vec![ann, cid],
        ),
        (Logic::And, vec![("Company__c", "isEmpty", None)], vec![cid]),
        (
            Logic::And,
            vec![("Company__c", "isNotEmpty", None)],
            vec![ann, bob],
        ),
        (
            Logic::And,
            vec![("FirstName", "equals", Some(""))],
            vec![cid],
        ),
        (
            Logic::And,
            vec![("LastName", "equals", Some("ünal"))],
            vec![cid],
        ),
        // Numbers compare as numbers (9 < 10), and non-numbers do not match.
        (
            Logic::And,
            vec![("Score__c", "lessThan", Some("10"))],
            vec![ann],
        ),
        (
            Logic::And,
            vec![("Score__c", "greaterThan", Some("9.5"))],
            vec![bob],
        ),
        // Text compares as text.
        (
            Logic::And,
            vec![("FirstName", "lessThan", Some("b"))],
            vec![ann],
        ),
        (
            Logic::And,
            vec![("HasOptedOutOfEmail", "equals", Some("true"))],
            vec![bob],
        ),
        (
            Logic::And,
            vec![("HasOptedOutOfEmail", "notEquals", Some("true"))],
            vec![ann, cid],
        ),
        (
            Logic::And,
            vec![("Id", "equals", Some(bob.as_15()))],
            vec![bob],
        ),
        (
            Logic::And,
            vec![("Id", "notEquals", Some(bob.as_str()))],
            vec![ann, cid],
        ),
        (
            Logic::And,
            vec![
                ("Email", "contains", Some("acme")),
                ("FirstName", "isNotEmpty", None),
            ],
            vec![ann],
        ),
        (
            Logic::Or,
            vec![
                ("FirstName", "equals", Some("bob")),
                ("LastName", "isNotEmpty", None),
            ],
            vec![bob, cid],
        ),
    ];
    for (logic, conditions, expected) in cases {
        let target = report(&h, CrmObject::Contact, filter(logic, &conditions)).await;
        let expected: BTreeSet<SalesforceId> = expected.into_iter().collect();
        assert_eq!(
            member_ids(&h, target).await,
            expected,
            "{logic:?} {conditions:?}"
        );
        assert_eq!(
            h.store.count_members(mid(), target).await.unwrap(),
            Some(expected.len() as i64)
        );
    }
}

async fn reports_are_stored_listed_replaced_and_deleted_per_account(h: Harness) {
    contact(&h, &[("Email", "a@example.com"), ("Company__c", "Acme")]).await;
    let definition = ReportDefinition {
        name: "Acme".into(),
        object: CrmObject::Contact,
        filter: filter(
            Logic::Or,
            &[
                ("Company__c", "equals", Some("Acme")),
                ("HasOptedOutOfEmail", "equals", Some("false")),
            ],
        ),
    };
    let created = h
        .store
        .create_target(Reports, mid(), definition, NOW)
        .await
        .unwrap();
    assert_eq!(created.id.key_prefix(), "00O");
    assert_eq!(
        h.store
            .get_target(Reports, mid(), created.id)
            .await
            .unwrap(),
        Some(created.clone())
    );
    let page = h.store.list_targets_of(Reports, mid(), ALL).await.unwrap();
    assert_eq!((page.count, page.items), (1, vec![created.clone()]));
    let replacement = ReportDefinition {
        name: "Leads".into(),
        object: CrmObject::Lead,
        filter: ReportFilter::default(),
    };
    let replaced = h
        .store
        .update_target(
            Reports,
            mid(),
            created.id,
            created.version,
            replacement,
            NOW,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (replaced.name.as_str(), replaced.object),
        ("Leads", CrmObject::Lead)
    );
    assert!(replaced.filter.conditions().is_empty());
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    assert_eq!(
        h.store
            .get_target(Reports, other, created.id)
            .await
            .unwrap(),
        None
    );
    assert!(
        !h.store
            .delete_target(Reports, other, created.id)
            .await
            .unwrap()
    );
    assert_eq!(
        h.store
            .count_members(other, TargetRef::report(created.id))
            .await
            .unwrap(),
        None
    );
    assert!(
        h.store
            .delete_target(Reports, mid(), created.id)
            .await
            .unwrap()
    );
    assert_eq!(
        h.store
            .get_target(Reports, mid(), created.id)
            .await
            .unwrap(),
        None
    );
}

async fn campaigns_hold_contacts_and_leads_and_refuse_unknown_members(h: Harness) {
    let ann = contact(&h, &[("Email", "ann@example.com")]).await;
    let lead = h
        .store
        .create_record(
            mid(),
            CrmObject::Lead,
            changes(&[("Email", "lead@example.com")]),
            NOW,
        )
        .await
        .unwrap()
        .record
        .id;
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    let foreign = h
        .store
        .create_record(
            other,
            CrmObject::Contact,
            changes(&[("Email", "x@example.com")]),
            NOW,
        )
        .await
        .unwrap()
        .record
        .id;
    let campaign = h
        .store
        .create_target(
            Campaigns,
            mid(),
            campaign_named("Spring", Some("Launch")),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(campaign.id.key_prefix(), "701");
    let added = h
        .store
        .add_campaign_members(mid(), campaign.id, &[ann, lead, ann], NOW)
        .await
        .unwrap();
    assert_eq!((added.changed, added.member_count), (2, 2));
    let again = h
        .store
        .add_campaign_members(mid(), campaign.id, &[ann], NOW)
        .await
        .unwrap();
    assert_eq!((again.changed, again.member_count), (0, 2));
    let refused = h
        .store
        .add_campaign_members(mid(), campaign.id, &[foreign, ann], NOW)
        .await;
    match refused {
        Err(CrmWriteError::UnknownRecords(ids)) => assert_eq!(ids, [foreign]),
        other => panic!("{other:?}"),
    }
    let target = TargetRef::campaign(campaign.id);
    assert_eq!(member_ids(&h, target).await, BTreeSet::from([ann, lead]));
    assert!(matches!(
        h.store
            .add_campaign_members(other, campaign.id, &[foreign], NOW)
            .await,
        Err(CrmWriteError::NotFound)
    ));
    let removed = h
        .store
        .remove_campaign_members(mid(), campaign.id, &[lead, foreign])
        .await
        .unwrap();
    assert_eq!((removed.changed, removed.member_count), (1, 1));
    // Deleting a record takes it out of its campaigns.
    h.store
        .delete_record(mid(), CrmObject::Contact, ann)
        .await
        .unwrap();
    assert_eq!(h.store.count_members(mid(), target).await.unwrap(), Some(0));
    let renamed = h
        .store
        .update_target(
            Campaigns,
            mid(),
            campaign.id,
            campaign.version,
            campaign_named("Summer", None),
            NOW,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description),
        ("Summer", None)
    );
    assert_eq!(
        h.store
            .update_target(
                Campaigns,
                other,
                campaign.id,
                campaign.version,
                campaign_named("X", None),
                NOW,
            )
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        h.store
            .list_targets_of(Campaigns, mid(), ALL)
            .await
            .unwrap()
            .count,
        1
    );
    assert!(
        h.store
            .delete_target(Campaigns, mid(), campaign.id)
            .await
            .unwrap()
    );
    assert_eq!(h.store.count_members(mid(), target).await.unwrap(), None);
}

async fn members_stream_page_by_page_over_thousands_of_records(h: Harness) {
    const TOTAL: usize = 3000;
    let mut ids = Vec::new();
    for batch in 0..3 {
        let rows = (0..TOTAL / 3)
            .map(|n| {
                let n = batch * (TOTAL / 3) + n;
                let group = ["a", "b", "c"][n % 3];
                changes(&[("Email", &format!("p{n}@example.com")), ("Group__c", group)])
            })
            .collect();
        let outcomes = h
            .store
            .upsert_records(mid(), CrmObject::Contact, MatchOn::Email, rows, NOW)
            .await
            .unwrap();
        for outcome in outcomes {
            let RowOutcome::Created(id) = outcome else {
                panic!("{outcome:?}")
            };
            ids.push(id);
        }
    }
    let target = report(
        &h,
        CrmObject::Contact,
        filter(Logic::And, &[("Group__c", "notEquals", Some("b"))]),
    )
    .await;
    let expected: Vec<SalesforceId> = ids
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 3 != 1)
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(stream(&h, target, 333).await, expected);
    let campaign = h
        .store
        .create_target(Campaigns, mid(), campaign_named("Big", None), NOW)
        .await
        .unwrap();
    let chosen: Vec<SalesforceId> = ids.iter().copied().step_by(2).take(1200).collect();
    h.store
        .add_campaign_members(mid(), campaign.id, &chosen, NOW)
        .await
        .unwrap();
    assert_eq!(
        stream(&h, TargetRef::campaign(campaign.id), 500).await,
        chosen
    );
    let missing = h
        .store
        .members_page(mid(), TargetRef::campaign(ids[0]), None, 10)
        .await;
    assert!(missing.is_err());
}

/// Every member of `target`, read `page` at a time; each page carries its custom fields.
async fn stream(h: &Harness, target: TargetRef, page: u32) -> Vec<SalesforceId> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let records = h
            .store
            .members_page(mid(), target, after, page)
            .await
            .unwrap();
        let Some(last) = records.last() else { break };
        assert!(records.len() <= page as usize);
        assert!(
            records
                .iter()
                .all(|record| record.custom.contains_key("Group__c"))
        );
        after = Some(last.id);
        all.extend(records.iter().map(|record| record.id));
    }
    all
}

async fn targets_list_reports_then_campaigns_with_counts_and_fields(h: Harness) {
    let ann = contact(&h, &[("Email", "ann@example.com"), ("Company__c", "Acme")]).await;
    h.store
        .create_record(
            mid(),
            CrmObject::Lead,
            changes(&[("Email", "l@example.com"), ("Source__c", "Web")]),
            NOW,
        )
        .await
        .unwrap();
    let campaign = h
        .store
        .create_target(Campaigns, mid(), campaign_named("Only contacts", None), NOW)
        .await
        .unwrap();
    h.store
        .add_campaign_members(mid(), campaign.id, &[ann], NOW)
        .await
        .unwrap();
    let report = report(&h, CrmObject::Lead, ReportFilter::default()).await;
    let page = h.store.list_targets(mid(), ALL).await.unwrap();
    assert_eq!(page.count, 2);
    let listed: Vec<(TargetRef, &str, i64)> = page
        .items
        .iter()
        .map(|t| (t.target, t.name.as_str(), t.member_count))
        .collect();
    assert_eq!(
        listed,
        [
            (report, "Report", 1),
            (TargetRef::campaign(campaign.id), "Only contacts", 1)
        ]
    );
    let standard = [
        "Id",
        "Email",
        "FirstName",
        "LastName",
        "HasOptedOutOfEmail",
        "ExternalId",
    ];
    let mut lead_fields = standard.map(String::from).to_vec();
    lead_fields.push("Source__c".into());
    assert_eq!(
        h.store.target_fields(mid(), report).await.unwrap(),
        Some(lead_fields)
    );
    let mut contact_fields = standard.map(String::from).to_vec();
    contact_fields.push("Company__c".into());
    assert_eq!(
        h.store
            .target_fields(mid(), TargetRef::campaign(campaign.id))
            .await
            .unwrap(),
        Some(contact_fields)
    );
    let other = h.store.create_account("Other", NOW).await.unwrap().mid;
    assert_eq!(h.store.list_targets(other, ALL).await.unwrap().count, 0);
    assert_eq!(h.store.target_fields(other, report).await.unwrap(), None);
    assert_eq!(h.store.target_name(other, report).await.unwrap(), None);
    assert_eq!(
        h.store.target_name(mid(), report).await.unwrap().as_deref(),
        Some("Report")
    );
}

async fn an_update_naming_an_outdated_version_is_refused_and_changes_nothing(h: Harness) {
    let created = h
        .store
        .create_record(
            mid(),
            CrmObject::Contact,
            changes(&[("Email", "ann@example.com")]),
            NOW,
        )
        .await
        .unwrap();
    let id = created.record.id;
    let update = |version, name: &str| {
        h.store.update_record(
            mid(),
            CrmObject::Contact,
            id,
            version,
            changes(&[("FirstName", name)]),
            NOW,
        )
    };
    let first = update(created.version, "First").await.unwrap();
    assert_eq!(first.version, created.version + 1);
    let second = update(created.version, "Second").await;
    assert!(matches!(second, Err(CrmWriteError::Stale)), "{second:?}");
    let kept = h.store.get_record(mid(), CrmObject::Contact, id).await;
    assert_eq!(kept.unwrap(), Some(first.clone()));

    // Every other write moves the version on too: an upsert, an opt-out.
    let rows = vec![changes(&[
        ("Email", "ann@example.com"),
        ("LastName", "Lee"),
    ])];
    h.store
        .upsert_records(mid(), CrmObject::Contact, MatchOn::Email, rows, NOW)
        .await
        .unwrap();
    h.store.set_opted_out(mid(), id, true, NOW).await.unwrap();
    let now = h.store.get_record(mid(), CrmObject::Contact, id).await;
    assert_eq!(now.unwrap().unwrap().version, first.version + 2);
    let third = update(first.version, "Third").await;
    assert!(matches!(third, Err(CrmWriteError::Stale)), "{third:?}");

    let campaign = h
        .store
        .create_target(Campaigns, mid(), campaign_named("Spring", None), NOW)
        .await
        .unwrap();
    let renamed = h
        .store
        .update_target(
            Campaigns,
            mid(),
            campaign.id,
            campaign.version,
            campaign_named("Summer", None),
            NOW,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.version, campaign.version + 1);
    let stale = h
        .store
        .update_target(
            Campaigns,
            mid(),
            campaign.id,
            campaign.version,
            campaign_named("Autumn", None),
            NOW,
        )
        .await;
    assert!(matches!(stale, Err(CrmWriteError::Stale)), "{stale:?}");
    let kept = h.store.get_target(Campaigns, mid(), campaign.id).await;
    assert_eq!(kept.unwrap(), Some(renamed));
}

backend_tests!(setup =>
    an_update_naming_an_outdated_version_is_refused_and_changes_nothing,
    a_record_is_created_read_in_either_id_form_updated_and_deleted,
    contacts_and_leads_get_ids_with_their_own_prefixes,
    another_accounts_records_do_not_exist,
    a_record_without_an_email_is_not_created,
    an_external_id_is_unique_per_account_and_object_whatever_its_case,
    records_are_listed_in_creation_order_and_filtered_by_email,
    a_batch_upsert_by_email_writes_the_good_rows_and_explains_the_others,
    a_batch_upsert_by_external_id_refuses_rows_without_one_or_taking_anothers,
    matching_records_finds_what_an_upsert_would_match_in_this_account_and_object,
    custom_field_names_are_kept_as_first_spelled_and_capped,
    report_filters_select_exactly_the_matching_records,
    reports_are_stored_listed_replaced_and_deleted_per_account,
    campaigns_hold_contacts_and_leads_and_refuse_unknown_members,
    members_stream_page_by_page_over_thousands_of_records,
    targets_list_reports_then_campaigns_with_counts_and_fields,
);
