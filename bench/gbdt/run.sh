#!/bin/sh
# Side-by-side speed run: Gyre gbdt vs XGBoost hist and sklearn HistGB on the
# speed_anchors.py synthetic 1M x 20 data set, 100 trees, lr 0.1, 2 threads.
#   sh bench/gbdt/run.sh            (from the repository root)
#   FULL=1 sh bench/gbdt/run.sh     (also sklearn HistGB and the peers' test metrics)
# Writes bench/gbdt/out/*.jsonl and prints the ratio table. Test-set metrics
# of the peers come from xgb_holdout.py (FULL=1, or run it separately into
# bench/gbdt/out/holdout.jsonl).
set -eu
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
out=bench/gbdt/out
mkdir -p "$out"
shared=${SHARED:-../shared}
rm -f "$out/anchors.jsonl" "$out/gyre.jsonl"
go build -o "$out/gbdt-bench" ./bench/gbdt
uptime | tee "$out/uptime.txt"
# Interleave peers and Gyre so both see similar machine load.
/usr/bin/python3 "$shared"/bench/speed_anchors.py --configs xgb_depth6 --threads 2 --out "$out/anchors.jsonl" >/dev/null
"$out/gbdt-bench" -threads 2 -config gyre_leaves31 >>"$out/gyre.jsonl"
/usr/bin/python3 "$shared"/bench/speed_anchors.py --configs xgb_leaves31 --threads 2 --out "$out/anchors.jsonl" >/dev/null
"$out/gbdt-bench" -threads 2 -config gyre_leaves31 >>"$out/gyre.jsonl"
if [ "${FULL:-}" = 1 ]; then
	/usr/bin/python3 "$shared"/bench/speed_anchors.py --configs hgb_leaves31 --threads 2 --out "$out/anchors.jsonl" >/dev/null
	/usr/bin/python3 bench/gbdt/xgb_holdout.py --threads 2 >"$out/holdout.jsonl"
fi
uptime | tee -a "$out/uptime.txt"
/usr/bin/python3 bench/gbdt/table.py "$out"
