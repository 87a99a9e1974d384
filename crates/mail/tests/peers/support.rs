//! Real third-party peers for the tests: Postfix's `smtp-sink`, the aiosmtpd fault server
//! and the Python checkers in this folder. Each peer listens on its own loopback port and
//! is killed when dropped. `scripts/test-peers` installs them.

use herald_domain::email_address::EmailAddress;
use herald_mail::message::{Mailbox, MessageParts};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a peer may take to start, or an expected effect to show.
const DEADLINE: Duration = Duration::from_secs(15);

/// The Python interpreter the peers run under (`HERALD_PYTHON`, default `python3`).
fn python() -> String {
    std::env::var("HERALD_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// A Postfix tool, found on PATH or in /usr/sbin (often missing from a non-login PATH).
fn postfix_tool(name: &str) -> PathBuf {
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.exists() {
        sbin
    } else {
        PathBuf::from(name)
    }
}

/// Runs one of this folder's Python scripts with `input` on stdin.
pub fn run_python(name: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(python())
        .arg(script(name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "{} could not start ({error}): run scripts/test-peers",
                python()
            )
        });
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("the script reads its input");
    child.wait_with_output().expect("the script runs")
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "herald-mail-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a temporary directory");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (and reaped) on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

fn wait_until_accepting(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < DEADLINE, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Postfix's `smtp-sink`, dumping each message it receives to a file.
pub struct SmtpSink {
    _process: Process,
    pub port: u16,
    dumps: TempDir,
}

impl SmtpSink {
    pub fn start() -> Self {
        let dumps = TempDir::new();
        // smtp-sink drops to the postfix user, which must be able to write the dumps.
        set_mode(dumps.path(), 0o777);
        let port = free_port();
        let mut command = Command::new(postfix_tool("smtp-sink"));
        if running_as_root() {
            command.args(["-u", "postfix"]);
        }
        let template = format!("{}/msg.", dumps.path().display());
        let child = command
            .args(["-d", &template, "-c", &format!("127.0.0.1:{port}"), "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("smtp-sink could not start ({error}): run scripts/test-peers")
            });
        let process = Process(child);
        wait_until_accepting(port);
        Self {
            _process: process,
            port,
            dumps,
        }
    }

    /// The relay URL for the pool.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The dumped messages, once there are `count` of them (panics after the deadline).
    pub async fn wait_for_dumps(&self, count: usize) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let dumps = self.dumps();
            if dumps.len() >= count {
                return dumps;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "smtp-sink dumped {} messages, expected {count}",
                dumps.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn dumps(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.dumps.path()) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| std::fs::read(entry.path()).ok())
            // A dump ends with an empty line once the message is complete.
            .filter(|dump| dump.ends_with(b"\n\n"))
            .collect()
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .expect("permissions on the dump directory");
}

/// The aiosmtpd fault server (`fault_server.py`): see its docstring for the recipients
/// that make it misbehave.
pub struct FaultServer {
    _process: Process,
    pub port: u16,
    delivered: Arc<Mutex<Vec<String>>>,
}

impl FaultServer {
    /// Starts it with `fault_server.py` options, e.g. `["--pipelining"]`.
    pub fn start(options: &[&str]) -> Self {
        let mut child = Command::new(python())
            .arg(script("fault_server.py"))
            .args(options)
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
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&delivered);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("PORT ") {
                    let _ = port_sender.send(port.parse::<u16>().ok());
                } else if let Some(delivery) = line.strip_prefix("DELIVERED ") {
                    lines
                        .lock()
                        .expect("not poisoned")
                        .push(delivery.to_owned());
                }
            }
        });
        let port = port_receiver.recv_timeout(DEADLINE).ok().flatten().expect(
            "the fault server says its port (is aiosmtpd installed? run scripts/test-peers)",
        );
        Self {
            _process: process,
            port,
            delivered,
        }
    }

    /// For each accepted message so far, whether the client pipelined MAIL and RCPT.
    pub fn pipelined(&self) -> Vec<bool> {
        self.delivered
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|line| line.ends_with("pipelined=yes"))
            .collect()
    }

    /// `smtp://127.0.0.1:PORT` plus `rest` (e.g. `?tls=none`), with `credentials` as
    /// `user:pass` when given.
    pub fn url(&self, credentials: Option<&str>, rest: &str) -> String {
        let credentials = credentials.map(|c| format!("{c}@")).unwrap_or_default();
        format!("smtp://{credentials}127.0.0.1:{}{rest}", self.port)
    }

    /// The recipients of the accepted messages, in order, once there are `count` of them.
    pub async fn wait_for_delivered(&self, count: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let delivered: Vec<String> = self
                .delivered
                .lock()
                .expect("not poisoned")
                .iter()
                .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
                .collect();
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the fault server accepted {delivered:?}, expected {count} messages"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A small personalized message to `to`, with Message-ID `<{id}@herald.test>`.
pub fn message_to(to: &str, id: &str) -> Vec<u8> {
    MessageParts {
        from: Mailbox::named("Herald Tests", address("news@herald.test")),
        reply_to: None,
        to: Mailbox::bare(address(to)),
        subject: format!("Message {id}"),
        preheader: None,
        html: Some(format!("<html><body><p>Hello {to}</p></body></html>")),
        text: format!("Hello {to}\r\n"),
        date: time::macros::datetime!(2025-03-04 05:06:07 UTC),
        message_id: format!("<{id}@herald.test>"),
        list_unsubscribe_url: Some("https://herald.test/u/1".parse().expect("a URL")),
        list_unsubscribe_mailto: None,
        extra_headers: Vec::new(),
    }
    .build()
    .expect("a valid message")
}

/// An EmailAddress from test text.
pub fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text).expect("a valid test address")
}
