#!/usr/bin/env bash
# The compliance officer's audit page at 10 million events on PostgreSQL: how long each interaction takes on the server
# and how much the first render sends over the circuit.
#
#   1. A PostgreSQL cluster with BENCH_EVENTS generated audit events (default 10,000,000; the same generator as
#      bench/audit.sh). It lives in BENCH_DATA (default /var/tmp/portal-audit-page) and is kept: a second run reuses it
#      (generating takes minutes), unless it holds a different number of events.
#   2. The app (Release) on that database, signed in as the compliance officer in Chromium (Microsoft.Playwright,
#      Debian's Chromium): bench/AuditBench's `page` mode opens /audit, sums the bytes of every WebSocket frame the
#      circuit sends to the browser until the page is interactive and quiet (the first render's payload), then changes
#      a filter, turns pages and opens events, BENCH_ITERATIONS times each.
#   3. Server time per interaction: the page logs how long each one took on the server, from the circuit's event to
#      the render sent (category Portal.App.Audit.AuditTiming, at Information); this script reads the app's log.
#      The browser's round trip (click to the DOM updated) is printed beside it.
# Prints Markdown to stdout (progress to stderr): bench/audit-page.sh > report.md
#
# Usage (as root: it may install postgresql-15):  bench/audit-page.sh
#   BENCH_EVENTS=1000000   fewer events (to try the script out)
#   BENCH_ITERATIONS=20    runs per interaction
#   BENCH_DATA=DIR         where the database is kept (about 12 GB for 10 million events)
#   BENCH_PREPARE_ONLY=1   generate the database and stop
set -euo pipefail

source "$(dirname "$(readlink -f "$0")")/lib.sh"
EVENTS=${BENCH_EVENTS:-10000000}
ITERATIONS=${BENCH_ITERATIONS:-20}
DATA=${BENCH_DATA:-/var/tmp/portal-audit-page}
PG_BIN=/usr/lib/postgresql/15/bin
BENCH_DLL=$REPO/bench/AuditBench/bin/Release/net10.0/AuditBench.dll
bench_start portal-audit-page
APP_PID=""
PG_STARTED=""

bench_stop() {
  stop_app
  [[ -n "$PG_STARTED" ]] && (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DATA/pg" -m fast -w stop >/dev/null)
}

require_root "it may install packages with apt-get"
install_missing "$PG_BIN/initdb:postgresql-15" curl
[[ "${BENCH_SKIP_BUILD:-0}" == 1 ]] || build_release "$REPO/Portal.App" "$REPO/bench/AuditBench"

free_port PORT
if [[ -f "$DATA/generated" && "$(cat "$DATA/generated")" != "$EVENTS" ]]; then
  say "$DATA holds $(cat "$DATA/generated") events, not $EVENTS: generating again"
  rm -rf "$DATA"
fi
fresh=""
if [[ ! -f "$DATA/pg/PG_VERSION" ]]; then
  rm -rf "$DATA"; mkdir -p "$DATA/pg" && chown postgres "$DATA" "$DATA/pg"; chmod 755 "$DATA"
  (cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$DATA/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$RUN/initdb.log" 2>&1) || fail initdb
  fresh=1
fi
(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DATA/pg" -l "$DATA/pg.log" -w \
  -o "-k $DATA -p $PORT -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_wal_size=8GB -c maintenance_work_mem=512MB -c max_connections=200" start >/dev/null) ||
  fail "PostgreSQL did not start"
PG_STARTED=1
CS="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=postgres;Database=portal;Maximum Pool Size=100"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d portal "$@"; }
[[ -n $fresh ]] && command psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE portal" >/dev/null

free_port APP_PORT
APP=http://127.0.0.1:$APP_PORT
start_portal() {
  start_app APP_PID "$APP_PORT" "$RUN/app.log" Database__Provider=PostgreSQL "Database__ConnectionString=$CS" \
    "Storage__Root=$DATA/storage" Delivery__Mode=Direct Logging__LogLevel__Portal.App.Audit.AuditTiming=Information "$@"
}

if [[ ! -f "$DATA/generated" ]]; then
  say "migrating the schema through the app"
  start_portal
  stop_app
  say "generating $EVENTS events (the generator of bench/audit.sh)"
  # The generator is audit.sh's own SQL (between its two SQL markers), with the event count put in.
  sed -n '/^cat >"\$RUN\/generate.sql" <<SQL$/,/^SQL$/p' "$REPO/bench/audit.sh" | sed '1d;$d' |
    sed "s/\\\\\\\$/\$/g; s/\$EVENTS/$EVENTS/g" >"$RUN/generate.sql"
  grep -q 'generate_series(1::bigint, '"$EVENTS"')' "$RUN/generate.sql" || fail "could not read the generator from bench/audit.sh"
  gen_start=$SECONDS
  psql -f "$RUN/generate.sql" >"$RUN/generate.log" 2>&1 || { tail -n 20 "$RUN/generate.log" >&2; fail "generating events"; }
  say "generated in $((SECONDS - gen_start)) s"
  echo "$EVENTS" >"$DATA/generated"
fi
[[ "${BENCH_PREPARE_ONLY:-0}" == 1 ]] && { say "database ready in $DATA"; exit 0; }

table_size=$(psql -At -c "SELECT pg_size_pretty(pg_total_relation_size('\"AuditEvents\"'))")
count=$(psql -At -c "SELECT max(\"Id\") FROM \"AuditEvents\"")
start_portal
say "measuring the audit page in Chromium ($ITERATIONS runs per interaction)"
load_before=$(cut -d' ' -f1 /proc/loadavg)
dotnet "$BENCH_DLL" page "$APP" "$ITERATIONS" >"$RUN/page.md" 2>"$RUN/page.err" || { cat "$RUN/page.err" >&2; tail -n 30 "$RUN/app.log" >&2; fail "AuditBench page"; }
load_after=$(cut -d' ' -f1 /proc/loadavg)
stop_app

echo "## The audit page at $(printf "%'d" "$count") events on PostgreSQL"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$REPO" rev-parse --short HEAD). Machine: $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB,"
echo "load average $load_before before and $load_after after the run (other work shares the machine). PostgreSQL 15, table and indexes $table_size."
echo
grep -v '^SERVER ' "$RUN/page.md"
echo
echo "### Server time per interaction (logged by the page: the circuit's event to the render sent)"
echo
echo "| interaction | runs | p50 | p95 | max |"
echo "|---|---|---|---|---|"
python3 - "$RUN/app.log" <<'PY'
import re, sys, statistics
times = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"Audit page: (\w[\w ]*) took ([0-9.]+) ms", line)
    if m: times.setdefault(m.group(1), []).append(float(m.group(2)))
worst = 0
for name, ts in times.items():
    ts.sort(); p95 = ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))]
    worst = max(worst, p95)
    print(f"| {name} | {len(ts)} | {statistics.median(ts):.1f} ms | {p95:.1f} ms | {ts[-1]:.1f} ms |")
print()
print(f"Slowest p95: **{worst:.1f} ms** (target: under 200 ms) — {'met' if worst < 200 else 'NOT met'}.")
PY
