//! `herald crm …`: the built-in CRM from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use herald_domain::crm::CrmObject;
use herald_domain::mid::Mid;
use herald_domain::salesforce_id::SalesforceId;
use herald_store::MatchOn;

use crate::crm::import::{ImportError, ImportRequest, Summary, import};
use crate::state::AppState;

/// Exit status of `crm import` when it stops on a fatal error.
pub const FATAL: u8 = 2;

const IMPORT_HELP: &str = "\
The first line of FILE names the fields of its columns, in any case: Email, FirstName, \
LastName, HasOptedOutOfEmail, ExternalId, and custom fields such as Company__c. Each \
value is checked as the REST API checks it; an empty cell clears its field.

Exit status:
  0  every row was imported
  1  some rows were rejected (each is listed with its line number and reason)
  2  a fatal error: the file cannot be read, its header row is wrong, or the account or
     campaign does not exist (then nothing is written), or reading or writing failed part
     way (the message says how many rows went in before)";

#[derive(Debug, Subcommand)]
pub enum CrmCommand {
    /// Create or update Contacts or Leads from a CSV file.
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the rows are.
    object: ObjectArg,
    /// The CSV file: a header row, then one record per row.
    file: PathBuf,
    /// The account to import into; defaults to the first account.
    #[arg(long, value_parser = parse_mid)]
    mid: Option<Mid>,
    /// Add every imported record (created or updated) to this campaign (its 15- or
    /// 18-character id).
    #[arg(long, value_parser = parse_campaign)]
    campaign: Option<SalesforceId>,
    /// The field that finds an existing record to update: Email or ExternalId.
    #[arg(long, value_name = "FIELD", default_value = "Email", value_parser = parse_match_on)]
    match_on: MatchOn,
    /// Also write every rejected row to this CSV file: its line, the reason, then its
    /// fields as they were.
    #[arg(long, value_name = "FILE.csv")]
    rejects: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ObjectArg {
    Contacts,
    Leads,
}

fn parse_mid(text: &str) -> Result<Mid, String> {
    Mid::parse(text).map_err(|err| err.to_string())
}

fn parse_campaign(text: &str) -> Result<SalesforceId, String> {
    SalesforceId::parse(text).map_err(|err| err.to_string())
}

fn parse_match_on(text: &str) -> Result<MatchOn, String> {
    MatchOn::parse(text).ok_or_else(|| "use Email or ExternalId".to_owned())
}

/// Runs a `crm` command; the exit status says how it went.
pub async fn run(state: &AppState, command: CrmCommand) -> anyhow::Result<ExitCode> {
    match command {
        CrmCommand::Import(args) => import_file(state, args).await,
    }
}

async fn import_file(state: &AppState, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let request = ImportRequest {
        object: match args.object {
            ObjectArg::Contacts => CrmObject::Contact,
            ObjectArg::Leads => CrmObject::Lead,
        },
        file: args.file,
        mid: args.mid,
        match_on: args.match_on,
        campaign: args.campaign,
        rejects: args.rejects,
    };
    match import(state.store.clone(), state.clock.clone(), request).await {
        Ok(summary) => {
            print(&summary, args.json)?;
            Ok(ExitCode::from(u8::from(summary.rejected > 0)))
        }
        Err(ImportError::Stopped(summary)) => {
            print(&summary, args.json)?;
            Err(ImportError::Stopped(summary).into())
        }
        Err(err) => Err(err.into()),
    }
}

fn print(summary: &Summary, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(summary)?);
    } else {
        print!("{summary}");
    }
    Ok(())
}
