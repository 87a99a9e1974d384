//! Several real `herald serve` processes on loopback sharing one per-test PostgreSQL
//! database: start, SIGTERM, SIGKILL and restart nodes, read what each node sent from its
//! `/metrics`, and drive a send through one node's Send API.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine_support::{Audience, DEMO, locals, send};
use herald::config::Config;
use herald::packages::create_package;
use herald::state::AppState;
use herald_domain::clock::SystemClock;
use herald_domain::scope::ScopeSet;
use herald_test_support::peers::{Process, SmtpSink, free_port};
use herald_test_support::{Db, TestDatabase};
use serde_json::{Value, json};

/// How long a node may take to start answering.
const START: Duration = Duration::from_secs(30);

/// One `herald serve` process.
pub struct Node {
    process: Option<Process>,
    pub port: u16,
}

impl Node {
    pub fn pid(&self) -> u32 {
        self.process.as_ref().expect("the node runs").0.id()
    }
}

/// A cluster of nodes on one PostgreSQL database, seeded with the demo account.
/// Fields drop in order: the nodes stop before their database is dropped.
pub struct Cluster {
    pub nodes: Vec<Node>,
    /// An in-process view of the database (no engine): seeds data and reads results.
    pub state: AppState,
    pub db: TestDatabase,
    settings: Vec<(String, String)>,
    http: reqwest::Client,
    token: Option<String>,
}

impl Cluster {
    /// A seeded database, or `None` (the test skips) when PostgreSQL is unreachable.
    /// `settings` are the `HERALD_*` variables every node gets.
    pub async fn new(settings: &[(&str, &str)]) -> Option<Cluster> {
        let db = TestDatabase::create(Db::Postgres).await?;
        let env = [
            ("HERALD_DATABASE_URL".to_owned(), db.url.clone()),
            ("HERALD_LOG".to_owned(), "warn".to_owned()),
        ]
        .into();
        let config = Config::from_sources(None, &env).unwrap();
        let state = herald::app::build_state(config, Arc::new(SystemClock))
            .await
            .unwrap();
        herald::demo::seed_and_print(&state).await.unwrap();
        Some(Cluster {
            nodes: Vec::new(),
            state,
            db,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            http: reqwest::Client::new(),
            token: None,
        })
    }

    /// Starts `count` nodes and waits until each answers.
    pub async fn start(&mut self, count: usize) {
        for _ in 0..count {
            let node = self.spawn_node();
            self.nodes.push(node);
        }
        for index in 0..count {
            self.wait_ready(index).await;
        }
    }

    fn spawn_node(&self) -> Node {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .env_clear()
            .env("HERALD_DATABASE_URL", &self.db.url)
            .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
            .env("HERALD_LOG", "warn")
            .envs(self.settings.iter().map(|(k, v)| (k, v)))
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("herald starts");
        Node {
            process: Some(Process(child)),
            port,
        }
    }

    async fn wait_ready(&self, index: usize) {
        let url = format!("http://127.0.0.1:{}/readyz", self.nodes[index].port);
        let deadline = Instant::now() + START;
        loop {
            if let Ok(response) = self.http.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "node {index} never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills node `index` with SIGKILL: no drain, no goodbye.
    pub fn kill(&mut self, index: usize) {
        let mut process = self.nodes[index].process.take().expect("the node runs");
        process.0.kill().expect("SIGKILL");
        process.0.wait().unwrap();
    }

    /// Stops node `index` with SIGTERM and waits until it has exited (it drains first).
    pub async fn terminate(&mut self, index: usize) {
        let mut process = self.nodes[index].process.take().expect("the node runs");
        let status = Command::new("kill")
            .args(["-TERM", &process.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = process.0.try_wait().unwrap() {
                assert!(status.success(), "node {index} stopped cleanly: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "node {index} never stopped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts node `index` again (a new process on a new port) and waits until it answers.
    pub async fn restart(&mut self, index: usize) {
        self.nodes[index] = self.spawn_node();
        self.wait_ready(index).await;
    }

    /// How many messages node `index` handed to a relay that accepted them (its
    /// `herald_messages_total{outcome="sent"}`).
    pub async fn sent_by(&self, index: usize) -> u64 {
        let url = format!("http://127.0.0.1:{}/metrics", self.nodes[index].port);
        let text = self
            .http
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix("herald_messages_total{outcome=\"sent\"} "))
            .map(|n| n.trim().parse().unwrap())
            .unwrap_or(0)
    }

    /// What every running node sent, in node order.
    pub async fn sent_by_each(&self) -> Vec<u64> {
        let mut sent = Vec::new();
        for index in 0..self.nodes.len() {
            sent.push(self.sent_by(index).await);
        }
        sent
    }

    /// Terminates every connection to the database, as a PostgreSQL restart does to its
    /// clients; how many there were.
    pub async fn drop_database_connections(&self) -> usize {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.db.url).await.unwrap();
        let terminated = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .len();
        pool.close().await;
        terminated
    }

    /// Contacts `<prefix>0…` at example.org and a send to them, due now.
    pub async fn send_to(&self, prefix: &str, count: usize) -> i64 {
        let store = self.state.store.as_ref();
        let now = self.state.clock.now();
        let audience = Audience::create(store, now, &locals(prefix, 0, count)).await;
        send(store, now, "Default Transactional", &audience.target).await
    }

    /// `POST …/instance/{id}/{action}` (pause, resume, cancel) through node `index`'s
    /// Send API, with a token that node issued; the response body.
    pub async fn instance_action(&mut self, index: usize, id: i64, action: &str) -> Value {
        let base = format!("http://127.0.0.1:{}", self.nodes[index].port);
        let token = match &self.token {
            Some(token) => token.clone(),
            None => self.new_token(&base).await,
        };
        let url =
            format!("{base}/data/v1/integration/send/salesforce/email/instance/{id}/{action}");
        let response = self
            .http
            .post(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{action} through node {index}");
        response.json().await.unwrap()
    }

    async fn new_token(&mut self, base: &str) -> String {
        let package = create_package(
            self.state.store.as_ref(),
            self.state.clock.as_ref(),
            "Cluster test",
            DEMO,
            ScopeSet::all(),
        )
        .await
        .unwrap();
        let response = self
            .http
            .post(format!("{base}/v2/token"))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": package.client_id,
                "client_secret": package.client_secret,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        self.token = Some(token.clone());
        token
    }
}

/// The Message-ID header of a dump (`smtp-sink` writes LF line endings, the fault server
/// CRLF).
pub fn message_id_of(dump: &[u8]) -> Option<String> {
    String::from_utf8_lossy(dump)
        .lines()
        .take_while(|line| !line.trim_end().is_empty())
        .find_map(|line| {
            line.strip_prefix("Message-ID: ")
                .map(|id| id.trim_end().to_owned())
        })
}

/// How many times each Message-ID arrived.
pub fn arrivals(dumps: &[Vec<u8>]) -> HashMap<String, usize> {
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for dump in dumps {
        let id = message_id_of(dump).expect("every dump has a Message-ID");
        *arrivals.entry(id).or_default() += 1;
    }
    arrivals
}

/// Waits until `count` messages have reached the sink.
pub async fn arrived(sink: &SmtpSink, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.dump_files_started() < count {
        assert!(
            Instant::now() < deadline,
            "only {} arrived",
            sink.dump_files_started()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
