#!/usr/bin/env bash
# Effective-permission benchmark: how long does "what may this user do in this folder" take on a 10-level tree
# with 10,000 permission entries? That check runs for every folder page, upload and permission change.
#
# Builds bench/PermissionsBench (Release; not part of Portal.sln), which creates on a fresh database:
# 4 roots, each a binary tree 10 levels deep (4,092 folders; one in eight stops inheritance), 2,000 users,
# 200 groups (5 per user), 10,000 entries (7 in 10 for a user, 3 for a group, random rights), then times
# PermissionService.GetRightsAsync for a random user on a random bottom folder (10 levels deep, the worst case):
# 500 warm-up checks, then BENCH_CHECKS timed ones. It also counts the SQL commands per check and times the
# explain view (several queries, for comparison). Target: median under 1 ms.
#
# Usage:  bench/permissions.sh                 SQLite (a temporary file)
#         as root with PostgreSQL 15 installed (test.sh installs it), also a throwaway PostgreSQL server
#   BENCH_CHECKS=5000     timed checks per database (default 5000)
#   BENCH_SKIP_BUILD=1    use the existing Release build
# The Markdown table goes to stdout, progress to stderr.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
CHECKS=${BENCH_CHECKS:-5000}
DLL=bench/PermissionsBench/bin/Release/net10.0/PermissionsBench.dll
PG_BIN=/usr/lib/postgresql/15/bin
RUN=$(mktemp -d /tmp/portal-permbench.XXXXXX)
PG_DATA=""

cleanup() {
  if [[ -n $PG_DATA ]]; then (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1) || true; fi
  rm -rf "$RUN"
}
trap cleanup EXIT

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
  echo "==> building bench/PermissionsBench (Release)" >&2
  dotnet build bench/PermissionsBench -c Release -v q -nologo >&2
fi

echo "| database | data | checks | median ms | p95 ms | p99 ms | SQL commands per check | checks with some right | explain median ms | median < 1 ms |"
echo "|---|---|---|---|---|---|---|---|---|---|"
status=0
echo "==> SQLite" >&2
dotnet "$DLL" sqlite "Data Source=$RUN/bench.db" "$CHECKS" || status=1

if [[ $(id -u) == 0 && -x $PG_BIN/initdb ]]; then
  port=55532
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "==> PostgreSQL 15 on 127.0.0.1:$port" >&2
  mkdir "$RUN/pg" && chown postgres: "$RUN/pg" && chmod 755 "$RUN"
  (cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$RUN/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$RUN/pg/initdb.log" 2>&1)
  PG_DATA=$RUN/pg/data
  (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$RUN/pg/pg.log" -w \
    -o "-k $RUN/pg -p $port -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null)
  # As the app runs it: Npgsql's automatic statement preparation is on unless the connection string turns it off.
  dotnet "$DLL" postgres "Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres;Database=permbench" "$CHECKS" || status=1
  # For comparison, preparation turned off: PostgreSQL plans the check on every request.
  dotnet "$DLL" "postgres" "Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres;Database=permbench;Max Auto Prepare=0" "$CHECKS" "no statement preparation" || true
else
  echo "==> PostgreSQL skipped (needs root and $PG_BIN/initdb; ./test.sh installs PostgreSQL 15)" >&2
fi
echo "" 
echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end of the run."
exit $status
