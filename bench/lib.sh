# Shared prelude of the benchmark scripts (downloads.sh, s3-downloads.sh, audit.sh, reliability.sh): sourced, never run.
#   source "$(dirname "$(readlink -f "$0")")/lib.sh"
# It moves to the repository root, then gives the scripts: say/fail, the run folder and the EXIT trap (bench_start),
# tools installed only if missing, the Release build, free loopback ports, starting and stopping the app and nginx,
# the development sign-in with curl, and CPU/memory readings from /proc. Each script keeps what is its own.

# The repository the scripts live in, whatever the current directory (works from a fresh clone).
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
REPO=$PWD
SECONDS=0
# nginx lives in /usr/sbin, which a non-login environment may leave out of PATH.
export PATH="$PATH:/usr/sbin:/sbin"
APP_DLL=$REPO/Portal.App/bin/Release/net10.0/Portal.App.dll
RUN=""

# Progress and errors go to stderr, so stdout carries only the report.
say()  { echo "==> $*" >&2; }
# Stops the script; the EXIT trap then stops what it started.
fail() { echo "==> FAILED: $*" >&2; exit 1; }

# require_root WHY: the scripts install packages, run servers as other users, mount tmpfs.
require_root() { [[ $(id -u) == 0 ]] || fail "run as root: $1"; }

# bench_start PREFIX [KEEP_VARIABLE]: the run folder RUN (/tmp/PREFIX.*, kept if KEEP_VARIABLE=1) and the EXIT trap.
bench_start() {
  RUN=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$RUN"   # nginx workers (nobody) and postgres must traverse it to reach what is inside
  BENCH_KEEP_VARIABLE=${2:-BENCH_KEEP}   # reliability.sh has its own (REL_KEEP)
  trap bench_finish EXIT
  # Signals become a normal exit so the EXIT trap cleans up.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# The EXIT trap: the script's bench_stop, the run folder, the elapsed time, the script's bench_verdict (if any).
bench_finish() {
  local status=$?
  set +eu   # clean up as much as possible, even if the script stopped before setting all its variables
  trap - EXIT INT TERM HUP
  # bench_stop: each script's own, stops exactly what it started, by pid.
  declare -F bench_stop >/dev/null && bench_stop
  if [[ "${!BENCH_KEEP_VARIABLE:-0}" == 1 ]]; then say "run folder kept: $RUN"; else rm -rf "$RUN"; fi
  say "elapsed: ${SECONDS}s"
  # bench_verdict STATUS: prints the script's verdict last and returns the final status.
  if declare -F bench_verdict >/dev/null; then bench_verdict "$status"; status=$?; fi
  exit "$status"
}

# install_missing [--apt-option...] COMMAND[:PACKAGE]...: apt-get installs what is missing; INSTALLED lists it.
install_missing() {
  local arg options=() missing=()
  INSTALLED=()
  for arg in "$@"; do
    if [[ $arg == --* ]]; then options+=("$arg"); continue; fi
    command -v "${arg%%:*}" >/dev/null || missing+=("${arg#*:}")   # a name on PATH or an executable's path
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  # A failed update (one unreachable source) need not stop the install: the cached lists may do.
  apt-get update -q >"$RUN/apt.log" 2>&1 || say "apt-get update failed; trying the install with the lists we have"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${options[@]}" "${missing[@]}" >>"$RUN/apt.log" 2>&1 ||
    { tail -n 20 "$RUN/apt.log" >&2; fail "apt-get install ${missing[*]}"; }
  INSTALLED=("${missing[@]}")
}

# build_release PROJECT...: dotnet build -c Release, quietly, the log in $RUN/build.log.
build_release() {
  local project
  for project in "$@"; do
    say "dotnet build -c Release ($project)"
    dotnet build "$project" -c Release -nologo -v q >>"$RUN/build.log" 2>&1 || { tail -n 30 "$RUN/build.log" >&2; fail "build of $project"; }
  done
}

PICKED=" "   # the ports free_port handed out (why it writes VAR, not stdout: a $(...) would lose them)
# free_port VAR: a free loopback port (a connect attempt fails), not one we already picked, into VAR.
free_port() {
  local p
  while :; do
    p=$(shuf -i 20000-32000 -n 1)   # below the ephemeral range (32768+), which outgoing connections take
    [[ $PICKED == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PICKED+="$p "; printf -v "$1" '%s' "$p"; return; fi
  done
}

# What every benchmark app runs with: the development sign-in (Development, no Oidc:Authority), the demo people and
# folders, quiet logs. Everything else (database, storage, delivery) each script gives.
APP_DEV_ENV=(ASPNETCORE_ENVIRONMENT=Development "ASPNETCORE_CONTENTROOT=$REPO/Portal.App" Demo__Seed=true Oidc__Authority=
  Logging__LogLevel__Default=Warning)

# start_app VAR PORT LOG SETTING=VALUE...: Portal.App (Release) on 127.0.0.1:PORT, its pid in VAR, once it answers.
start_app() {
  local var=$1 port=$2 log=$3 pid
  shift 3
  # One simple command with &: bash forks and execs env, which execs dotnet (the host runs the app in-process), so $!
  # is the app itself, not a wrapper shell; the trap and the CPU/memory readings use the real process.
  env "${APP_DEV_ENV[@]}" ASPNETCORE_URLS="http://127.0.0.1:$port" "$@" dotnet "$APP_DLL" >>"$log" 2>&1 </dev/null &
  pid=$!
  printf -v "$var" '%s' "$pid"   # VAR may be an array element: APP_PID[s3]
  # Migrations and the demo seed run before the server listens: once it answers, the database is ready.
  for _ in {1..600}; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; fail "the app on :$port exited (log: $log)"; }
    if curl -sf -o /dev/null "http://127.0.0.1:$port/health/live"; then
      # Checked once it answers (right after the fork the child may not have exec'd yet): the pid we read CPU and
      # memory from, or kill -9, must be the process running Portal.App.dll, not a wrapper.
      [[ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" == *dotnet*Portal.App.dll* ]] ||
        fail "pid $pid is not the app process: $(tr '\0' ' ' </proc/"$pid"/cmdline)"
      return 0
    fi
    sleep 0.2
  done
  fail "the app on :$port did not answer within 120 s"
}

# stop_pid PID: TERM, then KILL after 10 s, and reap (nothing if PID is empty).
stop_pid() {
  local pid=$1
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in {1..100}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops the app whose pid is in APP_PID and forgets it.
stop_app() { stop_pid "${APP_PID:-}"; APP_PID=""; }

# render_portal_conf OUT LISTEN APP STORAGE RECEIPTS [SED_ARGS...]: the production nginx template, filled in. RECEIPTS
# is where nginx sends delivery receipts: unix:<the app's Delivery:ReceiptSocket>.
render_portal_conf() {
  local out=$1 left
  sed -e "s|\${PORTAL_LISTEN}|127.0.0.1:$2|g" \
      -e "s|\${PORTAL_UPSTREAM}|127.0.0.1:$3|g" \
      -e "s|\${PORTAL_STORAGE_ROOT}|$4|g" \
      -e "s|\${PORTAL_RECEIPTS}|$5|g" \
      -e "s|\${PORTAL_RESOLVER}|127.0.0.1|g" \
      "${@:6}" "$REPO/ops/nginx/templates/default.conf.template" >"$out"
  # A variable the template grew and we do not fill in would make nginx fail later with a less clear message.
  if left=$(grep -o '\${PORTAL_[A-Z_]*}' "$out" | sort -u | tr '\n' ' ') && [[ -n $left ]]; then
    fail "the template has variables bench/lib.sh does not fill in: $left- extend render_portal_conf"
  fi
}

# write_nginx_conf DIR CONNECTIONS [HTTP_EXTRA]: DIR/nginx.conf around DIR/portal.conf, HTTP_EXTRA in its http block.
write_nginx_conf() {
  local dir=$1
  # Portal.Tests/Infrastructure/NginxServer.cs's main config with every path in DIR, except one worker per core (as a
  # production host would run) and CONNECTIONS connections per worker.
  mkdir -p "$dir/logs" "$dir/tmp/"{body,proxy,fastcgi,uwsgi,scgi}
  cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $2; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/portal.conf;
${3:-}
}
EOF
}

# start_nginx VAR DIR URL: nginx -t, then nginx on DIR/nginx.conf as our child, its pid in VAR, waits for URL (5 s).
start_nginx() {
  local var=$1 dir=$2 url=$3
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/nginx-t.log" ||
    { cat "$dir/nginx-t.log" >&2; fail "nginx -t ($dir)"; }
  # -g 'daemon off;' keeps the master our direct child; its stdout (a JSON access log) goes to a file.
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' >"$dir/stdout.log" 2>&1 </dev/null &
  printf -v "$var" '%s' "$!"
  for _ in {1..50}; do curl -s -o /dev/null "$url" && break; sleep 0.1; done
}

# stop_nginx PID: graceful (the master stops its workers), KILL after 5 s, reap.
stop_nginx() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -QUIT "$pid"
  for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# form_token HTML: the antiforgery token of the page's first form (fails if there is none).
form_token() { grep -m1 -o 'name="__RequestVerificationToken" value="[^"]*"' <<<"$1" | sed 's/.*value="//; s/"$//'; }

# dev_sign_in BASE WHO JAR: signs demo person WHO in as a browser does (token from /signin, form POST), cookies in JAR.
dev_sign_in() {
  local base=$1 who=$2 jar=$3 page token code
  rm -f "$jar"
  # The page goes into a variable first: piping curl into `grep -m1` can kill curl with SIGPIPE.
  page=$(curl -sf -c "$jar" -b "$jar" "$base/signin") || fail "$base/signin did not answer 200"
  token=$(form_token "$page") || fail "no antiforgery token on $base/signin"
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "user=$who" \
    --data-urlencode returnUrl=/ --data-urlencode "__RequestVerificationToken=$token" "$base/auth/dev-signin")
  [[ $code == 302 ]] || fail "sign-in of $who at $base answered $code"
  [[ -n $(cookie_header "$jar" '^portal\.session') ]] || fail "sign-in of $who set no portal.session cookie"
}

# signed_in_token BASE JAR: the antiforgery token of the signed-in home page (uploads send it as a header).
signed_in_token() {
  local page token
  page=$(curl -sf -c "$2" -b "$2" "$1/") || fail "$1/ did not answer 200 after sign-in"
  token=$(form_token "$page") && [[ -n $token ]] || fail "no antiforgery token on $1/"
  echo "$token"
}

# cookie_header JAR [NAME_REGEX]: a Cookie header value of the jar's cookies whose names match (default: all).
cookie_header() {
  # '^portal\.session' takes every portal.session* cookie, in case ASP.NET ever splits the session into chunks.
  awk -v re="${2:-}" '(!/^#/ || /^#HttpOnly_/) && NF >= 7 && $6 ~ re { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$1"
}

# cpu_ticks PID: utime+stime in clock ticks (/proc/<pid>/stat fields 14 and 15).
cpu_ticks() {
  local s
  s=$(</proc/"$1"/stat)
  s=${s##*) }   # after the ")" of the command name, so a name with spaces cannot shift the fields
  awk '{ print $12 + $13 }' <<<"$s"
}

# rss_kib PID: the process's resident memory (VmRSS) in KiB.
rss_kib() { local k v _; while read -r k v _; do [[ $k == VmRSS: ]] && { echo "$v"; return; }; done </proc/"$1"/status; }

# to_mib SIZE: wrk's sizes ("1.23GB", "512.00KB", "123B") use 1024-based units: convert to MiB.
to_mib() {
  awk -v s="$1" 'BEGIN { n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
    f["B"] = 1/1048576; f["KB"] = 1/1024; f["MB"] = 1; f["GB"] = 1024; f["TB"] = 1048576
    printf "%.2f", n * f[u] }'
}
