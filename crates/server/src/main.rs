use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = herald::cli::Cli::parse();
    let failure = cli.failure_code();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Look for I/O readiness every few tasks rather than every 61: a busy node has
        // dozens of rendering tasks queued, and an SMTP reply that waits behind them all
        // holds its connection idle (measured in BENCHMARKS.md).
        .event_interval(EVENT_INTERVAL)
        .global_queue_interval(GLOBAL_QUEUE_INTERVAL)
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return failure;
        }
    };
    match runtime.block_on(herald::cli::run(cli)) {
        Ok(status) => status,
        Err(err) => {
            eprintln!("error: {err:#}");
            failure
        }
    }
}

const EVENT_INTERVAL: u32 = 7;
const GLOBAL_QUEUE_INTERVAL: u32 = 4;
