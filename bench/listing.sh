#!/usr/bin/env bash
# Listing benchmark: how long does the server take to open a folder of 10,000 documents (breadcrumb, rights and the
# first page in each order), to show a deep page, and to search by name across every folder a user may browse?
#
# Seeds a fresh database (10,000 documents in one folder, 5,000 more in 1,000 other folders, rights inherited from
# two levels up), then times the same FolderCatalog calls the folder page makes (bench/ListingBench). Runs on SQLite,
# and on a throwaway PostgreSQL 15 when one can be started here (as root, like test.sh).
# Prints Markdown tables (median / p95 / max ms) and the target check: first page under 300 ms.
#
# Usage:  bench/listing.sh                 (BENCH_DOCUMENTS=10000 BENCH_RUNS=30 BENCH_SKIP_POSTGRES=1 to change)
# Takes about a minute per database. The report goes to stdout, progress to stderr.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
DOCUMENTS=${BENCH_DOCUMENTS:-10000}
RUNS=${BENCH_RUNS:-30}
RUN=$(mktemp -d /tmp/portal-listing.XXXXXX)
PG_BIN=/usr/lib/postgresql/15/bin
PG_DATA=""
cleanup() {
  if [[ -n $PG_DATA ]]; then (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1) || true; fi
  rm -rf "$RUN"
}
trap cleanup EXIT

echo "==> building the harness (Release)" >&2
dotnet build bench/ListingBench -c Release -v q -nologo >&2
HARNESS=bench/ListingBench/bin/Release/net10.0/ListingBench.dll

echo "## Listing: $DOCUMENTS documents in one folder ($(date -u +%Y-%m-%d), $(nproc) cores, $(dotnet --version))"
echo
results=$RUN/results.md
echo "==> SQLite" >&2
dotnet "$HARNESS" --provider Sqlite --connection "Data Source=$RUN/bench.db" --documents "$DOCUMENTS" --runs "$RUNS" | tee -a "$results"
echo

if [[ -z ${BENCH_SKIP_POSTGRES:-} && -x $PG_BIN/initdb && $(id -u) == 0 ]]; then
  PORT=55532
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
  echo "==> PostgreSQL 15 on 127.0.0.1:$PORT" >&2
  chmod 755 "$RUN"   # the postgres user must reach its data folder inside it
  mkdir "$RUN/pg" && chown postgres: "$RUN/pg"
  (cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$RUN/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null)
  PG_DATA=$RUN/pg/data
  (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$RUN/pg/pg.log" -w \
    -o "-k $RUN/pg -p $PORT -c listen_addresses=127.0.0.1" start >/dev/null)
  (cd / && runuser -u postgres -- psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE portal_bench" >/dev/null)
  dotnet "$HARNESS" --provider PostgreSQL --connection "Host=127.0.0.1;Port=$PORT;Username=postgres;Database=portal_bench" \
    --documents "$DOCUMENTS" --runs "$RUNS" | tee -a "$results"
  echo
else
  echo "(PostgreSQL skipped: needs root and $PG_BIN/initdb, as test.sh installs)" >&2
fi

# Target: the first page (any order, any user) under 300 ms at the median and at p95.
worst=$(grep '^| first page' "$results" | awk -F'|' '{ if ($4 + 0 > max) max = $4 + 0 } END { print max + 0 }')
if awk -v w="$worst" 'BEGIN { exit !(w < 300) }'; then
  echo "**Target met:** first page p95 at most ${worst} ms (target: under 300 ms)."
else
  echo "**Target missed:** first page p95 up to ${worst} ms (target: under 300 ms)."
fi
