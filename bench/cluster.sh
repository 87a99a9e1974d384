#!/usr/bin/env bash
# Scale-out: one `herald serve` node against three, on one PostgreSQL, sending to a relay
# that takes a second to answer each message (the aiosmtpd fault server of the tests,
# holding each `slow*` recipient's RCPT for --slow seconds), so that the work is I/O-bound:
# each node can have at most HERALD_WORKERS messages waiting on the relay.
#
#   bench/cluster.sh [RECIPIENTS] [WORKERS] [RATE]  (defaults: 1500 recipients, 16
#                                                    workers, a 30 msg/s relay rate)
#
# Three runs, on a fresh database each: 1 node, 3 nodes, and 3 nodes under a cluster-wide
# HERALD_RELAY_RATE of RATE. Each seeds the demo account plus RECIPIENTS contacts in its
# "Contacts at Demo Co" report, starts the nodes, measures them idle for 10 s, sends the
# demo email to the report through the Send API, and reports
# - msg/s: recipients sent / (completed_at - started_at) of the instance;
# - the database's cost per message, from pg_stat_database deltas taken before the send
#   and after the nodes stop: transactions (each statement outside a transaction is one)
#   and rows written (inserted + updated + deleted), also net of the idle polling the
#   nodes do whether they send or not; and the rows written to the shared limits' tables
#   (limit_slots, limit_buckets) per message, from pg_stat_user_tables.
# PostgreSQL: HERALD_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."

recipients=${1:-1500}
workers=${2:-16}
relay_rate=${3:-30}
server=${HERALD_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}

cargo build --release --quiet -p herald
herald="${CARGO_TARGET_DIR:-target}/release/herald"

work=$(mktemp -d "${TMPDIR:-/tmp}/herald-cluster.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done; echo "nothing on $1" >&2; exit 1; }
sql() { psql "$1" -Atq -c "$2"; }

# The relay: accepts everything, answering each slow* recipient's RCPT after a second.
sink_port=$(free_port)
"${HERALD_PYTHON:-python3}" crates/test-support/peers/fault_server.py --port "$sink_port" \
  --pipelining --slow 1 >/dev/null &
pids+=($!)
wait_port "$sink_port"

# The audience: contacts whose company puts them in the demo's report, spread over ten
# recipient domains (each domain's concurrency slots are shared by the cluster).
awk -v n="$recipients" 'BEGIN {
  print "Email,FirstName,LastName,Company__c"
  for (i = 1; i <= n; i++) printf "slow%d@d%d.example,First%d,Last%d,Demo Co\n", i, i % 10, i, i
}' >"$work/contacts.csv"

stats() {
  sql "$server/postgres" "SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted
                          FROM pg_stat_database WHERE datname = '$1'"
}

run() {
  local nodes=$1 rate=$2 db="herald_bench_cluster_$$_$1_$2"
  local url="$server/$db"
  sql "$server/postgres" "CREATE DATABASE $db"
  export HERALD_DATABASE_URL=$url HERALD_LOG=warn
  # Seed: the demo account (its credentials printed once), then the contacts.
  local seed_port
  seed_port=$(free_port)
  HERALD_ENGINE=off HERALD_LISTEN="127.0.0.1:$seed_port" "$herald" serve --demo >"$work/demo.txt" &
  local seeder=$!
  wait_port "$seed_port"
  kill "$seeder"; wait "$seeder" || true
  local client_id client_secret
  client_id=$(sed -nE 's/^ *client id: *(.*)$/\1/p' "$work/demo.txt")
  client_secret=$(sed -nE 's/^ *client secret: *(.*)$/\1/p' "$work/demo.txt")
  "$herald" crm import contacts "$work/contacts.csv" --mid 100000002 --json >/dev/null
  sql "$url" "ANALYZE"

  local ports=() node_pids=()
  for n in $(seq "$nodes"); do
    local port
    port=$(free_port)
    HERALD_LISTEN="127.0.0.1:$port" HERALD_SMTP_RELAY="smtp://127.0.0.1:$sink_port?tls=none" \
      HERALD_WORKERS=$workers HERALD_RELAY_RATE=$rate "$herald" serve >/dev/null &
    node_pids+=($!); pids+=($!); ports+=("$port")
  done
  for port in "${ports[@]}"; do wait_port "$port"; done
  # Idle: what the nodes' polling costs per second.
  sleep 2
  read -r idle_before _ < <(stats "$db" | tr '|' ' ')
  sleep 10
  read -r xacts_before rows_before < <(stats "$db" | tr '|' ' ')
  local idle_per_second=$(((xacts_before - idle_before) / 10)) window_start
  window_start=$(date +%s.%N)

  local base="http://127.0.0.1:${ports[0]}"
  local token
  token=$(curl -sf -X POST "$base/v2/token" -H 'Content-Type: application/json' \
    -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$client_id\",\"client_secret\":\"$client_secret\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  local instance
  instance=$(curl -sf -X POST "$base/data/v1/integration/send/salesforce/email" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{
      "EmailDefinition": {"Name": "Bench", "EmailId": 10001,
        "SendClassificationId": "Default Transactional",
        "Targets": [{"Type": "Report", "Name": "Contacts at Demo Co", "Id": "00O000000000001EAA"}]},
      "Schedule": {"StartImmediately": true, "AllRecipientsOptedIn": true}}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["InstanceId"])')

  local polls=0
  until [ "$(sql "$url" "SELECT status FROM send_instances WHERE id = $instance")" = Complete ]; do
    sleep 1; polls=$((polls + 1))
  done
  polls=$((polls + 1))
  for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${node_pids[@]}"; do wait "$pid" || true; done
  local window=$(awk -v s="$window_start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
  sleep 1
  read -r xacts_after rows_after < <(stats "$db" | tr '|' ' ')

  read -r sent millis < <(sql "$url" "SELECT sent, completed_at - started_at FROM send_instances WHERE id = $instance" | tr '|' ' ')
  local limit_rows
  limit_rows=$(sql "$url" "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables
                           WHERE relname IN ('limit_slots', 'limit_buckets')")
  local label="$nodes node(s)"
  [ "$rate" = 0 ] || label="$label, relay rate $rate/s"
  awk -v label="$label" -v sent="$sent" -v ms="$millis" -v x="$((xacts_after - xacts_before - polls))" \
    -v r="$((rows_after - rows_before))" -v w="$workers" -v idle="$idle_per_second" -v l="$limit_rows" -v window="$window" 'BEGIN {
      seconds = ms / 1000
      printf "%s, %d workers each: %d sent in %.1f s = %.1f msg/s; per message: %.2f transactions (%.2f net of %d/s idle polling), %.2f rows written (%.2f to limit tables)\n",
        label, w, sent, seconds, sent / seconds, x / sent, (x - idle * window) / sent, idle, r / sent, l / sent
    }' | tee -a "$work/results.txt"
  sql "$server/postgres" "DROP DATABASE $db WITH (FORCE)"
}

run 1 0
run 3 0
awk '{ for (i = 1; i <= NF; i++) if ($i == "msg/s;") rate[NR] = $(i - 1) }
     END { printf "scaling 3 nodes / 1 node: %.2f\n", rate[2] / rate[1] }' "$work/results.txt"
run 3 "$relay_rate"
