#!/bin/sh
# Training speed on small and medium shared data sets (the AutoML regime):
# Gyre's default gbdt (100 rounds, 31 leaves; 2 threads) at the current tree
# and at a base revision, side by side with XGBoost hist, interleaved so all
# see similar machine load.
#   sh bench/gbdt/small.sh                       (from the repository root)
#   BASE=e5d52db SETS=weight_lifting,adult REPS=5 sh bench/gbdt/small.sh
# Prints fit seconds (best of REPS) per system and data set, and the ratios.
set -eu
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
out=bench/gbdt/out
mkdir -p "$out"
export GBDT_DATASETS=${GBDT_DATASETS:-/work/shared/datasets}
sets=${SETS:-weight_lifting,wine_quality_white,adult}
reps=${REPS:-3}
threads=${THREADS:-2}
base=${BASE:-e5d52db}
go test -c -o "$out/gbdt-current.test" ./internal/learn/gbdt
# The base revision, built from a pristine export with today's benchmark.
tmp=$(mktemp -d)
git archive "$base" | tar -x -C "$tmp"
cp internal/learn/gbdt/train_bench_test.go "$tmp/internal/learn/gbdt/"
(cd "$tmp" && go test -c -o gbdt.test ./internal/learn/gbdt)
cp "$tmp/gbdt.test" "$out/gbdt-base.test"
rm -rf "$tmp"
log="$out/small.txt"
: >"$log"
uptime | tee -a "$log"
for _ in $(seq "$reps"); do
	for bin in base current; do
		GBDT_BENCH_SETS=$sets GBDT_BENCH_THREADS=$threads "$out/gbdt-$bin.test" -test.run '^$' -test.bench FitShared -test.benchtime 1x |
			awk -v b="gyre_$bin" '/^BenchmarkFitShared/ { split($1, a, "/"); sub(/-[0-9]+$/, "", a[2]); printf "%s %s %.3f\n", b, a[2], $3 / 1e9 }' | tee -a "$log"
	done
	/usr/bin/python3 bench/gbdt/small_xgb.py --sets "$sets" --threads "$threads" | tee -a "$log"
done
uptime | tee -a "$log"
/usr/bin/python3 - "$log" <<'PY'
import sys
best = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3 and f[0].startswith(("gyre_", "xgb_")):
        k = (f[0], f[1])
        best[k] = min(best.get(k, 1e9), float(f[2]))
sets = sorted({s for _, s in best}, key=lambda s: list(dict.fromkeys(s for _, s in best)).index(s))
systems = ["gyre_base", "gyre_current", "xgb_leaves31", "xgb_depth6"]
print("| data set | " + " | ".join(s + " s" for s in systems) + " | speed-up vs base | current vs xgb_leaves31 | current vs xgb_depth6 |")
print("|---" * (len(systems) + 4) + "|")
for s in sets:
    v = [best.get((sy, s)) for sy in systems]
    cell = lambda x: f"{x:.2f}" if x else "-"
    ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "-"
    print(f"| {s} | " + " | ".join(cell(x) for x in v) + f" | {ratio(v[0], v[1])} | {ratio(v[2], v[1])} | {ratio(v[3], v[1])} |")
PY
