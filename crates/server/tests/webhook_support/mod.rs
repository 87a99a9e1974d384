//! A real HTTP receiver for webhook tests, on a loopback port, that can be switched to
//! refuse (503) or to hang (never answer in time), and keeps what it accepted.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::net::TcpListener;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// 503 Service Unavailable.
    Refuse,
    /// Holds every request for a minute.
    Hang,
}

/// One delivery the receiver accepted.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub body: Value,
    pub raw: Vec<u8>,
    pub signature: String,
    pub event_id: String,
}

#[derive(Default)]
struct Inner {
    mode: Mutex<Option<Mode>>,
    accepted: Mutex<Vec<Delivery>>,
    attempts: AtomicUsize,
    hanging: AtomicUsize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start(mode: Mode) -> Receiver {
        Receiver::start_on(0, mode).await
    }

    /// A receiver on `port` (0: any free port).
    pub async fn start_on(port: u16, mode: Mode) -> Receiver {
        let inner = Arc::new(Inner::default());
        *inner.mode.lock().unwrap() = Some(mode);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inner.clone());
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    pub fn switch(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = Some(mode);
    }

    pub fn accepted(&self) -> Vec<Delivery> {
        self.inner.accepted.lock().unwrap().clone()
    }

    /// Requests received, answered or not.
    pub fn attempts(&self) -> usize {
        self.inner.attempts.load(Ordering::SeqCst)
    }

    /// Requests being held right now.
    pub fn hanging(&self) -> usize {
        self.inner.hanging.load(Ordering::SeqCst)
    }

    /// Waits (at most `within`) until `count` deliveries were accepted.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + within;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} deliveries after {within:?}",
                accepted.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inner.attempts.fetch_add(1, Ordering::SeqCst);
    let mode = inner.mode.lock().unwrap().unwrap_or(Mode::Accept);
    match mode {
        Mode::Refuse => StatusCode::SERVICE_UNAVAILABLE,
        Mode::Hang => {
            inner.hanging.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(60)).await;
            inner.hanging.fetch_sub(1, Ordering::SeqCst);
            StatusCode::OK
        }
        Mode::Accept => {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            inner.accepted.lock().unwrap().push(Delivery {
                body: serde_json::from_slice(&body).unwrap(),
                raw: body.to_vec(),
                signature: header("herald-signature"),
                event_id: header("herald-event-id"),
            });
            StatusCode::NO_CONTENT
        }
    }
}

/// Checks a `Herald-Signature` the way a receiver would: split `t=…,v1=…`, recompute
/// HMAC-SHA256 over `{t}.{body}` with the secret, compare in constant time.
pub fn signature_verifies(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = Some(value),
            Some(("v1", value)) => signature = Some(value),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return false;
    };
    let Some(expected) = (0..signature.len() / 2)
        .map(|i| u8::from_str_radix(signature.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}
