#!/bin/sh
# Reads a generated 1,000,000-row x 20-column mixed CSV with `gyre data inspect`
# and with pandas read_csv, side by side, and prints wall time and peak RSS.
#
# usage: bench/csv/run.sh [ROWS] [REPEATS]    (from the repository root)
set -eu
rows=${1:-1000000}
reps=${2:-3}
dir=${BENCH_DIR:-/tmp/gyre-bench-csv}
mkdir -p "$dir"
csv="$dir/mixed_${rows}.csv"
[ -f "$csv" ] || /usr/bin/python3 bench/csv/gen.py "$csv" "$rows"
GOTOOLCHAIN=local go build -o "$dir/gyre" ./cmd/gyre
echo "file: $csv ($(du -h "$csv" | cut -f1)), $(nproc) cores, load: $(uptime | sed 's/.*load average: //')"
measure() { # label command...
	label=$1
	shift
	/usr/bin/time -v "$@" >/dev/null 2>"$dir/time.txt"
	wall=$(grep 'Elapsed (wall clock)' "$dir/time.txt" | awk '{print $NF}')
	rss=$(grep 'Maximum resident set size' "$dir/time.txt" | awk '{print $NF}')
	user=$(grep 'User time' "$dir/time.txt" | awk '{print $NF}')
	sys=$(grep 'System time' "$dir/time.txt" | awk '{print $NF}')
	echo "$label wall=$wall user_s=$user sys_s=$sys peak_rss_mb=$((rss / 1024))"
}
i=0
while [ $i -lt "$reps" ]; do
	measure gyre "$dir/gyre" data inspect "$csv" --json
	measure pandas /usr/bin/python3 -c "import sys, pandas as pd; df = pd.read_csv(sys.argv[1]); print(df.shape, df.memory_usage(deep=False).sum())" "$csv"
	i=$((i + 1))
done
