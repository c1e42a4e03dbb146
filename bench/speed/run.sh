#!/bin/sh
# Whole-command training speed, side by side (issue 24): `gyre train` (read +
# fit + everything it records and writes, scoring a held-out test file) vs
# pandas read_csv + XGBoost 1.7 hist lossguide 31 leaves, 100 trees, lr 0.1
# (bench/speed/xgb_side.py), on the synthetic 1M × 20 set of
# ../shared/bench/speed_anchors.py (byte-identical CSV, generated here), test
# rows the 200,000 that follow. Each process runs under /usr/bin/time -v (wall,
# peak RSS) with GOMAXPROCS / n_jobs = the thread count, Gyre in a fresh
# GYRE_HOME (empty store: data set versioning and tracking cost what a first
# run costs). Runs alternate Gyre and XGBoost so both see the same load.
#
#   sh bench/speed/run.sh                   1M rows, 1 and 2 threads (~3 min quiet)
#   sh bench/speed/run.sh --10m             10M rows too (~4 GB CSV in $SPEED_DATA; ~15 min)
#   sh bench/speed/run.sh --threads 2 --repeat 3
#   SPEED_ROWS="1000000 10000000" sh bench/speed/run.sh   same as --10m (env var for CI/lead runs)
#
# Options: --rows N (default 1000000), --10m (adds 10,000,000), --threads "1 2",
# --repeat R (runs per configuration, default 1; the table shows the median).
# Data files are cached in $SPEED_DATA (default /tmp/gyre-speed-data); results
# go to bench/out/speed/results.jsonl and the table to bench/out/speed/table.md.
set -eu
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
rows_list=${SPEED_ROWS:-1000000}
threads="1 2"
repeat=1
while [ $# -gt 0 ]; do
	case "$1" in
	--rows) rows_list=$2; shift 2 ;;
	--10m) rows_list="$rows_list 10000000"; shift ;;
	--threads) threads=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
/usr/bin/python3 -c 'import pandas, xgboost, sklearn' || { echo "run.sh: /usr/bin/python3 needs pandas, xgboost and sklearn" >&2; exit 1; }
out=bench/out/speed
data=${SPEED_DATA:-/tmp/gyre-speed-data}
mkdir -p "$out/bin" "$data"
go build -o "$out/bin/gyre" ./cmd/gyre
go build -o "$out/bin/speed-data" ./bench/speed
res="$out/results.jsonl"
: >"$res"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
echo "$(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(uptime)" | tee "$out/uptime.txt"

# timed CMD...: runs CMD under /usr/bin/time -v, its stdout to $work/stdout;
# sets wall (seconds) and rss (MB).
timed() {
	/usr/bin/time -v "$@" >"$work/stdout" 2>"$work/time.txt" || { cat "$work/time.txt" >&2; exit 1; }
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time.txt")
}

load() { cut -d' ' -f1 /proc/loadavg; }

for rows in $rows_list; do
	train="$data/train-$rows.csv"
	test="$data/test-$rows.csv"
	[ -s "$train" ] || "$out/bin/speed-data" -rows "$rows" -out "$train"
	[ -s "$test" ] || "$out/bin/speed-data" -from "$rows" -rows 200000 -out "$test"
	rep=1
	while [ "$rep" -le "$repeat" ]; do
		for t in $threads; do
			for side in gyre xgb; do
				# Alternate which side goes first from one repetition to the next.
				if [ $((rep % 2)) = 0 ]; then [ "$side" = gyre ] && side=xgb || side=gyre; fi
				l0=$(load)
				if [ "$side" = gyre ]; then
					rm -rf "$work/home" "$work/m.gyre"
					mkdir -p "$work/home"
					GYRE_HOME="$work/home" GOMAXPROCS=$t timed "$out/bin/gyre" --quiet --json train "$train" --target y \
						--learner gbdt --set n_estimators=100 --set max_leaves=31 --set learning_rate=0.1 --set threads="$t" \
						--test "$test" --out "$work/m.gyre"
				else
					OMP_NUM_THREADS=$t timed /usr/bin/python3 bench/speed/xgb_side.py "$train" "$test" --threads "$t"
				fi
				l1=$(load)
				/usr/bin/python3 - "$side" "$rows" "$t" "$rep" "$wall" "$rss" "$l0" "$l1" "$work/stdout" >>"$res" <<'PY'
import json, sys
side, rows, t, rep, wall, rss, l0, l1, path = sys.argv[1:]
d = json.load(open(path))
if side == "gyre":
    fit, auc = d["fit_seconds"], d["metrics"]["test"]["roc_auc"]
else:
    fit, auc = d["fit_seconds"], d["test_auc"]
print(json.dumps({"system": side, "rows": int(rows), "threads": int(t), "rep": int(rep),
                  "wall_seconds": float(wall), "peak_rss_mb": int(rss), "fit_seconds": fit,
                  "test_auc": round(auc, 5), "loadavg_start_end": [float(l0), float(l1)],
                  **({"read_seconds": d["read_seconds"]} if side == "xgb" else {})}))
PY
				tail -n 1 "$res"
			done
		done
		rep=$((rep + 1))
	done
done
echo "$(date -u +%FT%TZ) $(uptime)" | tee -a "$out/uptime.txt"
/usr/bin/python3 bench/speed/table.py "$res" "$out/uptime.txt" | tee "$out/table.md"
