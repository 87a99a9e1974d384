//! The links inside a sent message, end to end against a real Herald: one-click
//! unsubscribe (RFC 8058) and its effect on the next sends, signed tokens that refuse
//! forgeries, open and click tracking, the tracking switch and the view-online page.

mod common;
mod engine_support;
mod lifecycle_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestApp, json_body};
use herald_domain::recipient::{RecipientStatus, SuppressionReason};
use herald_domain::signed_link::LinkKey;
use herald_test_support::backend_tests;
use lifecycle_support::{DEMO, Message, bare_client, events, messages, send_demo, setup};
use serde_json::{Value, json};

/// The recipients of an instance as the Send API lists them, by address.
async fn listed(app: &TestApp, instance_id: i64) -> Vec<Value> {
    let token = app.token(&app.package(DEMO, "").await).await;
    let path = format!(
        "data/v1/integration/send/salesforce/email/instance/{instance_id}/recipients?pageSize=500"
    );
    let body = json_body(app.get_with(&path, &token).await).await;
    body["Recipients"].as_array().unwrap().clone()
}

async fn status_of(app: &TestApp, instance_id: i64, email: &str) -> RecipientStatus {
    let found = listed(app, instance_id).await;
    let recipient = found
        .iter()
        .find(|r| {
            r["EmailAddress"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(email)
        })
        .unwrap_or_else(|| panic!("{email} is not a recipient"));
    RecipientStatus::parse(recipient["Status"].as_str().unwrap()).unwrap()
}

async fn opted_out(app: &TestApp, email: &str) -> String {
    app.scalar(&format!(
        "SELECT CAST(has_opted_out AS TEXT) FROM crm_records WHERE mid = 100000002 AND email = '{email}'"
    ))
    .await
}

async fn a_one_click_post_unsubscribes_and_the_next_commercial_send_skips_the_address(
    app: TestApp,
) {
    let first = send_demo(&app, "Default Commercial").await;
    let sent = messages(&app, first.id).await;
    let message = &sent[0];
    let url = message
        .unsubscribe
        .clone()
        .expect("commercial mail has List-Unsubscribe");
    assert!(
        url.starts_with(&format!("{}unsubscribe/", app.base)),
        "{url}"
    );
    assert_eq!(
        message.urls(&url),
        vec![url.clone()],
        "%%unsub_center_url%% leads there"
    );
    assert_eq!(opted_out(&app, &message.to).await, "0");

    // A link scanner follows the link: a page, and nothing changes.
    let scanned = bare_client().get(&url).send().await.unwrap();
    assert_eq!(scanned.status(), 200);
    assert!(
        scanned.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = scanned.text().await.unwrap();
    assert!(
        page.contains("<form method=\"post\">") && page.contains(&message.to),
        "{page}"
    );
    assert_eq!(events(&app, "unsubscribed").await, 0);
    assert_eq!(app.count("suppressions").await, 0);
    assert_eq!(opted_out(&app, &message.to).await, "0");

    // The mail provider's one-click POST: no cookie, no login, no redirect.
    let one_click = || {
        bare_client()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let response = one_click().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
    assert!(response.headers().get("location").is_none());
    assert_eq!(response.bytes().await.unwrap().len(), 0, "an empty body");
    let suppression = app
        .state
        .store
        .get_suppression(DEMO, &message.to)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(suppression.reason, SuppressionReason::Unsubscribe);
    assert_eq!(
        opted_out(&app, &message.to).await,
        "1",
        "HasOptedOutOfEmail is set"
    );
    assert_eq!(events(&app, "unsubscribed").await, 1);

    // Idempotent: again, nothing more.
    assert_eq!(one_click().await.unwrap().status(), 200);
    assert_eq!(events(&app, "unsubscribed").await, 1);
    let again = app
        .state
        .store
        .get_suppression(DEMO, &message.to)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, suppression);
    // The confirmation page's button: the same, answered with a page.
    let button = bare_client()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click&from=page")
        .send()
        .await
        .unwrap();
    assert_eq!(button.status(), 200);
    assert!(
        button
            .text()
            .await
            .unwrap()
            .contains("You are unsubscribed")
    );
    assert_eq!(events(&app, "unsubscribed").await, 1);

    let listed_first = listed(&app, first.id).await;
    let entry = listed_first
        .iter()
        .find(|r| r["EmailAddress"] == message.to.as_str())
        .unwrap();
    assert!(entry["UnsubscribedTime"].is_string(), "{entry}");

    let next = send_demo(&app, "Default Commercial").await;
    assert_eq!(next.counts.suppressed, first.counts.suppressed + 1);
    assert_eq!(next.counts.sent, first.counts.sent - 1);
    assert_eq!(
        status_of(&app, next.id, &message.to).await,
        RecipientStatus::Suppressed
    );
    let skipped = listed(&app, next.id).await;
    let skipped = skipped
        .iter()
        .find(|r| r["EmailAddress"] == message.to.as_str())
        .unwrap();
    assert_eq!(
        skipped["LastReply"], "suppressed: opted out (HasOptedOutOfEmail)",
        "the reply says why"
    );
    let transactional = send_demo(&app, "Default Transactional").await;
    assert_eq!(
        status_of(&app, transactional.id, &message.to).await,
        RecipientStatus::Sent
    );
    let statistics = json_body(
        app.get_with(
            &format!(
                "data/v1/integration/send/salesforce/email/instance/{}",
                first.id
            ),
            &app.token(&app.package(DEMO, "").await).await,
        )
        .await,
    )
    .await;
    assert_eq!(statistics["Statistics"]["Unsubscribes"], 1, "{statistics}");
}

/// The token of a link URL, and the URL with another token.
fn token_of(url: &str) -> (&str, &str) {
    url.rsplit_once('/').unwrap()
}

async fn forged_altered_and_truncated_tokens_get_404_and_record_nothing(app: TestApp) {
    let sent = messages(&app, send_demo(&app, "Default Commercial").await.id).await;
    let message = &sent[0];
    let unsubscribe = message.unsubscribe.clone().unwrap();
    let (_, token) = token_of(&unsubscribe);
    let (payload, tag) = token.split_once('.').unwrap();
    let payload_text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let (link_prefix, _) = payload_text.rsplit_once(':').unwrap();
    let other_recipient = format!("{link_prefix}:{}", sent[1].recipient_id);
    let click = &message.urls(&format!("{}click/", app.base))[0];
    let (_, click_token) = token_of(click);
    let (click_payload, click_tag) = click_token.split_once('.').unwrap();
    let click_text = String::from_utf8(URL_SAFE_NO_PAD.decode(click_payload).unwrap()).unwrap();
    let (click_prefix, _) = click_text.split_once(":https://").unwrap();
    let elsewhere = format!("{click_prefix}:https://evil.example/");
    let view = message.urls(&format!("{}view/", app.base))[0].clone();
    let stranger = LinkKey::new(b"not this installation's key".to_vec());
    let gone = app.state.link_key.sign(&format!("{link_prefix}:999999999"));
    let bad_tokens = [
        token[..token.len() - 1].to_owned(),
        payload.to_owned(),
        format!("{}.{tag}", URL_SAFE_NO_PAD.encode(&other_recipient)),
        stranger.sign(&payload_text),
        stranger.sign(&other_recipient),
        "garbage".to_owned(),
        gone,
    ];
    let before = app.count("events").await;
    let client = bare_client();
    let mut tried = 0;
    for bad in &bad_tokens {
        for path in ["unsubscribe", "profile"] {
            let url = format!("{}{path}/{bad}", app.base);
            for response in [
                client
                    .post(&url)
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await
                    .unwrap(),
                client.get(&url).send().await.unwrap(),
            ] {
                assert_eq!(response.status(), 404, "{url}");
                assert_eq!(json_body(response).await["errorcode"], 10005);
                tried += 1;
            }
        }
        for path in ["open", "click", "view"] {
            let response = client
                .get(format!("{}{path}/{bad}", app.base))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{path}/{bad}");
            tried += 1;
        }
    }
    // A real token at the wrong kind of link, and a click led elsewhere.
    let wrong_kind = [
        format!("{}click/{token}", app.base),
        format!("{}open/{}", app.base, token_of(&view).1),
        format!("{}unsubscribe/{}", app.base, token_of(&view).1),
        format!(
            "{}click/{}.{click_tag}",
            app.base,
            URL_SAFE_NO_PAD.encode(&elsewhere)
        ),
        format!("{}click/{}", app.base, stranger.sign(&elsewhere)),
    ];
    for url in &wrong_kind {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 404, "{url}");
        assert!(response.headers().get("location").is_none());
    }
    assert_eq!(tried, bad_tokens.len() * 7);
    assert_eq!(app.count("events").await, before, "nothing was recorded");
    assert_eq!(app.count("suppressions").await, 0);
}

fn pixel_and_click(app: &TestApp, message: &Message) -> (String, String) {
    let pixels = message.urls(&format!("{}open/", app.base));
    let clicks = message.urls(&format!("{}click/", app.base));
    assert_eq!(pixels.len(), 1, "one open pixel: {}", message.html);
    assert_eq!(
        clicks.len(),
        1,
        "the one outside link is tracked: {}",
        message.html
    );
    (pixels[0].clone(), clicks[0].clone())
}

async fn opens_and_clicks_are_recorded_once_each_and_the_redirect_leads_to_the_messages_url(
    app: TestApp,
) {
    let instance = send_demo(&app, "Default Transactional").await;
    let sent = messages(&app, instance.id).await;
    let message = &sent[0];
    let (pixel, click) = pixel_and_click(&app, message);
    assert_eq!(
        message.urls("https://example.com/").len(),
        0,
        "no link left untracked"
    );
    assert_eq!(
        message.urls(&format!("{}view/", app.base)).len(),
        1,
        "own links stay"
    );
    let first_name = message.to.split('.').next().unwrap();
    let client = bare_client();
    for _ in 0..2 {
        let opened = client.get(&pixel).send().await.unwrap();
        assert_eq!(opened.status(), 200);
        assert_eq!(opened.headers()["content-type"], "image/gif");
        assert!(
            opened.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("no-store")
        );
        assert_eq!(&opened.bytes().await.unwrap()[..6], b"GIF89a");
    }
    let clicked = client.get(&click).send().await.unwrap();
    assert_eq!(clicked.status(), 302);
    let location = clicked.headers()["location"].to_str().unwrap();
    assert!(
        location.eq_ignore_ascii_case(&format!(
            "https://example.com/guide?from=herald-demo&name={first_name}"
        )),
        "{location}"
    );
    assert_eq!(
        events(&app, "opened").await,
        2,
        "every fetch of the pixel, once"
    );
    assert_eq!(events(&app, "clicked").await, 1);

    let found = listed(&app, instance.id).await;
    let entry = found
        .iter()
        .find(|r| r["EmailAddress"] == message.to.as_str())
        .unwrap();
    assert_eq!(entry["Opens"]["Count"], 2, "{entry}");
    assert!(entry["Opens"]["FirstTime"].is_string());
    assert!(entry["SentTime"].is_string());
    assert_eq!(
        entry["Clicks"],
        json!([{
            "Url": location, "Count": 1, "FirstTime": entry["Clicks"][0]["FirstTime"]
        }])
    );
    let untouched = found
        .iter()
        .find(|r| r["EmailAddress"] == sent[1].to.as_str())
        .unwrap();
    assert_eq!(untouched["Opens"]["Count"], 0);
    let token = app.token(&app.package(DEMO, "").await).await;
    let status = json_body(
        app.get_with(
            &format!(
                "data/v1/integration/send/salesforce/email/instance/{}",
                instance.id
            ),
            &token,
        )
        .await,
    )
    .await;
    let statistics = &status["Statistics"];
    assert_eq!(
        (
            statistics["UniqueOpens"].clone(),
            statistics["Opens"].clone()
        ),
        (json!(1), json!(2))
    );
    assert_eq!(statistics["UniqueClicks"], 1);
    assert_eq!(statistics["BounceRate"], 0.0);

    // The view-online page: the same message, read-only, without the pixel.
    let view = &message.urls(&format!("{}view/", app.base))[0];
    let page = client.get(view).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("Welcome, {}", capitalized(first_name))),
        "{html}"
    );
    assert!(html.contains(&format!("{}click/", app.base)) && !html.contains("/open/"));
    assert_eq!(
        events(&app, "opened").await,
        2,
        "viewing online is not an open"
    );
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

async fn with_tracking_off_the_html_keeps_its_links_and_has_no_pixel(app: TestApp) {
    let token = app.token(&app.package(DEMO, "").await).await;
    let response = app
        .http
        .patch(app.url("email/v1/deliveryProfiles/Default"))
        .bearer_auth(&token)
        .json(&json!({"trackingEnabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(response).await["trackingEnabled"], false);
    let sent = messages(&app, send_demo(&app, "Default Commercial").await.id).await;
    for message in &sent {
        assert_eq!(
            message.urls("https://example.com/guide?").len(),
            1,
            "{}",
            message.html
        );
        assert!(!message.html.contains("/click/") && !message.html.contains("/open/"));
        assert_eq!(message.urls(&format!("{}unsubscribe/", app.base)).len(), 1);
    }
}

backend_tests!(setup =>
    a_one_click_post_unsubscribes_and_the_next_commercial_send_skips_the_address,
    forged_altered_and_truncated_tokens_get_404_and_record_nothing,
    opens_and_clicks_are_recorded_once_each_and_the_redirect_leads_to_the_messages_url,
    with_tracking_off_the_html_keeps_its_links_and_has_no_pixel,
);
