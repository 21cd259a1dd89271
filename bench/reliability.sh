#!/usr/bin/env bash
# Reliability suite: the real stack (nginx from the production template, Portal.App in XAccel mode with delivery
# receipts, PostgreSQL) on loopback, broken on purpose, with every answer that carried file bytes matched to its
# committed audit event.
#
# Scenarios (each followed by the audit correlation and `Portal.App verify-audit`):
#   load    - N clients for S seconds: downloads (a quarter ranged), uploads, audit queries, browsing
#   crash   - the same load, kill -9 of the app in the middle, restart
#   db      - the same load, PostgreSQL stopped for a while and started again (the app is not restarted)
#   reload  - the same load, nginx -s reload every 2 s
#   disk    - an app instance whose storage is an 8 MiB tmpfs: an upload larger than the free space
#   fuzz    - random and hostile input against every endpoint
#   security- the attacker's checks (no session, other people's ids, forged token, cross-site, internal location)
# Each request of the load has its own User-Agent (rel-<run>-<phase>-<n>), which the audit event records: an answer
# that delivered bytes without an Allowed DocumentDownloaded event with its User-Agent is an event lost.
#
# The development sign-in is used (ASPNETCORE_ENVIRONMENT=Development, no Oidc:Authority): the suite signs three
# demo people in with curl. Everything else is the production configuration.
#
# Usage (as root: it installs nginx and PostgreSQL if missing and mounts a tmpfs):
#   bench/reliability.sh            full form: 200 clients, 60 s of load, longer faults, 5000 fuzz inputs (~8 min)
#   bench/reliability.sh --short    a few seconds per scenario (run by test.sh; under 2 minutes)
#   REL_FUZZ_SEED=N replays the fuzzer's inputs of a run that printed "seed N" (they run four at a time, so the
#   order of answers may still differ). REL_KEEP=1 keeps the run folder; REL_SKIP_BUILD=1 uses the existing Release build of the app (test.sh built it).
# Figures (Markdown) go to stdout, progress to stderr; the last line is "==> reliability: PASSED" or FAILED.
set -euo pipefail

source "$(dirname "$(readlink -f "$0")")/lib.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
umask 022

SHORT=0
[[ "${1:-}" == --short ]] && SHORT=1
if ((SHORT)); then
  LOAD_S=5 LOAD_C=16 CRASH_S=9 DB_S=10 DB_DOWN=3 RELOAD_S=6 FUZZ_N=400
else
  LOAD_S=60 LOAD_C=200 CRASH_S=40 DB_S=45 DB_DOWN=10 RELOAD_S=30 FUZZ_N=5000
fi

PG_BIN=/usr/lib/postgresql/15/bin
DRIVER_DLL=$REPO/bench/Reliability/bin/Release/net10.0/Reliability.dll
bench_start portal-rel REL_KEEP
STORAGE=$RUN/storage
DISK=$RUN/small-disk
TAG=$(date +%H%M%S)$RANDOM
APP_PID="" APP2_PID="" NGINX_PID="" PG_DATA="" DISK_MOUNTED=0
FAILURES=()

check() { # check "what" condition-result(0/1)
  if [[ $2 == 0 ]]; then say "ok: $1"; else say "CHECK FAILED: $1"; FAILURES+=("$1"); fi
}

# Stops exactly what this script started, by pid (bench_finish, the EXIT trap, calls it).
bench_stop() {
  stop_pid "${LOAD_PID:-}"; stop_pid "$APP_PID"; stop_pid "$APP2_PID"
  stop_nginx "$NGINX_PID"
  if [[ -n $PG_DATA ]]; then
    (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1)
  fi
  ((DISK_MOUNTED)) && umount "$DISK"
}
# bench_verdict STATUS: the last line, PASSED only if the script ended well and every check held; returns the final status.
bench_verdict() {
  if (($1 == 0 && ${#FAILURES[@]} == 0)); then
    echo "==> reliability: PASSED"
    return 0
  fi
  ((${#FAILURES[@]})) && printf '==>   failed: %s\n' "${FAILURES[@]}"
  echo "==> reliability: FAILED"
  return 1
}

require_root "it may install packages, runs PostgreSQL as postgres and mounts a tmpfs"

# ---- tools, build -----------------------------------------------------------------------------------
install_missing --no-install-recommends nginx curl "$PG_BIN/initdb:postgresql-15"
if ((${#INSTALLED[@]})); then
  # The packages start their own nginx and PostgreSQL services: stop them, this suite runs its own.
  [[ -f /run/nginx.pid ]] && nginx -s stop >/dev/null 2>&1 || true
  pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
fi
[[ "${REL_SKIP_BUILD:-0}" == 1 ]] || build_release Portal.App/Portal.App.csproj
# The driver (also in Portal.sln, so every build checks that it compiles) is built here in Release.
build_release bench/Reliability/Reliability.csproj
[[ -f $APP_DLL && -f $DRIVER_DLL ]] || fail "no Release build: run without REL_SKIP_BUILD"

free_port PG_PORT; free_port APP_PORT; free_port APP2_PORT; free_port PROXY_PORT
PROXY=http://127.0.0.1:$PROXY_PORT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- PostgreSQL -----------------------------------------------------------------------------------------
say "PostgreSQL on 127.0.0.1:$PG_PORT"
mkdir "$RUN/pg"; chown postgres: "$RUN/pg"
(cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$RUN/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$RUN/pg/initdb.log" 2>&1) ||
  { cat "$RUN/pg/initdb.log" >&2; fail initdb; }
PG_DATA=$RUN/pg/data
pg_start() {
  (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$RUN/pg/pg.log" -w \
    -o "-k $RUN/pg -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null)
}
pg_stop() { (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null); }
pg_start || { tail -n 20 "$RUN/pg/pg.log" >&2; fail "PostgreSQL did not start"; }
CONN="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=postgres;Database=portal_rel"
sql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d portal_rel -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

# ---- the app ------------------------------------------------------------------------------------------------
# The production-like settings (lib.sh's start_app adds the development sign-in and the demo data).
APP_ENV=(Database__Provider=PostgreSQL Database__ConnectionString="$CONN" Delivery__MaxConcurrentPerUser=90)
# nginx on loopback is the known proxy (only it gets X-Accel-Redirect); its receipts come over a unix datagram socket
# that only its workers' group (nobody's, nogroup) may write to.
RECEIPT_SOCKET=$RUN/receipts/receipts.sock
mkdir -p -m 755 "$RUN/receipts"
MAIN_ENV=(Storage__Root="$STORAGE" Delivery__Mode=XAccel ForwardedHeaders__KnownProxies=127.0.0.1
  Delivery__ReceiptSocket="$RECEIPT_SOCKET" Delivery__ReceiptSocketGroup=nogroup
  Audit__AnchorFile="$RUN/audit-heads.jsonl") # this run's signed heads (the default file in App_Data outlives the run's database)
start_main() { start_app APP_PID "$APP_PORT" "$RUN/app.log" "${APP_ENV[@]}" "${MAIN_ENV[@]}"; }
# The app's own commands, on the same settings: verify-audit (the hash chain) and check-storage (every document's bytes).
app_command() { env "${APP_DEV_ENV[@]}" "${APP_ENV[@]}" "${MAIN_ENV[@]}" ASPNETCORE_URLS=http://127.0.0.1:0 dotnet "$APP_DLL" "$1"; }

mkdir -p -m 755 "$STORAGE"
say "app on :$APP_PORT (XAccel, PostgreSQL), nginx on :$PROXY_PORT; run folder $RUN"
start_main

# ---- nginx: the production template ------------------------------------------------------------------------
mkdir -p "$RUN/nginx"
render_portal_conf "$RUN/nginx/portal.conf" "$PROXY_PORT" "$APP_PORT" "$STORAGE" "unix:$RECEIPT_SOCKET" \
  -e "s|access_log /dev/stdout portal_access;|access_log $RUN/nginx/access.log portal_access buffer=256k flush=1s;|"
write_nginx_conf "$RUN/nginx" 4096
NGINX=(nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log")
start_nginx NGINX_PID "$RUN/nginx" "$PROXY/health/live"

# ---- sign in three demo people through nginx; antiforgery tokens from the signed-in page ----------------------------
declare -A COOKIE TOKEN
sign_in() {
  local who=$1 jar=$RUN/cookies-$1.txt
  dev_sign_in "$PROXY" "$who" "$jar"
  TOKEN[$who]=$(signed_in_token "$PROXY" "$jar")
  # Every cookie, not only the session: a form post's token is checked against the antiforgery cookie.
  COOKIE[$who]=$(cookie_header "$jar")
}
for who in admin staff compliance; do sign_in "$who"; done

# ---- documents, uploaded through the real endpoint --------------------------------------------------------------
COMPANY=$(sql "select \"Id\" from \"Folders\" where \"Name\"='Company' and \"ParentId\" is null")
BOARD=$(sql "select \"Id\" from \"Folders\" where \"Name\"='Board' and \"ParentId\" is null")
upload() { # upload FOLDER NAME FILE -> document id
  local out
  out=$(curl -sf -H "Cookie: ${COOKIE[admin]}" -H "RequestVerificationToken: ${TOKEN[admin]}" \
    -F "files=@$3;filename=$2" "$PROXY/folders/$1/documents") || fail "upload of $2 failed"
  grep -o '"id":"[^"]*"' <<<"$out" | head -n1 | cut -d'"' -f4
}
DOCS=()
for size in 4096 65536 1048576 4194304; do
  head -c "$size" /dev/urandom >"$RUN/doc-$size.bin"
  DOCS+=("$(upload "$COMPANY" "reliability-$size.bin" "$RUN/doc-$size.bin")")
done
head -c 2048 /dev/urandom >"$RUN/board.bin"
DENIED_DOC=$(upload "$BOARD" "board-minutes.bin" "$RUN/board.bin")
HASH=$(sha256sum "$RUN/doc-4096.bin" | cut -d' ' -f1)
got=$(curl -sf -H "Cookie: ${COOKIE[staff]}" "$PROXY/d/${DOCS[0]}" | sha256sum | cut -d' ' -f1)
[[ $got == "$HASH" ]] || fail "a download through nginx did not return the uploaded bytes"
say "documents ${DOCS[*]} (Company), $DENIED_DOC (Board)"

export REL_BASE=$PROXY REL_TAG=$TAG REL_OUT=$RUN REL_COOKIE_ADMIN="${COOKIE[admin]}" REL_TOKEN_ADMIN="${TOKEN[admin]}" \
  REL_COOKIE_STAFF="${COOKIE[staff]}" REL_TOKEN_STAFF="${TOKEN[staff]}" REL_COOKIE_COMPLIANCE="${COOKIE[compliance]}" \
  REL_DOCS=$(IFS=,; echo "${DOCS[*]}") REL_FOLDER=$COMPANY REL_DENIED_DOC=$DENIED_DOC REL_DENIED_FOLDER=$BOARD \
  REL_STORAGE_KEY=${HASH:0:2}/${HASH:2:2}/$HASH
DRIVER=(dotnet "$DRIVER_DLL")

# ---- figures -------------------------------------------------------------------------------------------------------
declare -A F
INPUTS=0 FAULTS=0 LOST=0
read_figures() { # read_figures PHASE FILE: key=value pairs into F[PHASE,key]
  local line pair
  while read -r line; do for pair in $line; do [[ $pair == *=* ]] && F[$1,${pair%%=*}]=${pair#*=}; done; done <"$2"
}

# correlate PHASE EXACT: every delivered answer has its Allowed audit event; EXACT=1 also wants no event without an answer.
correlate() {
  local phase=$1 exact=$2 lost extra
  sql "select \"UserAgent\" from \"AuditEvents\" where \"Action\"='DocumentDownloaded' and \"Outcome\"='Allowed'
       and \"UserAgent\" like 'rel-$TAG-$phase-%'" | sort >"$RUN/$phase-audited.txt"
  sort "$RUN/$phase-delivered.txt" -o "$RUN/$phase-delivered.txt"
  lost=$(comm -23 "$RUN/$phase-delivered.txt" "$RUN/$phase-audited.txt" | wc -l)
  extra=$(comm -13 "$RUN/$phase-delivered.txt" "$RUN/$phase-audited.txt" | wc -l)
  F[$phase,audited]=$(wc -l <"$RUN/$phase-audited.txt")
  F[$phase,lost]=$lost F[$phase,extra]=$extra
  LOST=$((LOST + lost))
  check "$phase: every answer that carried bytes has its audit event (${F[$phase,delivered]} answers, ${F[$phase,audited]} events, $lost lost)" $((lost > 0))
  if ((exact)); then
    check "$phase: audit events equal the 200/206 answers (extra events: $extra)" $((extra > 0))
  fi
}
verify_chain() {
  local phase=$1 out
  out=$(app_command verify-audit 2>&1) && F[$phase,chain]=verified || F[$phase,chain]=BROKEN
  echo "$out" >"$RUN/$phase-verify.txt"
  check "$phase: the audit chain verifies ($(tail -n1 <<<"$out"))" $([[ ${F[$phase,chain]} == verified ]]; echo $?)
}
check_storage() {
  local phase=$1 out
  out=$(app_command check-storage 2>&1) && F[$phase,storage]=intact || F[$phase,storage]=DAMAGED
  echo "$out" >"$RUN/$phase-storage.txt"
  check "$phase: every document's bytes exist with the right hash ($(tail -n1 <<<"$out"))" $([[ ${F[$phase,storage]} == intact ]]; echo $?)
}
# uploads_audited PHASE: every document the phase's uploads stored has its DocumentUploaded event.
uploads_audited() {
  F[$1,uploads_unaudited]=$(sql "select count(*) from \"Documents\" d where d.\"DisplayName\" like 'rel-$TAG-$1-%'
    and not exists (select 1 from \"AuditEvents\" a where a.\"Action\"='DocumentUploaded' and a.\"Outcome\"='Allowed' and a.\"DocumentId\"=d.\"Id\")")
  LOST=$((LOST + F[$1,uploads_unaudited]))
  check "$1: every stored upload has its audit event (${F[$1,uploads_unaudited]} without)" $((F[$1,uploads_unaudited] > 0))
}
unintended() { check "$1: no failure other than the intended ones (${F[$1,unintended]} unintended; see $1-errors.txt)" $((F[$1,unintended] > 0)); }
run_load() { # run_load PHASE SECONDS CLIENTS ALLOWED: in the background; output in $RUN/PHASE.txt
  "${DRIVER[@]}" load "$1" "$2" "$3" "${4:-}" >"$RUN/$1.txt" 2>"$RUN/$1.err" &
  LOAD_PID=$!
  for _ in {1..600}; do [[ -f $RUN/$1.started ]] && return 0; kill -0 "$LOAD_PID" 2>/dev/null || break; sleep 0.1; done
  [[ -f $RUN/$1.started ]] || fail "the load driver did not start ($1)"
}
finish_load() {
  wait "$LOAD_PID" || { cat "$RUN/$1.err" >&2; fail "the load driver failed in $1"; }
  read_figures "$1" "$RUN/$1.txt"
  INPUTS=$((INPUTS + F[$1,requests]))
  say "$1: $(tr '\n' ' ' <"$RUN/$1.txt")"
  [[ -s $RUN/$1.err ]] && cat "$RUN/$1.err" >&2
  return 0
}

# ---- 1. load ------------------------------------------------------------------------------------------------------
say "load: $LOAD_C clients for ${LOAD_S}s"
run_load load "$LOAD_S" "$LOAD_C"
finish_load load
unintended load
uploads_audited load
correlate load 1
verify_chain load

# ---- 2. kill -9 of the app under load, restart -----------------------------------------------------------------
say "crash: $LOAD_C clients for ${CRASH_S}s, kill -9 of the app at $((CRASH_S / 3))s"
run_load crash "$CRASH_S" "$LOAD_C" 502,503,0
sleep $((CRASH_S / 3))
kill -KILL "$APP_PID"; wait "$APP_PID" 2>/dev/null || true
FAULTS=$((FAULTS + 1))
crash_at=$SECONDS
start_main
F[crash,restart_s]=$((SECONDS - crash_at))
finish_load crash
unintended crash
uploads_audited crash
correlate crash 0
verify_chain crash
check_storage crash
F[crash,incoming]=$(find "$STORAGE/.incoming" -type f 2>/dev/null | wc -l)
# A temp file of an upload cut by the crash may stay in .incoming: never served (nginx refuses .incoming, no row points at it).
half=$(sql "select count(*) from \"Documents\" d where d.\"DisplayName\" like 'rel-$TAG-crash-%'")
F[crash,uploads_kept]=$half

# ---- 3. PostgreSQL stopped under load, started again; the app is not restarted --------------------------------------
say "db: $LOAD_C clients for ${DB_S}s, PostgreSQL down for ${DB_DOWN}s from $((DB_S / 4))s"
run_load db "$DB_S" "$LOAD_C" 503
load_started=$(date +%s.%N)
since() { awk -v a="$load_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
sleep $((DB_S / 4))
pg_stop; FAULTS=$((FAULTS + 1))
down_at=$(since)
sleep "$DB_DOWN"
pg_start || fail "PostgreSQL did not start again"
up_at=$(since)
finish_load db
F[db,down_at]=$down_at F[db,up_at]=$up_at
F[db,recovery_s]=$(awk -v l="${F[db,last_failure_s]}" -v u="$up_at" 'BEGIN { r = l - u; printf "%.1f", (r < 0 ? 0 : r) }')
unintended db
check "db: requests failed closed with 503 while PostgreSQL was down (${F[db,s503]} answers 503)" $((F[db,s503] == 0))
check "db: the app recovered by itself within 30 s of PostgreSQL's return (${F[db,recovery_s]} s)" \
  "$(awk -v r="${F[db,recovery_s]}" 'BEGIN { print (r <= 30) ? 0 : 1 }')"
uploads_audited db
correlate db 0
verify_chain db

# ---- 4. nginx reload under load -------------------------------------------------------------------------------------
say "reload: $LOAD_C clients for ${RELOAD_S}s, nginx -s reload every 2 s"
run_load reload "$RELOAD_S" "$LOAD_C"
reloads=0
for ((i = 2; i < RELOAD_S; i += 2)); do
  sleep 2
  "${NGINX[@]}" -s reload 2>>"$RUN/nginx-reload.log" && reloads=$((reloads + 1))
done
FAULTS=$((FAULTS + reloads)); F[reload,reloads]=$reloads
finish_load reload
# What the issue asks of a reload: no failed download. An upload whose keep-alive connection nginx's old worker closed
# as it began is refused before anything is stored (checked below and by check-storage); it is counted, not hidden.
check "reload: no failed download (${F[reload,unintended_download]:-0}; ${F[reload,get_retried]:-0} GETs sent once more as browsers do)" $((${F[reload,unintended_download]:-0} > 0))
check "reload: every other failure is an upload cut at a reload (${F[reload,unintended_upload]:-0} of ${F[reload,unintended]} failures)" $((${F[reload,unintended]} != ${F[reload,unintended_upload]:-0}))
uploads_audited reload
correlate reload 1
verify_chain reload

# ---- 5. disk full during upload -------------------------------------------------------------------------------------
say "disk: an app instance on an 8 MiB tmpfs, a 16 MiB upload"
mkdir -p "$DISK"
mount -t tmpfs -o size=8m tmpfs "$DISK" && DISK_MOUNTED=1 || fail "mount tmpfs"
chmod 755 "$DISK"
start_app APP2_PID "$APP2_PORT" "$RUN/app2.log" "${APP_ENV[@]}" Storage__Root="$DISK" Delivery__Mode=Direct
APP2=http://127.0.0.1:$APP2_PORT
head -c $((16 * 1024 * 1024)) /dev/urandom >"$RUN/too-big.bin"
code=$(curl -s -o "$RUN/disk-answer.json" -w '%{http_code}' -H "Cookie: ${COOKIE[admin]}" -H "RequestVerificationToken: ${TOKEN[admin]}" \
  -F "files=@$RUN/too-big.bin;filename=rel-$TAG-too-big.bin" "$APP2/folders/$COMPANY/documents")
FAULTS=$((FAULTS + 1))
F[disk,status]=$code F[disk,answer]=$(tr -d '\n' <"$RUN/disk-answer.json" | cut -c1-300)
F[disk,left]=$(find "$DISK" -type f | wc -l)
F[disk,rows]=$(sql "select count(*) from \"Documents\" where \"DisplayName\"='rel-$TAG-too-big.bin'")
check "disk: a full disk gives a clear error, not a 500 (answered $code: ${F[disk,answer]})" \
  $([[ $code == 507 ]] && grep -qi 'space' "$RUN/disk-answer.json"; echo $?)
check "disk: nothing half-written is kept (${F[disk,left]} files on the small disk, ${F[disk,rows]} document rows)" \
  $((F[disk,left] + F[disk,rows] > 0))
head -c 4096 /dev/urandom >"$RUN/small.bin"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${COOKIE[admin]}" -H "RequestVerificationToken: ${TOKEN[admin]}" \
  -F "files=@$RUN/small.bin;filename=rel-$TAG-small.bin" "$APP2/folders/$COMPANY/documents")
check "disk: the space is free again, a small upload then works ($code)" $([[ $code == 200 ]]; echo $?)
# That document's bytes live only on the small disk, which goes away now: drop its row, or check-storage would
# (rightly) call it missing at the end.
sql "delete from \"Documents\" where \"DisplayName\"='rel-$TAG-small.bin'" >/dev/null
stop_pid "$APP2_PID"; APP2_PID=""
umount "$DISK" && DISK_MOUNTED=0

# ---- 6. fuzzing -------------------------------------------------------------------------------------------------------
FUZZ_SEED=${REL_FUZZ_SEED:-$RANDOM}   # named, so that a failing run can be replayed with REL_FUZZ_SEED
say "fuzz: $FUZZ_N inputs, seed $FUZZ_SEED"
"${DRIVER[@]}" fuzz "$FUZZ_N" "$FUZZ_SEED" >"$RUN/fuzz.txt" 2>"$RUN/fuzz.err" || { cat "$RUN/fuzz.err" >&2; fail "the fuzzer failed"; }
read_figures fuzz "$RUN/fuzz.txt"
cat "$RUN/fuzz.err" >&2
INPUTS=$((INPUTS + F[fuzz,fuzz_inputs]))
check "fuzz: ${F[fuzz,fuzz_inputs]} inputs, no 5xx, no stack trace, no injected header (${F[fuzz,fuzz_failures]} failures; see fuzz-failures.txt)" \
  $((F[fuzz,fuzz_failures] > 0))
# Asked of the app itself: readiness answers only the monitoring networks (loopback), and the shipped nginx does not
# pass it on.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APP_PORT/health/ready")
check "fuzz: the app is still ready afterwards ($code)" $([[ $code == 200 ]]; echo $?)
verify_chain fuzz

# ---- 7. security ------------------------------------------------------------------------------------------------------
say "security checks"
"${DRIVER[@]}" security >"$RUN/security.txt" 2>"$RUN/security.err"; rc=$?
cat "$RUN/security.err" >&2
read_figures security "$RUN/security.txt"
INPUTS=$((INPUTS + ${F[security,security_checks]:-0}))
check "security: ${F[security,security_checks]:-?} attacker checks, ${F[security,security_failed]:-?} failed" "$rc"
check_storage final
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ------------------------------------------------------------------------------------------------------------
{
  echo
  echo "## Reliability run ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $( ((SHORT)) && echo short || echo full) form)"
  echo
  echo "| figure | value |"
  echo "|---|---:|"
  echo "| inputs tried (requests of all scenarios + fuzz inputs + attacker checks) | $INPUTS |"
  echo "| faults injected (kill -9, database stop, nginx reloads, disk full) | $FAULTS |"
  echo "| **events lost** (answers with file bytes and no committed audit event) | **$LOST** |"
  echo
  echo "| scenario | requests | answers with bytes | audit events | lost | 429 | 502 | 503 | unintended failures | chain |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for p in load crash db reload; do
    echo "| $p | ${F[$p,requests]} | ${F[$p,delivered]} | ${F[$p,audited]} | ${F[$p,lost]} | ${F[$p,s429]} | ${F[$p,s502]} | ${F[$p,s503]} | ${F[$p,unintended]} | ${F[$p,chain]:-} |"
  done
  echo
  echo "- load: $LOAD_C clients, ${F[load,seconds]} s; uploads ${F[load,uploads_ok]}/${F[load,uploads]} stored, audit queries ${F[load,audit_ok]}/${F[load,audit_queries]}, browsing ${F[load,browse_ok]}/${F[load,browse]}; audit events without an answer: ${F[load,extra]}."
  echo "- crash: kill -9 at $((CRASH_S / 3)) s, app answering again after ${F[crash,restart_s]} s; failures from ${F[crash,first_failure_s]} s to ${F[crash,last_failure_s]} s; ${F[crash,extra]} events committed whose answer was cut by the crash (recorded, never delivered); storage ${F[crash,storage]}; ${F[crash,incoming]} temp file(s) of cut uploads left in .incoming (never served)."
  echo "- db: PostgreSQL stopped at ${F[db,down_at]} s, started at ${F[db,up_at]} s; 503s from ${F[db,first_failure_s]} s to ${F[db,last_failure_s]} s; recovery ${F[db,recovery_s]} s after PostgreSQL was back, without restarting the app."
  echo "- reload: ${F[reload,reloads]} nginx reloads; ${F[reload,unintended_download]:-0} failed downloads; ${F[reload,unintended_upload]:-0} uploads cut as they began (nothing of them stored); ${F[reload,get_retried]:-0} GETs sent once more after their keep-alive connection closed unanswered (as browsers do)."
  echo "- disk: upload of 16 MiB onto an 8 MiB tmpfs answered ${F[disk,status]}; ${F[disk,left]} files left, ${F[disk,rows]} document rows."
  echo "- fuzz: ${F[fuzz,fuzz_inputs]} inputs in ${F[fuzz,fuzz_seconds]} s (${F[fuzz,fuzz_by_kind]}); answers ${F[fuzz,fuzz_statuses]}; failures ${F[fuzz,fuzz_failures]}."
  echo "- security: ${F[security,security_checks]:-?} checks, ${F[security,security_failed]:-?} failed."
  echo
  echo "Machine: $(nproc) cores, load average at start $LOAD_START, at end $LOAD_END. Run took ${SECONDS}s."
}
