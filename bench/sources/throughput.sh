#!/usr/bin/env bash
# Read throughput of Gyre's sources on one real data set: Adult's training
# split (examples/data/adult/adult.train.csv, 39,074 rows × 15 columns)
# repeated REPEAT times (default 10: 390,740 rows, ~39 MB of CSV), read
# with `gyre data inspect --json SRC` (connect, read every row into typed
# columns, summarise) from: the CSV file (the baseline), SQLite, PostgreSQL,
# S3 (MinIO), an HTTP(S) file, and a paginated JSON API (--paginate cursor).
# Cassandra is measured by a Go benchmark against the CQL fixture server
# (no Cassandra can run here), MongoDB by bench/mongo, Kafka by
# bench/kafka/stream. Servers are started on loopback for the run and
# stopped at the end, each on its own port (override with the env vars):
#
#   bench/sources/throughput.sh                      # REPEAT=10 ROUNDS=3
#   PG_PORT=55445 MINIO_PORT=9015 HTTP_PORT=18081 API_PORT=18082 bench/sources/throughput.sh
#
# It prints one line per source and round: rows, wall s, rows/s, MB/s (of
# the CSV form of the data), client CPU s (user+sys of the gyre process),
# client peak RSS, and the load average, then the Cassandra benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
REPEAT=${REPEAT:-10} ROUNDS=${ROUNDS:-3}
PG_PORT=${PG_PORT:-55445} MINIO_PORT=${MINIO_PORT:-9015} HTTP_PORT=${HTTP_PORT:-18081} API_PORT=${API_PORT:-18082}
W=$(mktemp -d /tmp/gyre-sources-bench.XXXXXX)
G=$W/gyre
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${PG_STARTED:-}" ]; then
    su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $PGDIR/d -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
  rm -rf "$W"
}
trap cleanup EXIT
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 "${2:-100}"); do up "$1" && return 0; sleep 0.2; done; echo "nothing listens on port $1" >&2; exit 1; }

go build -o "$G" ./cmd/gyre
src=examples/data/adult/adult.train.csv
head -1 "$src" >"$W/adult.csv"
for _ in $(seq 1 "$REPEAT"); do tail -n +2 "$src" >>"$W/adult.csv"; done
ROWS=$(($(wc -l <"$W/adult.csv") - 1))
BYTES=$(stat -c %s "$W/adult.csv")
echo "data: $ROWS rows, $BYTES bytes of CSV (Adult train × $REPEAT)"

# --- load the data into each source -------------------------------------
"$G" data convert "$W/adult.csv" "sqlite://$W/adult.db?table=adult" >/dev/null

PG_URL=${GYRE_BENCH_POSTGRES:-}
if [ -z "$PG_URL" ]; then
  if ! up "$PG_PORT"; then
    PGDIR=$(mktemp -d /tmp/gyre-sources-pg.XXXXXX) && chown postgres "$PGDIR"
    su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $PGDIR/d -U postgres --auth=trust -E UTF8" >/dev/null
    su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $PGDIR/d -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l $PGDIR/log -w start" >/dev/null
    PG_STARTED=1
  fi
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
fi
psql "${PG_URL%%\?*}" -q -c 'DROP TABLE IF EXISTS gyre_bench_adult' >/dev/null 2>&1
"$G" data convert "$W/adult.csv" "$PG_URL&table=gyre_bench_adult" >/dev/null

export MINIO_ROOT_USER=${MINIO_ROOT_USER:-minioadmin} MINIO_ROOT_PASSWORD=${MINIO_ROOT_PASSWORD:-minioadmin}
if ! up "$MINIO_PORT"; then
  minio=$(command -v minio || true)
  for m in .cache/bin/minio /work/cache/bin/minio; do [ -z "$minio" ] && [ -x "$m" ] && minio=$m; done
  [ -n "$minio" ] || { echo "no minio binary (see docs/RECIPES or .ci/run)" >&2; exit 1; }
  mkdir -p "$W/minio"
  MINIO_BROWSER=off MINIO_UPDATE=off "$minio" server "$W/minio" --address "127.0.0.1:$MINIO_PORT" --quiet >"$W/minio.log" 2>&1 &
  pids+=($!)
  wait_up "$MINIO_PORT"
  until curl -sf "http://127.0.0.1:$MINIO_PORT/minio/health/live" >/dev/null; do sleep 0.3; done
fi
export AWS_ACCESS_KEY_ID=$MINIO_ROOT_USER AWS_SECRET_ACCESS_KEY=$MINIO_ROOT_PASSWORD AWS_DEFAULT_REGION=us-east-1
aws --endpoint-url "http://127.0.0.1:$MINIO_PORT" s3 mb s3://gyre-bench >/dev/null 2>&1 || true
aws --endpoint-url "http://127.0.0.1:$MINIO_PORT" s3 cp "$W/adult.csv" s3://gyre-bench/adult.csv >/dev/null

python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$W" >/dev/null 2>&1 &
pids+=($!)
python3 bench/sources/api_server.py "$W/adult.csv" "$API_PORT" 1000 2>"$W/api.log" &
pids+=($!)
wait_up "$HTTP_PORT"
wait_up "$API_PORT" 900 # it serialises every page first

# --- measure -------------------------------------------------------------
measure() { # name, then gyre data inspect's arguments
  local name=$1 r
  shift
  for r in $(seq 1 "$ROUNDS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$G" data inspect --json "$@" >"$W/out.json" 2>"$W/err" || { echo "$name: failed: $(cat "$W/err")" >&2; return 1; }
    python3 - "$name" "$r" "$ROWS" "$BYTES" "$W/out.json" "$W/time" <<'PY'
import json, sys
name, r, rows, size, out, tf = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
got = json.load(open(out))["rows"]
wall, user, sys_, rss = open(tf).read().split()[-4:]
wall, cpu = float(wall), float(user) + float(sys_)
la = open("/proc/loadavg").read().split()[0]
ok = "" if got == rows else f"  (read {got} rows, want {rows})"
print(f"{name:12s} round {r}: {got} rows  wall {wall:6.2f} s  {got / wall:9.0f} rows/s  {size / wall / 1e6:6.1f} MB/s  "
      f"client CPU {cpu:5.2f} s  RSS {int(rss) // 1024} MB  load {la}{ok}")
PY
  done
}
measure "csv file" "$W/adult.csv"
measure "sqlite" "sqlite://$W/adult.db?table=adult"
measure "postgres" "$PG_URL&table=gyre_bench_adult"
measure "s3 (minio)" "s3://gyre-bench/adult.csv?endpoint=127.0.0.1:$MINIO_PORT&insecure=true"
measure "http file" "http://127.0.0.1:$HTTP_PORT/adult.csv"
measure "http api" "http://127.0.0.1:$API_PORT/records" --paginate cursor:next
psql "${PG_URL%%\?*}" -q -c 'DROP TABLE IF EXISTS gyre_bench_adult' >/dev/null

echo "cassandra (gocql against the CQL fixture server; Adult train, 39,074 rows):"
go test ./internal/ingest/cassandrasource -run '^$' -bench ReadAdultFixture -benchtime "${ROUNDS}x" | grep Benchmark
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
