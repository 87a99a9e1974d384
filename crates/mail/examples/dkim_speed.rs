//! DKIM signatures per second of herald-mail's signer over a message of a given size, on
//! every core: the limit a signing engine can reach with this library, which
//! `bench/engine.sh` prints beside `openssl speed`.
//!
//! `cargo run --release -p herald-mail --example dkim_speed -- rsa|ed25519 BYTES SECONDS`

use std::time::{Duration, Instant};

use herald_mail::dkim::{DkimKey, DkimSigner, KeyAlgorithm};

fn usage() -> ! {
    eprintln!("usage: dkim_speed rsa|ed25519 BYTES SECONDS");
    std::process::exit(2)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [algorithm, bytes, seconds] = args.as_slice() else {
        usage()
    };
    let algorithm = match algorithm.as_str() {
        "rsa" => KeyAlgorithm::Rsa,
        "ed25519" => KeyAlgorithm::Ed25519,
        _ => usage(),
    };
    let bytes: usize = bytes.parse().unwrap_or_else(|_| usage());
    let duration = Duration::from_secs_f64(seconds.parse().unwrap_or_else(|_| usage()));
    let pem = DkimKey::generate(algorithm)?.to_pem();
    let mut message =
        b"From: a@bench.example\r\nTo: b@bench.example\r\nSubject: Bench\r\n\r\n".to_vec();
    while message.len() < bytes {
        message.extend_from_slice(b"A line of a message that is signed again and again.\r\n");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let signed: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                let (pem, message) = (&pem, &message);
                scope.spawn(move || {
                    let key = DkimKey::from_pem(pem).expect("the key just made");
                    let signer = DkimSigner::new(key, "bench.example", "s1").expect("signer");
                    let mut n = 0;
                    while started.elapsed() < duration {
                        signer.sign(message).expect("signs");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    let rate = signed as f64 / started.elapsed().as_secs_f64();
    println!(
        "cores={cores} bytes={} signatures={signed} rate={rate:.0}",
        message.len()
    );
    Ok(())
}
