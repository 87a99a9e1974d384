#!/usr/bin/env bash
# Measures `herald crm import`: for each row count given (default: 100000 1000000), writes
# a CSV of that many contacts, imports it into a fresh SQLite database with the release
# binary under /usr/bin/time -v, and prints rows per second and the peak memory (max RSS).
# Memory should stay flat as the file grows: the import streams it in batches.
#
#   bench/crm_import.sh                # 100k and 1M rows
#   bench/crm_import.sh 10000 50000    # other sizes
#
# With HERALD_DATABASE_URL set (an empty PostgreSQL database, say), every run imports into
# that database instead; later runs then update the records the first one created.
# Files go to a temporary folder, removed at the end (BENCH_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)

cargo build --release -p herald --quiet
herald="${CARGO_TARGET_DIR:-target}/release/herald"

work=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench.XXXXXX")
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

printf '%10s %12s %10s %12s %14s\n' rows "file (MB)" seconds rows/s "max RSS (MB)"
for rows in "${sizes[@]}"; do
  file="$work/contacts-$rows.csv"
  awk -v n="$rows" 'BEGIN {
    print "Email,FirstName,LastName,HasOptedOutOfEmail,ExternalId,Company__c"
    for (i = 1; i <= n; i++)
      printf "person%d@example.com,First%d,Last%d,%s,X-%d,Company %d\n", i, i, i, (i % 10 == 0 ? "true" : "false"), i, i % 100
  }' >"$file"
  data="$work/data-$rows"
  mkdir -p "$data"
  HERALD_DATA_DIR="$data" HERALD_LOG=warn \
    /usr/bin/time -v -o "$work/time-$rows.txt" \
    "$herald" crm import contacts "$file" --json >"$work/summary-$rows.json"
  imported=$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(s["created"] + s["updated"])' "$work/summary-$rows.json")
  [ "$imported" = "$rows" ] || { echo "bench: only $imported of $rows rows went in" >&2; exit 1; }
  awk -v rows="$rows" -v bytes="$(stat -c %s "$file")" -F': ' '
    /Elapsed \(wall clock\)/ {
      n = split($2, part, ":"); seconds = 0
      for (i = 1; i <= n; i++) seconds = seconds * 60 + part[i]
    }
    /Maximum resident set size/ { rss_kb = $2 }
    END {
      printf "%10d %12.1f %10.1f %12.0f %14.1f\n", rows, bytes / 1e6, seconds, rows / seconds, rss_kb / 1024
    }' "$work/time-$rows.txt"
done
