#!/usr/bin/env bash
# Download benchmark: what does it cost to authorise and audit every download, and what does handing the
# bytes to nginx (X-Accel-Redirect) buy over the app streaming them itself?
#
# One run, same files, same machine, four configurations:
#   a. raw   - nginx serving the stored files statically (/raw/<key>): the limit;
#   b. ours  - nginx in front of Portal.App in Delivery:Mode=XAccel (/d/<id>): the app checks and audits,
#              nginx sends the bytes (the production template, rendered as the tests render it);
#   c. app   - Portal.App in Delivery:Mode=Direct, hit directly: the app streams the file itself;
#   d. proxied - the same Direct app behind the same nginx as b: how an app that streams its files is deployed.
# Plus the app's memory while one 1 GiB document is downloaded, in XAccel and in Direct mode.
# Prints Markdown tables, ratios and pass/fail against the targets in docs/benchmarks.md.
#
# Usage (as root: it installs wrk, nginx and sqlite3 if missing):  bench/downloads.sh
#   BENCH_KEEP=1          keep the run folder (logs, wrk outputs, database, files)
#   BENCH_DURATION=10s    length of each wrk run (shorter only to try the script out)
#   BENCH_SKIP_BUILD=1    use the existing Release build (default: build first)
#   BENCH_RUNS=3          wrk runs per size and configuration; the report shows the median run and the spread
#                         (a 100 MiB run holds only about 250 downloads, so one run moves by several percent)
# Takes about 8 minutes (twelve configurations × BENCH_RUNS 10 s wrk runs, two 1 GiB downloads, the build); needs about 1.2 GB free
# under /tmp. The report goes to stdout (progress to stderr): bench/downloads.sh > report.md
set -euo pipefail

source "$(dirname "$(readlink -f "$0")")/lib.sh"
# Files and folders we create must be readable by nginx's workers (user nobody).
umask 022

DURATION=${BENCH_DURATION:-10s}
RUNS=${BENCH_RUNS:-3}
CLK_TCK=$(getconf CLK_TCK)

bench_start portal-bench
STORAGE=$RUN/storage
DB=$RUN/portal.db
APP_PID=""         # the dotnet process itself, so the trap and the CPU/memory readings use the real one
NGINX_PID=""       # nginx master (-g 'daemon off;' keeps it our direct child)

# Stops exactly what this script started, by pid (bench_finish, the EXIT trap, calls it).
bench_stop() {
  stop_app
  stop_nginx "$NGINX_PID"
}

require_root "it may install packages with apt-get"

# ---- 1. tools, installed only if missing ---------------------------------------------------------
install_missing wrk nginx sqlite3 curl

# ---- 2. build ---------------------------------------------------------------------------------------
[[ "${BENCH_SKIP_BUILD:-0}" == 1 ]] || build_release Portal.sln
[[ -f "$APP_DLL" ]] || fail "no $APP_DLL: build first"

# ---- helpers ----------------------------------------------------------------------------------------
free_port APP_PORT; free_port PROXY_PORT; free_port RAW_PORT
RECEIPT_SOCKET=$RUN/receipts.sock # nginx's delivery receipts (syslog over a unix socket) to the app
APP=http://127.0.0.1:$APP_PORT       # Portal.App on Kestrel
PROXY=http://127.0.0.1:$PROXY_PORT   # the production server block in front of it
RAW=http://127.0.0.1:$RAW_PORT       # bench-only static server over the same storage

# Starts Portal.App in the given delivery mode on our database and storage, waits until it answers.
start_app_in() {
  local mode=$1
  start_app APP_PID "$APP_PORT" "$RUN/app-$mode.log" \
    Database__Provider=Sqlite \
    "Database__ConnectionString=Data Source=$DB" \
    "Storage__Root=$STORAGE" \
    "Delivery__Mode=$mode" \
    ForwardedHeaders__KnownProxies=127.0.0.1 \
    "Delivery__ReceiptSocket=$RECEIPT_SOCKET" Delivery__ReceiptSocketGroup=nogroup \
    "Audit__AnchorFile=$RUN/audit-heads.jsonl"
}

# Signs in as the demo staff member (who may download in Company, through the permission checks an admin's role
# would skip) through the development sign-in, as a browser does. Sets COOKIE to the Cookie header value carrying the
# session.
sign_in() {
  dev_sign_in "$1" staff "$RUN/cookies.txt"
  COOKIE=$(cookie_header "$RUN/cookies.txt" '^portal\.session')
}

sql() { sqlite3 -cmd '.timeout 30000' "$DB" "$@"; }
audit_count() { sql "select count(*) from AuditEvents where Action='DocumentDownloaded'"; }

# nginx's CPU is its workers' (the master only supervises).
nginx_ticks() {
  local t=0 pid
  for pid in $(ps -o pid= --ppid "$NGINX_PID"); do t=$((t + $(cpu_ticks "$pid"))); done
  echo "$t"
}
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# ---- 3. run folder, app, sign-in ---------------------------------------------------------------------
mkdir -p -m 755 "$STORAGE"
say "run folder $RUN; app :$APP_PORT, nginx :$PROXY_PORT (ours) and :$RAW_PORT (raw)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_app_in XAccel   # first start migrates the database and seeds the demo folders and people
sign_in "$APP"

# ---- 4. benchmark documents --------------------------------------------------------------------------
# Check the seeded rows' shapes we copy: Guid as uppercase TEXT with dashes, dates as INTEGER ticks.
FOLDER_ID=$(sql "select Id from Folders where Name='Company' and ParentId is null")
ADMIN_ID=$(sql "select Id from Users where Subject='demo-admin'")
[[ $FOLDER_ID =~ ^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$ ]] || fail "unexpected Company folder id '$FOLDER_ID'"
[[ $ADMIN_ID =~ ^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$ ]] || fail "unexpected admin id '$ADMIN_ID'"
[[ $(sql "select typeof(CreatedAt) from Documents limit 1") == integer ]] || fail "Documents.CreatedAt is not INTEGER ticks"

SIZES=(4k 1m 100m 1g)
declare -A BYTES=([4k]=4096 [1m]=1048576 [100m]=104857600 [1g]=1073741824)
declare -A LABEL=([4k]="4 KiB" [1m]="1 MiB" [100m]="100 MiB" [1g]="1 GiB")
declare -A DOC_ID DOC_KEY DOC_HASH
say "creating documents of 4 KiB, 1 MiB, 100 MiB, 1 GiB"
for s in "${SIZES[@]}"; do
  tmp=$RUN/new-$s.bin
  head -c "${BYTES[$s]}" /dev/urandom >"$tmp"
  hash=$(sha256sum "$tmp" | cut -d' ' -f1)
  key=${hash:0:2}/${hash:2:2}/$hash   # the app's content-addressed layout: ab/cd/<sha256>
  mkdir -p -m 755 "$STORAGE/${hash:0:2}" "$STORAGE/${hash:0:2}/${hash:2:2}"
  chmod 644 "$tmp"
  mv "$tmp" "$STORAGE/$key"
  # Uppercase with dashes: how EF Core's SQLite provider stores a Guid (the app compares it as text).
  id=$(tr 'a-f' 'A-F' </proc/sys/kernel/random/uuid)
  ticks=$((621355968000000000 + $(date +%s%N) / 100))   # DateTimeOffset: 100 ns ticks since 0001-01-01 UTC
  sql "insert into Documents (Id, FolderId, DisplayName, ContentHash, Size, ContentType, UploadedByUserId,
         IsDeleted, CreatedAt, UpdatedAt)
       values ('$id', '$FOLDER_ID', 'bench-$s.bin', '$hash', ${BYTES[$s]}, 'application/octet-stream', '$ADMIN_ID',
         0, $ticks, $ticks)"
  DOC_ID[$s]=$id; DOC_KEY[$s]=$key; DOC_HASH[$s]=$hash
done

# ---- 5. nginx: the production server block + a bench-only static server -----------------------------
mkdir -p "$RUN/nginx"
render_portal_conf "$RUN/nginx/portal.conf" "$PROXY_PORT" "$APP_PORT" "$STORAGE" "unix:$RECEIPT_SOCKET"
# ours: the production template, rendered; raw: the same files, served statically with the same sendfile settings
# (bench only, never deployed).
write_nginx_conf "$RUN/nginx" 1024 "$(cat <<EOF
    # Buffered, so logging costs raw and ours alike and little.
    access_log $RUN/nginx/access.log combined buffer=256k flush=1s;
    server {
        listen 127.0.0.1:$RAW_PORT;
        sendfile on;
        tcp_nopush on;
        server_tokens off;
        location /raw/ {
            alias $STORAGE/;
            default_type application/octet-stream;
        }
    }
EOF
)"
start_nginx NGINX_PID "$RUN/nginx" "$RAW/"

# Checks once, before measuring, that a URL answers 200 with exactly the stored bytes.
check_sha() {
  local what=$1 url=$2 want=$3 got
  shift 3
  got=$(curl -sf "$@" "$url" | sha256sum | cut -d' ' -f1) || fail "$what: $url did not answer 200"
  [[ $got == "$want" ]] || fail "$what: $url sent other bytes (sha256 $got, want $want)"
}
sign_in "$PROXY"   # through nginx, as a browser would
for s in 4k 1m 100m; do
  check_sha "raw" "$RAW/raw/${DOC_KEY[$s]}" "${DOC_HASH[$s]}"
  check_sha "ours" "$PROXY/d/${DOC_ID[$s]}" "${DOC_HASH[$s]}" -H "Cookie: $COOKIE"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$PROXY/d/${DOC_ID[4k]}")
[[ $code != 200 ]] || fail "ours served a download without a session"
say "checked: raw and ours send the stored bytes (sha256), no session gets no file ($code)"

# ---- measurements -------------------------------------------------------------------------------------
declare -A CONNS=([4k]=16 [1m]=16 [100m]=4)
declare -A R   # results, keyed "<config>,<size>,<figure>"

# Runs wrk once and records req/s, MiB/s, completed requests, errors, bytes per request; for the app
# configurations also app CPU per 1000 downloads and the audit rows written meanwhile.
measure() {
  local cfg=$1 s=$2 url=$3 out=$RUN/wrk-$1-$2.txt hdr=() a0 a1 c0 c1 n0 n1 reqs read
  [[ $cfg == raw ]] || hdr=(-H "Cookie: $COOKIE")
  a0=$(audit_count)
  [[ $cfg == raw ]] || c0=$(cpu_ticks "$APP_PID")
  [[ $cfg == app ]] || n0=$(nginx_ticks)
  wrk -t2 -c"${CONNS[$s]}" -d"$DURATION" --timeout 30s "${hdr[@]}" "$url" >"$out" 2>&1 || { cat "$out"; fail "wrk $cfg ${LABEL[$s]}"; }
  [[ $cfg == app ]] || n1=$(nginx_ticks)
  [[ $cfg == raw ]] || c1=$(cpu_ticks "$APP_PID")
  a1=$(audit_count)
  reqs=$(awk '/requests in/ { print $1 }' "$out")
  [[ ${reqs:-0} -gt 0 ]] || { cat "$out"; fail "wrk $cfg ${LABEL[$s]} completed no request"; }
  read=$(awk '/requests in/ { print $5 }' "$out")
  R[$cfg,$s,reqs]=$reqs
  R[$cfg,$s,rpsx]=$(awk '/^Requests\/sec/ { print $2 }' "$out")
  R[$cfg,$s,rps]=$(calc "${R[$cfg,$s,rpsx]}" 0)
  R[$cfg,$s,mibs]=$(to_mib "$(awk '/^Transfer\/sec/ { print $2 }' "$out")")
  R[$cfg,$s,lat]=$(awk '$1 == "Latency" { print $2; exit }' "$out")
  R[$cfg,$s,non2xx]=$(awk -F': *' '/Non-2xx or 3xx/ { print $2 }' "$out")
  R[$cfg,$s,sockerr]=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out")
  # wrk counts 3xx as success: a lost session (302 to /signin) would look fast. Bytes per request
  # below the file size gives that away.
  R[$cfg,$s,short]=$(awk -v r="$(to_mib "$read")" -v n="$reqs" -v b="${BYTES[$s]}" \
    'BEGIN { print (n > 0 && r * 1048576 / n >= 0.95 * b) ? "" : "short bodies" }')
  R[$cfg,$s,audit]=$((a1 - a0))
  [[ $cfg == raw ]] && R[$cfg,$s,audit]="-"
  if [[ $cfg != raw ]]; then
    R[$cfg,$s,appcpu]=$(calc "($c1 - $c0) / $CLK_TCK / $reqs * 1000" 3)
  else
    R[$cfg,$s,appcpu]="-"
  fi
  if [[ $cfg == app ]]; then R[$cfg,$s,nginxcpu]="-"; else R[$cfg,$s,nginxcpu]=$(calc "($n1 - $n0) / $CLK_TCK / $reqs * 1000" 3); fi
  say "$cfg ${LABEL[$s]}: ${R[$cfg,$s,rps]} req/s, ${R[$cfg,$s,mibs]} MiB/s, $reqs requests, audit +${R[$cfg,$s,audit]}"
}

# Keeps run <n> of a configuration apart, so the median run can be picked once all have been made.
FIELDS=(reqs rpsx rps mibs lat non2xx sockerr short audit appcpu nginxcpu)
declare -A RUN_OF
keep_run() {
  local cfg=$1 s=$2 n=$3 f
  for f in "${FIELDS[@]}"; do RUN_OF[$cfg,$s,$n,$f]=${R[$cfg,$s,$f]}; done
}
# Makes the median run (by downloads/s) the configuration's figures; req/s shows the spread of all runs, and a run
# that lost an audit row anywhere is named in the errors.
use_median_run() {
  local cfg=$1 s=$2 n f order median lo hi missing=""
  order=$(for ((n = 1; n <= RUNS; n++)); do echo "${RUN_OF[$cfg,$s,$n,rpsx]} $n"; done | sort -n)
  median=$(awk -v m=$(((RUNS + 1) / 2)) 'NR == m { print $2 }' <<<"$order")
  lo=$(calc "$(head -n1 <<<"$order" | cut -d' ' -f1)" 0); hi=$(calc "$(tail -n1 <<<"$order" | cut -d' ' -f1)" 0)
  for ((n = 1; n <= RUNS; n++)); do
    [[ $cfg == raw ]] && break
    ((RUN_OF[$cfg,$s,$n,audit] >= RUN_OF[$cfg,$s,$n,reqs])) || missing+="run $n MISSING $((RUN_OF[$cfg,$s,$n,reqs] - RUN_OF[$cfg,$s,$n,audit])) audit rows "
  done
  for f in "${FIELDS[@]}"; do R[$cfg,$s,$f]=${RUN_OF[$cfg,$s,$median,$f]}; done
  ((RUNS > 1)) && R[$cfg,$s,rps]="${R[$cfg,$s,rps]} ($lo–$hi)"
  R[$cfg,$s,short]+=$missing
}

# RSS of the app before and at most during one 1 GiB download (sampled every 100 ms).
measure_memory() {
  local mode=$1 url=$2 before max rss cpid result
  before=$(rss_kib "$APP_PID"); max=$before
  curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "Cookie: $COOKIE" "$url" >"$RUN/mem-$mode.txt" &
  cpid=$!
  while kill -0 "$cpid" 2>/dev/null; do
    rss=$(rss_kib "$APP_PID")
    if ((rss > max)); then max=$rss; fi
    sleep 0.1
  done
  wait "$cpid" || fail "1 GiB download ($mode) failed"
  result=$(<"$RUN/mem-$mode.txt")
  [[ $result == "200 ${BYTES[1g]}" ]] || fail "1 GiB download ($mode): got '$result'"
  R[mem,$mode,before]=$(calc "$before / 1024" 1)
  R[mem,$mode,max]=$(calc "$max / 1024" 1)
  R[mem,$mode,growth]=$(calc "($max - $before) / 1024" 1)
  R[mem,$mode,ok]=$(awk -v g="$((max - before))" 'BEGIN { print (g * 1024 < 30000000) ? "pass" : "FAIL" }')
  say "memory $mode: ${R[mem,$mode,before]} MiB before, ${R[mem,$mode,max]} MiB max during 1 GiB"
}

# XAccel memory first, on the freshly started app, before load has grown its heap.
measure_memory XAccel "$PROXY/d/${DOC_ID[1g]}"

# A warm-up so the first measured run does not pay for JIT compilation: tiered JIT with dynamic PGO needs about
# 30 s of load to settle (5 s rates after a start: 1,213, 1,522, 2,030, 2,351, 2,786, 2,850, 3,269/s).
wrk -t2 -c8 -d30s -H "Cookie: $COOKIE" "$PROXY/d/${DOC_ID[4k]}" >/dev/null
# raw and ours back to back per size, run after run, so background noise hits both alike.
for s in 4k 1m 100m; do
  for ((n = 1; n <= RUNS; n++)); do
    measure raw "$s" "$RAW/raw/${DOC_KEY[$s]}"; keep_run raw "$s" "$n"
    measure ours "$s" "$PROXY/d/${DOC_ID[$s]}"; keep_run ours "$s" "$n"
  done
  use_median_run raw "$s"; use_median_run ours "$s"
done

# c. the app streaming: only one app process may write the SQLite database, so stop XAccel first.
stop_app
start_app_in Direct
sign_in "$APP"
for s in 4k 1m 100m; do
  check_sha "app" "$APP/d/${DOC_ID[$s]}" "${DOC_HASH[$s]}" -H "Cookie: $COOKIE"
  check_sha "app behind nginx" "$PROXY/d/${DOC_ID[$s]}" "${DOC_HASH[$s]}" -H "Cookie: $COOKIE"
done
measure_memory Direct "$APP/d/${DOC_ID[1g]}"
wrk -t2 -c8 -d30s -H "Cookie: $COOKIE" "$APP/d/${DOC_ID[4k]}" >/dev/null
# c: the app hit directly (no proxy at all); d: the same app behind the same nginx as ours, which is how an app that
# streams its files is deployed. Alternating, so background noise hits both alike.
for s in 4k 1m 100m; do
  for ((n = 1; n <= RUNS; n++)); do
    measure app "$s" "$APP/d/${DOC_ID[$s]}"; keep_run app "$s" "$n"
    measure proxied "$s" "$PROXY/d/${DOC_ID[$s]}"; keep_run proxied "$s" "$n"
  done
  use_median_run app "$s"; use_median_run proxied "$s"
done
stop_app
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 9. report ------------------------------------------------------------------------------------------
passfail() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "pass" : "FAIL" }'; }
{
  echo
  echo "## Download benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "| size | configuration | req/s (median run; min–max of $RUNS) | MiB/s | avg latency | requests | errors | audit rows | app CPU s/1000 | nginx CPU s/1000 |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in 4k 1m 100m; do
    for cfg in raw ours app proxied; do
      case $cfg in
        raw)  name="a. raw nginx static" ;;
        ours) name="b. ours (nginx + app, XAccel)" ;;
        app)  name="c. app streams (Direct), hit directly" ;;
        proxied) name="d. app streams (Direct) behind the same nginx" ;;
      esac
      errs=""
      [[ -n ${R[$cfg,$s,non2xx]} ]] && errs+="${R[$cfg,$s,non2xx]} non-2xx/3xx "
      [[ -n ${R[$cfg,$s,sockerr]} && ${R[$cfg,$s,sockerr]} != 0 ]] && errs+="${R[$cfg,$s,sockerr]} socket "
      errs+=${R[$cfg,$s,short]}
      audit=${R[$cfg,$s,audit]}
      if [[ $cfg != raw ]]; then
        if ((audit >= R[$cfg,$s,reqs])); then audit+=" (ok)"; else audit+=" (MISSING $((R[$cfg,$s,reqs] - audit)))"; fi
      fi
      echo "| ${LABEL[$s]} | $name | ${R[$cfg,$s,rps]} | ${R[$cfg,$s,mibs]} | ${R[$cfg,$s,lat]} | ${R[$cfg,$s,reqs]} | ${errs:-0} | $audit | ${R[$cfg,$s,appcpu]} | ${R[$cfg,$s,nginxcpu]} |"
    done
  done
  echo
  echo "Audit rows: DocumentDownloaded rows added during the run; at least the completed requests means every download was recorded"
  echo "(requests still in flight when wrk stops are recorded but not counted as completed)."
  echo
  echo "| size | ours / raw | target | ours / app-streamed, hit directly (c) | target | ours / app-streamed behind nginx (d) | target |"
  echo "|---|---:|---|---:|---|---:|---|"
  for s in 4k 1m 100m; do
    # downloads per second: the same file in each configuration (MiB/s would also count header bytes)
    r1=$(calc "${R[ours,$s,rpsx]} / ${R[raw,$s,rpsx]}" 3)
    r2=$(calc "${R[ours,$s,rpsx]} / ${R[app,$s,rpsx]}" 2)
    r3=$(calc "${R[ours,$s,rpsx]} / ${R[proxied,$s,rpsx]}" 2)
    case $s in
      4k)   t1="-"; t2="-"; t3="-" ;;
      1m)   t1=">= 0.85: $(passfail "$r1" 0.85)"; t2=">= 2x: $(passfail "$r2" 2)"; t3=">= 2x: $(passfail "$r3" 2)" ;;
      100m) t1=">= 0.95: $(passfail "$r1" 0.95)"; t2=">= 2x: $(passfail "$r2" 2)"; t3=">= 2x: $(passfail "$r3" 2)" ;;
    esac
    echo "| ${LABEL[$s]} | $(calc "$r1 * 100" 1)% | $t1 | ${r2}x | $t2 | ${r3}x | $t3 |"
  done
  echo
  echo "| app memory during one 1 GiB download | RSS before | max RSS during | growth | target < 30 MB |"
  echo "|---|---:|---:|---:|---|"
  echo "| XAccel (through nginx) | ${R[mem,XAccel,before]} MiB | ${R[mem,XAccel,max]} MiB | ${R[mem,XAccel,growth]} MiB | ${R[mem,XAccel,ok]} |"
  echo "| Direct (app streams) | ${R[mem,Direct,before]} MiB | ${R[mem,Direct,max]} MiB | ${R[mem,Direct,growth]} MiB | ${R[mem,Direct,ok]} |"
  echo
  echo "Machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo),"\
    "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r);"\
    "$(nginx -v 2>&1 | sed 's/^nginx version: //'); .NET SDK $(dotnet --version),"\
    "ASP.NET Core runtime $(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App/ { v = $2 } END { print v }');"\
    "$(wrk --version 2>&1 | head -n1 | awk '{ print $1, $2 }')."
  echo "wrk: -t2, -c16 for 4 KiB and 1 MiB, -c4 for 100 MiB, -d$DURATION each, $RUNS runs per configuration (raw and ours alternating), loopback, keep-alive; the figures are the median run's."
  echo "Load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END. Run took ${SECONDS}s."
}
