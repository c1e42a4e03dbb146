#!/usr/bin/env bash
# Side-by-side random forest benchmark: Gyre vs scikit-learn on a shared data
# set, same tree count, depth and worker count, in one run. Prints both JSON
# lines and the ratios (sklearn / gyre: > 1 means Gyre is faster).
#
#   bench/forest/run.sh [DATASET_DIR] [TREES] [DEPTH] [JOBS] [LEARNER]
#
# Gyre runs twice: with native categorical codes and with the peer's one-hot
# encoding (equal footing with scikit-learn's columns).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${1:-$root/../shared/datasets/adult}
trees=${2:-300}
depth=${3:-0}
jobs=${4:-2}
learner=${5:-random_forest}
peers=${PEERS:-$root/../shared/bench}
export GOTOOLCHAIN=local
bin=$(mktemp -d)/forestbench
(cd "$root" && go build -o "$bin" ./bench/forest)
echo "# load: $(uptime)"
g1=$("$bin" -data "$data" -trees "$trees" -depth "$depth" -jobs "$jobs" -learner "$learner" -encode native)
echo "$g1"
g2=$("$bin" -data "$data" -trees "$trees" -depth "$depth" -jobs "$jobs" -learner "$learner" -encode onehot)
echo "$g2"
s=$(/usr/bin/python3 "$here/sklearn_forest.py" --data "$data" --peers "$peers" --trees "$trees" --depth "$depth" --jobs "$jobs" --learner "$learner")
echo "$s"
echo "# load: $(uptime)"
/usr/bin/python3 - "$g1" "$g2" "$s" <<'PY'
import json, sys
g1, g2, s = (json.loads(a) for a in sys.argv[1:])
metric = "roc_auc" if "roc_auc" in s else ("log_loss" if "log_loss" in s else "rmse")
for name, g in (("native", g1), ("onehot", g2)):
    print(f"gyre[{name}] {metric} {g[metric]} vs sklearn {s[metric]}; "
          f"fit speed-up wall {s['fit_seconds']/g['fit_seconds']:.2f}x, cpu {s['fit_cpu_seconds']/g['fit_cpu_seconds']:.2f}x; "
          f"predict speed-up wall {g['predict_rows_per_second']/s['predict_rows_per_second']:.2f}x, "
          f"cpu {g['predict_rows_per_cpu_second']/s['predict_rows_per_cpu_second']:.2f}x")
PY
