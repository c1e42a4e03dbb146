#!/usr/bin/env bash
# AutoML quality against the peers on every shared data set.
#
#   bash bench/automl/run.sh [BUDGET_SECONDS] [DATASET ...]
#
# For each data set in ../shared/datasets: `gyre automl` on the train split
# with the budget (wall time of the whole command is recorded), `gyre
# predict` on the test split, and ../shared/bench/score.py to score the
# predictions exactly as the peer harness scores the peers. The summary
# (summary.py) compares with the peer results in ../shared/bench/BASELINES.md
# (HistGB, RF-300, Linear, XGB, Optuna-TPE-XGB 60s, FLAML 60s): normalised
# score per data set, the mean, and the relative gap to the best default peer.
# Accuracy comes from the test split only; the search never sees it.
set -euo pipefail
cd "$(dirname "$0")/../.."
budget=${1:-60}
shift || true
shared=${SHARED:-../shared}
out=bench/out/automl-${budget}s
mkdir -p "$out"
go build -o "$out/gyre" ./cmd/gyre
export GYRE_HOME="$out/home"
datasets=("$@")
if [ ${#datasets[@]} -eq 0 ]; then
  for d in "$shared"/datasets/*/; do datasets+=("$(basename "$d")"); done
fi
: > "$out/results.jsonl"
for name in "${datasets[@]}"; do
  dir="$shared/datasets/$name"
  target=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['target'])" "$dir/manifest.json")
  echo "== $name (target $target, budget ${budget}s, load $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$EPOCHREALTIME
  "$out/gyre" automl "$dir/$name.train.csv" --target "$target" --budget "${budget}s" --seed 0 \
    --out "$out/$name.gyre" --json -q > "$out/$name.json"
  end=$EPOCHREALTIME
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  "$out/gyre" predict "$out/$name.gyre" "$dir/$name.test.csv" --out "$out/$name.pred.csv" -q
  /usr/bin/python3 "$shared/bench/score.py" "$dir" "$out/$name.pred.csv" --system "gyre-automl-${budget}s" \
    --fit-seconds "$wall" --out "$out/results.jsonl" | tail -1
done
/usr/bin/python3 bench/automl/summary.py "$out/results.jsonl" "$shared/bench/BASELINES.md" "$budget"
