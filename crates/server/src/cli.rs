//! The command line: `herald serve`, `herald account …`, `herald package …`,
//! `herald crm …`.

mod crm;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use herald_domain::clock::{Clock, SystemClock};
use herald_domain::mid::Mid;
use herald_domain::scope::ScopeSet;
use herald_mail::dkim::KeyAlgorithm;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::packages::create_package;
use crate::state::AppState;
use crate::{app, demo, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "A self-hosted email send engine speaking the Marketing Cloud Send API"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    Serve {
        /// Create (once) a demo account and package, and print how to use them.
        #[arg(long)]
        demo: bool,
    },
    /// Manage accounts (MIDs).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage installed packages (API Integration client credentials).
    #[command(subcommand)]
    Package(PackageCommand),
    /// Manage DKIM signing keys.
    #[command(subcommand)]
    Dkim(DkimCommand),
    /// Work with the built-in CRM (Contacts, Leads, campaigns).
    #[command(subcommand)]
    Crm(crm::CrmCommand),
}

impl Cli {
    /// The exit status when the command fails: 2 for `crm` commands (whose status 1
    /// means "done, with rejected rows"), 1 for the others.
    pub fn failure_code(&self) -> ExitCode {
        match self.command {
            Command::Crm(_) => ExitCode::from(crm::FATAL),
            _ => ExitCode::FAILURE,
        }
    }
}

#[derive(Debug, Subcommand)]
enum DkimCommand {
    /// Create a signing key for a domain and print the DNS TXT record to publish.
    Generate {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        selector: String,
        /// `rsa` (2048 bits, verified everywhere) or `ed25519`.
        #[arg(long, default_value = "rsa")]
        algorithm: String,
        /// Print `{"id","algorithm","dns_record"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the keys (never their private parts) and their DNS records.
    List,
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create an account (a business unit with its own MID).
    Create {
        #[arg(long)]
        name: String,
        /// Print `{"account_id"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PackageCommand {
    /// Create a package and print its client id and secret (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// The owning account; defaults to the first account.
        #[arg(long)]
        mid: Option<String>,
        /// Space-separated scopes to grant; defaults to all.
        #[arg(long)]
        scopes: Option<String>,
        /// Print exactly one JSON object: {"client_id","client_secret","account_id"}.
        #[arg(long)]
        json: bool,
    },
    /// List packages (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a package: its tokens stop working at once.
    Revoke { client_id: String },
}

/// Runs the parsed command line, returning the exit status of a command that did not
/// fail (see [`Cli::failure_code`] for those that did).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    telemetry::init(&config);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = app::build_state(config, clock).await?;
    match cli.command {
        Command::Serve { demo } => serve(state, demo).await,
        Command::Account(command) => account(&state, command).await,
        Command::Package(command) => package(&state, command).await,
        Command::Dkim(command) => dkim(&state, command).await,
        Command::Crm(command) => return crm::run(&state, command).await,
    }?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(state: AppState, demo: bool) -> anyhow::Result<()> {
    if demo {
        demo::seed_and_print(&state).await?;
    }
    let listen = state.config.listen;
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!("cannot listen on {listen} (set HERALD_LISTEN to another address)")
    })?;
    tracing::info!(%listen, database = state.store.backend().name(), public_url = %state.config.public_url, "Herald is serving");
    app::serve(listener, state, app::shutdown_signal()).await
}

async fn account(state: &AppState, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { name, json } => {
            if name.trim().is_empty() {
                bail!("an account needs a name");
            }
            let account = state
                .store
                .create_account(name.trim(), state.clock.now())
                .await?;
            if json {
                println!("{}", serde_json::json!({"account_id": account.mid}));
            } else {
                println!("Created account {} (MID {})", account.name, account.mid);
            }
        }
        AccountCommand::List { json } => {
            let accounts = state.store.list_accounts().await?;
            if json {
                let rows: Vec<_> = accounts
                    .iter()
                    .map(|a| serde_json::json!({"account_id": a.mid, "name": a.name}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!("{:<12} NAME", "MID");
                for a in accounts {
                    println!("{:<12} {}", a.mid, a.name);
                }
            }
        }
    }
    Ok(())
}

async fn package(state: &AppState, command: PackageCommand) -> anyhow::Result<()> {
    match command {
        PackageCommand::Create {
            name,
            mid,
            scopes,
            json,
        } => {
            let mid = match mid {
                Some(text) => Mid::parse(&text)?,
                None => {
                    state
                        .store
                        .list_accounts()
                        .await?
                        .first()
                        .context("no account exists")?
                        .mid
                }
            };
            let scopes = match scopes {
                Some(text) => {
                    let parsed = ScopeSet::parse(&text).with_context(|| {
                        let known: Vec<&str> = herald_domain::scope::Scope::ALL
                            .iter()
                            .map(|s| s.name())
                            .collect();
                        format!("known scopes: {}", known.join(" "))
                    })?;
                    if parsed.is_empty() {
                        bail!("--scopes needs at least one scope");
                    }
                    parsed
                }
                None => ScopeSet::all(),
            };
            let created = create_package(
                state.store.as_ref(),
                state.clock.as_ref(),
                &name,
                mid,
                scopes,
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string(&created)?);
            } else {
                println!(
                    "Created package {name:?} in account {}\n  client id:     {}\n  client secret: {}\nThe secret is shown only now.",
                    created.account_id, created.client_id, created.client_secret
                );
            }
        }
        PackageCommand::List { json } => {
            let packages = state.store.list_packages().await?;
            if json {
                let rows: Vec<_> = packages
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "client_id": p.client_id, "account_id": p.mid, "name": p.name,
                            "scopes": p.scopes.to_string(), "revoked": p.revoked_at.is_some(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!("{:<26} {:<11} {:<8} NAME", "CLIENT ID", "MID", "STATUS");
                for p in packages {
                    let status = if p.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "enabled"
                    };
                    println!("{:<26} {:<11} {:<8} {}", p.client_id, p.mid, status, p.name);
                }
            }
        }
        PackageCommand::Revoke { client_id } => {
            if state
                .store
                .revoke_package(&client_id, state.clock.now())
                .await?
            {
                println!("Revoked package {client_id}; its tokens no longer work.");
            } else {
                bail!("no enabled package has client id {client_id:?}");
            }
        }
    }
    Ok(())
}

async fn dkim(state: &AppState, command: DkimCommand) -> anyhow::Result<()> {
    match command {
        DkimCommand::Generate {
            domain,
            selector,
            algorithm,
            json,
        } => {
            let algorithm = match algorithm.to_ascii_lowercase().as_str() {
                "rsa" => KeyAlgorithm::Rsa,
                "ed25519" => KeyAlgorithm::Ed25519,
                other => bail!("--algorithm must be rsa or ed25519, got {other:?}"),
            };
            let key = crate::dkim::generate(
                state.store.as_ref(),
                state.clock.as_ref(),
                &domain,
                &selector,
                algorithm,
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string(&key)?);
            } else {
                println!("{}", crate::dkim::describe(&key));
            }
        }
        DkimCommand::List => {
            for key in state.store.list_dkim_keys().await? {
                println!("{}  {}  {}", key.id, key.algorithm, key.dns_record);
            }
        }
    }
    Ok(())
}
