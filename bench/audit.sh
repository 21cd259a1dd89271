#!/usr/bin/env bash
# Audit benchmark on PostgreSQL: can the compliance view and the export keep up with a log of millions of events,
# and what does group commit buy on the download path?
#
#   1. Generates BENCH_EVENTS audit events (default 10,000,000) straight into PostgreSQL with generate_series,
#      spread over about a year, 200 people, 5,000 documents in 50 folders (10 top folders with 4 subfolders each),
#      with the app's own schema and indexes (migrated by the app). Secondary indexes are dropped for the load and
#      rebuilt after, as a bulk import would. The generated rows carry placeholder hashes: the chain is not valid
#      (verification is not measured here); every filter, page and export reads them as it reads real rows.
#   2. Times the first page (100 rows) of each filter of the compliance view, and a page deep in the result, through
#      the app's real query code (bench/AuditBench, AuditQueries): p50 and p95 over BENCH_ITERATIONS runs.
#   3. Exports the whole log as CSV through GET /audit/export.csv (Release build, signed in as the compliance
#      officer), counts rows/s from the manifest, and samples the app's memory (VmRSS) every 200 ms.
#   4. Audited download decisions per second: wrk on /d/<id> against the app in XAccel mode (it authorises, commits
#      the audit row, answers with X-Accel-Redirect; no file bytes), once with group commit (Audit:MaxBatch=500)
#      and once with one transaction per event (Audit:MaxBatch=1), same run, same database; then the same pair on
#      SQLite (the embedded default).
#   5. The same comparison for the audit writer alone (64 concurrent appenders, no HTTP), to separate the
#      writer's gain from the rest of the download path.
#   6. An auditor's check of the whole log exported as JSON Lines and as CSV (`verify-export`): time, rows/s, memory.
#      On the SQLite log of step 4, whose events the app appended with real hashes.
# Prints Markdown to stdout (progress to stderr): bench/audit.sh > report.md
#
# Usage (as root: it may install postgresql-15, wrk, curl, sqlite3 and GNU time):  bench/audit.sh
#   BENCH_EVENTS=1000000   fewer events (to try the script out)
#   BENCH_ITERATIONS=100   timed runs per filter
#   BENCH_DURATION=15s     length of each wrk run
#   APPEND_SECONDS=10      length of each run of the audit writer alone
#   BENCH_SKIP_BUILD=1     use the existing Release builds
#   BENCH_KEEP=1           keep the run folder (database, logs)
# Needs about 12 GB free under /tmp for 10 million events.
set -euo pipefail

source "$(dirname "$(readlink -f "$0")")/lib.sh"
EVENTS=${BENCH_EVENTS:-10000000}
ITERATIONS=${BENCH_ITERATIONS:-100}
DURATION=${BENCH_DURATION:-15s}
PG_BIN=/usr/lib/postgresql/15/bin
BENCH_DLL=$REPO/bench/AuditBench/bin/Release/net10.0/AuditBench.dll
bench_start portal-audit-bench
APP_PID=""
PG_STARTED=""

# Stops exactly what this script started (bench_finish, the EXIT trap, calls it): the app and PostgreSQL.
bench_stop() {
  stop_app
  [[ -n "$PG_STARTED" ]] && (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$RUN/pg" -m fast -w stop >/dev/null)
}

require_root "it may install packages with apt-get"

# ---- 1. tools, PostgreSQL, build ------------------------------------------------------------------
install_missing "$PG_BIN/initdb:postgresql-15" wrk curl

free_port PORT
mkdir -p "$RUN/pg" && chown postgres "$RUN" "$RUN/pg"
(cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$RUN/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$RUN/initdb.log" 2>&1) || fail initdb
(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$RUN/pg" -l "$RUN/pg.log" -w \
  -o "-k $RUN -p $PORT -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_wal_size=8GB -c maintenance_work_mem=512MB -c max_connections=200" start >/dev/null) ||
  fail "PostgreSQL did not start"
PG_STARTED=1
CS="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=postgres;Database=portal;Maximum Pool Size=100"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d portal "$@"; }
command psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE portal" >/dev/null

[[ "${BENCH_SKIP_BUILD:-0}" == 1 ]] || build_release "$REPO/Portal.App" "$REPO/bench/AuditBench"

free_port APP_PORT
APP=http://127.0.0.1:$APP_PORT
# start_app_batch MAX_BATCH [sqlite]: the app in XAccel mode, its audit writer committing up to MAX_BATCH events at once,
# on our PostgreSQL (or on a SQLite file of its own, the embedded default).
start_app_batch() {
  local database=(Database__Provider=PostgreSQL "Database__ConnectionString=$CS")
  [[ ${2:-} == sqlite ]] && database=(Database__Provider=Sqlite "Database__ConnectionString=Data Source=$RUN/sqlite/portal.db")
  start_app APP_PID "$APP_PORT" "$RUN/app.log" "${database[@]}" \
    "Storage__Root=$RUN/storage" Delivery__Mode=XAccel "Audit__MaxBatch=$1"
}
# sign_in WHO: signs the demo person in; prints the Cookie header value of the session.
sign_in() {
  dev_sign_in "$APP" "$1" "$RUN/cookies-$1.txt"
  cookie_header "$RUN/cookies-$1.txt" '^portal\.session'
}

# The app migrates the empty database (schema, indexes, append-only triggers) and seeds the demo folders.
say "migrating the schema through the app"
start_app_batch 500
stop_app

# ---- 2. generate events ---------------------------------------------------------------------------
say "generating $EVENTS events"
cat >"$RUN/generate.sql" <<SQL
\timing on
-- 50 folders: 10 top folders with 4 subfolders each (materialised id paths as the app writes them).
INSERT INTO "Folders" ("Id", "ParentId", "Name", "Path", "InheritPermissions", "IsDeleted", "CreatedAt", "UpdatedAt")
SELECT md5('f' || t)::uuid, NULL, 'Top ' || t, '/' || replace(md5('f' || t), '-', '') || '/', true, false, now(), now()
FROM generate_series(0, 9) t;
INSERT INTO "Folders" ("Id", "ParentId", "Name", "Path", "InheritPermissions", "IsDeleted", "CreatedAt", "UpdatedAt")
SELECT md5('f' || (10 + t * 4 + c))::uuid, md5('f' || t)::uuid, 'Sub ' || t || '.' || c,
       '/' || md5('f' || t) || '/' || md5('f' || (10 + t * 4 + c)) || '/', true, false, now(), now()
FROM generate_series(0, 9) t, generate_series(0, 3) c;
-- The app recorded its own start (SettingsChanged) while migrating; the generated log replaces those few events, so
-- ids start at 1 and time runs with id. Only here, as the database owner loading a benchmark, are the triggers off.
ALTER TABLE "AuditEvents" DISABLE TRIGGER USER;
DELETE FROM "AuditEvents";
ALTER TABLE "AuditEvents" ENABLE TRIGGER USER;
-- The secondary indexes are rebuilt after the load, as a bulk import would do it.
CREATE TEMP TABLE saved_indexes AS
  SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'AuditEvents' AND indexname <> 'PK_AuditEvents';
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM saved_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END \$\$;
INSERT INTO "AuditEvents" ("Id", "OccurredAt", "Action", "Outcome", "Reason", "ActorUserId", "ActorSubject", "ActorDisplayName",
  "ActorGroups", "SessionId", "CorrelationId", "ClientIp", "UserAgent", "DocumentId", "FolderId", "TargetPath", "TargetName",
  "ContentHash", "Size", "Range", "Changes", "PreviousHash", "Hash")
SELECT i,
  timestamptz '2025-11-01 00:00:00+00' + i * (interval '365 days' / $EVENTS),
  a.action,
  CASE WHEN i % 23 = 0 THEN 'Denied' ELSE 'Allowed' END,
  CASE WHEN i % 23 = 0 THEN 'No Download right on the folder' END,
  md5('u' || u)::uuid, 'sub-' || u, 'Person ' || u, 'staff', md5('s' || (i / 50))::text, md5('c' || i),
  '10.' || (u % 4) || '.' || (u % 251) || '.' || (i % 7 + 1),
  'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0',
  CASE WHEN a.doc THEN md5('d' || d)::uuid END,
  CASE WHEN a.action NOT IN ('SignIn', 'SignOut') THEN md5('f' || (10 + d % 40))::uuid END,
  '/Top ' || (d % 40 / 4) || '/Sub ' || (d % 40 / 4) || '.' || (d % 4),
  CASE WHEN a.doc THEN 'Document ' || d || '.pdf' END,
  CASE WHEN a.doc THEN md5('h' || d) || md5('H' || d) END,
  CASE WHEN a.doc THEN 1000 + d * 37 END,
  NULL, NULL,
  md5(((i - 1) * 7)::text) || md5(((i - 1) * 11)::text), md5((i * 7)::text) || md5((i * 11)::text)
FROM generate_series(1::bigint, $EVENTS) i
CROSS JOIN LATERAL (SELECT (i * 7919) % 200 AS u, (i * 104729) % 5000 AS d) k
CROSS JOIN LATERAL (SELECT CASE
    WHEN i % 20 < 12 THEN 'DocumentDownloaded' WHEN i % 20 < 15 THEN 'DocumentViewed' WHEN i % 20 < 17 THEN 'FolderOpened'
    WHEN i % 20 = 17 THEN 'SignIn' WHEN i % 20 = 18 THEN 'DocumentUploaded' ELSE 'SignOut' END AS action,
    i % 20 < 15 OR i % 20 = 18 AS doc) a;
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM saved_indexes LOOP EXECUTE r.indexdef; END LOOP;
END \$\$;
VACUUM ANALYZE "AuditEvents";
SQL
gen_start=$SECONDS
psql -f "$RUN/generate.sql" >"$RUN/generate.log" 2>&1 || { tail -n 20 "$RUN/generate.log" >&2; fail "generating events"; }
gen_seconds=$((SECONDS - gen_start))
table_size=$(psql -At -c "SELECT pg_size_pretty(pg_total_relation_size('\"AuditEvents\"'))")
say "generated in ${gen_seconds}s ($table_size with indexes)"

echo "## Audit log on PostgreSQL: $(printf "%'d" "$EVENTS") events"
echo
echo "Generated in ${gen_seconds} s with generate_series (secondary indexes dropped for the load and rebuilt after); table and indexes: $table_size."
echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB; PostgreSQL 15 (shared_buffers 1 GB). $(date -u '+%Y-%m-%d %H:%M UTC')."
echo

# ---- 3. first page of each filter -----------------------------------------------------------------
say "timing the compliance view's queries ($ITERATIONS runs per filter)"
echo "### First page of a filtered query (100 rows, newest first, keyset), through AuditQueries"
echo
dotnet "$BENCH_DLL" "$CS" "$ITERATIONS" >"$RUN/queries.md" 2>"$RUN/queries.err" || { cat "$RUN/queries.err" >&2; fail "AuditBench"; }
grep -v '^WORST' "$RUN/queries.md"
worst=$(sed -n 's/^WORST_FIRST_PAGE_P95_MS=//p' "$RUN/queries.md")
echo "Slowest first-page p95: **${worst} ms** (target: under 50 ms) — $(awk -v w="$worst" 'BEGIN { print (w < 50 ? "met" : "NOT met") }')."
echo

# ---- 4. CSV export -------------------------------------------------------------------------------
say "exporting $EVENTS events as CSV"
start_app_batch 500
compliance=$(sign_in compliance)
rss_before=$(rss_kib "$APP_PID")
(
  max=0
  while kill -0 "$APP_PID" 2>/dev/null; do
    r=$(rss_kib "$APP_PID" 2>/dev/null || echo 0); ((r > max)) && max=$r
    echo "$max" >"$RUN/rss.max"; sleep 0.2
    [[ -f "$RUN/export.done" ]] && break
  done
) &
SAMPLER=$!
export_start=$(date +%s.%N)
curl -sf -H "Cookie: $compliance" "$APP/audit/export.csv" | tail -c 4096 >"$RUN/export.tail" || fail "export"
export_end=$(date +%s.%N)
touch "$RUN/export.done"; wait "$SAMPLER" || true
manifest=$(grep '^# manifest ' "$RUN/export.tail" | sed 's/^# manifest //')
rows=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["manifest"]["rows"])' "$manifest")
secs=$(python3 -c "print(round($export_end - $export_start, 1))")
rate=$(python3 -c "print(int($rows / ($export_end - $export_start)))")
rss_max=$(cat "$RUN/rss.max")
echo "### CSV export of the whole log (GET /audit/export.csv, streamed)"
echo
echo "| rows (from the manifest) | time | rows/s | app memory before | app memory peak during export |"
echo "|---|---|---|---|---|"
echo "| $(printf "%'d" "$rows") | ${secs} s | **$(printf "%'d" "$rate")** | $((rss_before / 1024)) MiB | $((rss_max / 1024)) MiB |"
echo
echo "Target: at least 200,000 rows/s with flat memory — $(awk -v r="$rate" 'BEGIN { print (r >= 200000 ? "rate met" : "rate NOT met") }')."
echo
stop_app

# ---- 5. group commit against one transaction per event -------------------------------------------
# On this PostgreSQL (the 10-million-event table), then on SQLite (the embedded default, a fresh demo database): each
# provider with both writers, back to back. Audit rows added are counted in the database itself.
mkdir -p "$RUN/sqlite"
sqlite() { sqlite3 "$RUN/sqlite/portal.db" "$1"; }
install_missing sqlite3
decisions() {
  local batch=$1 provider=$2 cookie before after out doc count
  # It runs in a subshell (< <(decisions ...)): the script's EXIT trap does not see the app started here, so a failure
  # below would leave it running. This trap, the subshell's own, stops it.
  trap stop_app EXIT
  start_app_batch "$batch" "$provider"
  if [[ $provider == sqlite ]]; then
    doc=$(sqlite "SELECT Id FROM Documents WHERE DisplayName = 'Welcome.txt' LIMIT 1")
    count() { sqlite "SELECT count(*) FROM AuditEvents"; }
  else
    doc=$(psql -At -c "SELECT \"Id\" FROM \"Documents\" WHERE \"DisplayName\" = 'Welcome.txt' LIMIT 1")
    count() { psql -At -c "SELECT count(*) FROM \"AuditEvents\" WHERE \"Id\" > $EVENTS"; }
  fi
  [[ -n $doc ]] || fail "no demo document ($provider)"
  cookie=$(sign_in staff)
  curl -sf -o /dev/null -H "Cookie: $cookie" "$APP/d/$doc" || fail "a download decision failed ($provider)"
  # Warm-up: tiered JIT with dynamic PGO needs about 30 s of load to settle (5 s rates on PostgreSQL after a start:
  # 1,213, 1,522, 2,030, 2,351, 2,786, 2,850, 3,269/s); 5 s measured a half-warm app.
  wrk -t2 -c64 -d30s -H "Cookie: $cookie" "$APP/d/$doc" >/dev/null 2>&1
  before=$(count)
  out=$(wrk -t2 -c64 -d"$DURATION" -H "Cookie: $cookie" "$APP/d/$doc")
  after=$(count)
  stop_app
  local rps non2xx
  rps=$(awk '/Requests\/sec/ { print int($2) }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
  echo "$rps|${non2xx:-0}|$((after - before))|$(awk '/Latency/ { print $2 }' <<<"$out")"
}
say "download decisions on PostgreSQL with group commit (Audit:MaxBatch=500)"
IFS='|' read -r g_rps g_err g_rows g_lat < <(decisions 500 postgres)
say "download decisions on PostgreSQL with one transaction per event (Audit:MaxBatch=1)"
IFS='|' read -r s_rps s_err s_rows s_lat < <(decisions 1 postgres)
say "download decisions on SQLite with group commit (Audit:MaxBatch=500)"
IFS='|' read -r lg_rps lg_err lg_rows lg_lat < <(decisions 500 sqlite)
say "download decisions on SQLite with one transaction per event (Audit:MaxBatch=1)"
IFS='|' read -r ls_rps ls_err ls_rows ls_lat < <(decisions 1 sqlite)
ratio() { python3 -c "print(round($1 / max($2, 1), 1))"; }
echo "### Audited download decisions per second (wrk -t2 -c64, $DURATION, app in XAccel mode)"
echo
echo "PostgreSQL on the $(printf "%'d" "$EVENTS")-event table; SQLite (synchronous=FULL, WAL) on a fresh demo database."
echo
echo "| database | audit writer | decisions/s | avg latency | non-2xx | audit rows added |"
echo "|---|---|---|---|---|---|"
echo "| PostgreSQL | group commit (one transaction per batch, up to 500) | **$g_rps** | $g_lat | $g_err | $g_rows |"
echo "| PostgreSQL | one transaction per event | **$s_rps** | $s_lat | $s_err | $s_rows |"
echo "| SQLite | group commit (one transaction per batch, up to 500) | **$lg_rps** | $lg_lat | $lg_err | $lg_rows |"
echo "| SQLite | one transaction per event | **$ls_rps** | $ls_lat | $ls_err | $ls_rows |"
echo
echo "Group commit / one transaction per event (target: at least 5x): PostgreSQL **$(ratio "$g_rps" "$s_rps")x**, SQLite **$(ratio "$lg_rps" "$ls_rps")x**."
echo

# ---- 6. the audit writer alone -------------------------------------------------------------------
say "the audit writer alone: 64 concurrent appenders, group commit against one transaction per event"
echo "### The audit writer alone (AuditLog, 64 concurrent appenders, ${APPEND_SECONDS:-10} s each, same database)"
echo
dotnet "$BENCH_DLL" "$CS" append "${APPEND_SECONDS:-10}" >"$RUN/append.md" 2>"$RUN/append.err" || { cat "$RUN/append.err" >&2; fail "AuditBench append"; }
grep -v '^APPEND_RATIO' "$RUN/append.md"
echo "Group commit / one transaction per event, writer alone: **$(sed -n 's/^APPEND_RATIO=//p' "$RUN/append.md")x**."
echo

# ---- 7. an auditor's check of an export file -------------------------------------------------------
# On the SQLite database of step 5: its events were appended by the app (each with its real hash and link), unlike the
# generated PostgreSQL rows, whose placeholder hashes the check rightly refuses at the first row.
say "checking exports of the SQLite log with verify-export"
install_missing /usr/bin/time:time
start_app_batch 500 sqlite
compliance=$(sign_in compliance)
echo "### An auditor's check of an export file (verify-export, on the SQLite log of the decisions above)"
echo
echo "| export | rows | size | time | rows/s | max RSS | result |"
echo "|---|---|---|---|---|---|---|"
for format in jsonl csv; do
  curl -sf -H "Cookie: $compliance" -o "$RUN/export.$format" "$APP/audit/export.$format" || fail "export.$format"
done
stop_app
for format in jsonl csv; do
  /usr/bin/time -f "%e %M" -o "$RUN/verify.$format.time" dotnet "$APP_DLL" verify-export "$RUN/export.$format" >"$RUN/verify.$format.out" || true
  read -r secs rss_kib <"$RUN/verify.$format.time"
  rows=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1].removeprefix("# manifest "))["manifest"]["rows"])' "$RUN/export.$format")
  mib=$(( $(stat -c %s "$RUN/export.$format") / 1048576 ))
  result=$(grep -q '^The export holds' "$RUN/verify.$format.out" && echo holds || echo "DOES NOT HOLD")
  echo "| $format | $(python3 -c "print(f'{$rows:,}')") | $mib MiB | ${secs} s | $(python3 -c "print(f'{int($rows / max($secs, 0.01)):,}')") | $((rss_kib / 1024)) MiB | $result |"
done
echo
echo "The time includes starting the process (about 0.1 s). JSON Lines rehashes every row; CSV checks the SHA-256, ids and links."
