//! Herald's server: configuration, the HTTP API, authentication, and the command line.
//! The binary (`main.rs`) only parses arguments and calls [`cli::run`].

pub mod api;
pub mod app;
pub mod auth;
pub mod bounces;
pub mod cli;
pub mod config;
pub mod crm;
pub mod demo;
pub mod dkim;
pub mod engine;
pub mod metrics;
pub mod packages;
pub mod service;
pub mod state;
pub mod telemetry;
pub mod webhooks;
