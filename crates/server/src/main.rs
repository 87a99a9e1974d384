use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = herald::cli::Cli::parse();
    let failure = cli.failure_code();
    match herald::cli::run(cli).await {
        Ok(status) => status,
        Err(err) => {
            eprintln!("error: {err:#}");
            failure
        }
    }
}
