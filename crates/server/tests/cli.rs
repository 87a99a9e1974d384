//! The `herald` binary as scripts and newcomers use it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use herald_test_support::temp_dir;
use serde_json::Value;

fn herald(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command
        .env_clear()
        .env("HERALD_DATA_DIR", data_dir)
        .env("HERALD_LOG", "warn");
    command
}

#[test]
fn package_create_with_json_prints_exactly_one_object_with_the_credentials() {
    let dir = temp_dir("herald-cli");
    let output = herald(&dir)
        .args(["package", "create", "--name", "CI", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    let object = created.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["account_id", "client_id", "client_secret"]);
    assert_eq!(created["account_id"], 100_000_001);
    let listed = herald(&dir).args(["package", "list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains(created["client_id"].as_str().unwrap()));
    assert!(!listed.contains(created["client_secret"].as_str().unwrap()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn package_create_for_an_unknown_mid_or_scope_fails_clearly_and_creates_nothing() {
    let dir = temp_dir("herald-cli");
    for args in [
        vec!["package", "create", "--name", "X", "--mid", "999"],
        vec!["package", "create", "--name", "X", "--mid", "abc"],
        vec![
            "package",
            "create",
            "--name",
            "X",
            "--scopes",
            "email_read root",
        ],
    ] {
        let output = herald(&dir).args(&args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("error:"), "{stderr}");
    }
    let listed = herald(&dir)
        .args(["package", "list", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed, Value::Array(vec![]));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn revoking_a_package_twice_fails_the_second_time() {
    let dir = temp_dir("herald-cli");
    let output = herald(&dir)
        .args(["package", "create", "--name", "R", "--json"])
        .output()
        .unwrap();
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    let client_id = created["client_id"].as_str().unwrap();
    assert!(
        herald(&dir)
            .args(["package", "revoke", client_id])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        !herald(&dir)
            .args(["package", "revoke", client_id])
            .status()
            .unwrap()
            .success()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn account_create_with_json_prints_the_new_mid() {
    let dir = temp_dir("herald-cli");
    let output = herald(&dir)
        .args(["account", "create", "--name", "BU", "--json"])
        .output()
        .unwrap();
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created, serde_json::json!({"account_id": 100_000_002}));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_naming_it() {
    let dir = temp_dir("herald-cli");
    let output = herald(&dir)
        .env("HERALD_LISTEN", "nowhere")
        .args(["serve"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HERALD_LISTEN"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// What the README promises a newcomer: `serve --demo` prints credentials and a curl whose
/// token points back at the running server.
#[tokio::test]
async fn serve_demo_prints_credentials_that_get_a_token_for_this_server() {
    let dir = temp_dir("herald-cli");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = herald(&dir)
        .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
        .args(["serve", "--demo"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let printed: Vec<String> = stdout
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.contains("-d '"))
        .chain(std::iter::once(String::new()))
        .collect();
    let field = |label: &str| {
        printed
            .iter()
            .find_map(|line| line.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {label} in {printed:?}"))
    };
    let (client_id, secret) = (field("client id:"), field("client secret:"));
    let base = format!("http://127.0.0.1:{port}/");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let response = loop {
        let attempt = http
            .post(format!("{base}v2/token"))
            .json(&serde_json::json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}))
            .send()
            .await;
        match attempt {
            Ok(response) => break response,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(err) => panic!("server never answered: {err}"),
        }
    };
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["rest_instance_url"], base);
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
