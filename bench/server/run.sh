#!/bin/sh
# The team server's MLflow API benchmarks (issue 17 "Fast"), with the CPU
# seconds the benchmark process (client and server) and PostgreSQL spent.
#
#   bench/server/run.sh [BENCH_REGEXP] [BENCHTIME]
#
# BENCH_REGEXP defaults to the whole BenchmarkServer; BENCHTIME to 2000x.
# GYRE_TEST_POSTGRES selects the PostgreSQL store (the postgres rows are
# skipped without it); PGDATA names its data directory, for its CPU time
# (read from /proc: the postmaster's own and its exited children's, plus
# the live backends'). GYRE_BENCH_RUNS sets the stored runs (default
# 100000; the logging benchmarks do not depend on it).
#
#   bench/server/run.sh 'Server/postgres/8-clients-log-metric$' 8000x
set -eu
cd "$(dirname "$0")/../.."
bench=${1:-Server}
benchtime=${2:-2000x}
bin=$(mktemp -d)/mlflowapi.test
GOTOOLCHAIN=local go test -c -o "$bin" ./internal/mlflowapi

pgcpu() {
	[ -n "${PGDATA:-}" ] && [ -r "$PGDATA/postmaster.pid" ] || { echo 0; return; }
	pm=$(head -1 "$PGDATA/postmaster.pid")
	{
		awk '{print $14+$15+$16+$17}' "/proc/$pm/stat"
		for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
			awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null || true
		done
	} | awk -v hz="$(getconf CLK_TCK)" '{s+=$1} END {printf "%.2f", s/hz}'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
pg0=$(pgcpu)
/usr/bin/time -f "benchmark process: %U user + %S system cpu-s, %e s wall" \
	"$bin" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.benchmem=false
pg1=$(pgcpu)
echo "postgres: $(echo "$pg0 $pg1" | awk '{printf "%.2f", $2-$1}') cpu-s"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$bin"
