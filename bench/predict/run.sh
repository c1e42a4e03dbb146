#!/bin/sh
# Batch scoring benchmark: `gyre predict` on 1,000,000 rows x 20 numeric
# columns with a 100-tree depth-6 GBDT, CSV and Parquet in and out, side by
# side with XGBoost + pandas on the same data and model shape.
#   sh bench/predict/run.sh            (from the repository root)
# Data goes to $DIR (default /tmp/gyre-bench-predict); results to
# bench/predict/out/. Needs /usr/bin/python3 with numpy, pandas, xgboost.
set -eu
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
DIR=${DIR:-/tmp/gyre-bench-predict}
out=bench/predict/out
mkdir -p "$out" "$DIR"
go build -o "$out/gyre" ./cmd/gyre
go build -o "$out/predict-bench" ./bench/predict
gyre="$PWD/$out/gyre"
[ -f "$DIR/score.csv" ] || /usr/bin/python3 bench/predict/gen.py "$DIR"
export GYRE_HOME="$DIR/.gyre"
[ -f "$DIR/model.gyre" ] || "$gyre" train "$DIR/train.csv" --target y --learner gbdt \
	--set n_estimators=100 --set max_depth=6 --set max_leaves=64 --out "$DIR/model.gyre" --json >/dev/null
[ -f "$DIR/score.parquet" ] || "$gyre" data convert "$DIR/score.csv" "$DIR/score.parquet"
: >"$out/results.txt"
uptime | tee -a "$out/results.txt"
for src in score.csv score.parquet; do
	for dst in out.csv out.parquet; do
		echo "gyre predict $src --out $dst" | tee -a "$out/results.txt"
		/usr/bin/time -f "  %e s wall, %U s user + %S s sys, peak RSS %M KB" \
			"$gyre" predict "$DIR/model.gyre" "$DIR/$src" --out "$DIR/$dst" --json 2>&1 |
			tr -d '\n' | tee -a "$out/results.txt"
		echo | tee -a "$out/results.txt"
	done
done
echo "phase split (gyre, phases one after another)" | tee -a "$out/results.txt"
"$out/predict-bench" -model "$DIR/model.gyre" -src "$DIR/score.csv" | tee -a "$out/results.txt"
"$out/predict-bench" -model "$DIR/model.gyre" -src "$DIR/score.parquet" | tee -a "$out/results.txt"
echo "gbdt evaluator alone (go test -bench, one core; cpu-ns from getrusage)" | tee -a "$out/results.txt"
go test ./internal/learn/gbdt -run '^$' -bench 'PredictBatch|PredictRow' -cpu 1 -count 3 |
	grep '^Benchmark' | tee -a "$out/results.txt"
echo "xgboost + pandas (read_csv, predict_proba, to_csv)" | tee -a "$out/results.txt"
/usr/bin/time -f "  peak RSS %M KB (includes training)" /usr/bin/python3 bench/predict/xgb_predict.py "$DIR" 2>&1 | tee -a "$out/results.txt"
uptime | tee -a "$out/results.txt"
