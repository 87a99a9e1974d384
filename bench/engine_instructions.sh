#!/usr/bin/env bash
# Instructions Herald executes for one engine send, counted by valgrind's callgrind:
# unlike msg/s or CPU time, the count is the same run after run whatever the shared
# machine's other tenants do, so it shows what a change to the delivery path saved.
#
#   bench/engine_instructions.sh [BACKEND] [RECIPIENTS]
#     defaults: sqlite 3000 (callgrind runs Herald ~50× slower).
#
# Prints the run's JSON line (bench/engine.py), the process's total and the inclusive
# count per message of the delivery path's main parts. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-peers
export PATH="$PATH:/usr/sbin"
command -v valgrind >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
backend=${1:-sqlite}
recipients=${2:-3000}
postgres=${HERALD_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}

cargo build --release --quiet -p herald
herald=$(realpath "${CARGO_TARGET_DIR:-target}/release/herald")
work=$(mktemp -d)
. bench/sink.sh
trap 'stop_sink; rm -rf "$work"' EXIT
# engine.py runs the binary for its CLI steps too: only `serve` runs under callgrind.
cat >"$work/herald" <<WRAPPER
#!/usr/bin/env bash
[ "\$1" = serve ] && exec valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$herald" "\$@"
exec "$herald" "\$@"
WRAPPER
chmod +x "$work/herald"

python3 bench/engine.py --herald "$work/herald" --relay "smtp://127.0.0.1:$port" \
  --postgres "$postgres" --backend "$backend" --dkim none --recipients "$recipients" \
  --size 10240 --connections 20 | tee "$work/run.json"
sent=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['sent'])" "$work/run.json")
callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.out" 2>/dev/null |
  awk -v sent="$sent" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); printf "  %-44s %14d instructions\n", "whole process", $1 }
    /dispatch_loop::\{\{closure\}\}::\{\{closure\}\} / { part("delivery tasks", $1) }
    /engine::render::render / { part("rendering (render.rs)", $1) }
    /MessageParts::build / { part("MIME (herald_mail::message)", $1) }
    /RelayPool::deliver::\{\{closure\}\} / { part("SMTP (herald_mail::smtp::pool)", $1) }
    /Writer::run::\{\{closure\}\} / { part("delivery writer", $1) }
    /sqlite3_step / { part("SQLite statements", $1) }
    function part(name, n) { gsub(",", "", n); printf "  %-44s %14.0f per message\n", name, n / sent }'
