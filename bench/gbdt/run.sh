#!/bin/sh
# Side-by-side speed run: Gyre gbdt vs XGBoost hist and sklearn HistGB on the
# speed_anchors.py synthetic 1M x 20 data set, 100 trees, lr 0.1, 2 threads.
#   sh bench/gbdt/run.sh            (from the repository root)
# Writes bench/gbdt/out/*.jsonl and prints the ratio table.
set -eu
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
out=bench/gbdt/out
mkdir -p "$out"
rm -f "$out/anchors.jsonl" "$out/gyre.jsonl" "$out/holdout.jsonl"
go build -o "$out/gbdt-bench" ./bench/gbdt
uptime | tee "$out/uptime.txt"
# Interleave peers and Gyre so both see similar machine load.
/usr/bin/python3 /work/shared/bench/speed_anchors.py --configs xgb_depth6 --threads 2 --out "$out/anchors.jsonl" >/dev/null
"$out/gbdt-bench" -threads 2 -config gyre_leaves31 >>"$out/gyre.jsonl"
/usr/bin/python3 /work/shared/bench/speed_anchors.py --configs xgb_leaves31 --threads 2 --out "$out/anchors.jsonl" >/dev/null
"$out/gbdt-bench" -threads 2 -config gyre_leaves31 >>"$out/gyre.jsonl"
/usr/bin/python3 /work/shared/bench/speed_anchors.py --configs hgb_leaves31 --threads 2 --out "$out/anchors.jsonl" >/dev/null
/usr/bin/python3 bench/gbdt/xgb_holdout.py --threads 2 >"$out/holdout.jsonl"
uptime | tee -a "$out/uptime.txt"
/usr/bin/python3 bench/gbdt/table.py "$out"
