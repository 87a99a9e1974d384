//! herald-mail against real third-party peers: Python's `email` package and `mail-parser`
//! read the messages, `dkimpy` verifies the signatures, Postfix's `smtp-sink` and an
//! aiosmtpd fault server take the deliveries. `scripts/test-peers` installs them.

mod dkim;
mod message;
mod smtp_faults;
mod smtp_handoff;
mod smtp_sink;
mod support;
