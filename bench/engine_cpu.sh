#!/usr/bin/env bash
# CPU time per message of each process during one engine send, from `perf record -a`
# samples taken while the send is being delivered (from the first SMTP connection to the
# end). Unlike msg/s, CPU time per message holds still when the shared machine's other
# tenants take cycles, so it shows what a change saved.
#
#   bench/engine_cpu.sh [BACKEND] [DKIM] [RECIPIENTS]
#     defaults: sqlite none 100000; BACKEND sqlite|postgres, DKIM none|rsa|ed25519.
#
# Prints the run's JSON line (bench/engine.py) and µs of CPU per message for the busiest
# processes (tokio-rt-worker is Herald; swapper is idle time). Needs linux-perf.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-peers
export PATH="$PATH:/usr/sbin"
command -v perf >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
}
backend=${1:-sqlite}
dkim=${2:-none}
recipients=${3:-100000}
postgres=${HERALD_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
hz=999

cargo build --release --quiet -p herald
herald="${CARGO_TARGET_DIR:-target}/release/herald"
work=$(mktemp -d)
. bench/sink.sh
trap 'stop_sink; rm -rf "$work"' EXIT

python3 bench/engine.py --herald "$herald" --relay "smtp://127.0.0.1:$port" \
  --postgres "$postgres" --backend "$backend" --dkim "$dkim" --recipients "$recipients" \
  --size 10240 --connections 20 >"$work/run.json" &
engine=$!
until [ "$(ss -Htn state established "( dport = :$port )" | wc -l)" -gt 0 ]; do
  kill -0 "$engine" 2>/dev/null || break
  sleep 0.05
done
perf record -F "$hz" -a -o "$work/perf.data" -- \
  sh -c "while kill -0 $engine 2>/dev/null; do sleep 0.1; done" >/dev/null 2>&1
wait "$engine"
cat "$work/run.json"
sent=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['sent'])" "$work/run.json")
perf report -i "$work/perf.data" --sort comm -F sample,comm 2>/dev/null |
  grep -v '^#' | grep -v '^$' | sort -rn | head -6 |
  awk -v sent="$sent" -v hz="$hz" '{ printf "  %-16s %6.1f µs/msg\n", $2, $1 / hz * 1e6 / sent }'
