#!/usr/bin/env bash
# S3 download benchmark: what does keeping documents in an S3-compatible bucket cost, next to a local folder,
# when nginx delivers them (X-Accel-Redirect)? One run, same files, same machine, back to back per size:
#   local - nginx + Portal.App, Storage:Kind=Local: nginx sends the file from disk (bench/downloads.sh's "ours");
#   s3    - nginx + Portal.App, Storage:Kind=S3 on Ceph radosgw (ops/s3/ceph-s3.sh, in-memory OSD): the app
#           checks, audits and presigns; nginx fetches the object from the bucket and sends it on.
# Both stacks run the production nginx template; the documents go in through the upload endpoint (so the
# S3 side also exercises multipart uploads). Prints a Markdown table (progress to stderr).
#
# Usage (as root: installs wrk, nginx, sqlite3, curl and Ceph radosgw if missing):  bench/s3-downloads.sh
#   BENCH_DURATION=10s    length of each wrk run (shorter only to try the script out)
#   BENCH_SKIP_BUILD=1    use the existing Release build
#   BENCH_KEEP=1          keep the run folder
# Takes about 2 minutes with 10 s runs; needs about 0.5 GB of memory for the bucket.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
# Files and folders we create must be readable by nginx's workers (user nobody).
umask 022

DURATION=${BENCH_DURATION:-10s}
bench_start portal-s3bench
declare -A APP_PID NGINX_PID PORT_APP PORT_NGINX COOKIE
S3_DIR=""

# Stops exactly what this script started (bench_finish, the EXIT trap, calls it): both stacks and radosgw.
bench_stop() {
  local k
  for k in "${!APP_PID[@]}"; do stop_pid "${APP_PID[$k]}"; done
  for k in "${!NGINX_PID[@]}"; do stop_nginx "${NGINX_PID[$k]}"; done
  [[ -n $S3_DIR ]] && ops/s3/ceph-s3.sh stop "$S3_DIR"
}

require_root "it may install packages with apt-get"

# ---- 1. tools and build ----------------------------------------------------------------------------
install_missing wrk nginx sqlite3 curl radosgw ceph-mon ceph-osd
[[ "${BENCH_SKIP_BUILD:-0}" == 1 ]] || build_release Portal.sln
[[ -f "$APP_DLL" ]] || fail "no $APP_DLL: build first"

# ---- 2. the S3 server and a bucket ---------------------------------------------------------------
say "starting Ceph radosgw"
S3_DIR=$RUN/s3
S3_ENDPOINT=$(ops/s3/ceph-s3.sh start "$S3_DIR" 2>"$RUN/s3-start.err" | sed -n 's/^S3_ENDPOINT=//p') ||
  { cat "$RUN/s3-start.err"; fail "ops/s3/ceph-s3.sh start"; }
BUCKET=portal-bench
# curl signs S3 requests itself (SigV4), so no S3 client is needed to create the bucket. This curl (7.88)
# does not send the payload hash radosgw wants signed: give it (SHA-256 of the empty body).
code=$(curl -s -o "$RUN/bucket.txt" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user PORTALKEY:PORTALSECRET \
  -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" -X PUT "$S3_ENDPOINT/$BUCKET")
[[ $code == 200 ]] || { cat "$RUN/bucket.txt"; fail "creating the bucket answered $code"; }
say "S3 at $S3_ENDPOINT, bucket $BUCKET"

# ---- 3. two stacks: app + the production nginx template, one with a folder, one with the bucket -------
start_stack() {
  local kind=$1 dir=$RUN/$1
  mkdir -p "$dir/storage" "$dir/nginx"
  free_port "PORT_APP[$kind]"; free_port "PORT_NGINX[$kind]"
  local storage=(Storage__Kind=Local "Storage__Root=$dir/storage")
  [[ $kind == s3 ]] && storage=(Storage__Kind=S3 "Storage__S3__ServiceUrl=$S3_ENDPOINT" "Storage__S3__Bucket=$BUCKET"
    Storage__S3__AccessKey=PORTALKEY Storage__S3__SecretKey=PORTALSECRET Storage__S3__ForcePathStyle=true)
  start_app "APP_PID[$kind]" "${PORT_APP[$kind]}" "$dir/app.log" Database__Provider=Sqlite \
    "Database__ConnectionString=Data Source=$dir/portal.db" "${storage[@]}" Delivery__Mode=XAccel \
    ForwardedHeaders__KnownProxies=127.0.0.1 "Delivery__ReceiptSocket=$dir/receipts.sock" Delivery__ReceiptSocketGroup=nogroup \
    "Audit__AnchorFile=$dir/audit-heads.jsonl"
  render_portal_conf "$dir/nginx/portal.conf" "${PORT_NGINX[$kind]}" "${PORT_APP[$kind]}" "$dir/storage" "unix:$dir/receipts.sock"
  # As bench/downloads.sh: one worker per core, every path in the run folder, access log buffered.
  write_nginx_conf "$dir/nginx" 1024 "    access_log $dir/nginx/access.log combined buffer=256k flush=1s;"
  start_nginx "NGINX_PID[$kind]" "$dir/nginx" "http://127.0.0.1:${PORT_NGINX[$kind]}/health/live"
}

# Signs in through nginx as a browser does: the demo admin uploads (cookies.txt and TOKEN), the demo staff member, who
# may download in Company through the permission checks an admin's role skips, is measured (COOKIE[kind]).
sign_in() {
  local base=http://127.0.0.1:${PORT_NGINX[$1]} jar=$RUN/$1/cookies.txt
  dev_sign_in "$base" admin "$jar"
  TOKEN=$(signed_in_token "$base" "$jar")
  dev_sign_in "$base" staff "$RUN/$1/staff-cookies.txt"
  COOKIE[$1]=$(cookie_header "$RUN/$1/staff-cookies.txt" '^portal\.session')
}

SIZES=(4k 1m 100m)
declare -A BYTES=([4k]=4096 [1m]=1048576 [100m]=104857600) LABEL=([4k]="4 KiB" [1m]="1 MiB" [100m]="100 MiB")
declare -A CONNS=([4k]=16 [1m]=16 [100m]=4) DOC HASH R
for s in "${SIZES[@]}"; do head -c "${BYTES[$s]}" /dev/urandom >"$RUN/bench-$s.bin"; HASH[$s]=$(sha256sum "$RUN/bench-$s.bin" | cut -d' ' -f1); done

for kind in local s3; do
  say "starting the $kind stack"
  start_stack "$kind"
  sign_in "$kind"
  folder=$(sqlite3 "$RUN/$kind/portal.db" "select Id from Folders where Name='Company' and ParentId is null")
  [[ -n $folder ]] || fail "no Company folder in the $kind database"
  for s in "${SIZES[@]}"; do
    # Through nginx and the upload endpoint, as the upload control sends it.
    answer=$(curl -sf -b "$RUN/$kind/cookies.txt" -H "RequestVerificationToken: $TOKEN" \
      -F "files=@$RUN/bench-$s.bin;filename=bench-$s.bin" "http://127.0.0.1:${PORT_NGINX[$kind]}/folders/${folder,,}/documents") ||
      fail "upload of ${LABEL[$s]} ($kind) failed"
    DOC[$kind,$s]=$(grep -o '"id":"[^"]*"' <<<"$answer" | head -n1 | cut -d'"' -f4)
    got=$(curl -sf -H "Cookie: ${COOKIE[$kind]}" "http://127.0.0.1:${PORT_NGINX[$kind]}/d/${DOC[$kind,$s]}" | sha256sum | cut -d' ' -f1)
    [[ $got == "${HASH[$s]}" ]] || fail "${LABEL[$s]} ($kind) came back as other bytes"
  done
  say "$kind: uploaded and checked (sha256) ${SIZES[*]}"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT_NGINX[s3]}/_protected_s3/x")
[[ $code == 404 ]] || fail "the internal S3 location answered $code to a direct request"

audit_count() { sqlite3 -cmd '.timeout 30000' "$RUN/$1/portal.db" "select count(*) from AuditEvents where Action='DocumentDownloaded'"; }
measure() {
  local kind=$1 s=$2 out=$RUN/wrk-$1-$2.txt a0 a1
  a0=$(audit_count "$kind")
  wrk -t2 -c"${CONNS[$s]}" -d"$DURATION" --timeout 30s -H "Cookie: ${COOKIE[$kind]}" \
    "http://127.0.0.1:${PORT_NGINX[$kind]}/d/${DOC[$kind,$s]}" >"$out" 2>&1 || { cat "$out"; fail "wrk $kind ${LABEL[$s]}"; }
  a1=$(audit_count "$kind")
  R[$kind,$s,reqs]=$(awk '/requests in/ { print $1 }' "$out")
  R[$kind,$s,rps]=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$out")
  R[$kind,$s,rpsx]=$(awk '/^Requests\/sec/ { print $2 }' "$out")
  R[$kind,$s,mibs]=$(to_mib "$(awk '/^Transfer\/sec/ { print $2 }' "$out")")
  R[$kind,$s,lat]=$(awk '$1 == "Latency" { print $2; exit }' "$out")
  R[$kind,$s,err]=$(awk -F': *' '/Non-2xx or 3xx/ { n += $2 } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$out")
  R[$kind,$s,audit]=$((a1 - a0))
  say "$kind ${LABEL[$s]}: ${R[$kind,$s,rps]} req/s, ${R[$kind,$s,mibs]} MiB/s"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "warming up both stacks (5 s each)"
for kind in local s3; do wrk -t2 -c8 -d5s -H "Cookie: ${COOKIE[$kind]}" "http://127.0.0.1:${PORT_NGINX[$kind]}/d/${DOC[$kind,4k]}" >/dev/null; done
for s in "${SIZES[@]}"; do
  measure local "$s"
  measure s3 "$s"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo
  echo "## S3 download benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "| size | storage | req/s | MiB/s | avg latency | requests | errors | audit rows | S3 / local |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for s in "${SIZES[@]}"; do
    for kind in local s3; do
      ratio="-"
      [[ $kind == s3 ]] && ratio=$(awk -v a="${R[s3,$s,rpsx]}" -v b="${R[local,$s,rpsx]}" 'BEGIN { printf "%.1f%%", 100 * a / b }')
      echo "| ${LABEL[$s]} | $kind | ${R[$kind,$s,rps]} | ${R[$kind,$s,mibs]} | ${R[$kind,$s,lat]} | ${R[$kind,$s,reqs]} | ${R[$kind,$s,err]} | ${R[$kind,$s,audit]} | $ratio |"
    done
  done
  echo
  echo "Both through nginx with the production template (X-Accel-Redirect): local = file from disk (sendfile);"
  echo "s3 = nginx fetches the object from a presigned URL on Ceph radosgw $(radosgw --version 2>/dev/null | awk '{ print $3 }') (memstore OSD, loopback)."
  echo "Machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); $(nginx -v 2>&1 | sed 's/^nginx version: //');"\
    "wrk -t2, -c16 (4 KiB, 1 MiB) / -c4 (100 MiB), -d$DURATION each, local and s3 back to back per size."
  echo "Load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END. Run took ${SECONDS}s."
}
