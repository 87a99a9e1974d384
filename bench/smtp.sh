#!/usr/bin/env bash
# Messages per second of herald-mail's SMTP pool against the machine's physical limit:
# Postfix's own smtp-source blasting the same smtp-sink, in the same run, alternating.
#
#   bench/smtp.sh [MESSAGES] [ROUNDS]      (defaults: 50000 messages, 3 rounds)
#
# Both sides use 20 connections, reused across messages, and 10 KB messages. The pool runs
# twice a round: with 20 sends at once (one per connection), then with 64 (as the engine
# has in flight; the sends waiting in line have their envelopes pipelined after the
# content before them). Prints each run, the median rates and the ratios to smtp-source.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-peers
export PATH="$PATH:/usr/sbin"

messages=${1:-50000}
rounds=${2:-3}
connections=20
sends=64
bytes=10240

cargo build --release --quiet -p herald-mail --example smtp_blast
blast="${CARGO_TARGET_DIR:-target}/release/examples/smtp_blast"

. bench/sink.sh

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

source_rates=()
pool_rates=()
queued_rates=()
for round in $(seq "$rounds"); do
  start=$(date +%s.%N)
  smtp-source -d -s "$connections" -m "$messages" -l "$bytes" "127.0.0.1:$port"
  end=$(date +%s.%N)
  rate=$(awk -v m="$messages" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", m / (e - s) }')
  source_rates+=("$rate")
  echo "round $round: smtp-source  $rate msg/s"

  line=$("$blast" "smtp://127.0.0.1:$port" "$messages" "$connections" "$bytes")
  rate=$(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$line")
  pool_rates+=("$rate")
  echo "round $round: herald pool  $rate msg/s  ($line)"

  # As in the engine: more sends than connections, so sends wait in line and each
  # transaction that ends writes the next one's envelope after its content.
  line=$("$blast" "smtp://127.0.0.1:$port" "$messages" "$connections" "$bytes" "$sends")
  rate=$(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$line")
  queued_rates+=("$rate")
  echo "round $round: herald pool, $sends sends  $rate msg/s  ($line)"
done

source_median=$(printf '%s\n' "${source_rates[@]}" | median)
pool_median=$(printf '%s\n' "${pool_rates[@]}" | median)
echo "smtp-source median: $source_median msg/s"
queued_median=$(printf '%s\n' "${queued_rates[@]}" | median)
echo "herald pool median: $pool_median msg/s; with $sends sends: $queued_median msg/s"
awk -v p="$pool_median" -v q="$queued_median" -v s="$source_median" \
  'BEGIN { printf "ratio pool / smtp-source: %.2f; with more sends than connections: %.2f\n", p / s, q / s }'
