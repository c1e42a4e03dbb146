#!/usr/bin/python3
"""The peer side of bench/speed/run.sh: what a pandas + XGBoost user runs.

  /usr/bin/python3 xgb_side.py TRAIN.csv TEST.csv --threads N

pandas read_csv of the training file, XGBoost 1.7 fit with the settings of
../shared/bench/speed_anchors.py's xgb_leaves31 (hist, lossguide, 31 leaves,
depth unlimited, 100 trees, learning rate 0.1, 256 bins), then read_csv of
the test file and its ROC-AUC. Prints one JSON line: read, fit and test
seconds, test AUC, load averages. Run it under /usr/bin/time -v for the
whole-process wall time and peak memory.
"""
import argparse
import json
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--target", default="y")
    args = ap.parse_args()
    t0 = time.perf_counter()
    import pandas as pd
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score
    imports = time.perf_counter() - t0
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    df = pd.read_csv(args.train)
    y = df.pop(args.target)
    read = time.perf_counter() - t0
    est = xgb.XGBClassifier(tree_method="hist", grow_policy="lossguide", max_leaves=31, max_depth=0,
                            n_estimators=100, learning_rate=0.1, max_bin=256, n_jobs=args.threads,
                            random_state=0, objective="binary:logistic")
    t0 = time.perf_counter()
    est.fit(df, y)
    fit = time.perf_counter() - t0
    del df, y
    t0 = time.perf_counter()
    te = pd.read_csv(args.test)
    yt = te.pop(args.target)
    auc = roc_auc_score(yt, est.predict_proba(te)[:, 1])
    test = time.perf_counter() - t0
    print(json.dumps({"system": "pandas+xgboost", "xgboost": xgb.__version__, "pandas": pd.__version__,
                      "threads": args.threads, "import_seconds": round(imports, 3),
                      "read_seconds": round(read, 3), "fit_seconds": round(fit, 3),
                      "test_seconds": round(test, 3), "test_auc": round(float(auc), 5),
                      "loadavg_1m_start_end": [round(load0, 2), round(os.getloadavg()[0], 2)]}))


if __name__ == "__main__":
    main()
