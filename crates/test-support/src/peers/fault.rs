//! The aiosmtpd fault server (`peers/fault_server.py`): see its docstring for the
//! recipients that make it misbehave.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{DEADLINE, Process, TempDir, python, script};

/// What the server has said on its standard output so far.
#[derive(Default)]
struct Reports {
    /// One `DELIVERED` line per accepted message, without the prefix.
    delivered: Vec<String>,
    /// The most `slow*` recipients it was holding at once.
    peak_slow: usize,
}

/// A running fault server on a loopback port; killed on drop.
pub struct FaultServer {
    _process: Process,
    pub port: u16,
    reports: Arc<Mutex<Reports>>,
    dumps: Option<TempDir>,
}

impl FaultServer {
    /// Starts it with `fault_server.py` options, e.g. `["--pipelining"]`.
    pub fn start(options: &[&str]) -> Self {
        Self::spawn(options, None)
    }

    /// Starts it with `options`, also writing every accepted message to a file of its
    /// own (read them with [`FaultServer::dumps`]).
    pub fn start_with_dumps(options: &[&str]) -> Self {
        Self::spawn(options, Some(TempDir::new()))
    }

    fn spawn(options: &[&str], dumps: Option<TempDir>) -> Self {
        let mut command = Command::new(python());
        command.arg(script("fault_server.py")).args(options);
        if let Some(dir) = &dumps {
            command.arg("--dump").arg(dir.path());
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "{} could not start ({error}): run scripts/test-peers",
                    python()
                )
            });
        let stdout = child.stdout.take().expect("stdout is piped");
        let process = Process(child);
        let (port_sender, port_receiver) = std::sync::mpsc::channel();
        let reports = Arc::new(Mutex::new(Reports::default()));
        let lines = Arc::clone(&reports);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("PORT ") {
                    let _ = port_sender.send(port.parse::<u16>().ok());
                } else if let Some(delivery) = line.strip_prefix("DELIVERED ") {
                    lines
                        .lock()
                        .expect("not poisoned")
                        .delivered
                        .push(delivery.to_owned());
                } else if let Some(Ok(held)) = line.strip_prefix("SLOW ").map(str::parse) {
                    let mut reports = lines.lock().expect("not poisoned");
                    reports.peak_slow = reports.peak_slow.max(held);
                }
            }
        });
        let port = port_receiver.recv_timeout(DEADLINE).ok().flatten().expect(
            "the fault server says its port (is aiosmtpd installed? run scripts/test-peers)",
        );
        Self {
            _process: process,
            port,
            reports,
            dumps,
        }
    }

    /// For each accepted message so far, whether the client pipelined MAIL and RCPT.
    pub fn pipelined(&self) -> Vec<bool> {
        self.flags("pipelined=yes")
    }

    /// For each accepted message so far, whether the client wrote the next transaction's
    /// MAIL FROM right after this content's final dot.
    pub fn followed(&self) -> Vec<bool> {
        self.flags("followed=yes")
    }

    fn flags(&self, flag: &str) -> Vec<bool> {
        self.reports
            .lock()
            .expect("not poisoned")
            .delivered
            .iter()
            .map(|line| line.split_whitespace().any(|word| word == flag))
            .collect()
    }

    /// `smtp://127.0.0.1:PORT` plus `rest` (e.g. `?tls=none`), with `credentials` as
    /// `user:pass` when given.
    pub fn url(&self, credentials: Option<&str>, rest: &str) -> String {
        let credentials = credentials.map(|c| format!("{c}@")).unwrap_or_default();
        format!("smtp://{credentials}127.0.0.1:{}{rest}", self.port)
    }

    /// The recipients of the accepted messages so far, in order.
    pub fn delivered(&self) -> Vec<String> {
        self.reports
            .lock()
            .expect("not poisoned")
            .delivered
            .iter()
            .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
            .collect()
    }

    /// The recipients of the accepted messages, in order, once there are `count` of them.
    pub async fn wait_for_delivered(&self, count: usize) -> Vec<String> {
        self.wait_for_delivered_within(count, DEADLINE).await
    }

    /// As [`FaultServer::wait_for_delivered`], waiting at most `deadline`.
    pub async fn wait_for_delivered_within(&self, count: usize, deadline: Duration) -> Vec<String> {
        let start = Instant::now();
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                start.elapsed() < deadline,
                "the fault server accepted {delivered:?}, expected {count} messages"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The most `slow*` recipients the server was holding at the same time: how many
    /// transactions the client had in flight at its busiest.
    pub fn peak_slow(&self) -> usize {
        self.reports.lock().expect("not poisoned").peak_slow
    }

    /// Every accepted message so far, as received (started with
    /// [`FaultServer::start_with_dumps`]; empty otherwise).
    pub fn dumps(&self) -> Vec<Vec<u8>> {
        let Some(dir) = &self.dumps else {
            return Vec::new();
        };
        std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("msg."))
            .filter_map(|entry| std::fs::read(entry.path()).ok())
            .collect()
    }
}
