#!/usr/bin/env bash
# Download decisions per second with SIEM forwarding and three alert rules on, against the same with both off.
# Each run starts Portal.App afresh (SQLite, demo data, Delivery:Mode=XAccel without nginx: the app's decision,
# audit commit and X-Accel answer, which is the hot path) and runs wrk against /d/{id} as the signed-in demo staff.
# "on" adds a JSON Lines file sink (every event) and three rules (a download burst, denied attempts, daily bytes;
# thresholds high enough not to fire, so every event is evaluated but none suspends). Runs alternate off/on, since the
# machine is shared.
# Usage (as root, it installs wrk and sqlite3 if missing): bench/siem-downloads.sh
#   BENCH_PAIRS=3 (off/on pairs)  BENCH_DURATION=10s  BENCH_CONFIG=Release|Debug (the build to run)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
PAIRS=${BENCH_PAIRS:-3}
DURATION=${BENCH_DURATION:-10s}
CONFIG=${BENCH_CONFIG:-Release}
command -v wrk >/dev/null && command -v sqlite3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk sqlite3 >/dev/null
[[ -f Portal.App/bin/$CONFIG/net10.0/Portal.App.dll ]] || dotnet build Portal.App/Portal.App.csproj -c "$CONFIG" >/dev/null
RUN=$(mktemp -d /tmp/siem-bench.XXXXXX)
APP_PID=""
trap '[[ -n $APP_PID ]] && kill $APP_PID 2>/dev/null; rm -rf "$RUN"' EXIT

run_once() { # $1 = off|on; prints req/s
  local mode=$1 dir=$RUN/$1-$RANDOM url="" extra=()
  mkdir -p "$dir"
  if [[ $mode == on ]]; then extra=(Forwarding__Sinks__file__Kind=File "Forwarding__Sinks__file__Path=$dir/events.jsonl"); fi
  (cd "$dir" && exec env ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS=http://127.0.0.1:0 Logging__LogLevel__Default=Warning Logging__LogLevel__Microsoft.Hosting.Lifetime=Information \
    "Database__ConnectionString=Data Source=$dir/portal.db" "Storage__Root=$dir/storage" Demo__Seed=true Delivery__Mode=XAccel \
    "${extra[@]}" dotnet "$OLDPWD/Portal.App/bin/$CONFIG/net10.0/Portal.App.dll" --urls http://127.0.0.1:0 >"$dir/app.log" 2>&1) &
  APP_PID=$!
  for _ in $(seq 120); do url=$(grep -o 'Now listening on: http://[0-9.:]*' "$dir/app.log" | head -1 | sed 's/.*on: //') && [[ -n $url ]] && break; sleep 0.5; done
  [[ -n $url ]] || { cat "$dir/app.log" >&2; exit 1; }
  local db=$dir/portal.db now
  now=$(sqlite3 "$db" "select max(OccurredAt) from AuditEvents")
  if [[ $mode == on ]]; then
    for rule in "DownloadBurst|1000000|10" "DeniedBurst|1000000|10" "DailyVolume|1000000000000000|0"; do
      IFS='|' read -r kind threshold window <<<"$rule"
      sqlite3 -cmd '.timeout 30000' "$db" "insert into AlertRules (Id, Name, Kind, Enabled, Threshold, WindowMinutes, FolderId, WorkdayStartHour, WorkdayEndHour, TimeZone, SuspendDownloads, CreatedAt, UpdatedAt)
        values (upper('$(cat /proc/sys/kernel/random/uuid)'), 'bench $kind', '$kind', 1, $threshold, $window, null, 8, 18, 'UTC', 0, $now, $now)"
    done
  fi
  local cookies=$dir/cookies.txt token doc
  token=$(curl -s -c "$cookies" -b "$cookies" "$url/signin" | grep -o 'name="__RequestVerificationToken"[^>]*value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
  curl -s -o /dev/null -c "$cookies" -b "$cookies" -d "user=staff&returnUrl=/&__RequestVerificationToken=$token" "$url/auth/dev-signin"
  doc=$(sqlite3 "$db" "select lower(d.Id) from Documents d join Folders f on f.Id = d.FolderId where f.Name = 'Company' limit 1")
  local cookie; cookie=$(awk '$6 == "portal.session" { print $6 "=" $7 }' "$cookies")
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url/d/$doc") == 200 ]] || { echo "download not allowed" >&2; exit 1; }
  wrk -t2 -c16 -d"$DURATION" -H "Cookie: $cookie" "$url/d/$doc" >"$dir/wrk.txt"
  local behind=""
  if [[ $mode == on ]]; then
    sleep 2
    behind=" (file sink: $(wc -l <"$dir/events.jsonl") of $(sqlite3 "$db" 'select count(*) from AuditEvents') events 2 s after the run)"
  fi
  kill $APP_PID; wait $APP_PID 2>/dev/null || true; APP_PID=""
  echo "$(awk '/Requests\/sec/ { print $2 }' "$dir/wrk.txt")$behind"
}

echo "| pair | off (req/s) | on (req/s) | on/off |"
echo "|---|---|---|---|"
for pair in $(seq "$PAIRS"); do
  off=$(run_once off); on=$(run_once on)
  echo "| $pair | ${off%% *} | ${on} | $(awk -v a="${on%% *}" -v b="${off%% *}" 'BEGIN { printf "%.3f", a / b }') |"
done
