#!/usr/bin/env bash
# Scale-out: one `herald serve` node against three, on one PostgreSQL, sending to a relay
# that takes a second to answer each message (Postfix smtp-sink -w 1), so that the work
# is I/O-bound: each node can have at most HERALD_WORKERS messages waiting on the relay.
#
#   bench/cluster.sh [RECIPIENTS] [WORKERS]      (defaults: 1500 recipients, 16 workers)
#
# For 1 and then 3 nodes, on a fresh database each: seeds the demo account plus
# RECIPIENTS contacts in its "Contacts at Demo Co" report, starts the nodes, sends the
# demo email to the report through the Send API, and reports
# - msg/s: recipients sent / (completed_at - started_at) of the instance;
# - the database's cost per message, from pg_stat_database deltas taken before the nodes
#   start and after they stop (so everything the nodes did is counted, idle polling
#   included): transactions (each statement outside a transaction is one) and rows
#   written (inserted + updated + deleted).
# PostgreSQL: HERALD_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"

recipients=${1:-1500}
workers=${2:-16}
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

# The relay: accepts everything, answering each DATA after one second.
sink_port=$(free_port)
user_option=()
[ "$(id -u)" = 0 ] && user_option=(-u postfix)
smtp-sink "${user_option[@]}" -w 1 -c "127.0.0.1:$sink_port" 1000 >/dev/null 2>&1 &
pids+=($!)
wait_port "$sink_port"

# The audience: contacts whose company puts them in the demo's report, spread over ten
# recipient domains (each domain's concurrency slots are shared by the cluster).
awk -v n="$recipients" 'BEGIN {
  print "Email,FirstName,LastName,Company__c"
  for (i = 1; i <= n; i++) printf "bench%d@d%d.example,First%d,Last%d,Demo Co\n", i, i % 10, i, i
}' >"$work/contacts.csv"

stats() {
  sql "$server/postgres" "SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted
                          FROM pg_stat_database WHERE datname = '$1'"
}

run() {
  local nodes=$1 db="herald_bench_cluster_$$_$1"
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

  sleep 1
  read -r xacts_before rows_before < <(stats "$db" | tr '|' ' ')
  local ports=() node_pids=()
  for n in $(seq "$nodes"); do
    local port
    port=$(free_port)
    HERALD_LISTEN="127.0.0.1:$port" HERALD_SMTP_RELAY="smtp://127.0.0.1:$sink_port?tls=none" \
      HERALD_WORKERS=$workers "$herald" serve >/dev/null &
    node_pids+=($!); pids+=($!); ports+=("$port")
  done
  for port in "${ports[@]}"; do wait_port "$port"; done

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
  sleep 1
  read -r xacts_after rows_after < <(stats "$db" | tr '|' ' ')

  read -r sent millis < <(sql "$url" "SELECT sent, completed_at - started_at FROM send_instances WHERE id = $instance" | tr '|' ' ')
  awk -v nodes="$nodes" -v sent="$sent" -v ms="$millis" -v x="$((xacts_after - xacts_before - polls))" \
    -v r="$((rows_after - rows_before))" -v w="$workers" 'BEGIN {
      printf "%d node(s), %d workers each: %d sent in %.1f s = %.1f msg/s; per message: %.2f transactions, %.2f rows written\n",
        nodes, w, sent, ms / 1000, sent / (ms / 1000), x / sent, r / sent
    }' | tee -a "$work/results.txt"
  sql "$server/postgres" "DROP DATABASE $db WITH (FORCE)"
}

run 1
run 3
awk '{ for (i = 1; i <= NF; i++) if ($i == "msg/s;") rate[NR] = $(i - 1) }
     END { printf "scaling 3 nodes / 1 node: %.2f\n", rate[2] / rate[1] }' "$work/results.txt"
