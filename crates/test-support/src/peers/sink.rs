//! Postfix's `smtp-sink`, dumping each message it receives to a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{DEADLINE, Process, TempDir, free_port, postfix_tool, wait_until_accepting};

/// A running `smtp-sink` on a loopback port; killed on drop, its dumps removed.
pub struct SmtpSink {
    _process: Process,
    pub port: u16,
    dumps: TempDir,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts a sink on `port` (e.g. the port of a relay that was down until now).
    pub fn start_on(port: u16) -> Self {
        let dumps = TempDir::new();
        // smtp-sink drops to the postfix user, which must be able to write the dumps.
        set_mode(dumps.path(), 0o777);
        let mut command = Command::new(postfix_tool("smtp-sink"));
        if running_as_root() {
            command.args(["-u", "postfix"]);
        }
        // smtp-sink names each dump with a 32-bit random suffix; a folder per second
        // keeps two of thousands of messages from drawing the same name.
        let template = format!("{}/%H%M%S/msg.", dumps.path().display());
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
        self.wait_for_dumps_within(count, DEADLINE).await
    }

    /// The dumped messages, once there are `count` of them (panics after `deadline`).
    pub async fn wait_for_dumps_within(&self, count: usize, deadline: Duration) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            if self.dump_files_started() >= count {
                let dumps = self.dumps();
                if dumps.len() >= count {
                    return dumps;
                }
            }
            assert!(
                start.elapsed() < deadline,
                "smtp-sink dumped {} messages, expected {count}",
                self.dumps().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every complete dump so far.
    pub fn dumps(&self) -> Vec<Vec<u8>> {
        self.dump_paths()
            .into_iter()
            .filter_map(|path| std::fs::read(path).ok())
            .collect()
    }

    /// The files of the complete dumps so far.
    pub fn dump_paths(&self) -> Vec<PathBuf> {
        self.dump_entries()
            .filter(|path| {
                // A dump ends with an empty line once the message is complete.
                std::fs::read(path).is_ok_and(|dump| dump.ends_with(b"\n\n"))
            })
            .collect()
    }

    /// How many dump files exist, the one being written included: a cheap count of
    /// the messages that reached the sink.
    pub fn dump_files_started(&self) -> usize {
        self.dump_entries().count()
    }

    /// Every dump file, in the per-second folders the template makes.
    fn dump_entries(&self) -> impl Iterator<Item = PathBuf> {
        entries(self.dumps.path())
            .filter(|folder| folder.is_dir())
            .flat_map(|folder| entries(&folder))
    }
}

fn entries(dir: &Path) -> impl Iterator<Item = PathBuf> + use<> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
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
