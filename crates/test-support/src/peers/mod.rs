//! Real third-party peers for the tests: Postfix's `smtp-sink`, the aiosmtpd fault server
//! and the Python checkers in `crates/test-support/peers/`. Each peer listens on its own
//! loopback port and is killed when dropped. `scripts/test-peers` installs them.

mod fault;
mod sink;

pub use fault::FaultServer;
pub use sink::SmtpSink;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a peer may take to start, or an expected effect to show.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The Python interpreter the peers run under (`HERALD_PYTHON`, default `python3`).
fn python() -> String {
    std::env::var("HERALD_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// One of the Python scripts in `crates/test-support/peers/`.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
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

/// Runs one of the peer scripts (`parse_message.py`, `dkim_verify.py`, …) with `input`
/// on stdin.
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
    /// A new, empty directory under the system temp dir.
    #[allow(clippy::new_without_default)] // each call makes a directory: not a default value
    pub fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "herald-peers-{}-{}-{nanos}",
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
pub struct Process(pub Child);

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

/// Waits until something accepts connections on the loopback `port` (panics after the
/// deadline).
pub fn wait_until_accepting(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < DEADLINE, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
