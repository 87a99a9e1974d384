#!/usr/bin/env bash
# The whole engine against this machine's physical limits, measured in the same run:
#   - delivery: `herald serve` sends one 10 KB personalized email to a CRM campaign of
#     N contacts into Postfix's smtp-sink, right after Postfix's smtp-source pushed N
#     messages of the same size over the same number of sessions into the same sink;
#   - DKIM: the same send signed with RSA-2048 or Ed25519, next to
#     `openssl speed -multi <cores> rsa2048` (the machine's raw RSA signing rate);
#   - memory: the server's peak RSS as the audience grows (10k, 100k, 1M on SQLite).
#
#   bench/engine.sh [RECIPIENTS] [MEMORY_SIZES]
#     defaults: 100000 and "10000 100000 1000000"; MEMORY_SIZES="" skips the memory runs.
#
# Prints one line per run and a summary table with the ratios. PostgreSQL runs use
# HERALD_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres), on which
# the database herald_bench is dropped and created for each run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-peers
export PATH="$PATH:/usr/sbin"

recipients=${1:-100000}
memory_sizes=${2-"10000 100000 1000000"}
sessions=20
bytes=10240
postgres=${HERALD_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}

cargo build --release --quiet -p herald
cargo build --release --quiet -p herald-mail --example dkim_speed
herald="${CARGO_TARGET_DIR:-target}/release/herald"
dkim_speed="${CARGO_TARGET_DIR:-target}/release/examples/dkim_speed"

. bench/sink.sh

cores=$(nproc)
# RSA-2048 signatures/s on every core: openssl's (the machine's limit), and herald-mail's
# own over a whole 10 KB message (the limit of the library Herald signs with).
openssl_rsa() {
  openssl speed -multi "$cores" -seconds 3 rsa2048 2>/dev/null |
    awk '/^rsa 2048 bits/ { print int($6) }'
}
library_rsa() { "$dkim_speed" rsa "$bytes" 3 | sed -E 's/.*rate=([0-9]+).*/\1/'; }

source_rate() {
  local start end
  start=$(date +%s.%N)
  smtp-source -d -s "$sessions" -m "$1" -l "$bytes" "127.0.0.1:$port"
  end=$(date +%s.%N)
  awk -v m="$1" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", m / (e - s) }'
}

engine_run() { # backend dkim recipients
  python3 bench/engine.py --herald "$herald" --relay "smtp://127.0.0.1:$port" \
    --postgres "$postgres" --backend "$1" --dkim "$2" --recipients "$3" \
    --size "$bytes" --connections "$sessions"
}

field() { python3 -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

summary=()
for backend in sqlite postgres; do
  for dkim in none rsa ed25519; do
    limit=$(source_rate "$recipients")
    if [ "$dkim" = rsa ]; then
      rsa=$(openssl_rsa)
      library=$(library_rsa)
      echo "RSA-2048 signatures/s on $cores cores: openssl $rsa, herald-mail $library"
    fi
    line=$(engine_run "$backend" "$dkim" "$recipients")
    echo "$line  (smtp-source: $limit msg/s)"
    rate=$(field "$line" deliver_rate)
    case $dkim in
      rsa)
        bar="$rsa"
        what="openssl RSA signs/s; herald-mail's $library, ratio $(awk -v a="$rate" -v b="$library" 'BEGIN { printf "%.2f", a / b }')"
        ;;
      *) bar="$limit"; what="smtp-source" ;;
    esac
    ratio=$(awk -v a="$rate" -v b="$bar" 'BEGIN { printf "%.2f", a / b }')
    summary+=("| $backend | $dkim | $(field "$line" sent) | $rate | $(field "$line" total_rate) | $bar ($what) | $ratio | $(field "$line" resolve_s) | $(field "$line" peak_rss_mb) |")
  done
done

memory=()
for n in $memory_sizes; do
  line=$(engine_run sqlite none "$n")
  echo "$line"
  memory+=("| $n | $(field "$line" deliver_rate) | $(field "$line" resolve_s) | $(field "$line" peak_rss_mb) | $(field "$line" rss_by_quarter_mb) |")
done

echo
echo "| Backend | DKIM | Sent | Delivery msg/s | End-to-end msg/s | Limit in the same run | Ratio | Resolution s | Peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
if [ ${#memory[@]} -gt 0 ]; then
  echo
  echo "| Audience (SQLite, no DKIM) | Delivery msg/s | Resolution s | Peak RSS MB | Largest RSS per quarter sent, MB |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${memory[@]}"
fi
