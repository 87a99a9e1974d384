//! Emails as Content Builder assets over HTTP (send-api.md section 3), on both backends.

mod common;

use common::{TestApp, json_body, spawn_app};
use herald_domain::mid::Mid;
use herald_test_support::{Db, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

const ASSETS: &str = "asset/v1/content/assets";

async fn setup(db: Db) -> Option<TestApp> {
    spawn_app(db).await
}

/// A token for a new package in `mid` with `scopes` ("" means all).
async fn token(app: &TestApp, mid: Mid, scopes: &str) -> String {
    let package = app.package(mid, scopes).await;
    app.token(&package).await
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

fn html_email(name: &str) -> Value {
    json!({
        "name": name,
        "assetType": {"id": 208, "name": "htmlemail"},
        "views": {
            "subjectline": {"content": "Hello %%FirstName%%"},
            "preheader": {"content": "News for %%FirstName%%"},
            "html": {"content": "<p>Hi %%FirstName%%</p>"},
            "text": {"content": "Hi %%FirstName%%"}
        }
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = call(app, Method::POST, ASSETS, token, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Asserts a 400 whose message contains every one of `words`.
fn assert_refused(status: u16, body: &Value, code: u64, words: &[&str]) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errorcode"], code, "{body}");
    let message = body["message"].as_str().unwrap();
    for word in words {
        assert!(message.contains(word), "{word:?} not in {message:?}");
    }
}

fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

async fn creating_an_email_answers_201_in_content_builder_shape(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let mut body = html_email("Welcome");
    body["customerKey"] = json!("welcome");
    body["description"] = json!("First contact");
    let created = create(&app, &token, body).await;
    let id = created["id"].as_i64().unwrap();
    assert!(id >= 10_001, "{created}");
    assert_eq!(created["customerKey"], "welcome");
    assert_eq!(created["objectID"].as_str().unwrap().len(), 36);
    assert_eq!(created["name"], "Welcome");
    assert_eq!(created["description"], "First contact");
    assert_eq!(
        created["assetType"],
        json!({"id": 208, "name": "htmlemail", "displayName": "HTML Email"})
    );
    assert_eq!(created["status"], json!({"id": 1, "name": "Draft"}));
    assert_eq!(
        created["views"]["html"]["content"],
        "<p>Hi %%FirstName%%</p>"
    );
    assert_eq!(created["views"]["text"]["content"], "Hi %%FirstName%%");
    assert_eq!(
        created["views"]["subjectline"]["content"],
        "Hello %%FirstName%%"
    );
    assert_eq!(
        created["views"]["preheader"]["content"],
        "News for %%FirstName%%"
    );
    assert_eq!(created["legacyData"]["legacyId"], id);
    assert_eq!(created["createdDate"], "2026-11-26T12:00:00Z");
    assert_eq!(created["modifiedDate"], "2026-11-26T12:00:00Z");
    let (status, read) = call(&app, Method::GET, &format!("{ASSETS}/{id}"), &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(read, created);
}

async fn a_missing_customer_key_is_generated_and_the_status_can_be_given(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let mut body = html_email("Welcome");
    body["status"] = json!({"name": "published"});
    let created = create(&app, &token, body).await;
    let key = created["customerKey"].as_str().unwrap();
    assert_eq!(key.len(), 36, "{key}");
    assert_eq!(key.matches('-').count(), 4, "{key}");
    assert_ne!(key, created["objectID"].as_str().unwrap());
    assert_eq!(created["status"], json!({"id": 2, "name": "Published"}));
}

async fn a_text_only_email_needs_text_and_no_html(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let body = json!({
        "name": "Plain",
        "assetType": {"name": "textonlyemail"},
        "views": {"subjectline": {"content": "Hi"}, "text": {"content": "Hello %%FirstName%%"}}
    });
    let created = create(&app, &token, body).await;
    assert_eq!(created["assetType"]["id"], 209);
    assert!(created["views"].get("html").is_none(), "{created}");
    let (status, body) = call(
        &app,
        Method::POST,
        ASSETS,
        &token,
        Some(json!({"name": "Plain", "assetType": {"id": 209}, "views": {"html": {"content": "<p/>"}}})),
    )
    .await;
    assert_refused(
        status,
        &body,
        10003,
        &["textonlyemail", "views.text.content"],
    );
    let (status, body) = call(
        &app,
        Method::POST,
        ASSETS,
        &token,
        Some(json!({"name": "Web", "assetType": {"id": 208}, "views": {"text": {"content": "x"}}})),
    )
    .await;
    assert_refused(status, &body, 10003, &["htmlemail", "views.html.content"]);
    assert_eq!(app.count("assets").await, 1);
}

async fn only_the_three_email_types_are_accepted(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    for asset_type in [json!({"id": 196}), json!({"name": "webpage"})] {
        let mut body = html_email("Page");
        body["assetType"] = asset_type;
        let (status, body) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
        assert_refused(
            status,
            &body,
            10003,
            &["207 templatebasedemail, 208 htmlemail, 209 textonlyemail"],
        );
    }
    let mut body = html_email("Mixed");
    body["assetType"] = json!({"id": 209, "name": "htmlemail"});
    let (status, body) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
    assert_refused(
        status,
        &body,
        10003,
        &["209 is textonlyemail, not htmlemail"],
    );
    let mut body = html_email("Untyped");
    body.as_object_mut().unwrap().remove("assetType");
    let (status, body) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
    assert_refused(status, &body, 10002, &["assetType is required"]);
    assert_eq!(app.count("assets").await, 0);
}

async fn a_name_is_required(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    for name in [None, Some("   ")] {
        let mut body = html_email("x");
        match name {
            Some(name) => body["name"] = json!(name),
            None => {
                body.as_object_mut().unwrap().remove("name");
            }
        }
        let (status, body) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("name is required")
        );
    }
    assert_eq!(app.count("assets").await, 0);
}

async fn a_line_break_in_a_header_view_is_refused_and_changes_nothing(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    for view in ["subjectline", "preheader"] {
        let mut body = html_email("Injected");
        body["views"][view]["content"] = json!("Hi\r\nBcc: everyone@example.com");
        let (status, body) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
        assert_refused(
            status,
            &body,
            10003,
            &[&format!("views.{view}"), "line breaks"],
        );
    }
    assert_eq!(app.count("assets").await, 0);
    let created = create(&app, &token, html_email("Clean")).await;
    let path = format!("{ASSETS}/{}", created["id"]);
    let patch = json!({"views": {"subjectline": {"content": "a\nb"}}});
    let (status, body) = call(&app, Method::PATCH, &path, &token, Some(patch)).await;
    assert_refused(status, &body, 10003, &["views.subjectline"]);
    let (_, unchanged) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(unchanged, created);
}

async fn a_malformed_personalization_string_is_refused_naming_view_line_and_column(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let mut body = html_email("Broken");
    body["views"]["html"]["content"] = json!("<p>\n  Hi %%FirstName</p>");
    let (status, refused) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
    assert_refused(
        status,
        &refused,
        10003,
        &["views.html.content", "line 2, column 6", "unterminated"],
    );
    let mut body = html_email("Broken");
    body["views"]["subjectline"]["content"] = json!("Save 50%% now");
    let (status, refused) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
    assert_refused(
        status,
        &refused,
        10003,
        &["views.subjectline.content", "line 1, column 8"],
    );
    assert_eq!(app.count("assets").await, 0);
    let created = create(&app, &token, html_email("Fine")).await;
    let path = format!("{ASSETS}/{}", created["id"]);
    let patch = json!({"views": {"text": {"content": "Hi %%First Name%%"}}});
    let (status, refused) = call(&app, Method::PATCH, &path, &token, Some(patch)).await;
    assert_refused(
        status,
        &refused,
        10003,
        &["views.text.content", "column 11"],
    );
    let (_, unchanged) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(unchanged, created);
}

async fn a_duplicate_customer_key_is_a_409_and_changes_nothing(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let mut first = html_email("First");
    first["customerKey"] = json!("welcome");
    create(&app, &token, first.clone()).await;
    let (status, body) = call(&app, Method::POST, ASSETS, &token, Some(first)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["errorcode"], 10006);
    assert!(
        body["message"].as_str().unwrap().contains("\"welcome\""),
        "{body}"
    );
    assert_eq!(app.count("assets").await, 1);
    let second = create(&app, &token, html_email("Second")).await;
    let path = format!("{ASSETS}/{}", second["id"]);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"customerKey": "welcome"})),
    )
    .await;
    assert_eq!(status, 409);
    let (_, unchanged) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(unchanged, second);
    // Another account may use the same key.
    let other = token_for_other_account(&app).await;
    let mut theirs = html_email("Theirs");
    theirs["customerKey"] = json!("welcome");
    create(&app, &other, theirs).await;
}

async fn token_for_other_account(app: &TestApp) -> String {
    let mid = app.other_account().await;
    token(app, mid, "").await
}

async fn put_replaces_the_content_and_keeps_key_and_status_unless_given(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let mut body = html_email("Welcome");
    body["customerKey"] = json!("welcome");
    body["status"] = json!({"id": 2});
    let created = create(&app, &token, body).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("{ASSETS}/{id}");
    app.clock.advance(time::Duration::minutes(10));
    let replacement = json!({
        "id": id,
        "name": "Plain welcome",
        "assetType": {"name": "textonlyemail"},
        "views": {"text": {"content": "Welcome, %%FirstName%%"}}
    });
    let (status, replaced) = call(&app, Method::PUT, &path, &token, Some(replacement)).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["id"], id);
    assert_eq!(replaced["objectID"], created["objectID"]);
    assert_eq!(replaced["customerKey"], "welcome");
    assert_eq!(replaced["status"]["name"], "Published");
    assert_eq!(replaced["name"], "Plain welcome");
    assert_eq!(replaced["assetType"]["id"], 209);
    assert_eq!(replaced["views"]["subjectline"]["content"], "");
    assert!(replaced["views"].get("html").is_none(), "{replaced}");
    assert_eq!(replaced["createdDate"], created["createdDate"]);
    assert_eq!(replaced["modifiedDate"], "2026-11-26T12:10:00Z");
    let (_, read) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(read, replaced);
    let (status, body) = call(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(json!({"views": {"text": {"content": "x"}}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, unchanged) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(unchanged, replaced);
}

async fn patch_changes_only_what_is_given(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let created = create(&app, &token, html_email("Welcome")).await;
    let path = format!("{ASSETS}/{}", created["id"]);
    let patch = json!({
        "name": "Welcome back",
        "status": {"name": "Published"},
        "views": {"subjectline": {"content": "Welcome back, %%FirstName%%"}, "text": {}}
    });
    let (status, patched) = call(&app, Method::PATCH, &path, &token, Some(patch)).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Welcome back");
    assert_eq!(patched["status"]["id"], 2);
    assert_eq!(
        patched["views"]["subjectline"]["content"],
        "Welcome back, %%FirstName%%"
    );
    assert_eq!(patched["views"]["preheader"], created["views"]["preheader"]);
    assert_eq!(patched["views"]["html"], created["views"]["html"]);
    assert!(patched["views"].get("text").is_none(), "{patched}");
    assert_eq!(patched["customerKey"], created["customerKey"]);
    assert_eq!(patched["assetType"], created["assetType"]);
}

async fn a_body_id_other_than_the_path_id_is_refused(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let created = create(&app, &token, html_email("Welcome")).await;
    let path = format!("{ASSETS}/{}", created["id"]);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"id": 1, "name": "x"})),
    )
    .await;
    assert_refused(status, &body, 10003, &["the body's id 1"]);
    let (_, unchanged) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(unchanged, created);
}

async fn delete_answers_200_with_json_and_the_asset_is_gone(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let created = create(&app, &token, html_email("Welcome")).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("{ASSETS}/{id}");
    // A DELETE carrying a JSON content type and no body is normal.
    let response = app
        .http
        .delete(app.url(&path))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_body(response).await,
        json!({"id": id, "deleted": true})
    );
    assert_eq!(app.count("assets").await, 0);
    let (status, body) = call(&app, Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(status, 404);
}

async fn unknown_ids_and_other_accounts_ids_are_404_and_change_nothing(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let created = create(&app, &token, html_email("Mine")).await;
    let mine = format!("{ASSETS}/{}", created["id"]);
    let other = token_for_other_account(&app).await;
    for (path, token) in [
        (mine.as_str(), other.as_str()),
        (&format!("{ASSETS}/99999"), &token),
    ] {
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(html_email("Stolen"))),
            (Method::PATCH, Some(json!({"name": "Stolen"}))),
            (Method::DELETE, None),
        ] {
            let (status, body) = call(&app, method.clone(), path, token, body).await;
            assert_eq!(status, 404, "{method} {path}: {body}");
            assert_eq!(body["errorcode"], 10005);
        }
    }
    let listed = call(&app, Method::GET, ASSETS, &other, None).await.1;
    assert_eq!(listed["count"], 0);
    assert_eq!(app.count("assets").await, 1);
    let (_, unchanged) = call(&app, Method::GET, &mine, &token, None).await;
    assert_eq!(unchanged, created);
    let (status, body) = call(&app, Method::GET, &format!("{ASSETS}/abc"), &token, None).await;
    assert_refused(status, &body, 10003, &["whole number"]);
}

async fn lists_page_with_count_page_size_and_links(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    for name in ["Alpha", "Bravo", "Charlie"] {
        create(&app, &token, html_email(name)).await;
    }
    let (status, all) = call(&app, Method::GET, ASSETS, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(all["count"], 3);
    assert_eq!(all["page"], 1);
    assert_eq!(all["pageSize"], 50);
    assert_eq!(all["links"], json!({}));
    assert_eq!(names(&all), ["Alpha", "Bravo", "Charlie"]);
    for query in [
        "$page=2&$pagesize=2",
        "$page=2&$pageSize=2",
        "page=2&PAGESIZE=2",
    ] {
        let (status, second) = call(
            &app,
            Method::GET,
            &format!("{ASSETS}?{query}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            (second["count"].as_i64(), second["page"].as_i64()),
            (Some(3), Some(2))
        );
        assert_eq!(second["pageSize"], 2);
        assert_eq!(names(&second), ["Charlie"]);
    }
    for query in ["$pagesize=0", "$pagesize=501", "$page=0", "$page=x"] {
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("{ASSETS}?{query}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}

async fn filters_and_order_by_select_and_sort(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    create(&app, &token, html_email("Spring sale")).await;
    create(&app, &token, html_email("Summer SALE")).await;
    create(
        &app,
        &token,
        json!({"name": "Autumn", "assetType": {"id": 209}, "views": {"text": {"content": "x"}}}),
    )
    .await;
    let found = list(
        &app,
        &token,
        "$filter=assetType.name eq 'htmlemail'&$orderBy=name desc",
    )
    .await;
    assert_eq!(names(&found), ["Summer SALE", "Spring sale"]);
    assert_eq!(found["count"], 2);
    let found = list(
        &app,
        &token,
        "$filter=name like 'sale' and name neq 'spring sale'",
    )
    .await;
    assert_eq!(names(&found), ["Summer SALE"]);
    let found = list(
        &app,
        &token,
        "$filter=assetType.id eq 209 or name eq 'spring sale'&$orderBy=name",
    )
    .await;
    assert_eq!(names(&found), ["Autumn", "Spring sale"]);
    // fuel-rest lowercases whole URLs.
    let found = list(
        &app,
        &token,
        "$filter=assettype.name eq 'textonlyemail'&$orderby=name asc",
    )
    .await;
    assert_eq!(names(&found), ["Autumn"]);
    let found = list(&app, &token, "$orderBy=assetType.name asc, name desc").await;
    assert_eq!(names(&found), ["Summer SALE", "Spring sale", "Autumn"]);
}

/// The listing for `query`, which must succeed.
async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, found) = call(app, Method::GET, &format!("{ASSETS}?{query}"), token, None).await;
    assert_eq!(status, 200, "{query}: {found}");
    found
}

async fn bad_filters_and_sorts_are_400s_naming_the_problem(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    for (query, words) in [
        (
            "$filter=colour eq 'red'",
            &["unknown property \"colour\"", "assetType.name"][..],
        ),
        (
            "$filter=name eq",
            &["$filter", "expected a 'quoted' value"][..],
        ),
        ("$filter=name is 'x'", &["unknown operator \"is\""][..]),
        ("$filter=id eq 'ten'", &["id: expected a whole number"][..]),
        ("$orderBy=colour", &["unknown property \"colour\""][..]),
        ("$orderBy=name sideways", &["sideways"][..]),
    ] {
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("{ASSETS}?{query}"),
            &token,
            None,
        )
        .await;
        assert_refused(status, &body, 10003, words);
    }
}

async fn fields_limit_each_item_to_the_named_fields(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    create(&app, &token, html_email("Welcome")).await;
    let (_, found) = call(
        &app,
        Method::GET,
        &format!("{ASSETS}?$fields=name,customerKey,category"),
        &token,
        None,
    )
    .await;
    let item = found["items"][0].as_object().unwrap();
    let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["customerKey", "id", "name"]);
}

async fn a_query_body_filters_sorts_pages_and_selects_fields(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    for name in ["Alpha", "Bravo", "Charlie", "Delta"] {
        create(&app, &token, html_email(name)).await;
    }
    let path = format!("{ASSETS}/query");
    let simple = json!({
        "page": {"page": 1, "pageSize": 2},
        "query": {"property": "assetType.name", "simpleOperator": "equal", "value": "htmlemail"},
        "sort": [{"property": "name", "direction": "DESC"}],
        "fields": ["name"]
    });
    let (status, found) = call(&app, Method::POST, &path, &token, Some(simple)).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["count"].as_i64(), found["pageSize"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(names(&found), ["Delta", "Charlie"]);
    assert!(found["items"][0].get("views").is_none());
    let compound = json!({
        "query": {
            "leftOperand": {"property": "name", "simpleOperator": "startsWith", "value": "a"},
            "logicalOperator": "OR",
            "rightOperand": {
                "leftOperand": {"property": "name", "simpleOperator": "in", "value": ["Charlie", "Delta"]},
                "logicalOperator": "AND",
                "rightOperand": {"property": "name", "simpleOperator": "notEqual", "value": "delta"}
            }
        },
        "sort": [{"property": "id", "direction": "ASC"}]
    });
    let (status, found) = call(&app, Method::POST, &path, &token, Some(compound)).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(names(&found), ["Alpha", "Charlie"]);
    assert_eq!(
        found["items"][0]["views"]["html"]["content"],
        "<p>Hi %%FirstName%%</p>"
    );
}

async fn a_bad_query_body_is_a_400_naming_the_problem(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let path = format!("{ASSETS}/query");
    for (body, code, word) in [
        (
            json!({"query": {"property": "size", "simpleOperator": "equal", "value": 1}}),
            10003,
            "unknown property \"size\"",
        ),
        (
            json!({"query": {"property": "name", "simpleOperator": "matches", "value": "x"}}),
            10003,
            "unknown operator \"matches\"",
        ),
        (
            json!({"query": {"property": "name", "simpleOperator": "equal", "value": true}}),
            10001,
            "query.value",
        ),
        (
            json!({"query": {"leftOperand": {"property": "id", "simpleOperator": "equal", "value": 1}}}),
            10003,
            "a query is either",
        ),
        (json!({"page": {"pageSize": 501}}), 10003, "pageSize"),
        (json!({"sort": [{"property": "colour"}]}), 10003, "colour"),
    ] {
        let (status, refused) = call(&app, Method::POST, &path, &token, Some(body)).await;
        assert_refused(status, &refused, code, &[word]);
    }
    let response = app
        .http
        .post(app.url(&path))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"query\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(json_body(response).await["errorcode"], 10004);
}

async fn malformed_and_wrongly_typed_bodies_are_refused_and_change_nothing(app: TestApp) {
    let token = token(&app, app.first_mid(), "").await;
    let response = app
        .http
        .post(app.url(ASSETS))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": \"x\",")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(json_body(response).await["errorcode"], 10004);
    let mut body = html_email("x");
    body["name"] = json!(5);
    let (status, refused) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
    assert_refused(status, &refused, 10001, &["name"]);
    let mut body = html_email("x");
    body["views"]["html"]["content"] = json!(["<p>"]);
    let (status, refused) = call(&app, Method::POST, ASSETS, &token, Some(body)).await;
    assert_refused(status, &refused, 10001, &["views.html.content"]);
    assert_eq!(app.count("assets").await, 0);
}

async fn reads_and_writes_need_their_scopes(app: TestApp) {
    let writer = token(&app, app.first_mid(), "").await;
    let created = create(&app, &writer, html_email("Welcome")).await;
    let path = format!("{ASSETS}/{}", created["id"]);
    for scopes in ["saved_content_read", "email_read"] {
        let reader = token(&app, app.first_mid(), scopes).await;
        assert_eq!(call(&app, Method::GET, ASSETS, &reader, None).await.0, 200);
        assert_eq!(call(&app, Method::GET, &path, &reader, None).await.0, 200);
        for (method, path, body) in [
            (Method::POST, ASSETS.to_owned(), Some(html_email("New"))),
            (Method::PUT, path.clone(), Some(html_email("New"))),
            (Method::PATCH, path.clone(), Some(json!({"name": "New"}))),
            (Method::DELETE, path.clone(), None),
        ] {
            let (status, body) = call(&app, method, &path, &reader, body).await;
            assert_eq!(status, 403, "{scopes}: {body}");
            assert_eq!(body["errorcode"], 20002);
        }
    }
    let sender = token(&app, app.first_mid(), "marketing_cloud_connect_read").await;
    assert_eq!(call(&app, Method::GET, ASSETS, &sender, None).await.0, 403);
    let query = call(
        &app,
        Method::POST,
        &format!("{ASSETS}/query"),
        &sender,
        Some(json!({})),
    )
    .await;
    assert_eq!(query.0, 403);
    let writer_only = token(&app, app.first_mid(), "saved_content_write").await;
    create(&app, &writer_only, html_email("Written")).await;
    let response = app.http.get(app.url(ASSETS)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(app.count("assets").await, 2);
    let (_, unchanged) = call(&app, Method::GET, &path, &writer, None).await;
    assert_eq!(unchanged, created);
}

async fn the_demo_email_is_a_personalized_published_html_email(app: TestApp) {
    let mid = app.other_account().await;
    herald::api::assets::seed_demo(&app.state, mid)
        .await
        .unwrap();
    let token = token(&app, mid, "").await;
    let (_, found) = call(&app, Method::GET, ASSETS, &token, None).await;
    assert_eq!(found["count"], 1);
    let email = &found["items"][0];
    assert_eq!(email["name"], "Welcome");
    assert_eq!(email["customerKey"], "welcome");
    assert_eq!(email["assetType"]["name"], "htmlemail");
    assert_eq!(email["status"]["name"], "Published");
    assert_eq!(
        email["views"]["subjectline"]["content"],
        "Hello %%FirstName%%"
    );
    for view in ["html", "text"] {
        let content = email["views"][view]["content"].as_str().unwrap();
        for name in [
            "%%FirstName%%",
            "%%LastName%%",
            "%%Email%%",
            "%%unsub_center_url%%",
        ] {
            assert!(content.contains(name), "{view} lacks {name}");
        }
    }
}

backend_tests!(setup =>
    creating_an_email_answers_201_in_content_builder_shape,
    a_missing_customer_key_is_generated_and_the_status_can_be_given,
    a_text_only_email_needs_text_and_no_html,
    only_the_three_email_types_are_accepted,
    a_name_is_required,
    a_line_break_in_a_header_view_is_refused_and_changes_nothing,
    a_malformed_personalization_string_is_refused_naming_view_line_and_column,
    a_duplicate_customer_key_is_a_409_and_changes_nothing,
    put_replaces_the_content_and_keeps_key_and_status_unless_given,
    patch_changes_only_what_is_given,
    a_body_id_other_than_the_path_id_is_refused,
    delete_answers_200_with_json_and_the_asset_is_gone,
    unknown_ids_and_other_accounts_ids_are_404_and_change_nothing,
    lists_page_with_count_page_size_and_links,
    filters_and_order_by_select_and_sort,
    bad_filters_and_sorts_are_400s_naming_the_problem,
    fields_limit_each_item_to_the_named_fields,
    a_query_body_filters_sorts_pages_and_selects_fields,
    a_bad_query_body_is_a_400_naming_the_problem,
    malformed_and_wrongly_typed_bodies_are_refused_and_change_nothing,
    reads_and_writes_need_their_scopes,
    the_demo_email_is_a_personalized_published_html_email,
);
