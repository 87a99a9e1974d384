//! Cancel, pause and resume over HTTP, on both backends. The engine starts sends; here
//! the store plays its part (`Scheduled` → `Sending`, and a send finishing) so that each
//! status can be reached.

mod common;
mod send_support;

use common::TestApp;
use herald_domain::clock::Clock;
use herald_domain::send::status::InstanceStatus::{
    self, CancelPending, Complete, Scheduled, Sending,
};
use herald_test_support::backend_tests;
use reqwest::Method;
use send_support::{Client, definition, now_with_consent, path, refusal, rows, setup};
use serde_json::Value;

/// A new `Scheduled` instance of a new definition.
async fn scheduled_instance(client: &Client<'_>) -> String {
    let email = client.welcome_email().await;
    let id = client.create(&definition("Instance", email)).await;
    client.schedule(&id, &now_with_consent()).await
}

/// Moves an instance as the engine would.
async fn engine_moves(app: &TestApp, instance: &str, from: InstanceStatus, to: InstanceStatus) {
    let moved = app
        .state
        .store
        .transition_send_instance(
            app.first_mid(),
            instance.parse().unwrap(),
            &[from],
            to,
            app.clock.now(),
        )
        .await
        .unwrap();
    assert!(moved.is_some(), "{instance} was not {from}");
}

/// Asks for `action` (`cancel`, `pause`, `resume`) with `method`; returns the answer.
async fn ask(client: &Client<'_>, method: Method, instance: &str, action: &str) -> (u16, Value) {
    client
        .send(
            method,
            &path(&format!("/instance/{instance}/{action}")),
            None,
        )
        .await
}

/// Asks for `action` and returns the `Status` it answers with.
async fn status_after(client: &Client<'_>, instance: &str, action: &str) -> String {
    let (status, answer) = ask(client, Method::GET, instance, action).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["IsError"], false, "{answer}");
    assert_eq!(answer["InstanceId"], instance);
    answer["Status"].as_str().unwrap().to_owned()
}

async fn canceling_a_scheduled_send_is_immediate(app: TestApp) {
    let client = Client::new(&app).await;
    let instance = scheduled_instance(&client).await;
    app.clock.advance(time::Duration::seconds(30));
    let (status, answer) = ask(&client, Method::GET, &instance, "cancel").await;
    assert_eq!(status, 200);
    assert_eq!(answer["Status"], "Canceled");
    assert_eq!(answer["CompletedTime"], "2026-11-26T12:00:30Z");
    assert_eq!(answer["StartedTime"], Value::Null);
    assert_eq!(client.status(&instance).await, "Canceled");
    // Asking again is answered the same way and changes nothing.
    let (status, again) = ask(&client, Method::POST, &instance, "cancel").await;
    assert_eq!((status, again), (200, answer));
}

async fn canceling_a_sending_send_leaves_it_to_the_engine(app: TestApp) {
    let client = Client::new(&app).await;
    let instance = scheduled_instance(&client).await;
    engine_moves(&app, &instance, Scheduled, Sending).await;
    let (status, answer) = ask(&client, Method::POST, &instance, "cancel").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["Status"], "Cancel Pending");
    assert_eq!(answer["CompletedTime"], Value::Null);
    assert_eq!(
        status_after(&client, &instance, "cancel").await,
        "Cancel Pending"
    );
    // Until the engine settles it, the definition cannot be deleted.
    let (_, found) = client.get(&path(&format!("/instance/{instance}"))).await;
    let definition = found["DefinitionId"].as_str().unwrap();
    let (status, answer) = client.delete(&path(&format!("/{definition}"))).await;
    assert!(refusal(status, &answer).contains("that is Cancel Pending"));
    engine_moves(&app, &instance, CancelPending, InstanceStatus::Canceled).await;
    let (status, answer) = client.delete(&path(&format!("/{definition}"))).await;
    assert_eq!((status, answer["IsError"].clone()), (200, false.into()));
}

async fn pause_and_resume_return_a_send_to_where_it_was(app: TestApp) {
    let client = Client::new(&app).await;
    // Not started: back to Scheduled.
    let waiting = scheduled_instance(&client).await;
    assert_eq!(status_after(&client, &waiting, "pause").await, "Paused");
    assert_eq!(status_after(&client, &waiting, "pause").await, "Paused");
    assert_eq!(status_after(&client, &waiting, "resume").await, "Scheduled");
    assert_eq!(status_after(&client, &waiting, "resume").await, "Scheduled");
    // Started: back to Sending.
    let running = scheduled_instance(&client).await;
    engine_moves(&app, &running, Scheduled, Sending).await;
    let (status, answer) = ask(&client, Method::POST, &running, "pause").await;
    assert_eq!((status, answer["Status"].clone()), (200, "Paused".into()));
    assert!(answer["StartedTime"].is_string());
    assert_eq!(status_after(&client, &running, "resume").await, "Sending");
}

async fn canceling_a_paused_send_depends_on_whether_it_started(app: TestApp) {
    let client = Client::new(&app).await;
    let waiting = scheduled_instance(&client).await;
    assert_eq!(status_after(&client, &waiting, "pause").await, "Paused");
    assert_eq!(status_after(&client, &waiting, "cancel").await, "Canceled");
    let running = scheduled_instance(&client).await;
    engine_moves(&app, &running, Scheduled, Sending).await;
    assert_eq!(status_after(&client, &running, "pause").await, "Paused");
    assert_eq!(
        status_after(&client, &running, "cancel").await,
        "Cancel Pending"
    );
}

async fn a_finished_or_winding_down_send_refuses_with_its_status(app: TestApp) {
    let client = Client::new(&app).await;
    let done = scheduled_instance(&client).await;
    engine_moves(&app, &done, Scheduled, Sending).await;
    engine_moves(&app, &done, Sending, Complete).await;
    let canceled = scheduled_instance(&client).await;
    assert_eq!(status_after(&client, &canceled, "cancel").await, "Canceled");
    let pending = scheduled_instance(&client).await;
    engine_moves(&app, &pending, Scheduled, Sending).await;
    assert_eq!(
        status_after(&client, &pending, "cancel").await,
        "Cancel Pending"
    );
    let before = rows(&app).await;
    for (instance, action, verb, expected) in [
        (
            &done,
            "cancel",
            "canceling",
            "Complete and can no longer be canceled",
        ),
        (
            &done,
            "pause",
            "pausing",
            "Complete and can no longer be paused",
        ),
        (
            &done,
            "resume",
            "resuming",
            "Complete and can no longer be resumed",
        ),
        (
            &canceled,
            "pause",
            "pausing",
            "Canceled and can no longer be paused",
        ),
        (
            &canceled,
            "resume",
            "resuming",
            "Canceled and can no longer be resumed",
        ),
        (
            &pending,
            "pause",
            "pausing",
            "Cancel Pending and can no longer be paused",
        ),
        (
            &pending,
            "resume",
            "resuming",
            "Cancel Pending and can no longer be resumed",
        ),
    ] {
        let status_before = client.status(instance).await;
        let (status, answer) = ask(&client, Method::GET, instance, action).await;
        assert_eq!(
            refusal(status, &answer),
            format!("Error {verb} integrated send definition: the send instance is {expected}")
        );
        assert_eq!(client.status(instance).await, status_before);
    }
    assert_eq!(rows(&app).await, before);
}

backend_tests!(setup =>
    canceling_a_scheduled_send_is_immediate,
    canceling_a_sending_send_leaves_it_to_the_engine,
    pause_and_resume_return_a_send_to_where_it_was,
    canceling_a_paused_send_depends_on_whether_it_started,
    a_finished_or_winding_down_send_refuses_with_its_status,
);
