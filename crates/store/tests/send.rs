//! The Send API's store contract: definitions and instances, on SQLite and PostgreSQL.

use std::sync::Arc;

use herald_domain::mid::Mid;
use herald_domain::paging::PageRequest;
use herald_domain::salesforce_id::SalesforceId;
use herald_domain::send::criteria::{CriteriaInput, SearchCriteria};
use herald_domain::send::schedule::Schedule;
use herald_domain::send::status::InstanceStatus::{
    self, CancelPending, Canceled, Complete, Paused, Scheduled, Sending,
};
use herald_domain::send::target::{Target, TargetType};
use herald_store::{
    DeleteDefinitionError, NewSendDefinition, SendDefinitionChanges, SendInstance, Store,
    UpdateDefinitionError,
};
use herald_test_support::{Db, TestDatabase, backend_tests};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

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
const REPORT_15: &str = "00O000000000001";

fn mid() -> Mid {
    Mid::from_stored(100_000_001)
}

fn target(target_type: TargetType, id: &str) -> Target {
    Target {
        target_type,
        name: format!("{target_type} {id}"),
        id: SalesforceId::parse(id).unwrap(),
    }
}

fn new_definition(mid: Mid, name: &str) -> NewSendDefinition {
    NewSendDefinition {
        mid,
        external_key: format!("key-{name}"),
        name: name.into(),
        description: "A description".into(),
        email_id: 1001,
        send_classification_id: 2001,
        targets: vec![target(TargetType::Report, REPORT_15)],
        exclusions: vec![target(TargetType::Campaign, "701000000000001")],
        deduplicate_by_email: true,
        created_at: NOW,
    }
}

fn now_schedule() -> Schedule {
    Schedule {
        start_at: NOW,
        all_recipients_opted_in: true,
    }
}

fn page(page: u32, page_size: u32) -> PageRequest {
    PageRequest { page, page_size }
}

fn first_page() -> PageRequest {
    page(1, 50)
}

fn criteria(operation: &str, name: &str, id: &str) -> SearchCriteria {
    CriteriaInput {
        operation: Some(operation.into()),
        name: Some(name.into()),
        subscriber_list_id: Some(id.into()),
    }
    .parse()
    .unwrap()
}

async fn other_mid(h: &Harness) -> Mid {
    h.store.create_account("Other", NOW).await.unwrap().mid
}

async fn counts(h: &Harness, mid: Mid) -> (i64, i64) {
    let definitions = h
        .store
        .search_send_definitions(mid, &SearchCriteria::default(), first_page())
        .await
        .unwrap()
        .count;
    let instances = h
        .store
        .list_send_instances(mid, None, first_page())
        .await
        .unwrap()
        .count;
    (definitions, instances)
}

async fn scheduled(h: &Harness, definition_id: i64) -> SendInstance {
    h.store
        .schedule_send_definition(mid(), definition_id, now_schedule(), NOW)
        .await
        .unwrap()
        .expect("definition exists")
}

async fn a_definition_is_stored_with_an_eight_digit_id_and_read_back(h: Harness) {
    let created = h
        .store
        .create_send_definition(new_definition(mid(), "Spring"))
        .await
        .unwrap();
    assert_eq!(created.id, 10_000_001);
    assert_eq!(created.name, "Spring");
    assert_eq!(created.targets[0].id.as_str(), "00O000000000001EAA");
    assert_eq!(created.exclusions[0].target_type, TargetType::Campaign);
    assert!(created.deduplicate_by_email);
    assert_eq!((created.created_at, created.modified_at), (NOW, NOW));
    let read = h
        .store
        .get_send_definition(mid(), created.id)
        .await
        .unwrap();
    assert_eq!(read, Some(created.clone()));
    let second = h
        .store
        .create_send_definition(new_definition(mid(), "Summer"))
        .await
        .unwrap();
    assert_eq!(second.id, created.id + 1);
    assert_eq!(h.store.get_send_definition(mid(), 42).await.unwrap(), None);
}

async fn another_mids_definitions_and_instances_do_not_exist(h: Harness) {
    let other = other_mid(&h).await;
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Mine"))
        .await
        .unwrap();
    let instance = scheduled(&h, definition.id).await;

    let store = &h.store;
    assert_eq!(
        store
            .get_send_definition(other, definition.id)
            .await
            .unwrap(),
        None
    );
    let rename = SendDefinitionChanges {
        name: Some("Stolen".into()),
        ..SendDefinitionChanges::default()
    };
    assert_eq!(
        store
            .update_send_definition(other, definition.id, definition.version, rename, NOW)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store.delete_send_definition(other, definition.id).await,
        Err(DeleteDefinitionError::NotFound)
    ));
    assert_eq!(
        store
            .schedule_send_definition(other, definition.id, now_schedule(), NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_send_instance(other, instance.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .transition_send_instance(other, instance.id, &[Scheduled], Canceled, NOW)
            .await
            .unwrap(),
        None
    );
    let by_definition = store
        .list_send_instances(other, Some(definition.id), first_page())
        .await
        .unwrap();
    assert_eq!((by_definition.count, by_definition.items.len()), (0, 0));
    let matching = store
        .search_send_definitions(other, &criteria("or", "Mine", REPORT_15), first_page())
        .await
        .unwrap();
    assert_eq!(matching.count, 0);
    assert_eq!(counts(&h, other).await, (0, 0));

    // Nothing the other account tried changed anything.
    let mine = store
        .get_send_definition(mid(), definition.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine.name, "Mine");
    let mine = store
        .get_send_instance(mid(), instance.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine.status, Scheduled);
    assert_eq!(counts(&h, mid()).await, (1, 1));
}

async fn the_one_step_create_stores_a_definition_and_its_scheduled_instance(h: Harness) {
    let later = Schedule {
        start_at: NOW + Duration::days(5),
        all_recipients_opted_in: false,
    };
    let (definition, instance) = h
        .store
        .create_send_definition_and_instance(new_definition(mid(), "Both"), later)
        .await
        .unwrap();
    assert_eq!(instance.id, 70_000_001);
    assert_eq!(instance.definition_id, definition.id);
    assert_eq!(instance.mid, mid());
    assert_eq!(instance.status, Scheduled);
    assert_eq!(instance.scheduled_at, NOW + Duration::days(5));
    assert!(!instance.all_recipients_opted_in);
    assert_eq!((instance.started_at, instance.completed_at), (None, None));
    assert_eq!(
        (instance.sync_id, instance.job_id, instance.message.clone()),
        (None, None, None)
    );
    assert_eq!(instance.counts, Default::default());
    assert_eq!(instance.targets, definition.targets);
    assert_eq!(
        h.store.get_send_instance(mid(), instance.id).await.unwrap(),
        Some(instance)
    );
}

async fn the_one_step_create_leaves_nothing_behind_when_it_fails(h: Harness) {
    // An instance scheduled before it was created breaks the schema's own check, after
    // the definition was inserted in the same transaction.
    let in_the_past = Schedule {
        start_at: NOW - Duration::minutes(1),
        all_recipients_opted_in: true,
    };
    let result = h
        .store
        .create_send_definition_and_instance(new_definition(mid(), "Doomed"), in_the_past)
        .await;
    let error = result.unwrap_err().to_string().to_lowercase();
    assert!(error.contains("check"), "{error}");
    assert_eq!(counts(&h, mid()).await, (0, 0));
    // A failed create for an account that does not exist leaves nothing either.
    let result = h
        .store
        .create_send_definition_and_instance(
            new_definition(Mid::from_stored(999), "Nobody"),
            now_schedule(),
        )
        .await;
    assert!(result.is_err());
    assert_eq!(counts(&h, mid()).await, (0, 0));
}

async fn an_update_changes_only_what_it_gives_and_no_scheduled_instance(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Before"))
        .await
        .unwrap();
    let instance = scheduled(&h, definition.id).await;
    let later = NOW + Duration::hours(1);
    let changes = SendDefinitionChanges {
        name: Some("After".into()),
        email_id: Some(1002),
        targets: Some(vec![target(TargetType::Campaign, "701000000000009")]),
        exclusions: Some(vec![]),
        deduplicate_by_email: Some(false),
        ..SendDefinitionChanges::default()
    };
    let updated = h
        .store
        .update_send_definition(mid(), definition.id, definition.version, changes, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "After");
    assert_eq!(updated.email_id, 1002);
    assert_eq!(updated.targets[0].target_type, TargetType::Campaign);
    assert!(updated.exclusions.is_empty());
    assert!(!updated.deduplicate_by_email);
    assert_eq!(updated.description, definition.description);
    assert_eq!(
        updated.send_classification_id,
        definition.send_classification_id
    );
    assert_eq!(updated.external_key, definition.external_key);
    assert_eq!((updated.created_at, updated.modified_at), (NOW, later));
    assert_eq!(
        h.store
            .get_send_definition(mid(), definition.id)
            .await
            .unwrap(),
        Some(updated)
    );

    let unchanged = h.store.get_send_instance(mid(), instance.id).await.unwrap();
    assert_eq!(unchanged, Some(instance.clone()));
    assert_eq!(instance.email_id, 1001);
    assert_eq!(instance.targets, definition.targets);
    assert!(instance.deduplicate_by_email);
    // A new instance takes the definition as it is now.
    let next = scheduled(&h, definition.id).await;
    assert_eq!(next.email_id, 1002);
    assert!(next.exclusions.is_empty());
}

async fn an_update_of_an_unknown_definition_changes_nothing(h: Harness) {
    let changes = SendDefinitionChanges {
        name: Some("Ghost".into()),
        ..SendDefinitionChanges::default()
    };
    assert_eq!(
        h.store
            .update_send_definition(mid(), 10_000_001, 1, changes, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(counts(&h, mid()).await, (0, 0));
}

async fn an_update_at_a_stale_version_is_refused_and_changes_nothing(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Before"))
        .await
        .unwrap();
    assert_eq!(definition.version, 1);
    let rename = |name: &str| SendDefinitionChanges {
        name: Some(name.into()),
        ..SendDefinitionChanges::default()
    };
    let first = h
        .store
        .update_send_definition(mid(), definition.id, 1, rename("First"), NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.version, 2);
    let second = h
        .store
        .update_send_definition(mid(), definition.id, 1, rename("Second"), NOW)
        .await;
    assert!(
        matches!(second, Err(UpdateDefinitionError::Stale { id, version: 1 }) if id == definition.id),
        "{second:?}"
    );
    assert_eq!(
        h.store
            .get_send_definition(mid(), definition.id)
            .await
            .unwrap(),
        Some(first)
    );
}

async fn delete_is_refused_while_an_instance_is_live(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Busy"))
        .await
        .unwrap();
    let instance = scheduled(&h, definition.id).await;
    // Scheduled, then through every other live status.
    let path: [(InstanceStatus, InstanceStatus); 4] = [
        (Scheduled, Scheduled),
        (Scheduled, Sending),
        (Sending, Paused),
        (Paused, CancelPending),
    ];
    for (from, to) in path {
        if from != to {
            h.store
                .transition_send_instance(mid(), instance.id, &[from], to, NOW)
                .await
                .unwrap()
                .expect("transition applies");
        }
        match h.store.delete_send_definition(mid(), definition.id).await {
            Err(DeleteDefinitionError::InUse {
                instance_id,
                status,
            }) => assert_eq!((instance_id, status), (instance.id, to)),
            other => panic!("{to}: {other:?}"),
        }
    }
    assert!(
        h.store
            .get_send_definition(mid(), definition.id)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(counts(&h, mid()).await, (1, 1));
}

async fn finished_instances_stay_readable_after_their_definition_is_deleted(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Done"))
        .await
        .unwrap();
    let canceled = scheduled(&h, definition.id).await;
    h.store
        .transition_send_instance(mid(), canceled.id, &[Scheduled], Canceled, NOW)
        .await
        .unwrap()
        .unwrap();
    let complete = scheduled(&h, definition.id).await;
    for (from, to) in [(Scheduled, Sending), (Sending, Complete)] {
        h.store
            .transition_send_instance(mid(), complete.id, &[from], to, NOW)
            .await
            .unwrap()
            .unwrap();
    }
    h.store
        .delete_send_definition(mid(), definition.id)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .get_send_definition(mid(), definition.id)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        h.store.delete_send_definition(mid(), definition.id).await,
        Err(DeleteDefinitionError::NotFound)
    ));
    let read = h
        .store
        .get_send_instance(mid(), complete.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.status, Complete);
    assert_eq!(read.targets, definition.targets);
    let listed = h
        .store
        .list_send_instances(mid(), Some(definition.id), first_page())
        .await
        .unwrap();
    assert_eq!(listed.count, 2);
    // A deleted definition cannot be scheduled again.
    assert_eq!(
        h.store
            .schedule_send_definition(mid(), definition.id, now_schedule(), NOW)
            .await
            .unwrap(),
        None
    );
}

async fn scheduling_copies_the_definition_and_starts_when_told(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Copy"))
        .await
        .unwrap();
    let at = NOW + Duration::days(1);
    let instance = h
        .store
        .schedule_send_definition(
            mid(),
            definition.id,
            Schedule {
                start_at: at,
                all_recipients_opted_in: false,
            },
            NOW,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(instance.scheduled_at, at);
    assert_eq!((instance.created_at, instance.modified_at), (NOW, NOW));
    assert_eq!(instance.email_id, definition.email_id);
    assert_eq!(
        instance.send_classification_id,
        definition.send_classification_id
    );
    assert_eq!(instance.exclusions, definition.exclusions);
    assert_eq!(
        instance.deduplicate_by_email,
        definition.deduplicate_by_email
    );
    assert!(!instance.all_recipients_opted_in);
    assert_eq!(
        h.store
            .schedule_send_definition(mid(), 10_999_999, now_schedule(), NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(counts(&h, mid()).await, (1, 1));
}

async fn search_matches_names_and_target_ids_and_pages_the_matches(h: Harness) {
    for name in ["Spring Sale", "Autumn News", "spring news", "Winter"] {
        let mut new = new_definition(mid(), name);
        if name == "Winter" {
            new.targets = vec![target(TargetType::Report, "00O000000000002")];
        }
        h.store.create_send_definition(new).await.unwrap();
    }
    let search = |criteria: SearchCriteria, page: PageRequest| {
        let store = h.store.clone();
        async move {
            let found = store
                .search_send_definitions(mid(), &criteria, page)
                .await
                .unwrap();
            let names: Vec<String> = found.items.into_iter().map(|d| d.name).collect();
            (found.count, names)
        }
    };
    assert_eq!(
        search(SearchCriteria::default(), page(2, 3)).await,
        (4, vec!["Winter".to_owned()])
    );
    assert_eq!(
        search(criteria("and", "SPRING", ""), first_page()).await,
        (2, vec!["Spring Sale".to_owned(), "spring news".to_owned()])
    );
    assert_eq!(
        search(criteria("and", "news", "00O000000000001EAA"), first_page()).await,
        (2, vec!["Autumn News".to_owned(), "spring news".to_owned()])
    );
    assert_eq!(
        search(criteria("and", "", "00O000000000002"), first_page()).await,
        (1, vec!["Winter".to_owned()])
    );
    assert_eq!(
        search(criteria("or", "winter", REPORT_15), page(2, 2)).await,
        (4, vec!["spring news".to_owned(), "Winter".to_owned()])
    );
    assert_eq!(
        search(criteria("and", "news", "00O000000000002"), first_page()).await,
        (0, vec![])
    );
    assert_eq!(
        search(criteria("and", "spring", ""), page(3, 1)).await,
        (2, vec![])
    );
}

async fn instances_are_listed_all_or_by_definition_a_page_at_a_time(h: Harness) {
    let first = h
        .store
        .create_send_definition(new_definition(mid(), "First"))
        .await
        .unwrap();
    let second = h
        .store
        .create_send_definition(new_definition(mid(), "Second"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for definition in [&first, &second, &first] {
        ids.push(scheduled(&h, definition.id).await.id);
    }
    let all = h
        .store
        .list_send_instances(mid(), None, page(1, 2))
        .await
        .unwrap();
    assert_eq!(all.count, 3);
    assert_eq!(all.items.iter().map(|i| i.id).collect::<Vec<_>>(), ids[..2]);
    let of_first = h
        .store
        .list_send_instances(mid(), Some(first.id), page(2, 1))
        .await
        .unwrap();
    assert_eq!(of_first.count, 2);
    assert_eq!(
        of_first.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    let of_unknown = h
        .store
        .list_send_instances(mid(), Some(10_999_999), first_page())
        .await
        .unwrap();
    assert_eq!((of_unknown.count, of_unknown.items.len()), (0, 0));
}

async fn a_status_transition_applies_once(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Once"))
        .await
        .unwrap();
    let instance = scheduled(&h, definition.id).await;
    let later = NOW + Duration::minutes(3);
    let canceled = h
        .store
        .transition_send_instance(mid(), instance.id, &[Scheduled], Canceled, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(canceled.status, Canceled);
    assert_eq!(canceled.completed_at, Some(later));
    assert_eq!(canceled.started_at, None);
    assert_eq!(canceled.modified_at, later);
    let again = h
        .store
        .transition_send_instance(mid(), instance.id, &[Scheduled], Canceled, later)
        .await
        .unwrap();
    assert_eq!(again, None);
    let unknown = h
        .store
        .transition_send_instance(mid(), 70_999_999, &[Scheduled], Canceled, later)
        .await
        .unwrap();
    assert_eq!(unknown, None);
    assert_eq!(
        h.store.get_send_instance(mid(), instance.id).await.unwrap(),
        Some(canceled)
    );
}

async fn racing_transitions_apply_exactly_one(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Race"))
        .await
        .unwrap();
    let instance = scheduled(&h, definition.id).await;
    let attempts = (0..8).map(|n| {
        let store = h.store.clone();
        // Half cancel, half start: whichever applies first wins, the rest see no match.
        let to = if n % 2 == 0 { Canceled } else { Sending };
        tokio::spawn(async move {
            store
                .transition_send_instance(mid(), instance.id, &[Scheduled], to, NOW)
                .await
                .unwrap()
        })
    });
    let mut applied = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        if let Some(moved) = attempt.await.unwrap() {
            applied.push(moved.status);
        }
    }
    assert_eq!(applied.len(), 1, "{applied:?}");
    let read = h
        .store
        .get_send_instance(mid(), instance.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.status, applied[0]);
}

async fn start_and_completion_times_are_recorded_once(h: Harness) {
    let definition = h
        .store
        .create_send_definition(new_definition(mid(), "Times"))
        .await
        .unwrap();
    let instance = scheduled(&h, definition.id).await;
    let at = |minutes| NOW + Duration::minutes(minutes);
    let step = |from: InstanceStatus, to: InstanceStatus, minutes: i64| {
        let store = h.store.clone();
        async move {
            store
                .transition_send_instance(mid(), instance.id, &[from], to, at(minutes))
                .await
                .unwrap()
                .expect("transition applies")
        }
    };
    let sending = step(Scheduled, Sending, 1).await;
    assert_eq!(sending.started_at, Some(at(1)));
    step(Sending, Paused, 2).await;
    let resumed = step(Paused, Sending, 3).await;
    assert_eq!(resumed.started_at, Some(at(1)));
    let pending = step(Sending, CancelPending, 4).await;
    assert_eq!(pending.completed_at, None);
    let done = step(CancelPending, Canceled, 5).await;
    assert_eq!(done.started_at, Some(at(1)));
    assert_eq!(done.completed_at, Some(at(5)));
    // The compare-and-set takes any of several current statuses.
    let other = scheduled(&h, definition.id).await;
    let moved = h
        .store
        .transition_send_instance(
            mid(),
            other.id,
            &[Sending, Paused, Scheduled],
            InstanceStatus::Error,
            at(6),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.status, InstanceStatus::Error);
    assert_eq!(moved.completed_at, Some(at(6)));
}

async fn scheduling_and_deleting_at_once_never_strand_a_live_instance(h: Harness) {
    for round in 0..10 {
        let definition = h
            .store
            .create_send_definition(new_definition(mid(), &format!("Round {round}")))
            .await
            .unwrap();
        let store = h.store.clone();
        let schedule = tokio::spawn(async move {
            store
                .schedule_send_definition(mid(), definition.id, now_schedule(), NOW)
                .await
                .unwrap()
        });
        let store = h.store.clone();
        let delete =
            tokio::spawn(async move { store.delete_send_definition(mid(), definition.id).await });
        let instance = schedule.await.unwrap();
        match (delete.await.unwrap(), instance) {
            // Deleted first: scheduling found nothing.
            (Ok(()), None) => {}
            // Scheduled first: the live instance kept the definition.
            (Err(DeleteDefinitionError::InUse { instance_id, .. }), Some(instance)) => {
                assert_eq!(instance_id, instance.id);
                assert!(
                    h.store
                        .get_send_definition(mid(), definition.id)
                        .await
                        .unwrap()
                        .is_some()
                );
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
}

backend_tests!(setup =>
    a_definition_is_stored_with_an_eight_digit_id_and_read_back,
    another_mids_definitions_and_instances_do_not_exist,
    the_one_step_create_stores_a_definition_and_its_scheduled_instance,
    the_one_step_create_leaves_nothing_behind_when_it_fails,
    an_update_changes_only_what_it_gives_and_no_scheduled_instance,
    an_update_of_an_unknown_definition_changes_nothing,
    an_update_at_a_stale_version_is_refused_and_changes_nothing,
    delete_is_refused_while_an_instance_is_live,
    finished_instances_stay_readable_after_their_definition_is_deleted,
    scheduling_copies_the_definition_and_starts_when_told,
    search_matches_names_and_target_ids_and_pages_the_matches,
    instances_are_listed_all_or_by_definition_a_page_at_a_time,
    a_status_transition_applies_once,
    racing_transitions_apply_exactly_one,
    start_and_completion_times_are_recorded_once,
    scheduling_and_deleting_at_once_never_strand_a_live_instance,
);
